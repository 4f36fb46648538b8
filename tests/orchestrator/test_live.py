"""The orchestrator on the live coordinator, on SQLite and PostgreSQL without HTTP:
the periodic pass (stragglers, lease plan, recommendations) and the lease hook.
Off and Advisory change no work; Partial and Full act, each action an event."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from coordinator.db.database import Database
from coordinator.db.models import Event, Node, Project, Result, Workunit
from coordinator.domain import projects
from coordinator.orchestrator import advice, hook, live, modes
from tests.coordinator.world import World, make_world


@pytest.fixture
def world(db: Database, tmp_path: Path) -> World:
    return make_world(db, tmp_path)


async def _work(db: Database) -> tuple[tuple, tuple]:
    async with db.transaction() as s:
        results = tuple((await s.execute(
            select(Result.id, Result.workunit_id, Result.state, Result.node_id).order_by(Result.id))).all())
        wus = tuple((await s.execute(
            select(Workunit.id, Workunit.min_quorum, Workunit.trusted_only, Workunit.result_count)
            .order_by(Workunit.id))).all())
        return results, wus


async def _events(db: Database, prefix: str = "orchestrator.") -> list[Event]:
    async with db.transaction() as s:
        return list(await s.scalars(select(Event).where(Event.kind.startswith(prefix)).order_by(Event.id)))


async def _set(world: World, mode: str, actions: list[str] | None = None) -> None:
    async with world.db.transaction() as s:
        await modes.set_mode(s, mode, "tester", world.now, actions)


async def _pass(world: World, later: float = 60.0) -> live.PassReport:
    async with world.db.transaction() as s:
        return await live.run_pass(s, world.now + later)


async def _benchmark(world: World, node: Node, benchmark: float) -> None:
    async with world.db.transaction() as s:
        fresh = await s.get(Node, node.id)
        assert fresh is not None
        fresh.benchmark = benchmark


async def _straggler(world: World) -> tuple[Node, int]:
    """A node one unit of cost per second holds a 10,000-unit workunit with a 1 h deadline."""
    await world.project(a=0, b=25_000, chunk=10_000)  # costs 10,000, 10,000, 5,000
    slow = await world.node("slow")
    await _benchmark(world, slow, 1.0)
    [asg] = await world.lease(slow, 1)
    return slow, asg.result_id


async def test_off_and_advisory_change_no_work(world: World) -> None:
    _, result_id = await _straggler(world)
    before = await _work(world.db)
    report = await _pass(world)
    assert (report.mode, report.reissued, report.recommended) == ("off", 0, 0)
    assert await _work(world.db) == before and await _events(world.db) == []

    await _set(world, "advisory")
    report = await _pass(world)
    assert report.reissued == 0 and report.recommended >= 1
    assert await _work(world.db) == before  # Advisory applies nothing by itself
    async with world.db.transaction() as s:
        recs = await advice.listing(s, "open")
    straggler = [r for r in recs if r.kind == "reissue-straggler"]
    assert [r.result_id for r in straggler] == [result_id]
    assert straggler[0].prediction["finish_in"] > straggler[0].prediction["deadline_in"]
    kinds = [e.kind for e in await _events(world.db)]
    assert "orchestrator.reissue" not in kinds and "orchestrator.recommendation" in kinds
    await _pass(world, 120.0)  # the same lease is not recommended twice
    async with world.db.transaction() as s:
        assert len([r for r in await advice.listing(s) if r.kind == "reissue-straggler"]) == 1


async def test_admin_applying_a_straggler_recommendation_reissues_it(world: World) -> None:
    _, result_id = await _straggler(world)
    await _set(world, "advisory")
    await _pass(world)
    async with world.db.transaction() as s:
        [rec] = [r for r in await advice.listing(s, "open") if r.kind == "reissue-straggler"]
        await advice.decide(s, rec.id, "applied", "admin", world.now + 90)
    results, _ = await _work(world.db)
    wu_id = next(w for r, w, _, _ in results if r == result_id)
    assert [state for _, w, state, _ in results if w == wu_id] == ["leased", "unsent"]
    [reissue] = [e for e in await _events(world.db) if e.kind == "orchestrator.reissue"]
    assert reissue.result_id == result_id and reissue.data["by"] == "admin"


async def test_partial_reissues_a_predicted_straggler_with_its_prediction(world: World) -> None:
    _, result_id = await _straggler(world)
    await _set(world, "partial")  # default actions: reissue-straggler
    report = await _pass(world)
    assert report.reissued == 1
    results, wus = await _work(world.db)
    wu_id = next(w for r, w, _, _ in results if r == result_id)
    assert [state for _, w, state, _ in results if w == wu_id] == ["leased", "unsent"]
    # The lease ran alone (quorum 1): its spare goes to trusted nodes only.
    assert next(t for w, _, t, _ in wus if w == wu_id) is True
    [event] = [e for e in await _events(world.db) if e.kind == "orchestrator.reissue"]
    assert event.result_id == result_id and event.data["by"] == "orchestrator"
    assert event.data["prediction"]["finish_in"] > event.data["prediction"]["deadline_in"]
    assert (await _pass(world, 120.0)).reissued == 0  # a spare is already waiting

    newcomer = await world.node("new")  # on probation: may not take the spare of work that ran alone
    got = {a.workunit_id for a in await world.lease(newcomer, 5)}
    assert wu_id not in got and len(got) == 2

    async with world.db.transaction() as s:
        await modes.kill(s, "tester", world.now + 200)
    assert (await _pass(world, 300.0)).reissued == 0


async def _sized_project(world: World) -> None:
    """Two small workunits (cost 1,000) queued before three large ones (10,000, 10,000, 5,000)."""
    await world.project(a=0, b=2_000, chunk=1_000)
    async with world.db.transaction() as s:
        project = await s.scalar(select(Project).where(Project.name == "hunt"))
        assert project is not None
        await projects.submit_work(s, project, {"a": 2_000, "b": 27_000, "chunk": 10_000},
                                   projects.Replication(), world.now)


async def _costs(world: World, node: Node, n: int = 1) -> list[float]:
    leased = await world.lease(node, n)
    async with world.db.transaction() as s:
        return [float((await s.get(Workunit, a.workunit_id)).cost) for a in leased]  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", ["off", "advisory", "partial"])
async def test_lease_order_is_fifo_unless_the_mode_applies_large_to_fast(world: World, mode: str) -> None:
    await _sized_project(world)
    fast = await world.node("fast")
    await _benchmark(world, fast, 10.0)
    await _set(world, mode)  # Partial's default actions do not include large-to-fast
    await _pass(world)
    assert await _costs(world, fast) == [1_000.0]


@pytest.mark.parametrize("how", ["full", "partial-large-to-fast"])
async def test_full_gives_large_work_to_fast_nodes_and_keeps_slow_ones_off_the_tail(world: World,
                                                                                   how: str) -> None:
    await _sized_project(world)
    fast, slow = await world.node("fast"), await world.node("slow")
    await _benchmark(world, fast, 10.0)  # ten times the slow node
    await _benchmark(world, slow, 1.0)
    await _set(world, *(("full",) if how == "full" else ("partial", ["large-to-fast"])))
    report = await _pass(world)
    assert report.planned_nodes == 2
    [plan] = [e for e in await _events(world.db) if e.kind == "orchestrator.plan"]
    assert plan.data["nodes"] == 2 and plan.data["horizon"] > 0
    # 27,000 units at 11 units/s: about 41 min left, so the slow node may take only
    # what it finishes by then (with the safety margin): the small workunits.
    assert await _costs(world, slow) == [1_000.0]
    assert await _costs(world, fast) == [10_000.0]
    assert await _costs(world, slow) == [1_000.0]
    assert await _costs(world, slow) == []  # only large work is left: not for the slow node
    assert await _costs(world, fast, 2) == [10_000.0, 5_000.0]

    async with world.db.transaction() as s:
        await modes.kill(s, "tester", world.now + 90)
    async with world.db.transaction() as s:
        assert not (await modes.cached(s)).applies("large-to-fast")  # the kill switch is immediate here


async def test_the_kill_switch_reaches_every_coordinator_process_at_once(world: World, database_url: str) -> None:
    await _sized_project(world)
    fast, slow = await world.node("fast"), await world.node("slow")
    await _benchmark(world, fast, 10.0)
    await _benchmark(world, slow, 1.0)
    await _set(world, "full")
    await _pass(world)
    probe = select(Result.id)
    async with world.db.transaction() as s:
        node = await s.get(Node, slow.id)
        assert await hook.shape_lease(s, node, probe) is not probe  # Full shapes it, and the state is cached
    other = Database(database_url)  # another coordinator process on the same database
    try:
        async with other.transaction() as s:
            await modes.kill(s, "tester", world.now + 90)
    finally:
        await other.dispose()
    async with world.db.transaction() as s:
        node = await s.get(Node, slow.id)
        assert await hook.shape_lease(s, node, probe) is probe  # this process's cache did not delay it


async def test_queue_dry_and_drift_recommendations_wait_for_an_admin(world: World) -> None:
    await world.project(a=0, b=25_000, chunk=10_000)
    node = await world.node("drifter")
    await _benchmark(world, node, 100.0)
    [asg] = await world.lease(node, 1)
    async with world.db.transaction() as s:  # its record, on work finished earlier
        project = await s.scalar(select(Project).where(Project.name == "hunt"))
        assert project is not None
        await projects.submit_work(s, project, {"a": 25_000, "b": 35_000, "chunk": 10_000},
                                   projects.Replication(), world.now)
        wu = await s.scalar(select(Workunit).order_by(Workunit.id.desc()).limit(1))
        assert wu is not None
        wu.state = "validated"
        base = world.now - 100_000.0
        for i in range(10):  # its record: 100 s per workunit, then three times that
            wall = wu.cost / 100.0 * (3.0 if i >= 5 else 1.0)
            s.add(Result(workunit_id=wu.id, node_id=node.id, state="reported", verdict="valid",
                         leased_at=base + i * 2000.0, deadline_at=base + i * 2000.0 + 3600.0,
                         reported_at=base + i * 2000.0 + wall, wall_seconds=wall, created_at=base))
    before = await _work(world.db)
    await _set(world, "advisory")
    report = await _pass(world)
    assert report.reissued == 0 and await _work(world.db) == before
    async with world.db.transaction() as s:
        recs = {r.kind: r for r in await advice.listing(s, "open")}
    assert {"queue-dry", "raise-replication"} <= set(recs)
    assert recs["queue-dry"].project_id is not None and recs["queue-dry"].prediction["dry_in"] < 7200
    assert recs["raise-replication"].node_id == node.id
    assert recs["raise-replication"].prediction["recent_resid"] > recs["raise-replication"].prediction["usual_resid"]
    assert (await _pass(world, 120.0)).recommended == 0  # not repeated while it stands

    async with world.db.transaction() as s:
        await advice.decide(s, recs["queue-dry"].id, "dismissed", "admin", world.now + 130)
        await advice.decide(s, recs["raise-replication"].id, "applied", "admin", world.now + 130)
    results, wus = await _work(world.db)
    assert next(q for w, q, _, _ in wus if w == asg.workunit_id) == 2  # its work now needs a second result
    assert sum(1 for _, w, st, _ in results if w == asg.workunit_id and st == "unsent") == 1
    [raised] = [e for e in await _events(world.db) if e.kind == "orchestrator.replication_raised"]
    assert raised.node_id == node.id and raised.data["by"] == "admin"


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # several processes: PostgreSQL
async def test_two_coordinator_processes_never_make_the_same_recommendation_twice(
        world: World, database_url: str) -> None:
    await _straggler(world)
    await _set(world, "advisory")
    other = Database(database_url)  # another coordinator process on the same database
    try:
        async def pass_in(db: Database, wait: bool) -> live.PassReport:
            async with db.transaction() as s:
                return await live.run_pass(s, world.now + 60, wait=wait)

        # Both at once: one waits for the other's transaction, then sees its recommendation.
        first, second = await asyncio.gather(pass_in(world.db, True), pass_in(other, True))
        assert sorted([first.recommended, second.recommended]) == [0, first.recommended + second.recommended]
        async with world.db.transaction() as s:
            assert len([r for r in await advice.listing(s) if r.kind == "reissue-straggler"]) == 1
        # The periodic pass does not wait: while another process holds the pass, it skips.
        async with other.transaction() as s:
            await live.run_pass(s, world.now + 120)
            skipped = await pass_in(world.db, False)
        assert skipped.skipped and skipped.recommended == 0
    finally:
        await other.dispose()
