"""SQL statements and wall time per lease request and per report batch, in-process
(no HTTP server, no other clients): a figure that depends less on how busy the
machine is than the throughput of run.py. "CPU in this process" is the coordinator's
Python (and the test client's, a small part); PostgreSQL's time is in the wall time.

    .venv/bin/python -m benchmarks.load.statements [--batch 8] [--rounds 20] [--backlog 1]

Uses a fresh PostgreSQL database (dropped afterwards), a bpsw-hunter project with
the "fixed" policy (quorum 1) and one node that leases a batch, then reports it
with the outputs inline in one report-batch request, then waits for the validator to
settle the batch (its statements are counted apart). `--backlog K` submits K times the
work the rounds lease, as a deployment with work queued has (the lease query's plan
depends on the tables' statistics, see projects.refresh_statistics)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient
from sqlalchemy import event

from coordinator.api import create_app
from coordinator.settings import load_settings
from cyext import bpsw_format

CAPS = {"platform": "linux", "arch": "x86_64", "cores": 2, "memory_bytes": 1 << 33,
        "disk_free_bytes": 1 << 36, "client_version": "0.1.0", "benchmark": 0.0}
BASE = "http://testserver.local"


async def measure(server_dsn: str, batch: int, rounds: int, show: int = 0, policy: str = "fixed",
                  backlog: int = 1) -> None:
    name = f"newral_statements_{os.getpid()}"
    conn = await asyncpg.connect(server_dsn)
    await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await conn.execute(f"CREATE DATABASE {name}")
    await conn.close()
    url = server_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"
    try:
        await _run(url, batch, rounds, show, policy, backlog)
    finally:
        conn = await asyncpg.connect(server_dsn)
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.close()


async def _run(url: str, batch: int, rounds: int, show: int = 0, policy: str = "fixed", backlog: int = 1) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="newral-statements-"))
    settings = load_settings(environ={}, data_dir=tmp, database_url=url, public_url=BASE, reaper_interval=3600.0,
                             rate_lease_per_address=0, rate_lease_per_node=0, max_leases_per_request=1000)
    app = create_app(settings)
    queue = await asyncpg.connect(url.replace("+asyncpg", "", 1))
    async with AsyncTestClient(app, base_url=BASE) as client:
        counts: collections.Counter[str] = collections.Counter()
        phase = {"now": ""}
        engine = app.state.services.db.engine.sync_engine

        texts: collections.Counter[str] = collections.Counter()

        @event.listens_for(engine, "before_cursor_execute")
        def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            counts[phase["now"]] += 1
            if phase["now"] == "report":
                texts[" ".join(statement.split())[:100]] += 1

        admin = {"Authorization": "Bearer " + (tmp / "admin-token").read_text().strip()}
        await client.post("/api/v1/admin/projects", headers=admin,
                          json={"name": "load", "app": "bpsw-hunter", "replication_policy": policy})
        a = 10**12
        await client.post("/api/v1/admin/projects/load/work", headers=admin,
                          json={"params": {"a": str(a), "b": str(a + 1000 * batch * rounds * backlog), "chunk": 1000},
                                **({} if policy == "fixed" else {"min_quorum": 2, "target_results": 2})})
        token = (await client.post("/api/v1/admin/enrolment-tokens", json={}, headers=admin)).json()["token"]
        body = (await client.post("/api/v1/enrol", json={"token": token, "name": "n", "capabilities": CAPS})).json()
        node = {"Authorization": f"Bearer {body['node_id']}.{body['secret']}"}
        took = {"lease": 0.0, "report": 0.0}
        cpu = {"lease": 0.0, "report": 0.0}
        for _ in range(rounds):
            phase["now"] = "lease"
            began, began_cpu = time.perf_counter(), time.process_time()
            r = await client.post("/api/v1/work/lease", json={"max_results": batch}, headers=node)
            took["lease"] += time.perf_counter() - began
            cpu["lease"] += time.process_time() - began_cpu
            reports = []
            for asg in r.json()["assignments"]:
                data = bpsw_format.encode(bpsw_format.run_sweep(int(asg["params"]["a"]), int(asg["params"]["b"])))
                reports.append({"result_id": asg["result_id"], "outcome": "success", "size": len(data),
                                "sha256": hashlib.sha256(data).hexdigest(), "output": base64.b64encode(data).decode()})
            phase["now"] = "report"
            began, began_cpu = time.perf_counter(), time.process_time()
            r = await client.post("/api/v1/work/report-batch", json={"reports": reports}, headers=node)
            took["report"] += time.perf_counter() - began
            cpu["report"] += time.process_time() - began_cpu
            assert all(x["ok"] for x in r.json()["receipts"]), r.text
            # The validator settles the batch just after the request (api/app.py): its
            # statements are counted apart, and the next lease waits for it.
            phase["now"] = "validator"
            await _settled(queue)
    await queue.close()
    print(f"load average {os.getloadavg()[0]:.1f}; batch {batch}, {rounds} rounds, policy {policy}, "
          f"{batch * rounds * backlog} workunits submitted")
    for kind in ("lease", "report"):
        print(f"  {kind:6s}: {counts[kind] / rounds:6.1f} statements per request, "
              f"{counts[kind] / rounds / batch:5.1f} per workunit, {took[kind] / rounds * 1000:6.1f} ms per request, "
              f"{cpu[kind] / rounds * 1000:6.1f} ms of CPU in this process")
    print(f"  validator: {counts['validator'] / rounds:6.1f} statements per report request it settles "
          "(after the request)")
    if show:
        print("  report statements per workunit, commonest first:")
        for text, n in texts.most_common(show):
            print(f"    {n / rounds / batch:5.2f}  {text}")


async def _settled(conn: asyncpg.Connection, timeout: float = 10.0) -> None:
    """Until no result awaits the validator (polled on a connection of its own, not counted)."""
    deadline = time.perf_counter() + timeout
    while await conn.fetchval("SELECT count(*) FROM results WHERE awaiting_validator"):
        if time.perf_counter() > deadline:
            raise RuntimeError("the validator did not settle the batch")
        await asyncio.sleep(0.005)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--show", type=int, default=0, help="list this many of the commonest report statements")
    p.add_argument("--policy", default="fixed", choices=("fixed", "boinc", "newral"),
                   help="replication policy (fixed: quorum 1; the others replicate and audit)")
    p.add_argument("--backlog", type=int, default=1,
                   help="submit this many times the workunits the rounds lease (at least 1)")
    p.add_argument("--pg", default=os.environ.get("NEWRAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = p.parse_args()
    if args.backlog < 1:
        p.error("--backlog must be at least 1")
    asyncio.run(measure(args.pg, args.batch, args.rounds, args.show, args.policy, args.backlog))


if __name__ == "__main__":
    main()
