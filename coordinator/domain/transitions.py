"""Keeps a workunit moving after any of its results ends: validates when a quorum
agrees, issues replacement replicas, or fails the workunit past its limits.
The caller holds the workunit's row lock (see lock_workunit)."""

from __future__ import annotations

import logging
import weakref
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator import apps
from coordinator.apps.base import FindingPlan
from coordinator.db.models import App, AppVersion, Finding, Node, Project, Result, Workunit
from coordinator.domain import events, quorum, trust
from coordinator.workflows import engine

log = logging.getLogger("newral.transitions")


async def lock_workunit(session: AsyncSession, workunit_id: int) -> Workunit:
    wu = await session.scalar(
        select(Workunit).where(Workunit.id == workunit_id).with_for_update()
    )
    assert wu is not None
    return wu


async def advance(session: AsyncSession, wu: Workunit, now: float,
                  results: list[Result] | None = None) -> None:
    """`results`: every result of the workunit, if the caller loaded them already (a
    report batch loads them for all its workunits in one query)."""
    if wu.state != "active":
        return
    if results is None:
        results = list(await session.scalars(select(Result).where(Result.workunit_id == wu.id)))
    candidates = [
        quorum.Candidate(r.id, r.output_sha256 or "")
        for r in results
        if r.state == "reported" and r.verdict == "pending"
    ]
    decision = quorum.decide(candidates, wu.min_quorum)
    if decision.canonical_id is not None:
        await _validate(session, wu, results, decision, now)
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


async def _validate(session: AsyncSession, wu: Workunit, results: list[Result],
                    decision: quorum.QuorumDecision, now: float) -> None:
    by_id = {r.id: r for r in results}
    spec = await app_spec_of(session, wu)
    credit = wu.cost / getattr(spec, "reference_rate", 1.0)
    # Lock the nodes in one order (by id) so two reports settling overlapping nodes can't deadlock.
    for node_id in sorted({str(by_id[i].node_id) for i in (*decision.valid_ids, *decision.invalid_ids)
                           if by_id[i].node_id}):
        await trust.lock_node(session, node_id)
    for rid in decision.valid_ids:
        await settle(session, wu, by_id[rid], "valid", now, credit=credit)
    for rid in decision.invalid_ids:
        await settle(session, wu, by_id[rid], "invalid", now, reason="disagrees with the quorum")
    await _flag_agreeing_dissenters(session, [by_id[rid] for rid in decision.invalid_ids], now)
    canonical = by_id[decision.canonical_id]  # type: ignore[index]
    planned = (wu.verification or {}).get("mode")
    if len(decision.valid_ids) >= 2:
        mode = "spot-check" if planned == "spot-check" else "quorum"
    else:
        mode = "alone" if planned == "alone" else "single"
    wu.state = "validated"
    wu.canonical_result_id = canonical.id
    wu.summary = canonical.summary
    wu.finished_at = now
    wu.accepted_mode = mode
    wu.verification = {**(wu.verification or {}), "mode": mode,
                       "valid": [[by_id[i].id, by_id[i].node_id] for i in decision.valid_ids],
                       "invalid": [[by_id[i].id, by_id[i].node_id] for i in decision.invalid_ids],
                       "audited": bool((canonical.summary or {}).get("_audit"))}
    for r in results:
        if r.state == "unsent":
            r.state = "cancelled"
    events.record(session, "workunit.validated", now, project_id=wu.project_id, workunit_id=wu.id,
                  result_id=canonical.id, quorum=len(decision.valid_ids), mode=mode,
                  valid=list(decision.valid_ids))


async def _flag_agreeing_dissenters(session: AsyncSession, dissenters: list[Result], now: float) -> None:
    """Two nodes that agree with each other on an answer the quorum rejected look
    like collusion (or a shared broken build): each is flagged as an anomaly."""
    by_digest: dict[str, list[Result]] = {}
    for r in dissenters:
        by_digest.setdefault(r.output_sha256 or "", []).append(r)
    for group in by_digest.values():
        if len(group) < 2:
            continue
        for r in group:
            node = await trust.lock_node(session, r.node_id)
            if node is not None:
                others = sorted(str(o.node_id)[:8] for o in group if o is not r)
                trust.flag_anomaly(session, node, f"agreed with {', '.join(others)} against the quorum",
                                   now, result_id=r.id)


