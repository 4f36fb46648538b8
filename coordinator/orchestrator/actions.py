"""What the orchestrator may do to live work, applied in the caller's transaction
with the workunit's row lock, each as an event with the prediction behind it:

    reissue            a spare replica for a lease predicted to miss its deadline
                       (the lease stays out; whichever result comes back first counts,
                       by the quorum rules that already apply)
    raise_replication  the work a drifting node holds alone gets a second replica

Both are used by Partial/Full by themselves, and by an admin applying a
recommendation in any mode. Neither relaxes a hard constraint: replicas go through
the normal lease (capabilities, one replica per node), and a spare of work that runs
alone goes to trusted nodes only, so no node the trust rules would replicate ever
has its result accepted alone."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.models import Node, Result, Workunit
from coordinator.domain import events, transitions


async def reissue(session: AsyncSession, result_id: int, now: float, *, by: str,
                  prediction: dict[str, Any]) -> bool:
    """Adds one unsent replica for the workunit of a lease still out; False when the
    lease is over, the workunit already has a replica waiting, or it is at its limit."""
    workunit_id = await session.scalar(select(Result.workunit_id).where(Result.id == result_id))
    if workunit_id is None:
        return False
    wu = await transitions.lock_workunit(session, workunit_id)  # lock order: workunit, then result
    results = list(await session.scalars(select(Result).where(Result.workunit_id == wu.id)))
    lease = next((r for r in results if r.id == result_id), None)
    if (wu.state != "active" or lease is None or lease.state != "leased"
            or any(r.state == "unsent" for r in results) or len(results) >= wu.max_total_results):
        return False
    session.add(Result(workunit_id=wu.id, state="unsent", created_at=now))
    wu.result_count = len(results) + 1
    if wu.min_quorum < 2:
        wu.trusted_only = True
    events.record(session, "orchestrator.reissue", now, level=logging.INFO, node_id=lease.node_id,
                  project_id=wu.project_id, workunit_id=wu.id, result_id=lease.id, by=by,
                  trusted_only=wu.trusted_only, prediction=prediction)
    return True


async def raise_replication(session: AsyncSession, node_id: str, now: float, *, by: str,
                            prediction: dict[str, Any]) -> int:
    """Every active workunit this node holds a lease on alone gets a quorum of two and
    a replica for another node; its run of consecutive valid results starts again.
    Returns how many workunits were changed."""
    node = await session.get(Node, node_id, with_for_update=True)
    if node is None:
        return 0
    node.consecutive_valid = 0
    held = list(await session.scalars(
        select(Result.workunit_id).where(Result.node_id == node_id, Result.state == "leased")
        .order_by(Result.workunit_id)))
    changed = 0
    for workunit_id in held:
        wu: Workunit = await transitions.lock_workunit(session, workunit_id)
        if wu.state != "active" or wu.min_quorum >= 2:
            continue
        results = list(await session.scalars(select(Result).where(Result.workunit_id == wu.id)))
        wu.min_quorum = 2
        if not any(r.state == "unsent" for r in results) and len(results) < wu.max_total_results:
            session.add(Result(workunit_id=wu.id, state="unsent", created_at=now))
            wu.result_count = len(results) + 1
        changed += 1
        events.record(session, "orchestrator.replication_raised", now, level=logging.INFO, node_id=node_id,
                      project_id=wu.project_id, workunit_id=wu.id, by=by, prediction=prediction)
    return changed
