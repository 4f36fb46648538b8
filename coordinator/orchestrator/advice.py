"""Recommendations as the coordinator keeps them: made by the models (the live pass
in live.py, in every mode but Off), listed in the API and web UI, applied or
dismissed by an admin. Nothing changes by itself: a recommendation acts only when
an admin applies it, and then through actions.py (a straggler's lease gets a spare
replica; a drifting node's work gets a second replica); kinds with no automatic
remedy (queue-dry, large-to-fast) record the admin's decision only."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.orchestrator_models import Recommendation
from coordinator.domain import events
from coordinator.errors import Conflict, InvalidInput, NotFound
from coordinator.orchestrator import actions, features, modes, policy, predictors


def as_dict(r: Recommendation) -> dict[str, Any]:
    return {"id": r.id, "kind": r.kind, "status": r.status, "summary": r.summary, "node_id": r.node_id,
            "project_id": r.project_id,
            "workunit_id": r.workunit_id, "result_id": r.result_id, "predicted_benefit": r.predicted_benefit,
            "prediction": r.prediction, "created_at": r.created_at, "decided_at": r.decided_at,
            "decided_by": r.decided_by}


async def add(session: AsyncSession, advice: policy.Advice, now: float, *, node_id: str | None = None,
              workunit_id: int | None = None, result_id: int | None = None,
              project_id: int | None = None) -> Recommendation:
    rec = Recommendation(created_at=now, kind=advice.kind, status="open", node_id=node_id, workunit_id=workunit_id,
                         result_id=result_id, project_id=project_id, summary=advice.summary[:400],
                         predicted_benefit=advice.predicted_benefit, prediction=dict(advice.prediction))
    session.add(rec)
    await session.flush()
    events.record(session, "orchestrator.recommendation", now, node_id=node_id, workunit_id=workunit_id,
                  result_id=result_id, project_id=project_id, recommendation_id=rec.id, what=advice.kind,
                  predicted_benefit=advice.predicted_benefit, prediction=dict(advice.prediction))
    return rec


async def exists(session: AsyncSession, kind: str, *, since: float | None = None, node_id: str | None = None,
                 result_id: int | None = None, project_id: int | None = None) -> bool:
    """Whether this recommendation was already made (since that time, when given),
    whatever an admin did with it: a dismissed one is not made again at once."""
    q = select(Recommendation.id).where(Recommendation.kind == kind)
    if since is not None:
        q = q.where(Recommendation.created_at >= since)
    for column, value in ((Recommendation.node_id, node_id), (Recommendation.result_id, result_id),
                          (Recommendation.project_id, project_id)):
        if value is not None:
            q = q.where(column == value)
    return await session.scalar(q.limit(1)) is not None


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
    if verdict == "applied":
        await _apply(session, rec, by, now)
    events.record(session, "orchestrator." + ("applied" if verdict == "applied" else "dismissed"), now,
                  level=logging.INFO, node_id=rec.node_id, workunit_id=rec.workunit_id, result_id=rec.result_id,
                  recommendation_id=rec.id, what=rec.kind, by=by)
    return rec


async def _apply(session: AsyncSession, rec: Recommendation, by: str, now: float) -> None:
    prediction = {"recommendation_id": rec.id, **dict(rec.prediction or {})}
    if rec.kind in ("reissue-straggler", "move-work") and rec.result_id is not None:
        await actions.reissue(session, rec.result_id, now, by=by, prediction=prediction)
    elif rec.kind == "raise-replication" and rec.node_id is not None:
        await actions.raise_replication(session, rec.node_id, now, by=by, prediction=prediction)


async def train(session: AsyncSession, now: float) -> predictors.Trained:
    """Train both predictors on the recorded history and keep their held-out errors."""
    trained = predictors.train(await features.from_database(session))
    await modes.store_models(session, {**trained.summary(), "trained_at": now}, now)
    return trained
