"""The orchestrator's one entry into leasing (coordinator/domain/leasing.py).

In Full, or in Partial with the "large-to-fast" action, the candidate query is
ordered largest workunit first, and a node predicted to be slow is held to work it
can finish within the predicted time the queue has left, so the end of the run is
not left waiting on it (the live form of `policy.pick_full`). In every other mode
the query comes back untouched after one small read of the mode. The filters that
make a slot eligible (capabilities, one replica per node, trust) are never changed:
this only orders and narrows what they allow. When several projects compete, their
shares decide the order (leasing.py re-orders after this call); the bound stays."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.models import Node, Result, Workunit
from coordinator.orchestrator import modes, policy


async def shape_lease(session: AsyncSession, node: Node, eligible: Select[Any]) -> Select[Any]:
    if not (await modes.switch(session)).applies("large-to-fast"):
        return eligible  # read afresh on every lease: the kill switch acts at once
    state = await modes.cached(session)  # the plan may be a few seconds old
    plan = state.models.get("plan") or {}
    unit = (plan.get("units") or {}).get(node.id)
    if unit is None:
        return eligible  # a node the last pass did not see: plain FIFO
    shaped = eligible.order_by(None).order_by(Workunit.cost.desc(), Result.id)
    bound = policy.max_cost_for(float(unit), float(plan["best_unit"]), float(plan["exponent"]),
                                float(plan["horizon"]))
    return shaped if bound is None else shaped.where(Workunit.cost <= bound)
