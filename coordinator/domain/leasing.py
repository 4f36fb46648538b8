"""The scheduler: hands a node the result slots it is eligible for, in one
transaction. PostgreSQL claims rows with FOR UPDATE SKIP LOCKED so concurrent
coordinators never hand out the same slot; SQLite runs writes one at a time."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, case, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from coordinator.db.models import App, AppVersion, Node, Project, Result, Workunit
from coordinator.domain import events, reputation, trust
from coordinator.orchestrator import hook as orchestrator_hook
from coordinator.workflows import shares

# Candidates fetched per slot wanted: a few extra absorb rows skipped because the
# node already holds another replica of the same workunit.
OVERFETCH = 4


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
    other = aliased(Result)
    holder = aliased(Node)
    # A correlated count, not NOT EXISTS: PostgreSQL then probes ix_results_workunit_node once
    # per candidate. As an anti join it may scan all of the node's past results for each
    # candidate (its estimate of them is often one row), which grows with the node's history.
    if node.owner:
        # Replicas go to different owners where owners are known: no self-vouching.
        same_hands = select(func.count()).select_from(other).join(holder, holder.id == other.node_id).where(
            other.workunit_id == Result.workunit_id, holder.owner == node.owner).scalar_subquery() > 0
    else:
        same_hands = select(func.count()).select_from(other).where(
            other.workunit_id == Result.workunit_id, other.node_id == node.id).scalar_subquery() > 0
    eligible = (
        select(Result.id, Result.workunit_id)
        .join(Workunit, Workunit.id == Result.workunit_id)
        .join(Project, Project.id == Workunit.project_id)
        .where(
            Result.state == "unsent",
            Workunit.state == "active",
            Project.status == "active",
            Workunit.min_memory_bytes <= node.memory_bytes,
            Workunit.min_disk_bytes <= node.disk_free_bytes,
            ~same_hands,
        )
        .order_by(Result.id)
        .limit(max_results * OVERFETCH)
        .with_for_update(skip_locked=True, of=Result)
    )
    if projects:
        eligible = eligible.where(Project.name.in_(projects))
    if node.trust_level == "probation":
        eligible = eligible.where(Workunit.trusted_only.is_(False))
    # AI orchestrator (Full, or Partial with "large-to-fast"): size-aware order; any other mode
    # returns the query untouched after one cached mode read. See coordinator/orchestrator/hook.py.
    eligible = await orchestrator_hook.shape_lease(session, node, eligible)
    ranking = await _share_order(session, projects)
    if len(ranking) > 1:
        # Several projects have work: the one furthest below its share goes first.
        eligible = eligible.order_by(None).order_by(
            case({pid: rank for rank, pid in enumerate(ranking)}, value=Workunit.project_id, else_=len(ranking)),
            Result.id)

    chosen: list[int] = []
    seen_workunits: set[int] = set()
    for result_id, workunit_id in (await session.execute(eligible)).all():
        if workunit_id in seen_workunits:
            continue  # never two replicas of one workunit to one node
        seen_workunits.add(workunit_id)
        chosen.append(result_id)
        if len(chosen) == max_results:
            break
    if not chosen:
        return []

    rows = (
        await session.execute(
            select(Result, Workunit, Project.name, Project.replication_policy, App.name, AppVersion.version)
            .join(Workunit, Workunit.id == Result.workunit_id)
            .join(Project, Project.id == Workunit.project_id)
            .join(AppVersion, AppVersion.id == Workunit.app_version_id)
            .join(App, App.id == AppVersion.app_id)
            .where(Result.id.in_(chosen))
            .order_by(Result.id)
        )
    ).all()
    assignments = []
    rng = rng or random.SystemRandom()  # nodes must not predict their spot-checks
    replicas = await _replica_states(session, rows)
    for result, wu, project_name, policy, app_name, version in rows:
        if wu.id in replicas:
            await _adapt_replication(session, node, result, wu, policy, replicas[wu.id], rng, trust_cfg, now)
        result.state = "leased"
        result.node_id = node.id
        result.leased_at = now
        result.deadline_at = now + wu.delay_bound
        result.output_key = output_key(wu.project_id, wu.id, result.id)
        events.record(session, "result.leased", now, node_id=node.id, project_id=wu.project_id,
                      workunit_id=wu.id, result_id=result.id, deadline_at=result.deadline_at)
        assignments.append(
            Assignment(
                result_id=result.id,
                workunit_id=wu.id,
                project=project_name,
                app=app_name,
                app_version=version,
                params=dict(wu.params),
                deadline_at=result.deadline_at,
                output_key=result.output_key,
            )
        )
    node.last_seen_at = now
    return assignments


async def _share_order(session: AsyncSession, names: list[str] | None) -> list[int]:
    """Projects with waiting work, most underserved by their share first. Cheap when
    only one project is active (the projects table is small): nothing to order."""
    active_q = select(Project.id, Project.share).where(Project.status == "active")
    if names:
        active_q = active_q.where(Project.name.in_(names))
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
    adaptive = {wu.id: result.id for result, wu, _, policy, _, _ in rows if wu.min_quorum >= 2 and policy != "fixed"}
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


async def _adapt_replication(session: AsyncSession, node: Node, result: Result, wu: Workunit, policy: str,
                             replicas: _Replicas, rng: random.Random, cfg: reputation.TrustConfig,
                             now: float) -> None:
    """Adaptive replication, decided when the first replica of a workunit leaves:
    a trusted node may run it alone (quorum 1), the other replicas are then cancelled."""
    if not replicas.first_out:
        return  # another replica is already out: this one is its partner
    if not replicas.locked:
        return  # a concurrent transaction holds the workunit: keep the quorum rather than wait
    decision = reputation.decide_replication(policy, trust.state_of(node), node.consecutive_valid, cfg, rng)
    wu.verification = {"mode": decision.mode, "decided_for": node.id}
    if not decision.alone:
        return
    wu.min_quorum = 1
    await session.execute(
        update(Result).where(Result.workunit_id == wu.id, Result.id != result.id, Result.state == "unsent")
        .values(state="cancelled"))
    events.record(session, "workunit.replication", now, node_id=node.id, project_id=wu.project_id,
                  workunit_id=wu.id, result_id=result.id, mode=decision.mode, policy=policy)
