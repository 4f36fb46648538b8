"""The set-wise path for reports that validate their workunit alone (solo_reports.py)
must leave exactly the rows the general path (transitions.py) leaves. One seeded
scenario runs twice, on two fresh databases, with the fast path on and off; every
table it touches is compared row by row. The scenario mixes solo validations with
everything that must leave the fast path: a result back too fast, an error report,
an output proven wrong (which quarantines a trusted node and reopens the workunits
it validated alone earlier in the same batch), quorums of two, duplicates."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from coordinator.db.database import Database
from coordinator.db.models import Node
from coordinator.domain import leasing, nodes, projects, reporting, solo_reports
from cyext import bpsw_format
from tests.coordinator.world import MAX_OUTPUT, make_world

NOW = 1_000_000.0
TABLES = {
    "results": "id", "workunits": "id", "nodes": "name", "credit_ledger": "id", "events": "id", "findings": "id",
}


def _output(a: leasing.Assignment, *, wrong: bool = False) -> bytes:
    out = bpsw_format.run_sweep(int(a.params["a"]), int(a.params["b"]))
    if wrong:  # canonical, but it lists a multiple of 3 as a base-2 strong pseudoprime
        n = out.a + (-out.a) % 3
        n += 3 if n % 2 == 0 else 0
        claims = tuple(sorted((*out.pseudoprimes, (n, False))))
        out = bpsw_format.SweepOutput(out.a, out.b, out.prime_count, claims, out.block_counts)
    return bpsw_format.encode(out)


def _report(a: leasing.Assignment, *, wall: float = 1.0, wrong: bool = False, error: bool = False
            ) -> reporting.Report:
    if error:
        return reporting.Report(a.result_id, "error", error="crashed", cpu_seconds=0.5, wall_seconds=wall)
    data = _output(a, wrong=wrong)
    return reporting.Report(a.result_id, "success", hashlib.sha256(data).hexdigest(), len(data),
                            cpu_seconds=0.75, wall_seconds=wall, output=data)


async def _scenario(url: str, folder: Path) -> tuple[str, list[list[str]]]:
    db = Database(url)
    world = make_world(db, folder)
    rng = random.Random(20261126)
    try:
        async with db.transaction() as s:
            await nodes.ensure_admin(s, "admin", NOW)
            project = await projects.create_project(s, "hunt", "bpsw-hunter", NOW, replication_policy="newral")
            await projects.submit_work(s, project, {"a": 10**6, "b": 10**6 + 12_000, "chunk": 1000},
                                       projects.Replication(), NOW)
            await projects.submit_work(s, project, {"a": 2 * 10**6, "b": 2 * 10**6 + 10_000, "chunk": 1000},
                                       projects.Replication(min_quorum=2, target_results=2), NOW)
        a, b, c = [await world.node(name) for name in "abc"]
        async with db.transaction() as s:  # a has a long clean record: some of its work runs alone
            await s.execute(update(Node).where(Node.id == a.id).values(
                trust_good=200.0, trust_bad=1.0, valid_count=200, consecutive_valid=200,
                trust_score=0.99, trust_level="highly_trusted"))

        async def lease(node: Node, n: int, projects: list[str] | None = None) -> list[leasing.Assignment]:
            async with db.transaction() as s:
                fresh = await s.get(Node, node.id)
                assert fresh is not None
                return sorted(await leasing.lease(s, fresh, n, NOW, projects, rng=rng), key=lambda x: x.workunit_id)

        async def report(node: Node, reports: list[reporting.Report]) -> list[str]:
            outcomes = await reporting.submit_many(db, world.store, node.id, reports, NOW, MAX_OUTPUT, rng=rng)
            return [repr(o) for o in outcomes]

        receipts = []
        mine = await lease(a, 16)  # 12 of quorum one, 4 first replicas of quorum two (some go alone)
        assert len(mine) == 16
        # Solo validations, then an output proven wrong: a, trusted, is quarantined, and what
        # it validated alone in this very batch is reopened.
        receipts.append(await report(a, [_report(mine[12]), _report(mine[13]), _report(mine[14]),
                                         _report(mine[15], wrong=True)]))
        first = [_report(x) for x in mine[:12]]
        first[9] = _report(mine[9], wall=0.0)  # back faster than its benchmark allows: an anomaly
        receipts.append(await report(a, first))
        receipts.append(await report(a, first[:3]))  # duplicates
        theirs = await lease(b, 8)
        receipts.append(await report(b, [_report(x, error=(i == 2), wrong=(i == 3)) for i, x in enumerate(theirs)]))
        others = await lease(c, 8)
        receipts.append(await report(c, [_report(x) for x in others]))
        # A new node's first batch, all alone and clean: it climbs from probation to trusted
        # to highly trusted within the batch, and nothing after it touches its trust.
        async with db.transaction() as s:
            solo = await projects.create_project(s, "solo", "bpsw-hunter", NOW, replication_policy="fixed")
            await projects.submit_work(s, solo, {"a": 3 * 10**6, "b": 3 * 10**6 + 60_000, "chunk": 1000},
                                       projects.Replication(), NOW)
        d = await world.node("d")
        fresh = await lease(d, 60, ["solo"])
        assert len(fresh) == 60
        receipts.append(await report(d, [_report(x) for x in fresh]))
        return await _dump(db), receipts
    finally:
        await db.dispose()


async def _dump(db: Database) -> str:
    async with db.transaction() as s:
        names = dict((await s.execute(select(Node.id, Node.name))).all())
        tables: dict[str, Any] = {}
        for table, order in TABLES.items():
            rows = (await s.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))).mappings().all()
            tables[table] = [{k: v for k, v in row.items() if k not in ("secret_hash", "id") or table != "nodes"}
                             for row in rows]
    dumped = json.dumps(tables, sort_keys=True, default=str)
    for node_id, name in names.items():  # node ids are random: compare by name
        dumped = dumped.replace(node_id, f"node:{name}")
    return dumped


async def test_solo_path_leaves_the_same_rows_as_the_general_path(
        twin_database_urls: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast_url, general_url = twin_database_urls
    monkeypatch.setattr(solo_reports, "ENABLED", True)
    fast, fast_receipts = await _scenario(fast_url, tmp_path / "fast")
    monkeypatch.setattr(solo_reports, "ENABLED", False)
    general, general_receipts = await _scenario(general_url, tmp_path / "general")
    assert fast_receipts == general_receipts
    assert fast == general

    # The scenario does reach what it claims to cover (so the comparison is not vacuous).
    tables = json.loads(fast)
    modes = [wu["accepted_mode"] for wu in tables["workunits"]]
    assert modes.count("single") >= 8, modes
    kinds = [e["kind"] for e in tables["events"]]
    for kind in ("node.anomaly", "result.errored", "result.invalid", "node.quarantined", "workunit.reopened",
                 "credit.granted"):
        assert kind in kinds, kind
    assert kinds.count("workunit.reopened") >= 2
    data = [e["data"] if isinstance(e["data"], dict) else json.loads(e["data"]) for e in tables["events"]
            if e["kind"] == "node.trust_level" and e["node_id"] == "node:d"]  # PostgreSQL's rows: decoded
    climbs = [(x["before"], x["after"]) for x in data]
    assert climbs == [("probation", "trusted"), ("trusted", "highly_trusted")], climbs
    (d,) = [n for n in tables["nodes"] if n["name"] == "d"]
    assert (d["valid_count"], d["consecutive_valid"], d["trust_level"]) == (60, 60, "highly_trusted"), d
    assert any("duplicate=True" in r for r in fast_receipts[2])


async def test_the_fast_path_is_taken(database_url: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of solo validations is written with one UPDATE per table, not one per row."""
    calls: list[int] = []
    original = solo_reports.write

    async def counting(session: Any, batch: solo_reports.Batch) -> None:
        calls.append(len(batch.results))
        await original(session, batch)

    monkeypatch.setattr(solo_reports, "write", counting)
    db = Database(database_url)
    world = make_world(db, tmp_path)
    try:
        await world.project(a=10**6, b=10**6 + 8000, chunk=1000)
        node = await world.node()
        batch = await world.lease(node, 8)
        outcomes = await reporting.submit_many(db, world.store, node.id, [_report(x) for x in batch], NOW,
                                               MAX_OUTPUT)
        assert all(isinstance(o, reporting.Receipt) and o.verdict == "valid" for o in outcomes), outcomes
        assert calls == [8], calls
    finally:
        await db.dispose()
