"""Prometheus metrics, computed from the database at scrape time.

Nothing is counted in process memory, so every replica answers the same and a
restart loses nothing: counters are counts of rows in the append-only events
table (whose kinds are also the log's event names), gauges are counts of rows
in a state right now.

    newral_nodes{status}                       nodes by status
    newral_active_nodes                        active nodes seen in the last 10 minutes
    newral_leases_total                        replicas leased, ever (events result.leased)
    newral_leases_per_second                   leases in the last LEASE_WINDOW seconds / window
    newral_results_total{outcome}              reported | errored | expired | valid | invalid
    newral_queue_depth{project,state}          replicas waiting (unsent) and running (leased)
    newral_validation_lag_seconds              age of the oldest reported result still pending
    newral_validator_queue                     reported results queued for the validator
    newral_workunits{state}                    workunits by state
    newral_findings_total{kind}                findings by kind
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.models import Event, Finding, Node, Project, Result, Workunit
from coordinator.domain.dashboard import ONLINE_SECONDS

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LEASE_WINDOW = 60.0
RESULT_OUTCOMES = {"result.reported": "reported", "result.errored": "errored",
                   "result.expired": "expired", "result.valid": "valid", "result.invalid": "invalid"}


@dataclass
class Snapshot:
    """Everything one scrape reports, read in one transaction."""

    nodes: dict[str, int] = field(default_factory=dict)
    active_nodes: int = 0
    leases_total: int = 0
    leases_recent: int = 0
    results: dict[str, int] = field(default_factory=dict)
    queue: dict[tuple[str, str], int] = field(default_factory=dict)  # (project, state) -> replicas
    validation_lag: float = 0.0
    validator_queue: int = 0
    workunits: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)


async def snapshot(session: AsyncSession, now: float) -> Snapshot:
    snap = Snapshot()
    snap.nodes = dict((await session.execute(select(Node.status, func.count()).group_by(Node.status))).all())
    snap.active_nodes = await session.scalar(select(func.count()).select_from(Node).where(
        Node.status == "active", Node.last_seen_at >= now - ONLINE_SECONDS)) or 0
    kinds = ["result.leased", *RESULT_OUTCOMES]
    counts = dict((await session.execute(
        select(Event.kind, func.count()).where(Event.kind.in_(kinds)).group_by(Event.kind))).all())
    snap.leases_total = counts.get("result.leased", 0)
    snap.results = {outcome: counts.get(kind, 0) for kind, outcome in RESULT_OUTCOMES.items()}
    snap.leases_recent = await session.scalar(select(func.count()).select_from(Event).where(
        Event.kind == "result.leased", Event.at >= now - LEASE_WINDOW)) or 0
    rows = await session.execute(
        select(Project.name, Result.state, func.count())
        .join(Workunit, Workunit.id == Result.workunit_id).join(Project, Project.id == Workunit.project_id)
        .where(Result.state.in_(("unsent", "leased"))).group_by(Project.name, Result.state))
    for project, state, count in rows.all():
        snap.queue[(project, "waiting" if state == "unsent" else "running")] = count
    oldest = await session.scalar(select(func.min(Result.reported_at)).where(
        Result.state == "reported", Result.verdict == "pending"))
    snap.validation_lag = max(0.0, now - oldest) if oldest is not None else 0.0
    snap.validator_queue = await session.scalar(select(func.count()).select_from(Result).where(
        Result.awaiting_validator)) or 0
    snap.workunits = dict((await session.execute(
        select(Workunit.state, func.count()).group_by(Workunit.state))).all())
    snap.findings = dict((await session.execute(
        select(Finding.kind, func.count()).group_by(Finding.kind))).all())
    return snap


class _SnapshotCollector(Collector):
    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def collect(self) -> Iterator[Metric]:
        s = self.snap
        yield _labelled(GaugeMetricFamily("newral_nodes", "Nodes by status.", labels=["status"]),
                        [((k,), v) for k, v in sorted(s.nodes.items())])
        yield GaugeMetricFamily("newral_active_nodes",
                                "Active nodes seen within the last 10 minutes.", value=s.active_nodes)
        yield CounterMetricFamily("newral_leases", "Replicas leased to nodes.", value=s.leases_total)
        yield GaugeMetricFamily("newral_leases_per_second",
                                f"Leases per second over the last {LEASE_WINDOW:.0f} seconds.",
                                value=s.leases_recent / LEASE_WINDOW)
        yield _labelled(CounterMetricFamily("newral_results", "Result outcomes.", labels=["outcome"]),
                        [((k,), v) for k, v in sorted(s.results.items())])
        yield _labelled(GaugeMetricFamily("newral_queue_depth", "Replicas waiting and running.",
                                          labels=["project", "state"]),
                        sorted(s.queue.items()))
        yield GaugeMetricFamily("newral_validation_lag_seconds",
                                "Age of the oldest reported result still waiting for validation.",
                                value=s.validation_lag)
        yield GaugeMetricFamily("newral_validator_queue",
                                "Reported results queued for the validator (domain/validator.py).",
                                value=s.validator_queue)
        yield _labelled(GaugeMetricFamily("newral_workunits", "Workunits by state.", labels=["state"]),
                        [((k,), v) for k, v in sorted(s.workunits.items())])
        yield _labelled(CounterMetricFamily("newral_findings", "Findings by kind.", labels=["kind"]),
                        [((k,), v) for k, v in sorted(s.findings.items())])


def _labelled(family: GaugeMetricFamily | CounterMetricFamily,
              samples: Iterable[tuple[tuple[str, ...], float]]) -> Metric:
    for labels, value in samples:
        family.add_metric(list(labels), value)
    return family


def render(snap: Snapshot) -> bytes:
    """The Prometheus text format for one snapshot (a fresh registry: no global state)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(snap))
    return generate_latest(registry)
