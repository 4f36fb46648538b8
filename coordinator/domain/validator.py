"""The validator: settles, outside the request, the reports that validate their workunit
alone. A report over HTTP records the result and queues it (results.awaiting_validator,
solo_reports.record with defer=True); settle_queued then grants the verdict, trust and
credit of many requests' reports in one transaction, set-wise, as BOINC's validator
daemon does outside its scheduler. Every worker process runs it (api/app.py), woken by
its own reports and every few seconds for the others'; the workunits are locked with
SKIP LOCKED, so two validators never wait for each other or settle a result twice.

A queued result is settled as it would have been in the request, unless its situation
changed meanwhile:
- its node is no longer active (caught with a wrong result, say) and the workunit was
  to be accepted alone on its trust: the workunit is reopened for an independent
  replica instead (transitions.reopen_for_replica), as the retroactive audit does to
  the results such a node had already had accepted alone;
- its workunit is no longer what a solo validation needs (cancelled, say): the general
  path (transitions.advance or judge_late_result) decides."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.database import Database
from coordinator.db.models import Node, Result, Workunit
from coordinator.domain import solo_reports, transitions, trust

LIMIT = 512  # queued results per transaction

_results = Result.__table__


async def settle_queued(db: Database, now: float, *, limit: int = LIMIT) -> dict[int, str | None]:
    """Settles up to `limit` queued results, the oldest first, in one transaction;
    results whose workunit another transaction holds are left for the next call.
    Returns each settled result's verdict."""
    async with db.transaction() as session:
        return await settle(session, now, limit=limit)


async def settle(session: AsyncSession, now: float, *, limit: int = LIMIT) -> dict[int, str | None]:
    workunit_ids = set(await session.scalars(_queue_query(), {"n": limit}))
    if not workunit_ids:
        return {}
    locked = await solo_reports.lock(session, workunit_ids, for_validator=True)
    queued = sorted((r for r in locked.results.values() if r.awaiting_validator), key=lambda r: r.workunit_id)
    nodes: dict[str, Node] = {}
    for node_id in sorted({r.node_id for r in queued}):  # after workunits and results, as everywhere
        node = await trust.lock_node(session, node_id)
        assert node is not None
        nodes[node_id] = node
    batch = solo_reports.Batch()
    verdicts: dict[int, str | None] = {}
    others = []
    for r in queued:
        wu, node = locked.workunits[r.workunit_id], nodes[r.node_id]
        if node.status == "active" and solo_reports.still_applies(wu, r, locked.siblings[wu.id]):
            spec = await transitions.app_spec_of(session, wu)  # type: ignore[arg-type]  # a row will do
            await solo_reports.validate(session, batch, node, wu, r.id, spec, r.summary or {}, now)
            batch.settled.append(dict(id=r.id))
            verdicts[r.id] = "valid"
        else:
            others.append(r.id)
    await solo_reports.write(session, batch)
    if others:
        verdicts.update(await _settle_others(session, others, now))
    return verdicts


@functools.cache
def _queue_query() -> Select[Any]:
    """The workunits of the oldest `n` queued results (the partial index on the queue)."""
    return (select(_results.c.workunit_id).where(_results.c.awaiting_validator).order_by(_results.c.id)
            .limit(bindparam("n")))


async def _settle_others(session: AsyncSession, result_ids: list[int], now: float) -> dict[int, str | None]:
    """The queued results whose situation changed since they were reported (locked
    already, with their workunits and nodes), on ORM objects."""
    results = {r.id: r for r in await session.scalars(select(Result).where(Result.id.in_(result_ids)))}
    wu_ids = sorted({r.workunit_id for r in results.values()})
    workunits = {wu.id: wu for wu in await session.scalars(select(Workunit).where(Workunit.id.in_(wu_ids)))}
    verdicts = {}
    for result_id in result_ids:
        result = results[result_id]
        wu = workunits[result.workunit_id]
        node = await trust.lock_node(session, result.node_id)
        result.awaiting_validator = False
        if (wu.state == "active" and node is not None and node.status != "active"
                and (wu.verification or {}).get("mode") == "alone"):
            transitions.reopen_for_replica(session, wu, node.id, result.id, now)
        elif wu.state == "active":
            await transitions.advance(session, wu, now)
        else:
            await transitions.judge_late_result(session, wu, result, now)
        verdicts[result_id] = result.verdict
    return verdicts
