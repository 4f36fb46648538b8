"""Trust, adaptive replication, audits, credit and the result cache on real databases."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from coordinator.apps import sim_blocks
from coordinator.db.database import Database
from coordinator.db.models import Admin, CreditEntry, Event, Node, Result, Workunit
from coordinator.domain import leasing, nodes, projects, reporting, trust
from coordinator.store import LocalStore, UrlSigner
from tests.coordinator.world import CAPS

NOW = 1_000_000.0


class SimWorld:
    def __init__(self, db: Database, tmp: Path) -> None:
        self.db = db
        self.store = LocalStore(tmp / "objects", "http://127.0.0.1:1", UrlSigner(b"k" * 32))
        self.rng = random.Random(7)
        self.now = NOW

    async def project(self, policy: str, count: int, quorum: int = 2, seed: str = "t") -> None:
        async with self.db.transaction() as s:
            await nodes.ensure_admin(s, "admin", self.now)
            p = await projects.create_project(s, "sim", "sim-blocks", self.now, replication_policy=policy)
            await projects.submit_work(s, p, {"count": count, "blocks": 20, "seed": seed},
                                       projects.Replication(min_quorum=quorum, target_results=quorum), self.now)

    async def node(self, owner: str | None = None, benchmark: float = 100.0) -> str:
        async with self.db.transaction() as s:
            admin = await s.scalar(select(Admin))
            token = await nodes.create_enrolment_token(s, admin, self.now, owner=owner)  # type: ignore[arg-type]
            caps = nodes.Capabilities(**{**CAPS.__dict__, "benchmark": benchmark})
            node_id, _ = await nodes.enrol(s, token, "n", caps, self.now)
            return node_id

    async def work(self, node_id: str, *, lie: bool = False, wall: float = 1.0) -> reporting.Receipt | None:
        async with self.db.transaction() as s:
            node = await s.get(Node, node_id)
            got = await leasing.lease(s, node, 1, self.now, rng=self.rng)  # type: ignore[arg-type]
        if not got:
            return None
        (a,) = got
        data = sim_blocks.correct_output(a.params)
        if lie:
            data = sim_blocks.encode(str(a.params["seed"]), ["0" * 16] * int(a.params["blocks"]))
        await self.store.put(a.output_key, data)
        self.now += 1
        return await reporting.submit(self.db, self.store, node_id, reporting.Report(
            result_id=a.result_id, outcome="success", sha256=hashlib.sha256(data).hexdigest(),
            size=len(data), wall_seconds=wall, cpu_seconds=wall), self.now, 1 << 20, rng=self.rng)

    async def node_row(self, node_id: str) -> Node:
        async with self.db.transaction() as s:
            node = await s.get(Node, node_id)
            assert node is not None
            return node


@pytest.fixture
def world(db: Database, tmp_path: Path) -> SimWorld:
    return SimWorld(db, tmp_path)


async def test_honest_nodes_earn_trust_and_credit_once_per_result(world: SimWorld) -> None:
    await world.project("fixed", 30)
    a, b = await world.node(), await world.node()
    for _ in range(30):
        await world.work(a)
        await world.work(b)
    node = await world.node_row(a)
    assert node.valid_count >= 10 and node.trust_level in ("trusted", "highly_trusted")
    async with world.db.transaction() as s:
        grants = await s.scalar(select(func.count()).select_from(CreditEntry).where(CreditEntry.node_id == a))
        total = await s.scalar(select(func.sum(CreditEntry.amount)).where(CreditEntry.node_id == a))
    assert grants == node.valid_count and total == pytest.approx(node.credit) and node.credit == 20 * node.valid_count


async def test_an_always_lying_node_is_quarantined_without_credit(world: SimWorld) -> None:
    await world.project("newral", 40)
    honest = [await world.node() for _ in range(3)]
    liar = await world.node()
    for _ in range(10):
        for h in honest:
            await world.work(h)
        await world.work(liar, lie=True)
    row = await world.node_row(liar)
    assert row.status == "quarantined" and row.credit == 0 and row.invalid_count >= 3
    assert await world.work(liar, lie=True) is None  # no more work for it
    async with world.db.transaction() as s:
        validated = list(await s.scalars(select(Workunit).where(Workunit.state == "validated")))
        canon = {r.id: r.node_id for r in await s.scalars(select(Result))}
    assert validated and all(canon[wu.canonical_result_id] != liar for wu in validated)


async def test_too_fast_results_are_anomalies(world: SimWorld) -> None:
    await world.project("newral", 10)
    a, b = await world.node(benchmark=1.0), await world.node()
    await world.work(a, wall=0.001)  # 20 blocks at 1 block/s cannot take a millisecond
    await world.work(b)
    row = await world.node_row(a)
    assert row.anomaly_flags == 1 and row.trust_level == "probation"


async def test_audit_catches_made_up_output_even_when_alone(world: SimWorld) -> None:
    await world.project("newral", 5, quorum=1)
    a = await world.node()
    receipt = await world.work(a, lie=True)
    assert receipt is not None and receipt.verdict == "invalid"
    async with world.db.transaction() as s:
        reasons = [e.data.get("reason", "") for e in await s.scalars(select(Event).where(Event.kind == "result.invalid"))]
    assert any("audit failed" in r for r in reasons)


async def test_trusted_node_runs_alone_and_a_later_lie_reopens_its_solo_work(world: SimWorld) -> None:
    await world.project("newral", 200)
    a, b = await world.node(), await world.node()
    for _ in range(40):  # both earn trust through quorum-2 work
        await world.work(a)
        await world.work(b)
    assert (await world.node_row(a)).trust_level != "probation"
    checkpoint = world.now
    for _ in range(10):  # 'a' alone now: adaptive replication lets it work solo
        await world.work(a)
    async with world.db.transaction() as s:
        solo = list(await s.scalars(
            select(Workunit.id).join(Result, Result.id == Workunit.canonical_result_id)
            .where(Workunit.accepted_mode == "alone", Result.node_id == a, Result.reported_at > checkpoint)))
    assert solo, "a trusted node should have run some workunits alone"
    await world.work(a, lie=True)  # caught by the audit...
    async with world.db.transaction() as s:
        reopened = set(await s.scalars(select(Event.workunit_id).where(Event.kind == "workunit.reopened")))
        states = {wu.id: wu.state for wu in await s.scalars(select(Workunit).where(Workunit.id.in_(solo)))}
        row = await s.get(Node, a)
    assert row is not None and row.trust_level == "probation"
    assert set(solo) <= reopened  # ...so its solo work since others last agreed is re-verified
    assert set(states.values()) == {"active"}


async def test_same_owner_never_holds_two_replicas(world: SimWorld) -> None:
    await world.project("fixed", 1)
    a, b = await world.node(owner="alice"), await world.node(owner="alice")
    await world.work(a)
    assert await world.work(b) is None  # the other replica is of a workunit alice already holds
    c = await world.node(owner="bob")
    assert await world.work(c) is not None


async def test_validated_results_are_reused_for_the_same_params(world: SimWorld) -> None:
    await world.project("fixed", 2, quorum=1, seed="same")
    a = await world.node()
    await world.work(a)
    await world.work(a)
    async with world.db.transaction() as s:
        p = await projects.get_project(s, "sim")
        created = await projects.submit_work(s, p, {"count": 2, "blocks": 20, "seed": "same"},
                                             projects.Replication(), world.now)
        cached = list(await s.scalars(select(Workunit).where(Workunit.accepted_mode == "cache")))
        unsent = await s.scalar(select(func.count()).select_from(Result).where(Result.state == "unsent"))
    assert created == 2 and len(cached) == 2 and unsent == 0


async def test_admin_reinstates_with_a_reason(world: SimWorld) -> None:
    await world.project("newral", 5)
    a = await world.node()
    async with world.db.transaction() as s:
        node = await s.get(Node, a)
        await trust.set_status(s, node, "quarantined", "looks odd", "api:admin", world.now)  # type: ignore[arg-type]
    async with world.db.transaction() as s:
        node = await s.get(Node, a)
        with pytest.raises(Exception, match="reason"):
            await trust.set_status(s, node, "active", "  ", "api:admin", world.now)  # type: ignore[arg-type]
    async with world.db.transaction() as s:
        node = await s.get(Node, a)
        await trust.set_status(s, node, "active", "checked the hardware", "api:admin", world.now)  # type: ignore[arg-type]
    async with world.db.transaction() as s:
        kinds = [e.kind for e in await s.scalars(select(Event).where(Event.node_id == a).order_by(Event.id))]
    assert kinds[-2:] == ["node.quarantined", "node.reinstated"]


async def test_nodes_agreeing_against_the_quorum_are_flagged(world: SimWorld) -> None:
    await world.project("fixed", 1, quorum=3)
    honest = [await world.node() for _ in range(3)]
    pair = [await world.node(), await world.node()]
    await world.work(pair[0], lie=True)
    await world.work(pair[1], lie=True)  # the colluders agree with each other...
    for h in honest:
        await world.work(h)  # ...and with nobody else: the honest three form the quorum
    for nid in pair:
        row = await world.node_row(nid)
        assert row.anomaly_flags == 1 and row.invalid_count == 1
    for h in honest:
        assert (await world.node_row(h)).anomaly_flags == 0


async def test_credit_grants_are_written_together_once_each_and_only_on_commit(world: SimWorld) -> None:
    await world.project("fixed", 4, quorum=1)
    node_id = await world.node()
    for _ in range(4):
        await world.work(node_id)
    async with world.db.transaction() as s:
        *result_ids, new_id = list(await s.scalars(select(Result.id).order_by(Result.id)))
        await s.execute(CreditEntry.__table__.delete())
        (await s.get(Node, node_id)).credit = 0.0  # type: ignore[union-attr]

    # Queued grants reach the ledger at commit, in one statement; a repeat in the same
    # transaction and one already in the ledger add nothing.
    statements: list[str] = []
    engine = world.db.engine.sync_engine

    def count(_conn, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        async with world.db.transaction() as s:
            node = await trust.lock_node(s, node_id)
            assert node is not None
            for rid in result_ids:
                await trust.grant_credit(s, node, rid, 5.0, NOW)
            await trust.grant_credit(s, node, result_ids[0], 5.0, NOW)
            assert node.credit == 0.0  # nothing written yet
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert sum("INSERT INTO credit_ledger" in st for st in statements) == 1
    async with world.db.transaction() as s:
        node = await trust.lock_node(s, node_id)
        assert node is not None and node.credit == 15.0
        await trust.grant_credit(s, node, result_ids[1], 5.0, NOW)  # granted before: refused by the ledger

    # A transaction that rolls back writes none of its grants; a revoke sees a grant queued before it.
    with pytest.raises(RuntimeError):
        async with world.db.transaction() as s:
            node = await trust.lock_node(s, node_id)
            await trust.grant_credit(s, node, new_id, 7.0, NOW)  # type: ignore[arg-type]
            raise RuntimeError("rolled back")
    async with world.db.transaction() as s:
        node = await trust.lock_node(s, node_id)
        assert node is not None
        before = node.credit
        await trust.grant_credit(s, node, new_id, 7.0, NOW)
        await trust.revoke_credit(s, node, new_id, NOW)
        assert node.credit == before
    async with world.db.transaction() as s:
        reasons = sorted(await s.scalars(select(CreditEntry.reason).where(CreditEntry.result_id == new_id)))
        assert reasons == ["granted", "revoked"]
        assert (await s.get(Node, node_id)).credit == before  # type: ignore[union-attr]
