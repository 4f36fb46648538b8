"""The transactional outbox: every state change appends one event row in the
same transaction, and logs the same stable event name."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.models import Event

log = logging.getLogger("newral.events")


def record(
    session: AsyncSession,
    kind: str,
    at: float,
    *,
    node_id: str | None = None,
    project_id: int | None = None,
    workunit_id: int | None = None,
    result_id: int | None = None,
    level: int = logging.DEBUG,
    **data: Any,
) -> None:
    session.add(
        Event(
            at=at,
            kind=kind,
            node_id=node_id,
            project_id=project_id,
            workunit_id=workunit_id,
            result_id=result_id,
            data=data,
        )
    )
    if log.isEnabledFor(level):
        fields = {"node": node_id, "project": project_id, "workunit": workunit_id, "result": result_id}
        fields.update(data)
        text = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
        log.log(level, "%s %s", kind, text)


async def since(session: AsyncSession, after_id: int, limit: int = 200) -> list[Event]:
    rows = await session.scalars(
        select(Event).where(Event.id > after_id).order_by(Event.id).limit(limit)
    )
    return list(rows)
