"""`newral`: the admin command line. Talks to a coordinator over its HTTP API.

    newral token [--note TEXT]                       a one-time enrolment token for an agent
    newral project create NAME --app bpsw-hunter
    newral work NAME --a 0 --b 1e9 --chunk 1e7       cut a range into workunits
    newral status [NAME]                             progress and totals
    newral nodes | newral events [--after ID]
    newral user create NAME --role admin             a web UI login (written to the database directly)
    newral workflow submit FILE --project NAME       a DAG workflow (JSON); status|graph|retry|cancel ID
    newral demo [bpsw|carmile] [--bound 1e12]        the whole loop on this machine
    newral app keygen|sign|publish                   signed task-app bundles (app_bundles.py)
    newral release keygen|sign|publish|show, newral key add|list|remove   (maintainer.py)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from client.agent import appsign
from coordinator.api.app import ADMIN_TOKEN_FILE
from coordinator.cli import app_bundles, maintainer


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
    t.add_argument("--owner", default="", help="the volunteer account this machine belongs to")
    t.add_argument("--ttl-hours", type=float, default=168.0)

    pr = sub.add_parser("project", help="manage projects")
    prs = pr.add_subparsers(dest="action", required=True)
    c = prs.add_parser("create")
    c.add_argument("name")
    c.add_argument("--app", default="bpsw-hunter")
    c.add_argument("--description", default="")
    c.add_argument("--policy", default="newral", choices=["fixed", "boinc", "newral"],
                   help="replication policy (default: newral, adaptive with audits)")
    for action in ("pause", "resume"):
        prs.add_parser(action).add_argument("name")

    w = sub.add_parser("work", help="submit work to a project")
    w.add_argument("project")
    w.add_argument("--a", required=True, help="start of the range (e.g. 0, 1e12, 2^63)")
    w.add_argument("--b", required=True, help="end of the range, exclusive")
    w.add_argument("--chunk", default="1e7", help="integers per workunit")
    w.add_argument("--quorum", type=int, default=2,
                   help="replicas that must agree (default 2; trusted nodes may then run alone)")
    w.add_argument("--replicas", type=int, default=None)
    w.add_argument("--deadline", type=float, default=3600.0, help="seconds a lease may last")

    s = sub.add_parser("status", help="project progress and totals")
    s.add_argument("project", nargs="?")
    sub.add_parser("nodes", help="list nodes")
    e = sub.add_parser("events", help="recent events")
    e.add_argument("--after", type=int, default=0)

    wf = sub.add_parser("workflow", help="DAG workflows: submit, status, graph, retry, cancel")
    wfs = wf.add_subparsers(dest="action", required=True)
    ws = wfs.add_parser("submit", help="submit a workflow document (a JSON file, or - for stdin)")
    ws.add_argument("file")
    ws.add_argument("--project", required=True)
    for action in ("status", "graph", "retry", "cancel"):
        wfs.add_parser(action).add_argument("id", type=int)

    sim = sub.add_parser("simulate", help="compare validation policies with simulated honest and dishonest nodes")
    sim.add_argument("--nodes", type=int, default=100)
    sim.add_argument("--workunits", type=int, default=2000)
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--database-url", help="default: a temporary SQLite file")
    sim.add_argument("--policies", default="fixed,boinc,newral")
    sim.add_argument("--scenario", choices=["validation", "network"], default="validation",
                     help="network: the AI orchestrator's modes on a heterogeneous network (200 nodes by default)")

    maintainer.add_parsers(sub)  # release keygen|sign|publish|show, key add|list|remove
    app_bundles.add_parsers(sub)  # app keygen|sign|publish

    u = sub.add_parser("user", help="web UI users (writes to the coordinator's database directly)")
    us = u.add_subparsers(dest="action", required=True)
    uc = us.add_parser("create")
    uc.add_argument("name")
    uc.add_argument("--role", choices=["admin", "manager", "viewer"], required=True)
    uc.add_argument("--database-url", default=None, help="default: the SQLite file in --data-dir")
    uc.add_argument("--password-stdin", action="store_true", help="read the password from stdin")

    d = sub.add_parser("demo", help="run a coordinator and two agents here: the BPSW sweep of [0, 1e9), "
                                    "or Carmile (Carmichael numbers to 1e12) as a workflow")
    d.add_argument("which", nargs="?", choices=["bpsw", "carmile"], default="bpsw")
    d.add_argument("--bound", default=None, help="default 1e9 (bpsw) or 1e12 (carmile)")
    d.add_argument("--chunk", default="1e7")
    d.add_argument("--agents", type=int, default=2)
    d.add_argument("--keep", action="store_true", help="keep the demo's data folder")
    return p


def run(args: argparse.Namespace) -> int:
    if args.command in ("release", "key"):
        try:
            _print(maintainer.run(args, args.coordinator, lambda: admin_token(args)))
        except maintainer.MaintainerError as exc:
            raise CliError(str(exc)) from None
        return 0
    if args.command == "app":
        try:
            if args.action == "publish":
                client = AdminClient(args.coordinator, admin_token(args))
                try:
                    _print(app_bundles.run(args, client.call))
                finally:
                    client.close()
            else:
                _print(app_bundles.run(args, lambda *_: None))
        except (appsign.SignatureError, OSError) as exc:
            raise CliError(str(exc)) from None
        return 0
    if args.command == "simulate":
        return _simulate(args)
    if args.command == "demo" and args.which == "carmile":
        from coordinator.cli import carmile_demo

        return carmile_demo.run(bound=args.bound or "1e12", agents=args.agents, keep=args.keep)
    if args.command == "demo":
        from coordinator.cli import demo

        return demo.run(bound=args.bound or "1e9", chunk=args.chunk, agents=args.agents, keep=args.keep)
    if args.command == "user":
        return create_user(args)
    client = AdminClient(args.coordinator, admin_token(args))
    try:
        if args.command == "token":
            _print(client.call("POST", "/enrolment-tokens",
                               {"note": args.note, "ttl_seconds": args.ttl_hours * 3600, "owner": args.owner}))
        elif args.command == "project" and args.action == "create":
            _print(client.call("POST", "/projects", {"name": args.name, "app": args.app,
                                                     "description": args.description,
                                                     "replication_policy": args.policy}))
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
        elif args.command == "workflow":
            _print(_workflow(client, args))
    finally:
        client.close()
    return 0


def _workflow(client: AdminClient, args: argparse.Namespace) -> Any:
    if args.action == "submit":
        try:
            text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
            doc = json.loads(text)
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot read the workflow document {args.file}: {exc}") from None
        return client.call("POST", f"/projects/{args.project}/workflows", doc)
    if args.action in ("retry", "cancel"):
        return client.call("POST", f"/workflows/{args.id}/{args.action}")
    return client.call("GET", f"/workflows/{args.id}" + ("/graph" if args.action == "graph" else ""))


def _simulate(args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import time

    if args.scenario == "network":
        from coordinator.simulate import network, network_report

        sc = network.NetworkScenario(nodes=args.nodes if args.nodes != 100 else 200,
                                     workunits=args.workunits if args.workunits != 2000 else 3000, seed=args.seed)
        print(network_report.scenario(sc))
        started = time.monotonic()
        trained, outs = network.run(sc)
        print(network_report.models(trained))
        print(network_report.table(outs))
        print(f"({time.monotonic() - started:.0f} s; event-driven, real trust and orchestrator decision code)")
        return 0
    from coordinator.simulate import report, runner
    from coordinator.simulate.behaviours import Scenario

    scenario = Scenario(nodes=args.nodes, workunits=args.workunits, seed=args.seed)
    policies = tuple(p.strip() for p in args.policies.split(",") if p.strip())
    kinds = {k: sum(b.kind == k for b in scenario.population()) for k in
             ("honest", "faulty", "liar", "sleeper", "colluder")}
    print(f"Scenario: {scenario.nodes} nodes {kinds}, {scenario.workunits} workunits of "
          f"{scenario.blocks} blocks, faulty nodes err on {scenario.fault_rate:.0%} of results, "
          f"sleepers cheat on {scenario.sleeper_cheat_rate:.0%} once trusted; seed {scenario.seed}")
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("newral").setLevel(logging.CRITICAL)  # the table says it all
    started = time.monotonic()
    outcomes = asyncio.run(runner.run(scenario, policies, args.database_url))
    print(report.table(outcomes))
    print(f"({time.monotonic() - started:.0f} s)")
    return 0


def create_user(args: argparse.Namespace) -> int:
    """The first admin has no web login to create others with, so this writes to the database."""
    import asyncio
    import getpass
    import time

    from sqlalchemy.exc import DBAPIError

    from coordinator.db.database import Database
    from coordinator.domain import users
    from coordinator.errors import DomainError
    from coordinator.settings import load_settings

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise CliError("the passwords differ")
    settings = load_settings(data_dir=Path(args.data_dir).expanduser() if args.data_dir else None,
                             database_url=args.database_url)

    async def create() -> None:
        db = Database(settings.resolved_database_url)
        try:
            async with db.transaction() as session:
                await users.create_user(session, args.name, password, args.role, time.time())
        finally:
            await db.dispose()

    try:
        asyncio.run(create())
    except DomainError as exc:
        raise CliError(exc.message) from None
    except DBAPIError as exc:
        raise CliError(f"cannot write to the database ({type(exc.orig).__name__}); has the coordinator "
                       "run its migrations (newral-coordinator migrate)?") from None
    print(f"user {args.name} created ({users.ROLE_TITLES[args.role]})")
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
