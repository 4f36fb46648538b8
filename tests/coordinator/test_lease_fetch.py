"""How many candidates a lease fetches (each one is locked and decoded): a few more than
it wants, and four times as many only when replicas of one workunit, which a node may not
hold two of, left the narrow fetch short."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from coordinator.db.database import Database
from coordinator.domain import leasing
from tests.coordinator.world import World, make_world


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The b_limit of every candidate query, in order (SQLAlchemy's execution event; the
    queries run for real); each test starts narrow (the process state reset)."""
    seen: list[int] = []

    def record(state: ORMExecuteState) -> None:
        if isinstance(state.parameters, dict) and "b_limit" in state.parameters:
            seen.append(state.parameters["b_limit"])

    event.listen(Session, "do_orm_execute", record)
    monkeypatch.setattr(leasing, "_start_wide", False)
    try:
        yield seen
    finally:
        event.remove(Session, "do_orm_execute", record)


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    db = Database(database_url)
    try:
        yield make_world(db, tmp_path)
    finally:
        await db.dispose()


async def test_unreplicated_work_is_leased_from_one_narrow_fetch(world: World, limits: list[int]) -> None:
    await world.project(a=10**6, b=10**6 + 40_000, chunk=1000)
    node = await world.node()
    first, second = await world.lease(node, 16), await world.lease(node, 16)
    assert len(first) == len(second) == 16
    assert limits == [20, 20]
    assert len({a.workunit_id for a in first + second}) == 32


async def test_replicas_send_the_lease_wide_and_it_stays_wide_while_they_last(world: World,
                                                                               limits: list[int]) -> None:
    await world.project(a=10**6, b=10**6 + 40_000, chunk=1000, min_quorum=2, target_results=2)
    node = await world.node()
    first = await world.lease(node, 16)
    assert len(first) == 16 and len({a.workunit_id for a in first}) == 16  # one replica each
    assert limits == [20, 64]  # the narrow fetch held 10 workunits twice over: short
    second = await world.lease(node, 16)
    assert len(second) == 16 and not {a.workunit_id for a in first} & {a.workunit_id for a in second}
    assert limits == [20, 64, 64]  # wide from the start, and still skipping replicas


async def test_a_lease_short_of_candidates_takes_what_there_is(world: World, limits: list[int]) -> None:
    await world.project(a=10**6, b=10**6 + 5000, chunk=1000, min_quorum=2, target_results=2)
    node = await world.node()
    got = await world.lease(node, 16)
    assert sorted(a.workunit_id for a in got) == sorted({a.workunit_id for a in got}) and len(got) == 5
    assert limits == [20]  # 10 rows, fewer than the limit: all there is
