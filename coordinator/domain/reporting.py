"""Result reports: a node says leased results finished (each output uploaded first,
or sent inline when small) or failed. Idempotent; a late, duplicate or foreign
report changes nothing. Reports come one at a time or in batches; each report in
a batch gets its own outcome, and one refused report never sinks the others.

Three phases, so no row lock is held across object-store I/O or output checks:
1. one read-only query loads every reported result with its workunit and app;
2. outputs are fetched (or the inline ones stored) concurrently, then checked in a
   worker thread (certificate checks are CPU-heavy and must not stall the loop);
3. one write transaction locks the workunits (in id order, so batches cannot
   deadlock each other), then the results and the node, re-checks the state it
   relies on and applies every report."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import functools
import hashlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator import apps
from coordinator.apps.base import CheckedOutput, OutputInvalid
from coordinator.db import bulk
from coordinator.db.database import Database
from coordinator.db.models import App, AppVersion, Node, Project, Result, Workunit
from coordinator.domain import events, reputation, solo_reports, transitions, trust
from coordinator.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    LeaseExpired,
    NotFound,
    PayloadTooLarge,
    Unavailable,
)
from coordinator.store import ObjectNotFound, ObjectStore, ObjectTooLarge, StoreUnavailable

log = logging.getLogger("newral.reporting")

MAX_INLINE_OUTPUT = 64 << 10  # bigger outputs go through an upload URL
MAX_BATCH = 256


@dataclass(frozen=True)
class Report:
    result_id: int
    outcome: str  # "success" | "error"
    sha256: str = ""
    size: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    error: str = ""
    output: bytes | None = None  # the output itself, instead of an upload (small outputs only)


@dataclass(frozen=True)
class Receipt:
    result_id: int
    state: str
    verdict: str | None
    duplicate: bool


@dataclass(frozen=True)
class Refusal:
    """A report in a batch that was refused; nothing of it was recorded."""

    result_id: int
    error: DomainError


@dataclass
class _Pending:
    """A report that passed phase 1, with what phase 2 and 3 need."""

    index: int
    report: Report
    workunit_id: int
    spec: apps.AppSpec
    policy: str
    params: dict[str, Any]
    key: str | None
    checked: CheckedOutput | None = None
    problem: str = ""
    data: bytes | None = None


def _check_shape(report: Report, max_output: int) -> None:
    if report.outcome not in ("success", "error"):
        raise InvalidInput("outcome must be 'success' or 'error'")
    if report.outcome == "success":
        if len(report.sha256) != 64 or any(c not in "0123456789abcdef" for c in report.sha256):
            raise InvalidInput("sha256 must be 64 lower-case hex digits")
        if not 0 < report.size <= max_output:
            raise PayloadTooLarge(f"output size must be between 1 and {max_output} bytes")
        if report.output is not None and len(report.output) > min(max_output, MAX_INLINE_OUTPUT):
            raise PayloadTooLarge(f"inline outputs are limited to {min(max_output, MAX_INLINE_OUTPUT)} bytes; "
                                  "upload bigger ones")
    elif report.output is not None:
        raise InvalidInput("an error report carries no output")
    if report.cpu_seconds < 0 or report.wall_seconds < 0:
        raise InvalidInput("times cannot be negative")


def _duplicate(result: Any, report: Report) -> Receipt | None:
    """None if the report is new; a receipt if it repeats what was already recorded."""
    if result.state == "reported" and report.outcome == "success" and result.output_sha256 == report.sha256:
        return Receipt(result.id, result.state, result.verdict, duplicate=True)
    if result.state == "errored" and report.outcome == "error":
        return Receipt(result.id, result.state, result.verdict, duplicate=True)
    if result.state in ("reported", "errored"):
        raise Conflict("this result was already reported with a different outcome")
    return None


def _check_lease(result: Any, node_id: str, now: float) -> Any:
    """`result`: a Result, or a row with its columns (None if there is no such result)."""
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
    *, rng: random.Random | None = None, defer: bool = False,
) -> Receipt:
    """One report; raises the DomainError that refuses it."""
    (outcome,) = await submit_many(db, store, node_id, [report], now, max_output, rng=rng, defer=defer)
    if isinstance(outcome, Refusal):
        raise outcome.error
    return outcome


async def submit_many(
    db: Database, store: ObjectStore, node_id: str, reports: Sequence[Report], now: float, max_output: int,
    *, rng: random.Random | None = None, defer: bool = False,
) -> list[Receipt | Refusal]:
    """Several reports of one node; one outcome per report, in order. A database
    failure raises (the transaction is rolled back: nothing of the batch is kept).
    `defer`: a report that validates its workunit alone is recorded and queued for the
    validator (validator.settle_queued), its receipt "pending"; otherwise it is settled
    here. The HTTP API defers: the request is shorter, and the validator settles the
    reports of many requests together."""
    outcomes: list[Receipt | Refusal | None] = [None] * len(reports)
    seen: set[int] = set()
    todo: list[tuple[int, Report]] = []
    for i, report in enumerate(reports):
        try:
            _check_shape(report, max_output)
            if report.result_id in seen:
                raise InvalidInput("this result is reported twice in one batch")
        except DomainError as exc:
            outcomes[i] = Refusal(report.result_id, exc)
            continue
        seen.add(report.result_id)
        if "\x00" in report.error:  # a crashed program's stderr may hold NULs; PostgreSQL text cannot
            report = dataclasses.replace(report, error=report.error.replace("\x00", "\ufffd"))
        todo.append((i, report))

    pending = await _load(db, node_id, todo, now, outcomes)
    await _fetch_and_check(store, pending, max_output, rng or random.SystemRandom(), outcomes)
    pending = [p for p in pending if outcomes[p.index] is None]
    while pending:
        try:
            async with db.transaction() as session:
                for p, outcome in await _apply(session, node_id, pending, now, defer):
                    outcomes[p.index] = outcome
            break
        except _ItemFailed as failed:
            # The transaction is rolled back; refuse that one report and apply the others again.
            outcomes[failed.pending.index] = Refusal(failed.pending.report.result_id, failed.error)
            pending = [p for p in pending if p is not failed.pending]
    return [o if o is not None else Refusal(r.result_id, Unavailable("not processed")) for o, r in
            zip(outcomes, reports, strict=True)]


async def _load(db: Database, node_id: str, todo: list[tuple[int, Report]], now: float,
                outcomes: list[Receipt | Refusal | None]) -> list[_Pending]:
    """Phase 1: every reported result with its workunit, app and policy, in one query."""
    if not todo:
        return []
    async with db.reading() as session:
        rows = (await session.execute(_load_query(bulk.dialect(session)),
                                      {"ids": [r.result_id for _, r in todo]})).all()
    found = {row.id: row for row in rows}
    pending = []
    for i, report in todo:
        try:
            row = _check_lease(found.get(report.result_id), node_id, now)
            receipt = _duplicate(row, report)
        except DomainError as exc:
            outcomes[i] = Refusal(report.result_id, exc)
            continue
        if receipt is not None:
            outcomes[i] = receipt
            continue
        pending.append(_Pending(i, report, row.workunit_id, apps.get(str(row.app)), str(row.replication_policy),
                                dict(row.params), row.output_key))
    return pending


@functools.cache
def _load_query(dialect: str) -> Select[Any]:
    """Every reported result with its workunit, app and policy, by result id (`ids`): plain
    columns, not ORM objects (nothing here is changed, and a batch is many rows)."""
    return (select(Result.id, Result.workunit_id, Result.node_id, Result.state, Result.verdict,
                   Result.deadline_at, Result.output_sha256, Result.output_key,
                   Workunit.params, Project.replication_policy, App.name.label("app"))
            .join(Workunit, Workunit.id == Result.workunit_id)
            .join(Project, Project.id == Workunit.project_id)
            .join(AppVersion, AppVersion.id == Workunit.app_version_id)
            .join(App, App.id == AppVersion.app_id)
            .where(bulk.one_of(dialect, Result.id, "ids")))


async def _fetch_and_check(store: ObjectStore, pending: list[_Pending], max_output: int, rng: random.Random,
                           outcomes: list[Receipt | Refusal | None]) -> None:
    """Phase 2: inline outputs stored (in one call), uploaded ones fetched concurrently,
    then every output checked off the event loop."""
    def refuse(p: _Pending, error: DomainError) -> None:
        outcomes[p.index] = Refusal(p.report.result_id, error)

    inline, uploaded = [], []
    for p in pending:
        if p.report.outcome != "success":
            continue
        if p.report.output is None:
            uploaded.append(p)
            continue
        try:
            _match(p.report.output, p.report)
        except DomainError as exc:
            refuse(p, exc)
            continue
        inline.append(p)
    ready = []
    if inline:
        stored = await store.put_many([(str(p.key), p.report.output or b"") for p in inline])
        for p, err in zip(inline, stored, strict=True):
            if isinstance(err, StoreUnavailable):
                refuse(p, Unavailable(f"the object store is unavailable: {err}"))
            elif err is not None:
                refuse(p, InvalidInput(f"the output cannot be stored: {err}"))
            else:
                p.data = p.report.output
                ready.append(p)
    got = await asyncio.gather(*(_fetch_output(store, str(p.key), p.report, max_output) for p in uploaded),
                               return_exceptions=True)
    for p, data in zip(uploaded, got, strict=True):
        if isinstance(data, DomainError):
            refuse(p, data)
        elif isinstance(data, BaseException):
            raise data
        else:
            p.data = data
            ready.append(p)
    if ready:
        # One thread hop for the whole batch: a check may be a certificate (Korselt) check.
        await asyncio.to_thread(_check_outputs, ready, rng)


def _check_outputs(ready: list[_Pending], rng: random.Random) -> None:
    for p in ready:
        assert p.data is not None
        try:
            checked = p.spec.check(p.params, p.data)
            audit = getattr(p.spec, "audit", None)
            if p.policy == "newral" and audit is not None:
                # A cheap proof of work: recompute a few parts chosen only now.
                verdict = audit(p.params, p.data, rng)
                checked = dataclasses.replace(checked, summary={**checked.summary, "_audit": verdict.detail})
                if not verdict.ok:
                    raise OutputInvalid(f"audit failed: {verdict.detail}")
            p.checked = checked
        except OutputInvalid as exc:
            p.checked, p.problem = None, str(exc)
        p.data = None


def _match(data: bytes, report: Report) -> None:
    if len(data) != report.size or hashlib.sha256(data).hexdigest() != report.sha256:
        raise InvalidInput("the uploaded output does not match the reported sha256 and size; upload it again")


async def _fetch_output(store: ObjectStore, key: str, report: Report, max_output: int) -> bytes:
    try:
        data = await store.get(key, max_size=max_output)
    except ObjectNotFound:
        raise InvalidInput("the output has not been uploaded; upload it, then report") from None
    except ObjectTooLarge:
        raise PayloadTooLarge(f"the uploaded output is larger than {max_output} bytes") from None
    except StoreUnavailable as exc:
        raise Unavailable(f"the object store is unavailable: {exc}") from None
    _match(data, report)
    return data


class _ItemFailed(Exception):
    def __init__(self, pending: _Pending, error: DomainError) -> None:
        super().__init__(str(error))
        self.pending = pending
        self.error = error


async def _apply(session: AsyncSession, node_id: str, pending: list[_Pending], now: float,
                 defer: bool = False) -> list[tuple[_Pending, Receipt | Refusal]]:
    """Phase 3, in the caller's transaction. Lock order as everywhere: workunits, results, node.
    Reports that validate their workunit alone are settled set-wise (solo_reports) until the
    first one that needs the general path; from there on every report takes it, on ORM
    objects loaded after the set-wise changes are written, so it sees all earlier changes."""
    # Every result of these workunits is locked, in one query: the reported ones, and their
    # siblings, which the quorum decisions read (a replica reported meanwhile is seen).
    locked = await solo_reports.lock(session, {p.workunit_id for p in pending})
    node = await trust.lock_node(session, node_id)
    assert node is not None
    batch = solo_reports.Batch()
    per_workunit = collections.Counter(p.workunit_id for p in pending)
    todo = sorted(pending, key=lambda p: p.workunit_id)
    orm = None if solo_reports.ENABLED else await _OrmRows.load(session, todo)
    done: list[tuple[_Pending, Receipt | Refusal]] = []
    for i, p in enumerate(todo):
        rows = locked if orm is None else orm
        try:
            row = _check_lease(rows.results.get(p.report.result_id), node_id, now)
            receipt = _duplicate(row, p.report)
        except DomainError as exc:
            done.append((p, Refusal(p.report.result_id, exc)))
            continue
        if receipt is None:
            report = p.report
            if orm is None and per_workunit[p.workunit_id] == 1 and p.checked is not None and solo_reports.applies(
                    locked.workunits[p.workunit_id], row, locked.siblings[p.workunit_id], p.checked,
                    report.outcome, report.wall_seconds, node):
                await solo_reports.record(session, batch, node, locked.workunits[p.workunit_id], row, p.spec, p.checked,
                                          report.sha256, report.size, report.cpu_seconds, report.wall_seconds, now,
                                          defer=defer)
                receipt = Receipt(row.id, "reported", "pending" if defer else "valid", duplicate=False)
            else:
                if orm is None:  # the first report for the general path: write, then load what is left
                    await solo_reports.write(session, batch)
                    orm = await _OrmRows.load(session, todo[i:])
                try:
                    receipt = await _record(session, node, orm.workunits[p.workunit_id],
                                            orm.results[p.report.result_id], p, now, orm.siblings[p.workunit_id])
                except DomainError as exc:
                    raise _ItemFailed(p, exc) from exc
        done.append((p, receipt))
    await solo_reports.write(session, batch)
    return done


@dataclass
class _OrmRows:
    """Workunits and all their results as ORM objects, for the general path."""

    workunits: dict[int, Workunit]
    results: dict[int, Result]
    siblings: dict[int, list[Result]]

    @classmethod
    async def load(cls, session: AsyncSession, pending: list[_Pending]) -> _OrmRows:
        ids = sorted({p.workunit_id for p in pending})  # locked already (solo_reports.lock)
        workunits = {wu.id: wu for wu in await session.scalars(select(Workunit).where(Workunit.id.in_(ids)))}
        siblings: dict[int, list[Result]] = {wu_id: [] for wu_id in workunits}
        for r in await session.scalars(select(Result).where(Result.workunit_id.in_(ids)).order_by(Result.id)):
            siblings[r.workunit_id].append(r)
        return cls(workunits, {r.id: r for group in siblings.values() for r in group}, siblings)


async def _record(session: AsyncSession, node: Node, wu: Workunit, result: Result, p: _Pending,
                  now: float, siblings: list[Result]) -> Receipt:
    report = p.report
    result.reported_at = now
    result.cpu_seconds = report.cpu_seconds
    result.wall_seconds = report.wall_seconds
    ctx = dict(node_id=node.id, project_id=wu.project_id, workunit_id=wu.id, result_id=result.id)
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
        if p.checked is None:
            result.error_message = p.problem[:2000]
            await transitions.settle(session, wu, result, "invalid", now, reason=p.problem[:300], proven=True)
        else:
            result.verdict = "pending"
            result.summary = p.checked.summary
            events.record(session, "result.reported", now, **ctx, sha256=report.sha256,
                          cpu_seconds=round(report.cpu_seconds, 3))
            if p.checked.findings:
                await transitions.record_findings(session, wu, result, p.checked.findings, now)
    if wu.state == "active":
        await transitions.advance(session, wu, now, siblings)
    elif result.verdict == "pending":
        await transitions.judge_late_result(session, wu, result, now)
    return Receipt(result.id, result.state, result.verdict, duplicate=False)
