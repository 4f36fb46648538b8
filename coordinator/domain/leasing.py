"""The scheduler: hands a node the result slots it is eligible for, in one
transaction. PostgreSQL claims rows with FOR UPDATE SKIP LOCKED so concurrent
coordinators never hand out the same slot; SQLite runs writes one at a time."""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Row, Select, bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from coordinator.db import bulk
from coordinator.db.models import App, AppVersion, Node, Project, Result, Workunit
from coordinator.domain import events, reputation, trust
from coordinator.orchestrator import hook as orchestrator_hook
from coordinator.workflows import shares

# Candidates fetched per slot wanted. A node takes one replica of a workunit, and replicas
# sit side by side, so replicated work may need up to OVERFETCH rows a slot; work that is
# not replicated needs one. A lease first fetches NARROW rows a slot, and OVERFETCH only if
# skipped replicas left it short (every candidate fetched is locked and decoded: 256 rows
# for a lease of 64 cost about 0.65 ms more CPU and 1.4 ms more wall time than 80); a
# process that needed the wide fetch starts wide until a wide fetch skips nothing.
NARROW = 1.25
OVERFETCH = 4
_start_wide = False


@dataclass(frozen=True)
class Assignment:
    result_id: int
    workunit_id: int
    project: str
    app: str
    app_version: str
    params: dict[str, Any]
    deadline_at: float
    output_key: str


def output_key(project_id: int, workunit_id: int, result_id: int) -> str:
    # A folder per thousand workunits: a batch of reports (consecutive workunits, mostly)
    # lands in one folder of the local store, made and fsynced once.
    return f"results/p{project_id}/k{workunit_id // 1000}/wu{workunit_id}-r{result_id}.out"


async def lease(
    session: AsyncSession,
    node: Node,
    max_results: int,
    now: float,
    projects: list[str] | None = None,
    *,
    rng: random.Random | None = None,
    trust_cfg: reputation.TrustConfig = trust.DEFAULT,
) -> list[Assignment]:
    if max_results <= 0 or node.status != "active":
        return []
    eligible = _candidates(bool(node.owner), bool(projects), node.trust_level == "probation")
    params = dict(b_node=node.id, b_owner=node.owner, b_memory=node.memory_bytes, b_disk=node.disk_free_bytes,
                  b_projects=projects or [])
    # AI orchestrator (Full, or Partial with "large-to-fast"): size-aware order; any other mode
    # returns the query untouched after one cached mode read. See coordinator/orchestrator/hook.py.
    eligible = await orchestrator_hook.shape_lease(session, node, eligible)
    ranking = await _share_order(session, projects)
    if len(ranking) > 1:
        # Several projects have work: the one furthest below its share goes first.
        eligible = eligible.order_by(None).order_by(
            case({pid: rank for rank, pid in enumerate(ranking)}, value=Workunit.project_id, else_=len(ranking)),
            Result.id)

    rows = await _pick(session, eligible, params, max_results)
    if not rows:
        return []
    rows.sort(key=lambda row: row.id)  # assignments in result order, whatever ordered the choice
    assignments = []
    rng = rng or random.SystemRandom()  # nodes must not predict their spot-checks
    replicas = await _replica_states(session, rows)
    leased: list[dict[str, Any]] = []
    adapted: list[dict[str, Any]] = []
    for row in rows:
        if row.workunit_id in replicas:
            change = await _adapt_replication(session, node, row, replicas[row.workunit_id], rng, trust_cfg, now)
            if change is not None:
                adapted.append(change)
        deadline = now + row.delay_bound
        key = output_key(row.project_id, row.workunit_id, row.id)
        leased.append(dict(id=row.id, deadline_at=deadline, output_key=key))
        events.record(session, "result.leased", now, node_id=node.id, project_id=row.project_id,
                      workunit_id=row.workunit_id, result_id=row.id, deadline_at=deadline)
        assignments.append(_assignment(row, deadline, key))
    with session.no_autoflush:  # the node's change is written once, at commit
        await bulk.update_rows(session, Result.__table__, leased,
                               constants={"state": "leased", "node_id": node.id, "leased_at": now})
        await bulk.update_rows(session, Workunit.__table__, adapted)
    node.last_seen_at = now
    return assignments


