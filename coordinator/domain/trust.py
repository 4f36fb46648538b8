"""Reputation (Dr. Mann#n): node status changes made by admins. Every change is
an event with the admin and the reason, so the history explains itself."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.models import Admin, Node
from coordinator.domain import events
from coordinator.errors import Conflict, InvalidInput

STATUSES = ("active", "quarantined", "banned")


async def set_status(session: AsyncSession, node: Node, status: str, reason: str, admin: Admin | None,
                     now: float) -> None:
    """Quarantine (no more work, results need full replication), ban, or reinstate a node."""
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("a reason is required; it is kept in the node's history")
    if node.status == status:
        raise Conflict(f"the node is already {status}")
    previous, node.status, node.status_reason = node.status, status, reason[:2000]
    kind = {"active": "node.reinstated", "quarantined": "node.quarantined", "banned": "node.banned"}[status]
    events.record(session, kind, now, node_id=node.id, level=logging.WARNING, previous=previous,
                  reason=reason[:500], admin=admin.name if admin else "system")
