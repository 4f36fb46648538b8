"""The transactional outbox: every state change appends one event row in the
same transaction, and logs the same stable event name. Rows are queued and
inserted together just before the transaction commits (one statement for a
whole batch of reports instead of an ORM object each)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db import bulk, database
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
    """Queues the event; it is inserted just before the transaction commits, so a query
    in the same transaction sees it only after `await flush(session)`."""
    database.per_transaction(session, _QUEUE, list).append(
        dict(at=at, kind=kind, node_id=node_id, project_id=project_id, workunit_id=workunit_id,
             result_id=result_id, data=data))
    database.before_commit(session, flush, last=True)
    if log.isEnabledFor(level):
        fields = {"node": node_id, "project": project_id, "workunit": workunit_id, "result": result_id}
        fields.update(data)
        text = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
        log.log(level, "%s %s", kind, text)


_QUEUE = "newral.events"


async def flush(session: AsyncSession) -> None:
    """Inserts the queued events (the transaction runs this before it commits)."""
    rows: list[dict[str, Any]] = database.per_transaction(session, _QUEUE, list)
    if rows:
        queued = rows[:]
        rows.clear()
        await bulk.insert_rows(session, Event.__table__, queued)


async def since(session: AsyncSession, after_id: int, limit: int = 200) -> list[Event]:
    rows = await session.scalars(
        select(Event).where(Event.id > after_id).order_by(Event.id).limit(limit)
    )
    return list(rows)
