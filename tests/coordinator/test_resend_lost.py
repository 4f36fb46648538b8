"""Lost results sent again: a node that lists what it holds gets back the results still
leased to it that it does not hold (a lease reply lost on the way, a task lost with the
agent's process), with their deadlines unchanged; nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from coordinator.db.database import Database
from coordinator.db.models import Event, Node
from coordinator.domain import leasing
from tests.coordinator.world import World, make_world


@pytest.fixture
def world(db: Database, tmp_path: Path) -> World:
    return make_world(db, tmp_path)


async def _resend(world: World, node: Node, held: list[int], n: int = 8,
                  projects: list[str] | None = None) -> list[leasing.Assignment]:
    async with world.db.transaction() as s:
        fresh = await s.get(Node, node.id)
        assert fresh is not None
        return await leasing.resend_lost(s, fresh, held, n, world.now, projects)


async def _resent_events(world: World) -> list[int]:
    async with world.db.reading() as s:
        return list(await s.scalars(select(Event.result_id).where(Event.kind == "result.resent").order_by(Event.id)))


async def test_a_lost_lease_comes_back_as_it_was(world: World) -> None:
    await world.project()
    node = await world.node()
    lost = await world.lease(node, 3)  # the reply never arrived
    world.now += 60
    again = await _resend(world, node, held=[])
    assert again == lost  # same results, deadlines, output keys and params
    assert await _resent_events(world) == [a.result_id for a in lost]
    # Once the node holds them, nothing more comes back.
    assert await _resend(world, node, held=[a.result_id for a in lost]) == []


async def test_only_what_the_node_does_not_hold_oldest_first_up_to_the_limit(world: World) -> None:
    await world.project()
    node = await world.node()
    first, second, third = await world.lease(node, 3)
    assert await _resend(world, node, held=[second.result_id], n=1) == [first]
    assert await _resend(world, node, held=[first.result_id]) == [second, third]


async def test_reported_expired_and_foreign_results_are_not_sent(world: World) -> None:
    await world.project()
    node, other = await world.node("a"), await world.node("b")
    done, pending = await world.lease(node, 2)
    receipt = await world.report(node, done)
    assert receipt.verdict == "valid"
    assert await _resend(world, other, held=[]) == []  # another node's lease is never its own
    assert await _resend(world, node, held=[]) == [pending]
    assert await _resend(world, node, held=[], projects=["elsewhere"]) == []  # opted out since
    world.now = pending.deadline_at + 1  # past the deadline: the reaper's, not ours
    assert await _resend(world, node, held=[]) == []
