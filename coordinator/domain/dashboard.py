"""Read services for people watching the coordinator: the dashboard's numbers,
throughput over time, nodes with their history, projects' share of the network,
findings and published app versions. The web UI and the JSON API both call these;
nothing here writes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, cast, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.models import App, AppVersion, Event, Finding, Node, Project, Result, Workunit
from coordinator.domain import projects
from coordinator.errors import NotFound
from cyext import factoring

ONLINE_SECONDS = 600.0  # a node seen within this long counts as active


@dataclass(frozen=True)
class Overview:
    nodes_total: int
    nodes_active: int  # status active and seen within ONLINE_SECONDS
    nodes_quarantined: int
    nodes_banned: int
    workunits_waiting: int  # active, no replica leased right now
    workunits_running: int  # active, at least one replica leased
    workunits_validated: int
    workunits_failed: int
    results_pending_validation: int
    findings: int
    last_event_id: int


@dataclass(frozen=True)
class Throughput:
    """Workunits validated per bucket; bucket i covers [start + i*width, start + (i+1)*width)."""

    start: float
    width: float
    counts: list[int]


@dataclass(frozen=True)
class EventRow:
    id: int
    at: float
    kind: str
    node_id: str | None
    project_id: int | None
    workunit_id: int | None
    result_id: int | None
    data: dict[str, Any]


@dataclass(frozen=True)
class NodeRow:
    id: str
    name: str
    status: str
    online: bool
    platform: str
    arch: str
    cores: int
    memory_bytes: int
    client_version: str
    last_seen_at: float
    trust_level: str
    trust_score: float
    valid: int
    invalid: int
    errors: int
    timeouts: int
    credit: float
    status_reason: str | None


@dataclass(frozen=True)
class ResultRow:
    id: int
    workunit_id: int
    project: str
    state: str
    verdict: str | None
    leased_at: float | None
    reported_at: float | None
    cpu_seconds: float | None
    error_message: str | None


@dataclass(frozen=True)
class NodeDetail:
    node: NodeRow
    history: list[EventRow]  # newest first
    results: list[ResultRow]  # newest first


@dataclass(frozen=True)
class ProjectRow:
    status: dict[str, Any]  # projects.status(): name, app, status, workunits, totals, findings
    running_share: float  # of all leased replicas right now
    cpu_share_24h: float  # of CPU seconds reported in the last 24 hours


@dataclass(frozen=True)
class FindingRow:
    id: int
    project: str
    kind: str
    value: str
    status: str
    workunit_id: int
    result_id: int
    data: dict[str, Any]
    created_at: float


@dataclass(frozen=True)
class CarmichaelRow:
    value: str
    factors: list[str]  # the Korselt certificate: n squarefree, every p - 1 divides n - 1
    korselt: bool  # the certificate checks out (re-checked here, for the reader)
    project: str
    workunit_id: int | None


@dataclass(frozen=True)
class DecadeRow:
    project: str
    decade: int  # k: the count of numbers in [10^(k-1), 10^k)
    count: int
    below: int  # numbers below 10^k


@dataclass(frozen=True)
class Findings:
    bpsw_claims: list[FindingRow]
    carmichael: list[CarmichaelRow]  # newest first, at most MAX_CARMICHAEL_ROWS
    carmichael_total: int
    per_decade: list[DecadeRow]
    other: list[FindingRow]


MAX_CARMICHAEL_ROWS = 200


@dataclass(frozen=True)
class AppVersionRow:
    app: str
    version: str
    platform: str
    bundle_sha256: str | None
    signed: bool
    signing_key: str | None  # the key's id, when the release records one
    created_at: float


def event_row(e: Event) -> EventRow:
    return EventRow(e.id, e.at, e.kind, e.node_id, e.project_id, e.workunit_id, e.result_id,
                    dict(e.data or {}))


def node_row(n: Node, now: float) -> NodeRow:
    return NodeRow(
        id=n.id, name=n.name, status=n.status,
        online=n.status == "active" and n.last_seen_at >= now - ONLINE_SECONDS,
        platform=n.platform, arch=n.arch, cores=n.cores, memory_bytes=n.memory_bytes,
        client_version=n.client_version, last_seen_at=n.last_seen_at, trust_level=n.trust_level,
        trust_score=n.trust_score, valid=n.valid_count, invalid=n.invalid_count, errors=n.error_count,
        timeouts=n.timeout_count, credit=n.credit, status_reason=n.status_reason,
    )


async def overview(session: AsyncSession, now: float) -> Overview:
    node_counts = dict((await session.execute(
        select(Node.status, func.count()).group_by(Node.status))).all())
    active = await session.scalar(select(func.count()).select_from(Node).where(
        Node.status == "active", Node.last_seen_at >= now - ONLINE_SECONDS))
    wu_counts = dict((await session.execute(
        select(Workunit.state, func.count()).group_by(Workunit.state))).all())
    running = await session.scalar(
        select(func.count(distinct(Result.workunit_id))).join(Workunit, Workunit.id == Result.workunit_id)
        .where(Result.state == "leased", Workunit.state == "active"))
    pending = await session.scalar(select(func.count()).select_from(Result).where(
        Result.state == "reported", Result.verdict == "pending"))
    finding_count = await session.scalar(select(func.count()).select_from(Finding))
    return Overview(
        nodes_total=sum(node_counts.values()), nodes_active=active or 0,
        nodes_quarantined=node_counts.get("quarantined", 0), nodes_banned=node_counts.get("banned", 0),
        workunits_waiting=wu_counts.get("active", 0) - (running or 0),
        workunits_running=running or 0, workunits_validated=wu_counts.get("validated", 0),
        workunits_failed=wu_counts.get("failed", 0), results_pending_validation=pending or 0,
        findings=finding_count or 0, last_event_id=await last_event_id(session),
    )


async def throughput(session: AsyncSession, now: float, *, window: float = 3600.0,
                     buckets: int = 30) -> Throughput:
    width = window / buckets
    start = now - window
    offset = (Event.at - start) / width
    # floor() of a non-negative number: SQLite's CAST truncates, PostgreSQL's rounds.
    bucket = func.floor(offset) if session.bind.dialect.name == "postgresql" else cast(offset, Integer)
    rows = (await session.execute(
        select(bucket, func.count()).where(Event.kind == "workunit.validated", Event.at >= start,
                                           Event.at < now + width)
        .group_by(bucket))).all()
    counts = [0] * buckets
    for index, count in rows:
        i = min(int(index), buckets - 1)
        counts[i] += count
    return Throughput(start=start, width=width, counts=counts)


async def last_event_id(session: AsyncSession) -> int:
    return await session.scalar(select(func.max(Event.id))) or 0


async def recent_events(session: AsyncSession, limit: int = 30) -> list[EventRow]:
    rows = await session.scalars(select(Event).order_by(Event.id.desc()).limit(limit))
    return [event_row(e) for e in rows]


async def node_rows(session: AsyncSession, now: float) -> list[NodeRow]:
    rows = await session.scalars(select(Node).order_by(Node.created_at))
    return [node_row(n, now) for n in rows]


async def get_node(session: AsyncSession, node_id: str) -> Node:
    node = await session.get(Node, node_id)
    if node is None:
        raise NotFound("no such node")
    return node


async def node_detail(session: AsyncSession, node_id: str, now: float, *, limit: int = 100) -> NodeDetail:
    node = await get_node(session, node_id)
    history = await session.scalars(
        select(Event).where(Event.node_id == node_id).order_by(Event.id.desc()).limit(limit))
    results = (await session.execute(
        select(Result, Project.name).join(Workunit, Workunit.id == Result.workunit_id)
        .join(Project, Project.id == Workunit.project_id)
        .where(Result.node_id == node_id).order_by(Result.id.desc()).limit(20))).all()
    return NodeDetail(
        node=node_row(node, now),
        history=[event_row(e) for e in history],
        results=[ResultRow(r.id, r.workunit_id, name, r.state, r.verdict, r.leased_at, r.reported_at,
                           r.cpu_seconds, r.error_message) for r, name in results],
    )


async def project_rows(session: AsyncSession, now: float) -> list[ProjectRow]:
    running = dict((await session.execute(
        select(Workunit.project_id, func.count()).join(Result, Result.workunit_id == Workunit.id)
        .where(Result.state == "leased").group_by(Workunit.project_id))).all())
    cpu = dict((await session.execute(
        select(Workunit.project_id, func.coalesce(func.sum(Result.cpu_seconds), 0.0))
        .join(Result, Result.workunit_id == Workunit.id)
        .where(Result.reported_at >= now - 86400).group_by(Workunit.project_id))).all())
    running_total, cpu_total = sum(running.values()), sum(cpu.values())
    out = []
    for p in await projects.list_projects(session):
        out.append(ProjectRow(
            status=await projects.status(session, p),
            running_share=running.get(p.id, 0) / running_total if running_total else 0.0,
            cpu_share_24h=float(cpu.get(p.id, 0.0)) / cpu_total if cpu_total else 0.0,
        ))
    return out


async def findings(session: AsyncSession) -> Findings:
    rows = (await session.execute(
        select(Finding, Project.name).join(Project, Project.id == Finding.project_id)
        .order_by(Finding.id.desc()))).all()
    claims: list[FindingRow] = []
    other: list[FindingRow] = []
    numbers: list[tuple[int, str, int | None]] = []  # Carmichael numbers to show, with their origin
    for f, project in rows:
        row = FindingRow(f.id, project, f.kind, f.value, f.status, f.workunit_id, f.result_id,
                         dict(f.data or {}), f.created_at)
        if f.kind.startswith("bpsw"):
            claims.append(row)
        elif f.kind.startswith("carmichael"):
            numbers.append((int(f.value), project, f.workunit_id))
        else:
            other.append(row)
    # Carmile's enumerations keep their numbers in the validated workunits' summaries.
    total = len(numbers)
    per_decade: list[DecadeRow] = []
    for p in await projects.list_projects(session):
        status = await projects.status(session, p)
        below = status["totals"].get("below") if isinstance(status.get("totals"), dict) else None
        if not isinstance(below, dict):
            continue
        total += int(status["totals"].get("carmichael_numbers", 0))
        previous = 0
        for label, cumulative in sorted(below.items(), key=lambda kv: int(kv[0].split("^")[-1])):
            per_decade.append(DecadeRow(p.name, int(label.split("^")[-1]), cumulative - previous,
                                        cumulative))
            previous = cumulative
        summaries = (await session.execute(
            select(Workunit.id, Workunit.summary).where(Workunit.project_id == p.id,
                                                        Workunit.state == "validated")
            .order_by(Workunit.id.desc()))).all()
        for wu_id, summary in summaries:
            if len(numbers) >= MAX_CARMICHAEL_ROWS:
                break
            if isinstance(summary, dict) and summary.get("step") == "enumerate":
                for n in summary.get("numbers", [])[:MAX_CARMICHAEL_ROWS - len(numbers)]:
                    numbers.append((int(n), p.name, wu_id))
    # Factoring each number for its certificate is CPU work: off the event loop.
    carmichael = await asyncio.to_thread(lambda: [_carmichael(*row) for row in numbers])
    return Findings(claims, carmichael, total, per_decade, other)


def _carmichael(n: int, project: str, workunit_id: int | None) -> CarmichaelRow:
    factors = factoring.factor(n)
    return CarmichaelRow(str(n), [str(p) for p in factors], _korselt(n, factors), project,
                         workunit_id)


async def app_versions(session: AsyncSession) -> list[AppVersionRow]:
    rows = (await session.execute(
        select(AppVersion, App.name).join(App, App.id == AppVersion.app_id)
        .order_by(App.name, AppVersion.created_at.desc()))).all()
    return [
        AppVersionRow(app=name, version=v.version, platform=v.platform, bundle_sha256=v.bundle_sha256,
                      signed=bool(v.signature), signing_key=getattr(v, "key_id", None),
                      created_at=v.created_at)
        for v, name in rows
    ]


def _korselt(n: int, factors: list[int]) -> bool:
    """Korselt's criterion: n composite, squarefree, and p - 1 | n - 1 for every prime p | n."""
    return (len(factors) >= 2 and len(set(factors)) == len(factors)
            and all((n - 1) % (p - 1) == 0 for p in factors))
