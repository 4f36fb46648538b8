"""The orchestrator's periodic pass over the live coordinator (beside the expiry
reaper): nothing in AI Off; otherwise, from the feature table and the predictors,

- leases predicted to miss their deadline: re-issued at once when the mode applies
  "reissue-straggler" (Partial with that action, Full), else recommended;
- the lease plan (each node's predicted speed, the queue's horizon) that hook.py
  orders leases by, when the mode applies "large-to-fast";
- recommendations that only an admin can act on: a project's queue about to run
  dry, a node whose behaviour drifts from its own record (raise its replication).

Every action and recommendation is an event carrying the prediction behind it."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.database import Database
from coordinator.db.models import App, Event, Node, Project, Result, Workunit
from coordinator.domain import events
from coordinator.orchestrator import actions, advice, features, modes, policy, predictors

log = logging.getLogger("newral.orchestrator")

PASS_SECONDS = 60.0
RETRAIN_SECONDS = 3600.0
SEEN_SECONDS = 3600.0  # nodes heard from this recently count towards the network's rate
RECENT = 5  # a node's last leases, compared with its record before them
PLAN_NODES = 5000
HISTORY_LEASES = 50_000  # the latest finished leases the pass learns from and builds node records on
PLAN_EVENT_SECONDS = 600.0  # the plan is refreshed every pass but logged at most this often
REPEAT_SECONDS = 6 * 3600.0  # a queue-dry or drift recommendation is not made again sooner


# One pass at a time across every coordinator process on one PostgreSQL database (a
# transaction-level advisory lock), so two processes never make the same recommendation
# twice. SQLite coordinators are one process, whose transactions are serialised anyway.
PASS_LOCK_KEY = 0x6E657772616C  # "newral"


@dataclass
class PassReport:
    mode: str
    reissued: int = 0
    recommended: int = 0
    planned_nodes: int = 0
    skipped: bool = False  # another process was running its pass


async def _exclusive(session: AsyncSession, wait: bool) -> bool:
    """Takes the pass lock until the transaction ends; False if busy and not waiting."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    if wait:
        await session.execute(select(func.pg_advisory_xact_lock(PASS_LOCK_KEY)))
        return True
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(PASS_LOCK_KEY))))


@dataclass(frozen=True)
class Models:
    runtime: predictors.RuntimeModel
    reliability: predictors.ReliabilityModel
    history: features.History

    def unit(self, node_id: str, benchmark: float, around: float) -> float:
        """Predicted seconds per unit of cost on this node for work of about this cost
        (the all-apps model; predicting at the sizes actually queued, not extrapolated)."""
        around = max(around, 1e-9)
        return self.runtime.predict("", around, benchmark, self.history.of(node_id)) / around

    def exponent(self) -> float:
        """How runtime grows with cost, kept within reason where the history shows one size only."""
        return min(2.0, max(0.5, self.runtime.cost_exponent("")))


async def run_pass(session: AsyncSession, now: float, *, wait: bool = True) -> PassReport:
    """One pass, in the caller's transaction. `wait`: if another process is running
    its pass, wait for it to end (else skip this one)."""
    state = await modes.current(session)
    report = PassReport(state.mode)
    if state.mode == "off":
        return report
    if not await _exclusive(session, wait):
        report.skipped = True
        return report
    leases = await features.from_database(session, HISTORY_LEASES)
    models = await _models(session, state, leases, now)
    await _stragglers(session, state, models, now, report)
    if state.applies("large-to-fast"):
        await _plan(session, models, now, report)
    await _queue_dry(session, models, now, report)
    await _drift(session, leases, now, report)
    return report


async def _models(session: AsyncSession, state: modes.ModeState, leases: list[features.Lease],
                  now: float) -> Models:
    summary = state.models
    if not summary.get("coefficients") or now - float(summary.get("trained_at") or 0.0) >= RETRAIN_SECONDS:
        trained = predictors.train(leases)
        summary = {**trained.summary(), "trained_at": now}
        await modes.store_models(session, summary, now)
    runtime, reliability = predictors.restore(summary)
    history = features.History()
    for lease in leases:  # from_database returns them in lease order
        history.add(lease)
    return Models(runtime, reliability, history)


async def _stragglers(session: AsyncSession, state: modes.ModeState, models: Models, now: float,
                      report: PassReport) -> None:
    rows = (await session.execute(
        features.leases_select(Result.id, Result.node_id, Result.leased_at, Result.deadline_at, Workunit.id,
                               Workunit.project_id, Workunit.cost, App.name, Node.benchmark, Node.last_seen_at)
        .where(Result.state == "leased", Result.deadline_at > now)
        .order_by(Result.deadline_at).limit(2000))).all()
    act = state.applies("reissue-straggler")
    done = set(await session.scalars(select(Event.result_id).where(
        Event.kind == "orchestrator.reissue", Event.result_id.in_([r[0] for r in rows])))) if rows and act else set()
    for result_id, node_id, leased_at, deadline_at, wu_id, project_id, cost, app, benchmark, last_seen in rows:
        st = models.history.of(node_id)
        runtime = models.runtime.predict(app, cost, benchmark, st)
        silent = max(0.0, now - last_seen)
        away = silent if silent >= policy.STRAGGLER_SILENCE else 0.0  # gone that long: expect as long again
        finish_in = max(0.0, runtime - (now - leased_at - silent)) + away
        deadline_in = deadline_at - now
        on_time = models.reliability.predict(finish_in, deadline_in, st)
        if not policy.straggler_odds(on_time, finish_in, deadline_in):
            continue
        prediction = {"on_time": round(on_time, 4), "finish_in": round(finish_in, 1),
                      "deadline_in": round(deadline_in, 1), "predicted_runtime": round(runtime, 1),
                      "silent_for": round(silent, 1)}
        if act:
            if result_id not in done and await actions.reissue(session, result_id, now, by="orchestrator",
                                                               prediction=prediction):
                report.reissued += 1
            continue
        if await advice.exists(session, "reissue-straggler", result_id=result_id):
            continue
        tip = policy.Advice("reissue-straggler", f"lease predicted to miss its deadline (p on time {on_time:.2f}, "
                            f"done in {finish_in / 3600:.1f} h, deadline in {deadline_in / 3600:.1f} h): re-issue now",
                            max(0.0, finish_in - deadline_in) + deadline_in * (1.0 - on_time), prediction)
        await advice.add(session, tip, now, node_id=node_id, workunit_id=wu_id, result_id=result_id,
                         project_id=project_id)
        report.recommended += 1


