"""The work loop's domain logic on real SQLite and PostgreSQL, without HTTP."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import gmpy2
import pytest
from sqlalchemy import func, select

from coordinator.db.database import Database
from coordinator.db.models import Admin, Event, Node, Result, Workunit
from coordinator.domain import expiry, nodes, projects
from coordinator.errors import Conflict, Forbidden, InvalidInput, LeaseExpired, NotFound, Unauthorized
from cyext import bpsw_format
from tests.coordinator.world import CAPS, World, make_world
from tests.fixtures.databases import analyzed_tables


@pytest.fixture
def world(db: Database, tmp_path: Path) -> World:
    return make_world(db, tmp_path)


async def _snapshot(db: Database) -> tuple[tuple, tuple, int]:
    async with db.transaction() as s:
        results = tuple((await s.execute(
            select(Result.id, Result.state, Result.verdict, Result.node_id, Result.output_sha256)
            .order_by(Result.id))).all())
        wus = tuple((await s.execute(select(Workunit.id, Workunit.state).order_by(Workunit.id))).all())
        events = await s.scalar(select(func.count()).select_from(Event))
        return results, wus, int(events or 0)


def _brute_force(a: int, b: int) -> tuple[int, int]:
    primes = sum(1 for n in range(a, b) if gmpy2.is_prime(n))
    spsp = sum(1 for n in range(max(a, 3) | 1, b, 2) if gmpy2.is_strong_prp(n, 2) and not gmpy2.is_prime(n))
    return primes, spsp


async def test_full_sweep_validates_every_workunit(world: World) -> None:
    project = await world.project(a=0, b=50_000, chunk=10_000)
    nodes_ = [await world.node("a"), await world.node("b")]
    leased = 0
    while True:
        progress = False
        for node in nodes_:
            for asg in await world.lease(node, 2):
                receipt = await world.report(node, asg)
                assert receipt.verdict == "valid" and not receipt.duplicate
                leased += 1
                progress = True
        if not progress:
            break
    assert leased == 5
    async with world.db.transaction() as s:
        status = await projects.status(s, project)
    primes, spsp = _brute_force(0, 50_000)
    assert status["done"] and status["workunits"]["validated"] == 5
    assert status["totals"]["primes"] == primes
    assert status["totals"]["spsp"] == spsp
    assert status["totals"]["bpsw_pseudoprimes"] == 0


async def test_a_node_never_holds_two_replicas_of_one_workunit(world: World) -> None:
    await world.project(a=0, b=20_000, chunk=10_000, min_quorum=2, target_results=3)
    node = await world.node()
    got = await world.lease(node, 10)
    assert sorted(a.workunit_id for a in got) == sorted({a.workunit_id for a in got})
    assert len(got) == 2
    assert await world.lease(node, 10) == []  # the other replicas are for other nodes
    other = await world.node("other")
    assert len(await world.lease(other, 10)) == 2


async def test_quorum_of_two_marks_the_dissenter_invalid(world: World) -> None:
    await world.project(a=0, b=10_000, chunk=10_000, min_quorum=2, target_results=2)
    honest, liar, third = await world.node("h"), await world.node("l"), await world.node("t")
    (a1,), (a2,) = await world.lease(honest), await world.lease(liar)
    good = bpsw_format.run_sweep(0, 10_000)
    fake = bpsw_format.encode(replace(good, prime_count=good.prime_count + 1,
                                      block_counts=(good.block_counts[0] + 1, *good.block_counts[1:])))
    await world.store.put(a2.output_key, fake)
    assert (await world.report(liar, a2, fake)).verdict == "pending"
    assert (await world.report(honest, a1)).verdict == "pending"  # 1 vs 1: no quorum yet
    (a3,) = await world.lease(third)  # a tie-breaker replica was issued
    assert (await world.report(third, a3)).verdict == "valid"
    async with world.db.transaction() as s:
        verdicts = dict((await s.execute(select(Result.node_id, Result.verdict))).all())
    assert verdicts == {honest.id: "valid", liar.id: "invalid", third.id: "valid"}


async def test_report_is_idempotent(world: World) -> None:
    await world.project(a=0, b=10_000, chunk=10_000)
    node = await world.node()
    (asg,) = await world.lease(node)
    first = await world.report(node, asg)
    before = await _snapshot(world.db)
    again = await world.report(node, asg)
    assert again.duplicate and again.verdict == first.verdict
    assert await _snapshot(world.db) == before


async def test_conflicting_second_report_changes_nothing(world: World) -> None:
    await world.project(a=0, b=10_000, chunk=10_000)
    node = await world.node()
    (asg,) = await world.lease(node)
    await world.report(node, asg)
    before = await _snapshot(world.db)
    with pytest.raises(Conflict):
        await world.report(node, asg, b"other", sha256=hashlib.sha256(b"other").hexdigest(), size=5)
    assert await _snapshot(world.db) == before


async def test_foreign_unknown_and_expired_reports_are_refused(world: World) -> None:
    await world.project(a=0, b=10_000, chunk=10_000, delay_bound=60)
    owner, thief = await world.node("owner"), await world.node("thief")
    (asg,) = await world.lease(owner)
    data = await world.upload(asg)
    before = await _snapshot(world.db)
    with pytest.raises(Forbidden):
        await world.report(thief, asg, data)
    with pytest.raises(NotFound):
        await world.report(owner, replace(asg, result_id=987654), data)
    world.now += 61
    with pytest.raises(LeaseExpired):
        await world.report(owner, asg, data)
    assert await _snapshot(world.db) == before


async def test_wrong_hash_or_missing_upload_changes_nothing(world: World) -> None:
    await world.project(a=0, b=10_000, chunk=10_000)
    node = await world.node()
    (asg,) = await world.lease(node)
    before = await _snapshot(world.db)
    with pytest.raises(InvalidInput, match="not been uploaded"):
        await world.report(node, asg, b"x" * 10)
    data = await world.upload(asg)
    with pytest.raises(InvalidInput, match="does not match"):
        await world.report(node, asg, data, sha256="0" * 64)
    assert await _snapshot(world.db) == before
    assert (await world.report(node, asg, data)).verdict == "valid"


async def test_malformed_output_is_an_invalid_result_and_work_is_reissued(world: World) -> None:
    await world.project(a=0, b=10_000, chunk=10_000)
    bad, good = await world.node("bad"), await world.node("good")
    (asg,) = await world.lease(bad)
    junk = b"not a sweep\n"
    await world.store.put(asg.output_key, junk)
    assert (await world.report(bad, asg, junk)).verdict == "invalid"
    (again,) = await world.lease(good)
    assert again.workunit_id == asg.workunit_id
    assert (await world.report(good, again)).verdict == "valid"


async def test_expired_lease_is_reissued_to_another_node(world: World) -> None:
    await world.project(a=0, b=10_000, chunk=10_000, delay_bound=60)
    slow, fast = await world.node("slow"), await world.node("fast")
    (asg,) = await world.lease(slow)
    assert await world.lease(fast) == []
    world.now += 61
    async with world.db.transaction() as s:
        assert await expiry.expire_leases(s, world.now) == 1
    (again,) = await world.lease(fast)
    assert again.workunit_id == asg.workunit_id and again.result_id != asg.result_id
    assert (await world.report(fast, again)).verdict == "valid"
    async with world.db.transaction() as s:
        kinds = list(await s.scalars(select(Event.kind).where(Event.workunit_id == asg.workunit_id)
                                     .order_by(Event.id)))
    assert kinds[:4] == ["result.leased", "result.expired", "workunit.replicas_added", "result.leased"]


async def test_errors_past_the_limit_fail_the_workunit(world: World) -> None:
    await world.project(a=0, b=10_000, chunk=10_000, max_error_results=1)
    states = []
    for i in range(2):
        node = await world.node(f"n{i}")
        (asg,) = await world.lease(node)
        states.append((await world.report(node, asg, b"", outcome="error", error="boom", sha256="", size=0)).state)
    assert states == ["errored", "errored"]
    async with world.db.transaction() as s:
        wu = await s.scalar(select(Workunit))
    assert wu is not None and wu.state == "failed" and "error" in (wu.failure_reason or "")


async def test_enrolment_token_is_single_use(world: World) -> None:
    await world.project()
    async with world.db.transaction() as s:
        token = await nodes.create_enrolment_token(s, await s.scalar(select(Admin)), world.now)
    async with world.db.transaction() as s:
        await nodes.enrol(s, token, "first", CAPS, world.now)
    before = await _snapshot(world.db)
    with pytest.raises(Conflict, match="already been used"):
        async with world.db.transaction() as s:
            await nodes.enrol(s, token, "second", CAPS, world.now)
    with pytest.raises(Unauthorized):
        async with world.db.transaction() as s:
            await nodes.enrol(s, "nre_made_up", "third", CAPS, world.now)
    async with world.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(Node)) == 1
    assert await _snapshot(world.db) == before


async def test_node_authentication(world: World) -> None:
    await world.project()
    node = await world.node()
    async with world.db.transaction() as s:
        for bad in (None, "", "nodot", f"{node.id}.wrong", "x" * 32 + ".y"):
            with pytest.raises(Unauthorized):
                await nodes.authenticate_node(s, bad, world.now)


async def test_paused_project_leases_nothing(world: World) -> None:
    project = await world.project()
    node = await world.node()
    async with world.db.transaction() as s:
        p = await projects.get_project(s, project.name)
        await projects.set_status(s, p, "paused", world.now)
    assert await world.lease(node) == []


async def test_projects_share_the_nodes_by_their_shares(world: World) -> None:
    await world.project(a=0, b=200_000, chunk=10_000)  # project "hunt", share 1
    async with world.db.transaction() as s:
        big = await projects.create_project(s, "big", "bpsw-hunter", world.now)
        big.share = 3.0
        await projects.submit_work(s, big, {"a": 0, "b": 200_000, "chunk": 10_000}, projects.Replication(),
                                   world.now)
    got = []
    for i in range(8):
        node = await world.node(f"n{i}")
        got += await world.lease(node, 1)
    by_project: dict[str, int] = {}
    for a in got:
        by_project[a.project] = by_project.get(a.project, 0) + 1
    assert by_project == {"big": 6, "hunt": 2}


LEASE_TABLES = {"workunits", "results", "projects", "app_versions", "apps"}


async def test_large_submissions_refresh_planner_statistics(db: Database) -> None:
    # A no-op on SQLite; ANALYZE on PostgreSQL, of every table the lease query joins, the
    # small ones too: with no statistics for projects the planner sorted every unsent
    # result before taking a lease's first 80.
    await projects.after_submission(db, projects.ANALYZE_AFTER - 1)
    if not db.is_sqlite:
        assert not LEASE_TABLES & await analyzed_tables(db)
    await projects.after_submission(db, projects.ANALYZE_AFTER)
    if not db.is_sqlite:
        assert LEASE_TABLES <= await analyzed_tables(db)
