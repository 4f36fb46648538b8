"""Scheduling latency of the workflow engine on PostgreSQL.

    python benchmarks/bench_workflows.py [--pairs 200] [--backlog 1000] [--dsn postgresql://...]

A backlog workflow puts 1,000 ready tasks in the queue (leasable, never leased).
Then, for each of --pairs parent → child chains, a node reports the parent's
output through the real report path; we time from the start of that report to
(a) its commit, when the child's workunit and unsent result exist, and (b) the
child coming back from a real lease call. Prints p50/p95/max; target p95 < 50 ms.
Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg

from client.taskapps import registry
from coordinator.db import migrate
from coordinator.db.database import Database
from coordinator.db.models import Node
from coordinator.domain import leasing, nodes, projects, reporting
from coordinator.store import LocalStore, UrlSigner
from coordinator.workflows import engine, lifecycle

CAPS = nodes.Capabilities(platform="linux", arch="x86_64", cores=4, memory_bytes=8 << 30,
                          disk_free_bytes=100 << 30, client_version="0.1.0", benchmark=1e8)


def _task(name: str, a: int, after: list[str] | None = None) -> dict:
    return {"name": name, "app": "bpsw-hunter", "params": {"a": str(a), "b": str(a + 1000)}, "after": after or []}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(dsn: str, pairs: int, backlog: int) -> None:
    name = f"newral_bench_{os.getpid()}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    url = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + name
    root = Path(tempfile.mkdtemp(prefix="newral-bench-"))
    db = Database(url)
    try:
        await migrate.upgrade_async(url)
        store = LocalStore(root / "objects", "http://127.0.0.1:1", UrlSigner(b"k" * 32))
        now = time.time()
        async with db.transaction() as s:
            token = await nodes.ensure_admin(s, "admin", now)
            for p in ("backlog", "chains"):
                await projects.create_project(s, p, "bpsw-hunter", now)
        async with db.transaction() as s:
            from sqlalchemy import select

            from coordinator.db.models import Admin

            admin_row = await s.scalar(select(Admin))
            enrol = await nodes.create_enrolment_token(s, admin_row, now)  # type: ignore[arg-type]
            node_id, _ = await nodes.enrol(s, enrol, "bench", CAPS, now)
        del token
        started = time.perf_counter()
        async with db.transaction() as s:
            p = await projects.get_project(s, "backlog")
            await lifecycle.submit(s, p, {"name": "backlog", "tasks": [_task(f"t{i}", 1000 * i)
                                                                         for i in range(backlog)]}, now)
        submit_s = time.perf_counter() - started
        chain_tasks = []
        for i in range(pairs):
            chain_tasks += [_task(f"p{i}", 1000 * i), _task(f"c{i}", 1000 * i, [f"p{i}"])]
        async with db.transaction() as s:
            p = await projects.get_project(s, "chains")
            await lifecycle.submit(s, p, {"name": "chains", "tasks": chain_tasks}, now)

        async def lease(n: int) -> list[leasing.Assignment]:
            async with db.transaction() as s:
                node = await s.get(Node, node_id)
                assert node is not None
                return await leasing.lease(s, node, n, time.time(), ["chains"])

        # Time the engine's own share of the validating transaction.
        hook_ms: list[float] = []
        original = engine.on_workunit_finished

        async def timed_hook(session, wu, now):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            await original(session, wu, now)
            hook_ms.append((time.perf_counter() - t) * 1000)

        engine.on_workunit_finished = timed_hook  # type: ignore[assignment]
        parents = await lease(pairs)
        to_commit, to_lease = [], []
        for a in parents:
            data = registry()[a.app](dict(a.params))
            await store.put(a.output_key, data)
            report = reporting.Report(result_id=a.result_id, outcome="success", size=len(data),
                                      sha256=hashlib.sha256(data).hexdigest(), cpu_seconds=1, wall_seconds=1)
            t0 = time.perf_counter()
            await reporting.submit(db, store, node_id, report, time.time(), 1 << 20)
            t1 = time.perf_counter()
            (child,) = await lease(1)
            t2 = time.perf_counter()
            assert child.params["a"] == a.params["a"]
            to_commit.append((t1 - t0) * 1000)
            to_lease.append((t2 - t0) * 1000)
        print(f"Workflow scheduling latency on PostgreSQL ({backlog} ready tasks queued, {pairs} parent → child chains)")
        print(f"  submit of the {backlog}-task backlog workflow: {submit_s * 1000:.0f} ms")
        engine.on_workunit_finished = original  # type: ignore[assignment]
        for label, xs in (("engine (in the validating transaction)", hook_ms),
                          ("report → child committed (validation + engine)", to_commit),
                          ("report → child returned by a lease", to_lease)):
            print(f"  {label:<48} p50 {statistics.median(xs):6.1f} ms   p95 {_pct(xs, 0.95):6.1f} ms"
                  f"   max {max(xs):6.1f} ms")
        print(f"  target: p95 under 50 ms -> {'met' if _pct(to_lease, 0.95) < 50 else 'NOT met'}")
    finally:
        await db.dispose()
        shutil.rmtree(root, ignore_errors=True)
        admin = await asyncpg.connect(dsn)
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", default=os.environ.get("NEWRAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--pairs", type=int, default=200)
    ap.add_argument("--backlog", type=int, default=1000)
    args = ap.parse_args()
    asyncio.run(run(args.dsn, args.pairs, args.backlog))


if __name__ == "__main__":
    main()
