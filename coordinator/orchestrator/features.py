"""The feature table the predictors learn from: one row per finished lease (its
app, node, the node's benchmark, the workunit's cost, its runtime and whether it
came back before its deadline), plus each node's history up to that lease.

History is built in time order, so a row never sees its own outcome or a later one;
the simulation updates the same `History` online, lease by lease."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.models import App, AppVersion, Node, Result, Workunit


@dataclass(frozen=True)
class Lease:
    app: str
    node_id: str
    leased_at: float
    cost: float
    benchmark: float
    delay_bound: float
    runtime: float | None  # wall seconds, when it was reported
    on_time: bool  # reported before its deadline


@dataclass
class NodeStats:
    leases: int = 0
    missed: int = 0
    resid_sum: float = 0.0  # log(actual / benchmark-predicted runtime), summed
    resid_n: int = 0

    @property
    def miss_rate(self) -> float:
        return (self.missed + 0.2) / (self.leases + 2.0)  # a mild prior: new nodes look mostly reliable

    @property
    def resid(self) -> float:
        return self.resid_sum / (self.resid_n + 1.0)  # shrunk towards 0 while history is short


class History:
    """Each node's record so far."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeStats] = {}

    def of(self, node_id: str) -> NodeStats:
        return self.nodes.setdefault(node_id, NodeStats())

    def add(self, lease: Lease) -> None:
        st = self.of(lease.node_id)
        st.leases += 1
        st.missed += 0 if lease.on_time else 1
        if lease.runtime is not None and lease.runtime > 0 and lease.cost > 0 and lease.benchmark > 0:
            st.resid_sum += math.log(lease.runtime * lease.benchmark / lease.cost)
            st.resid_n += 1


def runtime_row(cost: float, benchmark: float, st: NodeStats) -> list[float]:
    return [1.0, math.log(max(cost, 1e-9)), math.log(max(benchmark, 1e-9)), st.resid, min(st.resid_n, 20) / 20.0]


def reliability_row(expected_runtime: float, delay_bound: float, st: NodeStats) -> list[float]:
    return [1.0, math.log(st.miss_rate / (1.0 - st.miss_rate)), math.log1p(st.leases),
            math.log(max(expected_runtime, 1e-9) / max(delay_bound, 1e-9))]


def naive_runtime(cost: float, benchmark: float, st: NodeStats) -> float:
    return cost / max(benchmark, 1e-9) * math.exp(st.resid)


@dataclass(frozen=True)
class Table:
    apps: list[str]
    runtime_x: np.ndarray  # rows of reported leases only
    runtime_y: np.ndarray  # log runtime
    runtime_app: list[str]
    reliability_x: np.ndarray  # every lease
    reliability_y: np.ndarray  # 1.0 if on time
    runtime_order: np.ndarray  # time of each runtime row (for a time-ordered split)
    reliability_order: np.ndarray


def build(leases: Iterable[Lease]) -> Table:
    history = History()
    rx: list[list[float]] = []
    ry: list[float] = []
    rapp: list[str] = []
    rt: list[float] = []
    qx: list[list[float]] = []
    qy: list[float] = []
    qt: list[float] = []
    for lease in sorted(leases, key=lambda x: x.leased_at):
        st = history.of(lease.node_id)
        if lease.runtime is not None and lease.runtime > 0:
            rx.append(runtime_row(lease.cost, lease.benchmark, st))
            ry.append(math.log(lease.runtime))
            rapp.append(lease.app)
            rt.append(lease.leased_at)
        qx.append(reliability_row(naive_runtime(lease.cost, lease.benchmark, st), lease.delay_bound, st))
        qy.append(1.0 if lease.on_time else 0.0)
        qt.append(lease.leased_at)
        history.add(lease)
    return Table(sorted(set(rapp)), np.array(rx).reshape(-1, 5), np.array(ry), rapp,
                 np.array(qx).reshape(-1, 4), np.array(qy), np.array(rt), np.array(qt))


def leases_select(*columns: Any) -> Select[Any]:
    """SELECT columns over results joined to their workunit, app and node (a lease's facts)."""
    return (select(*columns)
            .join(Workunit, Workunit.id == Result.workunit_id)
            .join(AppVersion, AppVersion.id == Workunit.app_version_id)
            .join(App, App.id == AppVersion.app_id)
            .join(Node, Node.id == Result.node_id))


async def from_database(session: AsyncSession, limit: int = 200_000) -> list[Lease]:
    """The latest `limit` finished leases as the coordinator recorded them (the same
    facts as the result.leased / result.reported / result.expired events), in lease order."""
    rows = (await session.execute(
        leases_select(App.name, Result.node_id, Result.leased_at, Result.deadline_at, Result.reported_at,
                      Result.state, Result.wall_seconds, Workunit.cost, Workunit.delay_bound, Node.benchmark)
        .where(Result.leased_at.is_not(None), Result.state.in_(("reported", "errored", "expired")))
        .order_by(Result.leased_at.desc(), Result.id.desc()).limit(limit))).all()
    out = []
    for app, node_id, leased_at, deadline_at, reported_at, state, wall, cost, delay_bound, benchmark in rows:
        on_time = state == "reported" and reported_at is not None and reported_at <= (deadline_at or math.inf)
        runtime = wall if wall else (reported_at - leased_at if state == "reported" and reported_at else None)
        out.append(Lease(app, node_id, leased_at, cost, benchmark, delay_bound, runtime, on_time))
    out.reverse()
    return out
