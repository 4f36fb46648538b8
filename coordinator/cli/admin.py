"""`newral`: the admin command line. Talks to a coordinator over its HTTP API.

    newral token [--note TEXT]                       a one-time enrolment token for an agent
    newral project create NAME --app bpsw-hunter
    newral work NAME --a 0 --b 1e9 --chunk 1e7       cut a range into workunits
    newral status [NAME]                             progress and totals
    newral nodes | newral events [--after ID]
    newral demo                                      the whole loop on this machine
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from coordinator.api.app import ADMIN_TOKEN_FILE


class CliError(Exception):
    pass


class AdminClient:
    def __init__(self, base_url: str, token: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self._http.close()

    def call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            r = self._http.request(method, f"{self.base_url}/api/v1/admin{path}", json=body)
        except httpx.TransportError as exc:
            raise CliError(f"cannot reach the coordinator at {self.base_url}: {exc}") from None
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail", r.text)
            except ValueError:
                detail = r.text
            raise CliError(f"{r.status_code}: {detail}")
        return r.json()


def admin_token(args: argparse.Namespace) -> str:
    if args.admin_token:
        return str(args.admin_token)
    if os.environ.get("NEWRAL_ADMIN_TOKEN"):
        return os.environ["NEWRAL_ADMIN_TOKEN"]
    path = Path(args.data_dir).expanduser() / ADMIN_TOKEN_FILE if args.data_dir else None
    if path and path.exists():
        return path.read_text().strip()
    raise CliError("no admin token: pass --admin-token, set NEWRAL_ADMIN_TOKEN, or --data-dir of a "
                   "coordinator on this machine (its admin-token file)")


def _print(obj: Any) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newral", description="Newral admin command line.")
    p.add_argument("--coordinator", default=os.environ.get("NEWRAL_COORDINATOR", "http://127.0.0.1:8470"))
    p.add_argument("--admin-token")
    p.add_argument("--data-dir", default=os.environ.get("NEWRAL_DATA_DIR"),
                   help="a local coordinator's data folder, to read its admin token")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("token", help="create a one-time enrolment token")
    t.add_argument("--note", default="")
    t.add_argument("--ttl-hours", type=float, default=168.0)

    pr = sub.add_parser("project", help="manage projects")
    prs = pr.add_subparsers(dest="action", required=True)
    c = prs.add_parser("create")
    c.add_argument("name")
    c.add_argument("--app", default="bpsw-hunter")
    c.add_argument("--description", default="")
    for action in ("pause", "resume"):
        prs.add_parser(action).add_argument("name")

    w = sub.add_parser("work", help="submit work to a project")
    w.add_argument("project")
    w.add_argument("--a", required=True, help="start of the range (e.g. 0, 1e12, 2^63)")
    w.add_argument("--b", required=True, help="end of the range, exclusive")
    w.add_argument("--chunk", default="1e7", help="integers per workunit")
    w.add_argument("--quorum", type=int, default=1)
    w.add_argument("--replicas", type=int, default=None)
    w.add_argument("--deadline", type=float, default=3600.0, help="seconds a lease may last")

    s = sub.add_parser("status", help="project progress and totals")
    s.add_argument("project", nargs="?")
    sub.add_parser("nodes", help="list nodes")
    e = sub.add_parser("events", help="recent events")
    e.add_argument("--after", type=int, default=0)

    d = sub.add_parser("demo", help="run a coordinator and two agents here and sweep [0, 1e9)")
    d.add_argument("--bound", default="1e9")
    d.add_argument("--chunk", default="1e7")
    d.add_argument("--agents", type=int, default=2)
    d.add_argument("--keep", action="store_true", help="keep the demo's data folder")
    return p


def run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from coordinator.cli import demo

        return demo.run(bound=args.bound, chunk=args.chunk, agents=args.agents, keep=args.keep)
    client = AdminClient(args.coordinator, admin_token(args))
    try:
        if args.command == "token":
            _print(client.call("POST", "/enrolment-tokens",
                               {"note": args.note, "ttl_seconds": args.ttl_hours * 3600}))
        elif args.command == "project" and args.action == "create":
            _print(client.call("POST", "/projects", {"name": args.name, "app": args.app,
                                                     "description": args.description}))
        elif args.command == "project":
            status = "active" if args.action == "resume" else "paused"
            _print(client.call("POST", f"/projects/{args.name}/status", {"status": status}))
        elif args.command == "work":
            body = {"params": {"a": args.a, "b": args.b, "chunk": args.chunk},
                    "min_quorum": args.quorum, "target_results": args.replicas or args.quorum,
                    "delay_bound": args.deadline}
            _print(client.call("POST", f"/projects/{args.project}/work", body))
        elif args.command == "status":
            _print(client.call("GET", f"/projects/{args.project}" if args.project else "/projects"))
        elif args.command == "nodes":
            _print(client.call("GET", "/nodes"))
        elif args.command == "events":
            _print(client.call("GET", f"/events?after={args.after}"))
    finally:
        client.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except CliError as exc:
        print(f"newral: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