async def resend_lost(session: AsyncSession, node: Node, held: Collection[int], max_results: int,
                      now: float, projects: list[str] | None = None) -> list[Assignment]:
    """Results still leased to the node and within their deadline that the node does not
    hold (`held`: the ids it is running or has finished but not yet reported): a lease
    reply lost on the way (the coordinator killed after the commit, a dropped connection)
    or a task lost with the agent's process. They are sent again, oldest first, with
    their deadlines unchanged (losing work never buys time); what is left waits for the
    next lease. BOINC's "resend lost results". Rows another transaction holds (a report
    of them, say) are skipped, not waited for; so are those of projects the node no longer
    asks for (`projects`): they expire and go to another node."""
    if max_results <= 0 or node.status != "active":
        return []
    rows = (await session.execute(_lost_query(bulk.dialect(session)), {
        "b_node": node.id, "b_now": now, "b_held": sorted(set(held)), "b_limit": max_results})).all()
    assignments = []
    for row in rows:
        if projects and row.project not in projects:
            continue
        assert row.deadline_at is not None and row.output_key is not None  # set by every lease
        events.record(session, "result.resent", now, node_id=node.id, project_id=row.project_id,
                      workunit_id=row.workunit_id, result_id=row.id, deadline_at=row.deadline_at)
        assignments.append(_assignment(row, row.deadline_at, row.output_key))
    return assignments


def _assignment(row: Row[Any], deadline_at: float, key: str) -> Assignment:
    """`row`: a result with its workunit and app (_with_app's columns)."""
    return Assignment(result_id=row.id, workunit_id=row.workunit_id, project=row.project, app=row.app,
                      app_version=row.version, params=dict(row.params), deadline_at=deadline_at, output_key=key)


def _with_app(*columns: Any) -> Select[Any]:
    """Results with what an assignment needs (their workunit, project and app), and `columns`."""
    return (select(Result.id, Workunit.id.label("workunit_id"), Workunit.project_id, Workunit.params,
                   Project.name.label("project"), App.name.label("app"), AppVersion.version, *columns)
            .join(Workunit, Workunit.id == Result.workunit_id)
            .join(Project, Project.id == Workunit.project_id)
            .join(AppVersion, AppVersion.id == Workunit.app_version_id)
            .join(App, App.id == AppVersion.app_id))


@functools.cache
def _lost_query(dialect: str) -> Select[Any]:
    return (_with_app(Result.deadline_at, Result.output_key)
            .where(Result.node_id == bindparam("b_node"), Result.state == "leased",
                   Result.deadline_at > bindparam("b_now"), ~bulk.one_of(dialect, Result.id, "b_held"))
            .order_by(Result.id)
            .limit(bindparam("b_limit", type_=Integer))
            .with_for_update(skip_locked=True, of=Result))


async def _pick(session: AsyncSession, eligible: Select[Any], params: dict[str, Any],
                max_results: int) -> list[Row[Any]]:
    """The first max_results candidates, one per workunit (never two replicas of one
    workunit to one node): from a narrow fetch, or a wide one if the narrow came short."""
    global _start_wide
    for wide in ((True,) if _start_wide else (False, True)):
        limit = max_results * OVERFETCH if wide else math.ceil(max_results * NARROW)
        fetched = (await session.execute(eligible, {**params, "b_limit": limit})).all()
        rows, seen_workunits, skipped = [], set(), 0
        for row in fetched:
            if row.workunit_id in seen_workunits:
                skipped += 1
                continue
            seen_workunits.add(row.workunit_id)
            rows.append(row)
            if len(rows) == max_results:
                break
        if wide:
            _start_wide = skipped > 0
        if len(rows) == max_results or len(fetched) < limit:
            return rows  # enough, or every candidate there is
        _start_wide = True
    return rows


@functools.cache
def _candidates(by_owner: bool, by_project: bool, probation: bool) -> Select[Any]:
    """The query for the result slots a node may lease, built once per shape (building it
    costs more than running it); the node's values are bound parameters (b_node, b_owner,
    b_memory, b_disk, b_limit, b_projects). The candidates come with everything an
    assignment needs, so no second query is needed."""
    other = aliased(Result)
    holder = aliased(Node)
    # A correlated count, not NOT EXISTS: PostgreSQL then probes ix_results_workunit_node once
    # per candidate. As an anti join it may scan all of the node's past results for each
    # candidate (its estimate of them is often one row), which grows with the node's history.
    if by_owner:
        # Replicas go to different owners where owners are known: no self-vouching.
        same_hands = select(func.count()).select_from(other).join(holder, holder.id == other.node_id).where(
            other.workunit_id == Result.workunit_id, holder.owner == bindparam("b_owner")).scalar_subquery() > 0
    else:
        same_hands = select(func.count()).select_from(other).where(
            other.workunit_id == Result.workunit_id, other.node_id == bindparam("b_node")).scalar_subquery() > 0
    eligible = (
        _with_app(Workunit.delay_bound, Workunit.min_quorum, Project.replication_policy)
        .where(
            Result.state == "unsent",
            Workunit.state == "active",
            Project.status == "active",
            Workunit.min_memory_bytes <= bindparam("b_memory"),
            Workunit.min_disk_bytes <= bindparam("b_disk"),
            ~same_hands,
        )
        .order_by(Result.id)
        .limit(bindparam("b_limit", type_=Integer))
        .with_for_update(skip_locked=True, of=Result)
    )
    if by_project:
        eligible = eligible.where(Project.name.in_(bindparam("b_projects", expanding=True)))
    if probation:
        eligible = eligible.where(Workunit.trusted_only.is_(False))
    return eligible


