"""Keeps a workunit moving after any of its results ends: validates when a quorum
agrees, issues replacement replicas, or fails the workunit past its limits.
The caller holds the workunit's row lock (see lock_workunit)."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.apps.base import FindingPlan
from coordinator.db.models import Finding, Result, Workunit
from coordinator.domain import events, quorum
from coordinator.workflows import engine

log = logging.getLogger("newral.transitions")


async def lock_workunit(session: AsyncSession, workunit_id: int) -> Workunit:
    wu = await session.scalar(
        select(Workunit).where(Workunit.id == workunit_id).with_for_update()
    )
    assert wu is not None
    return wu


async def advance(session: AsyncSession, wu: Workunit, now: float) -> None:
    if wu.state != "active":
        return
    results = list(await session.scalars(select(Result).where(Result.workunit_id == wu.id)))
    candidates = [
        quorum.Candidate(r.id, r.output_sha256 or "")
        for r in results
        if r.state == "reported" and r.verdict == "pending"
    ]
    decision = quorum.decide(candidates, wu.min_quorum)
    if decision.canonical_id is not None:
        _validate(session, wu, results, decision, now)
        await engine.on_workunit_finished(session, wu, now)
        return

    errors = sum(r.state == "errored" for r in results)
    if errors > wu.max_error_results:
        _fail(session, wu, results, f"{errors} results ended in error", now)
        await engine.on_workunit_finished(session, wu, now)
        return
    outstanding = sum(r.state in ("unsent", "leased") for r in results)
    needed = quorum.replicas_needed(decision.largest_group, wu.min_quorum, outstanding)
    room = wu.max_total_results - len(results)
    if needed > room:
        if outstanding == 0:
            _fail(session, wu, results, f"no quorum after {len(results)} results", now)
            await engine.on_workunit_finished(session, wu, now)
            return
        needed = max(0, room)
    for _ in range(needed):
        session.add(Result(workunit_id=wu.id, state="unsent", created_at=now))
    if needed:
        wu.result_count = len(results) + needed
        events.record(session, "workunit.replicas_added", now, project_id=wu.project_id,
                      workunit_id=wu.id, count=needed)


def _validate(session: AsyncSession, wu: Workunit, results: list[Result],
              decision: quorum.QuorumDecision, now: float) -> None:
    by_id = {r.id: r for r in results}
    for rid in decision.valid_ids:
        by_id[rid].verdict = "valid"
    for rid in decision.invalid_ids:
        by_id[rid].verdict = "invalid"
        events.record(session, "result.invalid", now, node_id=by_id[rid].node_id,
                      project_id=wu.project_id, workunit_id=wu.id, result_id=rid,
                      reason="disagrees with the quorum")
    canonical = by_id[decision.canonical_id]  # type: ignore[index]
    wu.state = "validated"
    wu.canonical_result_id = canonical.id
    wu.summary = canonical.summary
    wu.finished_at = now
    for r in results:
        if r.state == "unsent":
            r.state = "cancelled"
    events.record(session, "workunit.validated", now, project_id=wu.project_id, workunit_id=wu.id,
                  result_id=canonical.id, quorum=len(decision.valid_ids),
                  valid=list(decision.valid_ids))


def _fail(session: AsyncSession, wu: Workunit, results: list[Result], reason: str,
          now: float) -> None:
    wu.state = "failed"
    wu.failure_reason = reason
    wu.finished_at = now
    for r in results:
        if r.state == "unsent":
            r.state = "cancelled"
    events.record(session, "workunit.failed", now, project_id=wu.project_id, workunit_id=wu.id,
                  level=logging.WARNING, reason=reason)


async def judge_late_result(session: AsyncSession, wu: Workunit, result: Result, now: float) -> None:
    """A replica reported after its workunit was validated is compared with the canonical one."""
    if wu.state != "validated" or wu.canonical_result_id is None:
        return
    canonical = await session.get(Result, wu.canonical_result_id)
    assert canonical is not None
    result.verdict = "valid" if result.output_sha256 == canonical.output_sha256 else "invalid"
    events.record(session, f"result.{result.verdict}", now, node_id=result.node_id,
                  project_id=wu.project_id, workunit_id=wu.id, result_id=result.id,
                  reason="compared with the canonical result")


async def record_findings(session: AsyncSession, wu: Workunit, result: Result,
                          findings: tuple[FindingPlan, ...], now: float) -> None:
    """Claims are stored as unverified findings and shouted about: a BPSW
    pseudoprime below 2^64 is either a discovery or a fault."""
    for f in findings:
        exists = await session.scalar(
            select(Finding.id).where(Finding.project_id == wu.project_id, Finding.kind == f.kind,
                                     Finding.value == f.value)
        )
        if exists is None:
            session.add(Finding(project_id=wu.project_id, workunit_id=wu.id, result_id=result.id,
                                kind=f.kind, value=f.value, data=f.data, created_at=now))
        events.record(session, f"finding.{f.kind}", now, node_id=result.node_id,
                      project_id=wu.project_id, workunit_id=wu.id, result_id=result.id,
                      level=logging.ERROR, value=f.value, note="CLAIM: verify before believing")
