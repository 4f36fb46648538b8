"""Result reports: a node says a leased result finished (with its output already
uploaded) or failed. Idempotent; a late, duplicate or foreign report changes nothing.

The output is fetched and checked before the write transaction, so no row lock is
held across object-store I/O; the transaction then re-checks the state it relies on."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import random
from dataclasses import dataclass

from sqlalchemy import select

from coordinator.apps.base import CheckedOutput, OutputInvalid
from coordinator.db.database import Database
from coordinator.db.models import Project, Result, Workunit
from coordinator.domain import events, reputation, transitions, trust
from coordinator.errors import Conflict, Forbidden, InvalidInput, LeaseExpired, NotFound, PayloadTooLarge, Unavailable
from coordinator.store import ObjectNotFound, ObjectStore, ObjectTooLarge, StoreUnavailable

log = logging.getLogger("newral.reporting")


@dataclass(frozen=True)
class Report:
    result_id: int
    outcome: str  # "success" | "error"
    sha256: str = ""
    size: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    error: str = ""


@dataclass(frozen=True)
class Receipt:
    result_id: int
    state: str
    verdict: str | None
    duplicate: bool


def _check_shape(report: Report, max_output: int) -> None:
    if report.outcome not in ("success", "error"):
        raise InvalidInput("outcome must be 'success' or 'error'")
    if report.outcome == "success":
        if len(report.sha256) != 64 or any(c not in "0123456789abcdef" for c in report.sha256):
            raise InvalidInput("sha256 must be 64 lower-case hex digits")
        if not 0 < report.size <= max_output:
            raise PayloadTooLarge(f"output size must be between 1 and {max_output} bytes")
    if report.cpu_seconds < 0 or report.wall_seconds < 0:
        raise InvalidInput("times cannot be negative")


def _duplicate(result: Result, report: Report) -> Receipt | None:
    """None if the report is new; a receipt if it repeats what was already recorded."""
    if result.state == "reported" and report.outcome == "success" and result.output_sha256 == report.sha256:
        return Receipt(result.id, result.state, result.verdict, duplicate=True)
    if result.state == "errored" and report.outcome == "error":
        return Receipt(result.id, result.state, result.verdict, duplicate=True)
    if result.state in ("reported", "errored"):
        raise Conflict("this result was already reported with a different outcome")
    return None


def _check_lease(result: Result | None, node_id: str, now: float) -> Result:
    if result is None:
        raise NotFound("no such result")
    if result.node_id != node_id:
        raise Forbidden("this result is not leased to you")
    if result.state == "expired" or (result.state == "leased" and (result.deadline_at or 0) < now):
        raise LeaseExpired("the lease on this result has expired; its work was given to another node")
    if result.state == "cancelled":
        raise Conflict("this result was cancelled; its workunit is finished")
    return result


async def submit(
    db: Database, store: ObjectStore, node_id: str, report: Report, now: float, max_output: int,
    *, rng: random.Random | None = None,
) -> Receipt:
    _check_shape(report, max_output)
    if "\x00" in report.error:  # a crashed program's stderr may hold NULs; PostgreSQL text cannot
        report = dataclasses.replace(report, error=report.error.replace("\x00", "\ufffd"))
    async with db.transaction() as session:
        result = _check_lease(await session.get(Result, report.result_id), node_id, now)
        receipt = _duplicate(result, report)
        if receipt is not None:
            return receipt
        wu = await session.get(Workunit, result.workunit_id)
        assert wu is not None
        spec = await transitions.app_spec_of(session, wu)
        policy = await session.scalar(select(Project.replication_policy).where(Project.id == wu.project_id))
        params, key = dict(wu.params), result.output_key

    checked: CheckedOutput | None = None
    problem = ""
    if report.outcome == "success":
        assert key is not None
        data = await _fetch_output(store, key, report, max_output)
        try:
            checked = spec.check(params, data)
            audit = getattr(spec, "audit", None)
            if policy == "newral" and audit is not None:
                # A cheap proof of work: recompute a few parts chosen only now.
                verdict = audit(params, data, rng or random.Random())
                checked = dataclasses.replace(checked, summary={**checked.summary, "_audit": verdict.detail})
                if not verdict.ok:
                    raise OutputInvalid(f"audit failed: {verdict.detail}")
        except OutputInvalid as exc:
            checked, problem = None, str(exc)

    async with db.transaction() as session:
        wu = await transitions.lock_workunit(session, result.workunit_id)
        result = _check_lease(
            await session.scalar(select(Result).where(Result.id == report.result_id).with_for_update()),
            node_id, now,
        )
        receipt = _duplicate(result, report)
        if receipt is not None:
            return receipt
        result.reported_at = now
        result.cpu_seconds = report.cpu_seconds
        result.wall_seconds = report.wall_seconds
        ctx = dict(node_id=node_id, project_id=wu.project_id, workunit_id=wu.id, result_id=result.id)
        node = await trust.lock_node(session, node_id)
        assert node is not None
        if report.outcome == "error":
            result.state = "errored"
            result.error_message = report.error[:2000]
            wu.error_count += 1
            events.record(session, "result.errored", now, **ctx, error=report.error[:200])
            trust.record_outcome(session, node, "error", now, result_id=result.id)
        else:
            result.state = "reported"
            result.output_sha256 = report.sha256
            result.output_size = report.size
            if reputation.too_fast(wu.cost, report.wall_seconds, node.benchmark, trust.DEFAULT):
                trust.flag_anomaly(session, node, f"result back in {report.wall_seconds:.3f} s, faster than "
                                   "its benchmark allows", now, result_id=result.id)
            if checked is None:
                result.error_message = problem[:2000]
                await transitions.settle(session, wu, result, "invalid", now, reason=problem[:300])
            else:
                result.verdict = "pending"
                result.summary = checked.summary
                events.record(session, "result.reported", now, **ctx, sha256=report.sha256,
                              cpu_seconds=round(report.cpu_seconds, 3))
                if checked.findings:
                    await transitions.record_findings(session, wu, result, checked.findings, now)
        if wu.state == "active":
            await transitions.advance(session, wu, now)
        elif result.verdict == "pending":
            await transitions.judge_late_result(session, wu, result, now)
        return Receipt(result.id, result.state, result.verdict, duplicate=False)


async def _fetch_output(store: ObjectStore, key: str, report: Report, max_output: int) -> bytes:
    try:
        data = await store.get(key, max_size=max_output)
    except ObjectNotFound:
        raise InvalidInput("the output has not been uploaded; upload it, then report") from None
    except ObjectTooLarge:
        raise PayloadTooLarge(f"the uploaded output is larger than {max_output} bytes") from None
    except StoreUnavailable as exc:
        raise Unavailable(f"the object store is unavailable: {exc}") from None
    if len(data) != report.size or hashlib.sha256(data).hexdigest() != report.sha256:
        raise InvalidInput("the uploaded output does not match the reported sha256 and size; upload it again")
    return data