async def _seen_nodes(session: AsyncSession, now: float) -> list[tuple[str, float]]:
    return [(n, b) for n, b in (await session.execute(
        select(Node.id, Node.benchmark).where(Node.status == "active", Node.last_seen_at >= now - SEEN_SECONDS)
        .order_by(Node.last_seen_at.desc()).limit(PLAN_NODES))).all()]


async def _unsent(session: AsyncSession, project_id: int | None = None) -> tuple[float, int]:
    """Total cost and count of unsent replicas of active workunits."""
    q = (select(func.coalesce(func.sum(Workunit.cost), 0.0), func.count())
         .join(Result, Result.workunit_id == Workunit.id)
         .where(Result.state == "unsent", Workunit.state == "active"))
    if project_id is not None:
        q = q.where(Workunit.project_id == project_id)
    total, count = (await session.execute(q)).one()
    return float(total or 0.0), int(count or 0)


async def _plan(session: AsyncSession, models: Models, now: float, report: PassReport) -> None:
    unsent, count = await _unsent(session)
    around = unsent / count if count else 1.0
    units = {node_id: models.unit(node_id, benchmark, around)
             for node_id, benchmark in await _seen_nodes(session, now)}
    if not units:
        return
    rate = sum(1.0 / u for u in units.values() if u > 0)  # cost units per second
    horizon = float(unsent) / rate if rate > 0 else math.inf
    plan = {"at": now, "units": units, "best_unit": min(units.values()),
            "exponent": models.exponent(), "horizon": horizon if math.isfinite(horizon) else 1e12}
    previous = (await modes.current(session)).models.get("plan") or {}
    await modes.store_plan(session, plan)
    report.planned_nodes = len(units)
    if now - float(previous.get("at") or -math.inf) >= PLAN_EVENT_SECONDS:
        events.record(session, "orchestrator.plan", now, level=logging.INFO, nodes=len(units),
                      horizon=plan["horizon"], best_unit=plan["best_unit"], exponent=plan["exponent"])


async def _queue_dry(session: AsyncSession, models: Models, now: float, report: PassReport) -> None:
    projects = (await session.execute(select(Project.id, Project.name).where(Project.status == "active"))).all()
    for project_id, name in projects:
        busy = (await session.execute(
            select(Node.id, Node.benchmark).join(Result, Result.node_id == Node.id)
            .join(Workunit, Workunit.id == Result.workunit_id)
            .where(Workunit.project_id == project_id, Result.state == "leased").distinct())).all()
        if not busy:
            continue
        unsent, count = await _unsent(session, project_id)
        around = unsent / count if count else 1.0
        rate = sum(1.0 / u for u in (models.unit(n, b, around) for n, b in busy) if u > 0)
        tip = policy.queue_dry(name, unsent, rate, len(busy))
        if tip is None or await advice.exists(session, "queue-dry", since=now - REPEAT_SECONDS,
                                                        project_id=project_id):
            continue
        await advice.add(session, tip, now, project_id=project_id)
        report.recommended += 1


async def _drift(session: AsyncSession, leases: list[features.Lease], now: float, report: PassReport) -> None:
    by_node: dict[str, list[features.Lease]] = {}
    for lease in leases:
        by_node.setdefault(lease.node_id, []).append(lease)
    for node_id, own in by_node.items():
        if len(own) < 2 * RECENT:
            continue
        usual, recent = features.History(), features.History()
        for lease in own[:-RECENT]:
            usual.add(lease)
        for lease in own[-RECENT:]:
            recent.add(lease)
        u, r = usual.of(node_id), recent.of(node_id)
        tip = policy.drift(node_id, u.resid_sum / max(1, u.resid_n), r.resid_sum / max(1, r.resid_n),
                           u.missed / u.leases, r.missed / r.leases, r.leases, own[-1].delay_bound)
        if tip is None or await advice.exists(session, "raise-replication", since=now - REPEAT_SECONDS,
                                                        node_id=node_id):
            continue
        await advice.add(session, tip, now, node_id=node_id)
        report.recommended += 1


async def loop(db: Database, clock: Callable[[], float], interval: float = PASS_SECONDS) -> None:
    """Runs the pass forever (the coordinator starts it beside the expiry reaper)."""
    while True:
        try:
            async with db.transaction() as session:
                done = await run_pass(session, clock(), wait=False)
            if done.reissued or done.recommended:
                log.info("orchestrator.pass mode=%s reissued=%d recommended=%d planned_nodes=%d",
                         done.mode, done.reissued, done.recommended, done.planned_nodes)
        except Exception as exc:  # keep going through a database restart
            log.warning("orchestrator.pass_failed error=%s: %s", type(exc).__name__, exc)
        await asyncio.sleep(interval)
