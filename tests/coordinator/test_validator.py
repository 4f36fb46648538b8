"""The validator (domain/validator.py): reports deferred by the HTTP API are queued, and
settling them leaves the rows that settling them in the request leaves; each is settled
once, even by two validators at a time; a queued result whose node was caught cheating
meanwhile is not accepted alone; one whose workunit changed goes the general way."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text, update

from coordinator import metrics
from coordinator.db.database import Database
from coordinator.db.models import CreditEntry, Event, Node, Result, Workunit
from coordinator.domain import leasing, nodes, projects, reporting, validator
from tests.coordinator.test_solo_reports import NOW, _report
from tests.coordinator.world import MAX_OUTPUT, make_world


async def _solo_scenario(url: str, folder: Path, *, defer: bool) -> tuple[str, list[list[str | None]]]:
    """Two nodes report solo work in batches, with a quorum-two workunit among them."""
    db = Database(url)
    world = make_world(db, folder)
    try:
        async with db.transaction() as s:
            await nodes.ensure_admin(s, "admin", NOW)
            project = await projects.create_project(s, "solo", "bpsw-hunter", NOW, replication_policy="fixed")
            await projects.submit_work(s, project, {"a": 10**6, "b": 10**6 + 20_000, "chunk": 1000},
                                       projects.Replication(), NOW)
            await projects.submit_work(s, project, {"a": 2 * 10**6, "b": 2 * 10**6 + 2000, "chunk": 1000},
                                       projects.Replication(min_quorum=2, target_results=2), NOW)
        a, b = await world.node("a"), await world.node("b")
        verdicts = []
        for node, n in ((a, 7), (b, 6), (a, 9)):
            batch = await world.lease(node, n)
            outcomes = await reporting.submit_many(db, world.store, node.id, [_report(x) for x in batch], NOW,
                                                   MAX_OUTPUT, defer=defer)
            verdicts.append([o.verdict for o in outcomes if isinstance(o, reporting.Receipt)])
        if defer:
            async with db.transaction() as s:
                queued = await s.scalar(select(func.count()).where(Result.awaiting_validator))
            assert queued == sum(v == "pending" for batch in verdicts for v in batch) - 2  # quorum two: not queued
            settled = await validator.settle_queued(db, NOW)
            assert len(settled) == queued and set(settled.values()) == {"valid"}
        return await _dump(db), verdicts
    finally:
        await db.dispose()


async def _dump(db: Database) -> str:
    """The tables a validation touches; events as a sorted list (their order and ids
    differ: a deferred batch records every report before the validations)."""
    async with db.transaction() as s:
        names = dict((await s.execute(select(Node.id, Node.name))).all())
        tables: dict[str, Any] = {}
        for table, order in {"results": "id", "workunits": "id", "nodes": "name", "credit_ledger": "id"}.items():
            rows = (await s.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))).mappings().all()
            tables[table] = [{k: v for k, v in row.items() if k not in ("secret_hash", "id") or table != "nodes"}
                             for row in rows]
        events = (await s.execute(text("SELECT kind, node_id, workunit_id, result_id, data FROM events"))).all()
        tables["events"] = sorted(_named(json.dumps([*e[:4], e[4] if isinstance(e[4], dict) else json.loads(e[4])],
                                                    sort_keys=True, default=str), names) for e in events)
    return _named(json.dumps(tables, sort_keys=True, default=str), names)


def _named(dumped: str, names: dict[str, str]) -> str:
    """Node ids are random: compare by name."""
    for node_id, name in names.items():
        dumped = dumped.replace(node_id, f"node:{name}")
    return dumped


async def test_deferred_reports_settle_to_the_rows_of_reports_settled_at_once(
        twin_database_urls: tuple[str, str], tmp_path: Path) -> None:
    at_once_url, deferred_url = twin_database_urls
    at_once, at_once_verdicts = await _solo_scenario(at_once_url, tmp_path / "at-once", defer=False)
    deferred, deferred_verdicts = await _solo_scenario(deferred_url, tmp_path / "deferred", defer=True)
    assert at_once == deferred
    assert {v for batch in at_once_verdicts for v in batch} == {"valid", "pending"}
    assert {v for batch in deferred_verdicts for v in batch} == {"pending"}
    tables = json.loads(deferred)
    assert sum(r["verdict"] == "valid" for r in tables["results"]) >= 20
    assert not any(r["awaiting_validator"] for r in tables["results"])
    assert len(tables["credit_ledger"]) == sum(r["verdict"] == "valid" for r in tables["results"])


async def _queue(db: Database, folder: Path, count: int) -> tuple[Any, list[int]]:
    world = make_world(db, folder)
    await world.project(a=10**6, b=10**6 + 1000 * count, chunk=1000)
    node = await world.node()
    batch = await world.lease(node, count)
    outcomes = await reporting.submit_many(db, world.store, node.id, [_report(x) for x in batch], NOW, MAX_OUTPUT,
                                           defer=True)
    assert all(isinstance(o, reporting.Receipt) and o.verdict == "pending" for o in outcomes), outcomes
    return node, [x.result_id for x in batch]


async def test_each_queued_result_is_settled_once_by_two_validators_at_a_time(
        database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    try:
        node, ids = await _queue(db, tmp_path, 40)
        async with db.transaction() as s:
            assert (await metrics.snapshot(s, NOW)).validator_queue == 40
        first, second = await asyncio.gather(validator.settle_queued(db, NOW, limit=25),
                                             validator.settle_queued(db, NOW, limit=25))
        rest = await validator.settle_queued(db, NOW)
        settled = [*first, *second, *rest]
        assert sorted(settled) == sorted(ids)  # every one, none twice
        assert await validator.settle_queued(db, NOW) == {}
        async with db.transaction() as s:
            assert (await metrics.snapshot(s, NOW)).validator_queue == 0
            grants = await s.scalar(select(func.count()).select_from(CreditEntry))
            validated = await s.scalar(select(func.count()).where(Workunit.state == "validated"))
            events = await s.scalar(select(func.count()).where(Event.kind == "workunit.validated"))
            fresh = await s.get(Node, node.id)
        assert grants == validated == events == 40
        assert fresh is not None and fresh.valid_count == 40 and fresh.credit > 0
    finally:
        await db.dispose()


async def test_a_queued_result_of_a_cancelled_workunit_is_judged_as_a_late_one(
        database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    try:
        _, ids = await _queue(db, tmp_path, 3)
        async with db.transaction() as s:
            (gone,) = [wu for wu in await s.scalars(select(Result.workunit_id).where(Result.id == ids[1]))]
            await s.execute(update(Workunit).where(Workunit.id == gone).values(state="cancelled"))
        settled = await validator.settle_queued(db, NOW)
        assert settled == {ids[0]: "valid", ids[1]: "pending", ids[2]: "valid"}
        async with db.transaction() as s:
            left = await s.get(Result, ids[1])
            grants = set(await s.scalars(select(CreditEntry.result_id)))
        assert left is not None and not left.awaiting_validator and left.verdict == "pending"
        assert grants == {ids[0], ids[2]}
    finally:
        await db.dispose()


async def test_work_of_a_node_caught_cheating_while_queued_is_reopened_not_accepted_alone(
        database_url: str, tmp_path: Path) -> None:
    """A trusted node's replicas of quorum-two work run alone; its batch ends with an
    output proven wrong, which quarantines it before the validator settles the others."""
    db = Database(database_url)
    world = make_world(db, tmp_path)
    rng = random.Random(7)
    try:
        async with db.transaction() as s:
            await nodes.ensure_admin(s, "admin", NOW)
            project = await projects.create_project(s, "hunt", "bpsw-hunter", NOW, replication_policy="newral")
            await projects.submit_work(s, project, {"a": 2 * 10**6, "b": 2 * 10**6 + 8000, "chunk": 1000},
                                       projects.Replication(min_quorum=2, target_results=2), NOW)
        node = await world.node("a")
        async with db.transaction() as s:
            await s.execute(update(Node).where(Node.id == node.id).values(
                trust_good=200.0, trust_bad=1.0, valid_count=200, consecutive_valid=200,
                trust_score=0.99, trust_level="highly_trusted"))
        async with db.transaction() as s:
            fresh = await s.get(Node, node.id)
            assert fresh is not None
            mine = sorted(await leasing.lease(s, fresh, 8, NOW, rng=rng), key=lambda x: x.workunit_id)
        async with db.transaction() as s:
            alone = set(await s.scalars(select(Workunit.id).where(Workunit.min_quorum == 1)))
        assert len(alone) >= 2, alone  # some go alone on the node's trust
        reports = [_report(x, wrong=(i == len(mine) - 1)) for i, x in enumerate(mine)]
        outcomes = await reporting.submit_many(db, world.store, node.id, reports, NOW, MAX_OUTPUT, rng=rng,
                                               defer=True)
        queued = [x.result_id for x, o in zip(mine, outcomes, strict=True)
                  if x.workunit_id in alone and isinstance(o, reporting.Receipt) and o.verdict == "pending"]
        assert queued
        async with db.transaction() as s:
            caught = await s.get(Node, node.id)
            assert caught is not None and caught.status == "quarantined"
        settled = await validator.settle_queued(db, NOW)
        assert settled == {rid: "pending" for rid in queued}
        async with db.transaction() as s:
            for rid in queued:
                result = await s.get(Result, rid)
                assert result is not None and not result.awaiting_validator and result.verdict == "pending"
                wu = await s.get(Workunit, result.workunit_id)
                assert wu is not None and wu.state == "active" and wu.min_quorum == 2
                assert (wu.verification or {}).get("mode") == "retro-audit"
                replicas = set(await s.scalars(select(Result.state).where(Result.workunit_id == wu.id)))
                assert "unsent" in replicas
            reopened = set(await s.scalars(select(Event.result_id).where(Event.kind == "workunit.reopened")))
            grants = set(await s.scalars(select(CreditEntry.result_id)))
        assert set(queued) <= reopened
        assert not grants & set(queued)
    finally:
        await db.dispose()