async def settle(session: AsyncSession, wu: Workunit, result: Result, verdict: str, now: float, *,
                 credit: float = 0.0, reason: str = "", proven: bool = False) -> None:
    """Gives a reported result its verdict, and its node the trust and credit that follow.
    `proven`: the coordinator's own check or audit showed the result wrong (no vote needed)."""
    result.verdict = verdict
    node = await trust.lock_node(session, result.node_id)
    if verdict == "invalid":
        events.record(session, "result.invalid", now, node_id=result.node_id, project_id=wu.project_id,
                      workunit_id=wu.id, result_id=result.id, reason=reason)
    if node is None:
        return
    trust.record_outcome(session, node, verdict, now, result_id=result.id, proven=proven)
    if verdict == "valid" and credit > 0:
        await trust.grant_credit(session, node, result.id, credit, now)
    elif verdict == "invalid":
        await trust.revoke_credit(session, node, result.id, now)
        await retro_audit(session, node, now)


async def app_spec_of(session: AsyncSession, wu: Workunit) -> apps.AppSpec:
    # An app version's app never changes: remember it per database (engine).
    names = _app_names.setdefault(session.get_bind(), {})
    name = names.get(wu.app_version_id)
    if name is None:
        name = str(await session.scalar(select(App.name).join(AppVersion, AppVersion.app_id == App.id)
                                        .where(AppVersion.id == wu.app_version_id)))
        names[wu.app_version_id] = name
    return apps.get(name)


_app_names: weakref.WeakKeyDictionary[Any, dict[int, str]] = weakref.WeakKeyDictionary()


async def retro_audit(session: AsyncSession, node: Node, now: float) -> int:
    """After a node is caught with a wrong result, every result it had accepted on
    its own (no other node checked it) is reopened for an independent replica: a
    wrong answer seen once says its unchecked answers may be wrong too. Each solo
    result is re-verified at most once (it is then accepted by quorum). Returns how many."""
    suspects = list(await session.scalars(
        select(Workunit).join(Result, Result.id == Workunit.canonical_result_id)
        .join(Project, Project.id == Workunit.project_id)
        .where(Result.node_id == node.id, Workunit.state == "validated", Workunit.accepted_mode == "alone",
               Project.replication_policy == "newral")
        .with_for_update(of=Workunit, skip_locked=True)))
    for wu in suspects:
        canonical = await session.get(Result, wu.canonical_result_id)
        assert canonical is not None
        canonical.verdict = "pending"
        wu.state, wu.canonical_result_id, wu.summary, wu.finished_at = "active", None, None, None
        reopen_for_replica(session, wu, node.id, canonical.id, now)
    return len(suspects)


def reopen_for_replica(session: AsyncSession, wu: Workunit, suspect: str, result_id: int, now: float) -> None:
    """The active workunit `wu` needs an independent replica before the result `result_id`
    of the node `suspect` can count: a quorum of two, and one more replica to lease."""
    wu.min_quorum = max(2, wu.min_quorum)
    wu.accepted_mode = None
    wu.verification = {"mode": "retro-audit", "suspect": suspect}
    session.add(Result(workunit_id=wu.id, state="unsent", created_at=now))
    wu.result_count += 1
    events.record(session, "workunit.reopened", now, node_id=suspect, project_id=wu.project_id,
                  workunit_id=wu.id, result_id=result_id, reason="retroactive audit")


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
    if result.output_sha256 == canonical.output_sha256:
        spec = await app_spec_of(session, wu)
        await settle(session, wu, result, "valid", now, credit=wu.cost / getattr(spec, "reference_rate", 1.0))
    else:
        await settle(session, wu, result, "invalid", now, reason="differs from the canonical result")


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
