"""Expired leases: their results end as 'expired' and replacements are issued."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.models import Result
from coordinator.domain import events, transitions, trust


async def expire_leases(session: AsyncSession, now: float, limit: int = 200) -> int:
    """Marks up to `limit` overdue leases expired; returns how many."""
    overdue = (
        await session.execute(
            select(Result.id, Result.workunit_id)
            .where(Result.state == "leased", Result.deadline_at < now)
            .order_by(Result.deadline_at)
            .limit(limit)
        )
    ).all()
    count = 0
    for result_id, workunit_id in overdue:
        # Lock order everywhere: workunit, then result.
        wu = await transitions.lock_workunit(session, workunit_id)
        result = await session.scalar(
            select(Result).where(Result.id == result_id).with_for_update(skip_locked=True)
        )
        if result is None or result.state != "leased" or (result.deadline_at or 0) >= now:
            continue
        result.state = "expired"
        events.record(session, "result.expired", now, node_id=result.node_id,
                      project_id=wu.project_id, workunit_id=wu.id, result_id=result.id)
        node = await trust.lock_node(session, result.node_id)
        if node is not None:
            trust.record_outcome(session, node, "timeout", now, result_id=result.id)
        await transitions.advance(session, wu, now)
        count += 1
    return count
