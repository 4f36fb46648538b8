"""The common report, settled set-wise: a good output for a workunit whose quorum is
one validates it at once. transitions.advance would load each result and workunit
as an ORM object, decide, and flush them one by one; here the batch's rows are read
with one locking query each, the decisions are made in Python, and the changes are
written with one UPDATE per table for the whole batch. Anything else (errors,
invalid outputs, findings, quorums above one, workflow tasks, late replicas) goes
through transitions.py, and the result is the same rows either way
(tests/coordinator/test_solo_reports.py runs both paths and compares every table).

A report over HTTP is only recorded here (`record(..., defer=True)`): the result is
queued for the validator (validator.py), which settles it just after the request, set-wise
for many requests at once, with `validate`; the request's receipt says "pending"."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator import apps
from coordinator.apps.base import CheckedOutput
from coordinator.db import bulk
from coordinator.db.models import Node, Result, Workunit
from coordinator.domain import events, reputation, trust

ENABLED = True  # the equivalence test turns it off to run the general path

# Sibling results that a solo validation leaves as they are (transitions._validate
# would change an unsent one, and count a reported one as a candidate).
_INERT = frozenset({"cancelled", "expired", "errored", "leased"})

_results = Result.__table__
_workunits = Workunit.__table__


@dataclass
class Locked:
    """The rows of a report batch's workunits and of all their results, locked."""

    workunits: dict[int, Row[Any]]
    results: dict[int, Row[Any]]
    siblings: dict[int, list[Row[Any]]]


async def lock(session: AsyncSession, workunit_ids: set[int], *, for_validator: bool = False) -> Locked:
    """Locks the workunits (in id order, as everywhere), then all their results.
    `for_validator`: leave out the workunits another transaction holds, and read the
    results' summaries too (a report's request needs neither)."""
    lock_workunits, lock_results = _lock_queries(bulk.dialect(session), for_validator)
    wus = (await session.execute(lock_workunits, {"ids": list(workunit_ids)})).all()
    siblings: dict[int, list[Row[Any]]] = {wu.id: [] for wu in wus}
    results = {}
    for r in (await session.execute(lock_results, {"ids": list(siblings)})).all():
        siblings[r.workunit_id].append(r)
        results[r.id] = r
    return Locked({wu.id: wu for wu in wus}, results, siblings)


@functools.cache
def _lock_queries(dialect: str, for_validator: bool = False) -> tuple[Select[Any], Select[Any]]:
    """The workunits by id (`ids`), then the results by workunit id, each locked in id order."""
    workunits = (select(_workunits.c.id, _workunits.c.project_id, _workunits.c.app_version_id, _workunits.c.cost,
                        _workunits.c.state, _workunits.c.min_quorum, _workunits.c.workflow_task_id,
                        _workunits.c.verification)
                 .where(bulk.one_of(dialect, _workunits.c.id, "ids")).order_by(_workunits.c.id)
                 .with_for_update(skip_locked=for_validator))
    summary = (_results.c.summary,) if for_validator else ()
    results = (select(_results.c.id, _results.c.workunit_id, _results.c.node_id, _results.c.state,
                      _results.c.verdict, _results.c.deadline_at, _results.c.output_sha256,
                      _results.c.awaiting_validator, *summary)
               .where(bulk.one_of(dialect, _results.c.workunit_id, "ids")).order_by(_results.c.id).with_for_update())
    return workunits, results


@dataclass
class Batch:
    """Solo validations decided but not yet written."""

    results: list[dict[str, Any]] = field(default_factory=list)  # reported and validated at once
    queued: list[dict[str, Any]] = field(default_factory=list)  # reported, left to the validator
    settled: list[dict[str, Any]] = field(default_factory=list)  # queued earlier, validated now
    workunits: list[dict[str, Any]] = field(default_factory=list)
    trust: dict[str, trust.RunOfValid] = field(default_factory=dict)  # per node, stored on it by write()


