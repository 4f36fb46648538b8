"""The stored mode and its kill switch, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coordinator.db.database import Database
from coordinator.db.models import Event
from coordinator.errors import InvalidInput
from coordinator.orchestrator import modes


async def _mode_events(db: Database) -> list[dict]:
    async with db.transaction() as s:
        rows = await s.scalars(select(Event).where(Event.kind == "orchestrator.mode").order_by(Event.id))
        return [dict(e.data) for e in rows]


async def test_off_until_set_and_every_change_is_an_event(db: Database) -> None:
    async with db.transaction() as s:
        assert (await modes.current(s)).mode == "off"
        await modes.set_mode(s, "Advisory", "tester", 10.0)
    async with db.transaction() as s:
        state = await modes.set_mode(s, "partial", "tester", 20.0, ["reissue-straggler", "large-to-fast"])
    assert state.mode == "partial" and state.applies("large-to-fast") and not state.applies("other")
    assert [(e["previous"], e["mode"]) for e in await _mode_events(db)] == [("off", "advisory"),
                                                                         ("advisory", "partial")]


async def test_kill_switch_returns_to_off_and_survives_a_restart(database_url: str) -> None:
    first = Database(database_url)
    try:
        async with first.transaction() as s:
            await modes.set_mode(s, "full", "tester", 1.0)
        async with first.transaction() as s:
            killed = await modes.kill(s, "tester", 2.0)
        assert killed.mode == "off" and not killed.applies("reissue-straggler")
        async with first.transaction() as s:
            await modes.set_mode(s, "advisory", "tester", 3.0)
    finally:
        await first.dispose()
    again = Database(database_url)  # a restarted coordinator reads the stored mode
    try:
        async with again.transaction() as s:
            state = await modes.current(s)
        assert (state.mode, state.changed_by, state.changed_at) == ("advisory", "tester", 3.0)
        assert [e["mode"] for e in await _mode_events(again)] == ["full", "off", "advisory"]
    finally:
        await again.dispose()


async def test_unknown_mode_is_refused_and_changes_nothing(db: Database) -> None:
    async with db.transaction() as s:
        await modes.set_mode(s, "advisory", "tester", 1.0)
    for bad, actions in (("turbo", None), ("partial", ["rewrite-priorities"])):
        with pytest.raises(InvalidInput):
            async with db.transaction() as s:
                await modes.set_mode(s, bad, "tester", 2.0, actions)
    async with db.transaction() as s:
        assert (await modes.current(s)).mode == "advisory"
