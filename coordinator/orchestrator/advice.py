"""Recommendations as the coordinator keeps them: made by the models (Advisory),
listed in the API and web UI, applied or dismissed by an admin. Nothing changes
by itself: applying one records the admin's decision as an event; the scheduler
acts on applied recommendations only through the rules it already has."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.orchestrator_models import Recommendation
from coordinator.domain import events
from coordinator.errors import Conflict, InvalidInput, NotFound
from coordinator.orchestrator import features, modes, policy, predictors


def as_dict(r: Recommendation) -> dict[str, Any]:
    return {"id": r.id, "kind": r.kind, "status": r.status, "summary": r.summary, "node_id": r.node_id,
            "workunit_id": r.workunit_id, "result_id": r.result_id, "predicted_benefit": r.predicted_benefit,
            "prediction": r.prediction, "created_at": r.created_at, "decided_at": r.decided_at,
            "decided_by": r.decided_by}


async def add(session: AsyncSession, advice: policy.Advice, now: float, *, node_id: str | None = None,
              workunit_id: int | None = None, result_id: int | None = None) -> Recommendation:
    rec = Recommendation(created_at=now, kind=advice.kind, status="open", node_id=node_id, workunit_id=workunit_id,
                         result_id=result_id, summary=advice.summary[:400],
                         predicted_benefit=advice.predicted_benefit, prediction=dict(advice.prediction))
    session.add(rec)
    await session.flush()
    events.record(session, "orchestrator.recommendation", now, node_id=node_id, workunit_id=workunit_id,
                  result_id=result_id, recommendation_id=rec.id, what=advice.kind,
                  predicted_benefit=advice.predicted_benefit)
    return rec


async def listing(session: AsyncSession, status: str | None = None, limit: int = 200) -> list[Recommendation]:
    q = select(Recommendation).order_by(Recommendation.id.desc()).limit(limit)
    if status:
        q = q.where(Recommendation.status == status)
    return list(await session.scalars(q))


async def decide(session: AsyncSession, rec_id: int, verdict: str, by: str, now: float) -> Recommendation:
    """An admin applies or dismisses an open recommendation; the decision is an event."""
    if verdict not in ("applied", "dismissed"):
        raise InvalidInput(f"unknown decision {verdict!r}; apply or dismiss")
    rec = await session.get(Recommendation, rec_id, with_for_update=True)
    if rec is None:
        raise NotFound(f"no recommendation {rec_id}")
    if rec.status != "open":
        raise Conflict(f"recommendation {rec_id} is already {rec.status}")
    rec.status, rec.decided_at, rec.decided_by = verdict, now, by
    events.record(session, "orchestrator." + ("applied" if verdict == "applied" else "dismissed"), now,
                  level=logging.INFO, node_id=rec.node_id, workunit_id=rec.workunit_id, result_id=rec.result_id,
                  recommendation_id=rec.id, what=rec.kind, by=by)
    return rec


async def train(session: AsyncSession, now: float) -> predictors.Trained:
    """Train both predictors on the recorded history and keep their held-out errors."""
    trained = predictors.train(await features.from_database(session))
    await modes.store_models(session, trained.summary(), now)
    return trained
