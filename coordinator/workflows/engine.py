"""Placeholder until the workflow engine lands: no workunit belongs to a workflow yet."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.models import Workunit


async def on_workunit_finished(session: AsyncSession, wu: Workunit, now: float) -> None:
    """Called in the transaction that validates or fails a workunit."""
    return None
