"""The two predictors, numpy only: runtime per app (least squares on log runtime)
and reliability (logistic regression: the chance a lease finishes before its
deadline). `train` fits on the earlier part of the history and reports the error
on the later, held-out part before refitting on all of it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coordinator.orchestrator import features

HOLDOUT = 0.25
RIDGE = 1e-3


@dataclass
class RuntimeModel:
    coef: dict[str, list[float]] = field(default_factory=dict)  # per app
    fallback: list[float] | None = None

    def fit(self, x: np.ndarray, y: np.ndarray, apps: list[str]) -> RuntimeModel:
        self.fallback = _lstsq(x, y)
        for app in set(apps):
            mask = np.array([a == app for a in apps])
            if mask.sum() >= 3 * x.shape[1]:
                self.coef[app] = _lstsq(x[mask], y[mask])
        return self

    def predict_row(self, app: str, row: list[float]) -> float:
        coef = self.coef.get(app, self.fallback)
        if coef is None:
            return math.exp(row[1] - row[2] + row[3])  # no model yet: cost / benchmark
        return math.exp(float(np.dot(coef, row)))

    def predict(self, app: str, cost: float, benchmark: float, st: features.NodeStats) -> float:
        return self.predict_row(app, features.runtime_row(cost, benchmark, st))

    def cost_exponent(self, app: str) -> float:
        """Runtime grows as cost ** this (the model is linear in log cost), so one
        prediction per node serves every workunit size."""
        coef = self.coef.get(app, self.fallback)
        return 1.0 if coef is None else coef[1]


@dataclass
class ReliabilityModel:
    coef: list[float] | None = None

    def fit(self, x: np.ndarray, y: np.ndarray) -> ReliabilityModel:
        self.coef = _logistic(x, y)
        return self

    def predict_row(self, row: list[float]) -> float:
        if self.coef is None:
            return 1.0 - math.exp(row[1]) / (1.0 + math.exp(row[1]))
        return _sigmoid(float(np.dot(self.coef, row)))

    def predict(self, expected_runtime: float, delay_bound: float, st: features.NodeStats) -> float:
        return self.predict_row(features.reliability_row(expected_runtime, delay_bound, st))

    def curve(self, delay_bound: float, st: features.NodeStats) -> Callable[[float], float]:
        """`predict` for one node as a function of the expected runtime alone (the
        node's part of the sum computed once)."""
        row = features.reliability_row(delay_bound, delay_bound, st)  # last term 0
        if self.coef is None:
            p = self.predict_row(row)
            return lambda _: p
        z0, slope = float(np.dot(self.coef, row)), self.coef[3]
        return lambda runtime: _sigmoid(z0 + slope * math.log(max(runtime, 1e-9) / max(delay_bound, 1e-9)))


@dataclass
class Trained:
    runtime: RuntimeModel
    reliability: ReliabilityModel
    runtime_mdape: float | None  # held-out median absolute percentage error
    naive_mdape: float | None  # the same for cost / benchmark alone, for comparison
    reliability_auc: float | None
    reliability_brier: float | None
    base_brier: float | None  # always predicting the training on-time rate
    rows: int

    def summary(self) -> dict[str, Any]:
        return {"rows": self.rows, "runtime_mdape": self.runtime_mdape, "naive_mdape": self.naive_mdape,
                "reliability_auc": self.reliability_auc, "reliability_brier": self.reliability_brier,
                "base_brier": self.base_brier,
                "coefficients": {"runtime": self.runtime.coef, "runtime_fallback": self.runtime.fallback,
                                 "reliability": self.reliability.coef}}


def restore(summary: dict[str, Any]) -> tuple[RuntimeModel, ReliabilityModel]:
    """The predictors back from a stored `Trained.summary()`; untrained ones when there is none."""
    coef = summary.get("coefficients") or {}
    runtime = RuntimeModel({str(k): [float(x) for x in v] for k, v in (coef.get("runtime") or {}).items()},
                           [float(x) for x in coef["runtime_fallback"]] if coef.get("runtime_fallback") else None)
    rel = coef.get("reliability")
    return runtime, ReliabilityModel([float(x) for x in rel] if rel else None)


def train(leases: list[features.Lease]) -> Trained:
    table = features.build(leases)
    rmask = _split(table.runtime_order)
    qmask = _split(table.reliability_order)
    mdape = naive = auc = brier = base = None
    if rmask is not None and rmask.sum() >= 15:
        held = ~rmask
        apps_fit = [a for a, m in zip(table.runtime_app, rmask, strict=True) if m]
        model = RuntimeModel().fit(table.runtime_x[rmask], table.runtime_y[rmask], apps_fit)
        pred = np.array([model.predict_row(a, list(r)) for a, r, m in
                         zip(table.runtime_app, table.runtime_x, held, strict=True) if m])
        actual = np.exp(table.runtime_y[held])
        mdape = float(np.median(np.abs(pred - actual) / actual))
        guess = np.exp(table.runtime_x[held][:, 1] - table.runtime_x[held][:, 2])
        naive = float(np.median(np.abs(guess - actual) / actual))
    if qmask is not None and qmask.sum() >= 12:
        rel = ReliabilityModel().fit(table.reliability_x[qmask], table.reliability_y[qmask])
        p = np.array([rel.predict_row(list(r)) for r in table.reliability_x[~qmask]])
        y = table.reliability_y[~qmask]
        auc = roc_auc(y, p)
        brier = float(np.mean((p - y) ** 2))
        base = float(np.mean((table.reliability_y[qmask].mean() - y) ** 2))
    runtime = RuntimeModel()
    if len(table.runtime_y) >= 10:
        runtime.fit(table.runtime_x, table.runtime_y, table.runtime_app)
    reliability = ReliabilityModel()
    if len(table.reliability_y) >= 8 and 0 < table.reliability_y.sum() < len(table.reliability_y):
        reliability.fit(table.reliability_x, table.reliability_y)
    return Trained(runtime, reliability, mdape, naive, auc, brier, base, len(table.reliability_y))


def roc_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """Probability that a random positive scores above a random negative (ties half)."""
    pos, neg = p[y == 1], p[y == 0]
    if len(pos) == 0 or len(neg) == 0:
        return None
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    values = np.concatenate([pos, neg])[order]
    i = 0
    while i < len(values):  # average ranks over ties
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2.0) / (len(pos) * len(neg)))


def _split(order: np.ndarray) -> np.ndarray | None:
    if len(order) < 8:
        return None
    cut = np.quantile(order, 1.0 - HOLDOUT)
    mask = order < cut
    return mask if 0 < mask.sum() < len(mask) else None


def _lstsq(x: np.ndarray, y: np.ndarray) -> list[float]:
    a = x.T @ x + RIDGE * np.eye(x.shape[1])
    return [float(v) for v in np.linalg.solve(a, x.T @ y)]


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def _logistic(x: np.ndarray, y: np.ndarray, iterations: int = 25, l2: float = 1e-2) -> list[float]:
    w = np.zeros(x.shape[1])
    for _ in range(iterations):  # Newton's method (IRLS)
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -50, 50)))
        grad = x.T @ (p - y) + l2 * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(x.shape[1])
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return [float(v) for v in w]