_ACTIVE_SHARES = select(Project.id, Project.share).where(Project.status == "active")  # built once: every lease


async def _share_order(session: AsyncSession, names: list[str] | None) -> list[int]:
    """Projects with waiting work, most underserved by their share first. Cheap when
    only one project is active (the projects table is small): nothing to order."""
    active_q = _ACTIVE_SHARES.where(Project.name.in_(names)) if names else _ACTIVE_SHARES
    share = dict((await session.execute(active_q)).all())
    if len(share) < 2:
        return []
    waiting = [pid for pid in share if await session.scalar(
        select(Workunit.id).where(Workunit.project_id == pid, Workunit.state == "active").limit(1)) is not None]
    if len(waiting) < 2:
        return []
    running = dict((await session.execute(
        select(Workunit.project_id, func.count()).join(Result, Result.workunit_id == Workunit.id)
        .where(Result.state == "leased", Workunit.project_id.in_(waiting)).group_by(Workunit.project_id))).all())
    return shares.order([shares.ProjectLoad(pid, share[pid], running.get(pid, 0), 1) for pid in waiting])


@dataclass(frozen=True)
class _Replicas:
    first_out: bool  # no other replica of the workunit has left yet
    locked: bool  # this transaction holds the workunit's lock


async def _replica_states(session: AsyncSession, rows: Sequence[Row[Any]]) -> dict[int, _Replicas]:
    """For the workunits whose replication may adapt (quorum 2 or more, not "fixed"):
    the states of their other results, and whether this transaction could lock them
    (skip-locked: if a concurrent lease of a sibling holds one, keep its quorum rather
    than wait). Two queries for the whole lease, not two per workunit."""
    adaptive = {row.workunit_id: row.id for row in rows
                if row.min_quorum >= 2 and row.replication_policy != "fixed"}
    if not adaptive:
        return {}
    others: dict[int, list[str]] = {wu_id: [] for wu_id in adaptive}
    for wu_id, result_id, state in (await session.execute(
            select(Result.workunit_id, Result.id, Result.state).where(Result.workunit_id.in_(list(adaptive))))).all():
        if result_id != adaptive[wu_id]:
            others[wu_id].append(state)
    first = [wu_id for wu_id, states in others.items() if all(state == "unsent" for state in states)]
    locked = set(await session.scalars(
        select(Workunit.id).where(Workunit.id.in_(first)).order_by(Workunit.id).with_for_update(skip_locked=True))
    ) if first else set()
    return {wu_id: _Replicas(all(state == "unsent" for state in states), wu_id in locked)
            for wu_id, states in others.items()}


async def _adapt_replication(session: AsyncSession, node: Node, row: Row[Any], replicas: _Replicas,
                             rng: random.Random, cfg: reputation.TrustConfig,
                             now: float) -> dict[str, Any] | None:
    """Adaptive replication, decided when the first replica of a workunit leaves:
    a trusted node may run it alone (quorum 1), the other replicas are then cancelled.
    Returns the workunit's new quorum and verification, for lease() to write."""
    if not replicas.first_out:
        return None  # another replica is already out: this one is its partner
    if not replicas.locked:
        return None  # a concurrent transaction holds the workunit: keep the quorum rather than wait
    policy = row.replication_policy
    decision = reputation.decide_replication(policy, trust.state_of(node), node.consecutive_valid, cfg, rng)
    change = dict(id=row.workunit_id, min_quorum=row.min_quorum,
                  verification={"mode": decision.mode, "decided_for": node.id})
    if not decision.alone:
        return change
    change["min_quorum"] = 1
    await session.execute(
        update(Result).where(Result.workunit_id == row.workunit_id, Result.id != row.id, Result.state == "unsent")
        .values(state="cancelled"))
    events.record(session, "workunit.replication", now, node_id=node.id, project_id=row.project_id,
                  workunit_id=row.workunit_id, result_id=row.id, mode=decision.mode, policy=policy)
    return change
