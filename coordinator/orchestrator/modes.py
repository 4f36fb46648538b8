"""The orchestrator's mode, stored in the database so it survives restarts and is
the same on every coordinator replica. Every change is an event; `kill` is the
switch that returns to AI Off at once, whatever the mode was.

    off ◄──kill──  advisory | partial | full        (any mode ──set──► any mode)
"""

from __future__ import annotations

import logging
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.orchestrator_models import OrchestratorSetting
from coordinator.domain import events
from coordinator.errors import InvalidInput

MODES = ("off", "advisory", "partial", "full")
TITLES = {"off": "Off", "advisory": "Advisory", "partial": "Partial", "full": "Full"}
# What Partial mode may do by itself; strategic settings (project priorities) stay manual.
PARTIAL_ACTIONS = ("reissue-straggler", "large-to-fast")
DEFAULT_PARTIAL = ("reissue-straggler",)
ROW_ID = 1
CACHE_SECONDS = 5.0  # how stale the lease path's view of the models (the plan) may be

# The lease path's cached view, per database engine; changes made through this
# process (set_mode, kill, store_models, store_plan) drop it at once.
_cache: weakref.WeakKeyDictionary[Any, tuple[float, ModeState]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class ModeState:
    mode: str = "off"
    partial_actions: tuple[str, ...] = DEFAULT_PARTIAL
    changed_at: float | None = None
    changed_by: str | None = None
    models: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return TITLES[self.mode]

    def applies(self, action: str) -> bool:
        """Whether the orchestrator may take this action without an admin."""
        if self.mode == "full":
            return True
        return self.mode == "partial" and action in self.partial_actions


def parse_mode(text: str) -> str:
    mode = text.strip().lower()
    if mode not in MODES:
        raise InvalidInput(f"unknown orchestrator mode {text!r}; choose one of {', '.join(TITLES.values())}")
    return mode


def parse_actions(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    unknown = [v for v in values if v not in PARTIAL_ACTIONS]
    if unknown:
        raise InvalidInput(f"unknown Partial action(s) {', '.join(unknown)}; known: {', '.join(PARTIAL_ACTIONS)}")
    return tuple(dict.fromkeys(values))


async def current(session: AsyncSession) -> ModeState:
    row = await session.get(OrchestratorSetting, ROW_ID)
    if row is None:
        return ModeState()
    return ModeState(row.mode, tuple(row.partial_actions), row.changed_at, row.changed_by, dict(row.models or {}))


async def switch(session: AsyncSession) -> ModeState:
    """The mode and Partial actions alone (no models), read afresh: one small query, so
    the lease path sees the kill switch at once on every coordinator process."""
    row = (await session.execute(_SWITCH)).first()
    if row is None:
        return ModeState()
    return ModeState(row.mode, tuple(row.partial_actions))


# Built once: every lease runs it, and building it cost as much as running it.
_SWITCH = select(OrchestratorSetting.mode, OrchestratorSetting.partial_actions).where(OrchestratorSetting.id == ROW_ID)


async def cached(session: AsyncSession) -> ModeState:
    """`current` with its models, read at most once every CACHE_SECONDS per engine. The
    lease path asks `switch` first, so the mode itself is never stale; only the plan
    may be a few seconds old on another replica."""
    engine = session.bind
    hit = _cache.get(engine) if engine is not None else None
    clock = time.monotonic()
    if hit is not None and clock - hit[0] < CACHE_SECONDS:
        return hit[1]
    state = await current(session)
    if engine is not None:
        _cache[engine] = (clock, state)
    return state


def _forget(session: AsyncSession) -> None:
    if session.bind is not None:
        _cache.pop(session.bind, None)


async def set_mode(session: AsyncSession, mode: str, by: str, now: float,
                   partial_actions: list[str] | tuple[str, ...] | None = None) -> ModeState:
    mode = parse_mode(mode)
    row = await session.get(OrchestratorSetting, ROW_ID, with_for_update=True)
    before = row.mode if row is not None else "off"
    if row is None:
        row = OrchestratorSetting(id=ROW_ID, mode="off", partial_actions=list(DEFAULT_PARTIAL), changed_at=now,
                                  changed_by=by)
        session.add(row)
    if partial_actions is not None:
        row.partial_actions = list(parse_actions(partial_actions))
    row.mode, row.changed_at, row.changed_by = mode, now, by
    events.record(session, "orchestrator.mode", now, level=logging.INFO, mode=mode, previous=before, by=by,
                  partial_actions=list(row.partial_actions))
    await session.flush()
    _forget(session)
    return await current(session)


async def kill(session: AsyncSession, by: str, now: float) -> ModeState:
    """The kill switch: back to AI Off, deterministic rules only."""
    return await set_mode(session, "off", by, now)


async def store_models(session: AsyncSession, summary: dict[str, Any], now: float) -> None:
    """Keep the last trained predictors (coefficients and held-out errors) with the mode."""
    row = await session.get(OrchestratorSetting, ROW_ID, with_for_update=True)
    if row is None:
        row = OrchestratorSetting(id=ROW_ID, mode="off", partial_actions=list(DEFAULT_PARTIAL), changed_at=now,
                                  changed_by="system")
        session.add(row)
    row.models = {**summary, "plan": (row.models or {}).get("plan")} if row.models else summary
    _forget(session)
    events.record(session, "orchestrator.trained", now, **{k: v for k, v in summary.items() if k != "coefficients"})


async def store_plan(session: AsyncSession, plan: dict[str, Any]) -> None:
    """Keep the live lease plan (each node's predicted speed and the queue's horizon)
    beside the models, where the lease path's cached read finds it."""
    row = await session.get(OrchestratorSetting, ROW_ID, with_for_update=True)
    if row is None:
        return
    row.models = {**(row.models or {}), "plan": plan}
    _forget(session)