def applies(wu: Row[Any], result: Row[Any], siblings: list[Row[Any]], checked: CheckedOutput | None,
            outcome: str, wall_seconds: float, node: Node) -> bool:
    """True when the report validates its workunit alone, with nothing else to decide."""
    return (outcome == "success" and checked is not None and not checked.findings
            and wu.state == "active" and wu.min_quorum == 1 and wu.workflow_task_id is None
            and all(s.id == result.id or s.state in _INERT for s in siblings)
            and not reputation.too_fast(wu.cost, wall_seconds, node.benchmark, trust.DEFAULT))


def still_applies(wu: Row[Any], result: Row[Any], siblings: list[Row[Any]]) -> bool:
    """What `applies` checked of the workunit, checked again when the validator settles
    a queued result (the output and its timing were checked when it was reported)."""
    return (wu.state == "active" and wu.min_quorum == 1 and wu.workflow_task_id is None
            and all(s.id == result.id or s.state in _INERT for s in siblings))


async def record(session: AsyncSession, batch: Batch, node: Node, wu: Row[Any], result: Row[Any],
                 spec: apps.AppSpec, checked: CheckedOutput, sha256: str, size: int, cpu_seconds: float,
                 wall_seconds: float, now: float, *, defer: bool = False) -> None:
    """What reporting._record and transitions.advance do for such a report, in the same
    order (events, trust, credit), with the row changes queued in `batch`. `spec`: the
    workunit's app (transitions.app_spec_of would look it up again). `defer`: record the
    report only, and queue the result for the validator."""
    events.record(session, "result.reported", now, node_id=node.id, project_id=wu.project_id, workunit_id=wu.id,
                  result_id=result.id, sha256=sha256, cpu_seconds=round(cpu_seconds, 3))
    reported = dict(id=result.id, reported_at=now, cpu_seconds=cpu_seconds, wall_seconds=wall_seconds,
                    output_sha256=sha256, output_size=size, summary=checked.summary)
    if defer:
        batch.queued.append(reported)
        return
    batch.results.append(reported)
    await validate(session, batch, node, wu, result.id, spec, checked.summary, now)


async def validate(session: AsyncSession, batch: Batch, node: Node, wu: Row[Any], result_id: int,
                   spec: apps.AppSpec, summary: dict[str, Any], now: float) -> None:
    """The result validates its workunit alone: trust, credit, the workunit's new state
    and the event, queued in `batch` (the result's own row is the caller's)."""
    credit = wu.cost / getattr(spec, "reference_rate", 1.0)
    run = batch.trust.get(node.id)
    if run is None:
        run = batch.trust[node.id] = trust.RunOfValid.of(node)
    run.valid(session, now, result_id=result_id)
    if credit > 0:
        await trust.grant_credit(session, node, result_id, credit, now)
    planned = (wu.verification or {}).get("mode")
    mode = "alone" if planned == "alone" else "single"
    batch.workunits.append(dict(
        id=wu.id, canonical_result_id=result_id, summary=summary, finished_at=now, accepted_mode=mode,
        verification={**(wu.verification or {}), "mode": mode, "valid": [[result_id, node.id]],
                      "invalid": [], "audited": bool(summary.get("_audit"))}))
    events.record(session, "workunit.validated", now, project_id=wu.project_id, workunit_id=wu.id,
                  result_id=result_id, quorum=1, mode=mode, valid=[result_id])


async def write(session: AsyncSession, batch: Batch) -> None:
    """One UPDATE per table (and per kind of result change) for every solo validation
    queued so far. The nodes' changes stay pending (no autoflush): they are written once,
    at commit."""
    with session.no_autoflush:
        await _write(session, batch)


async def _write(session: AsyncSession, batch: Batch) -> None:
    await bulk.update_rows(session, _results, batch.results, constants={"state": "reported", "verdict": "valid"})
    await bulk.update_rows(session, _results, batch.queued,
                           constants={"state": "reported", "verdict": "pending", "awaiting_validator": True})
    await bulk.update_rows(session, _results, batch.settled, constants={"verdict": "valid", "awaiting_validator": False})
    await bulk.update_rows(session, _workunits, batch.workunits, constants={"state": "validated"})
    for run in batch.trust.values():
        run.store()
    batch.results, batch.queued, batch.settled, batch.workunits, batch.trust = [], [], [], [], {}
