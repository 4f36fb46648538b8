"""The predictors on a history whose truth is known."""

from __future__ import annotations

import math
import random

import numpy as np

from coordinator.orchestrator import features, predictors


def _history(n: int = 900) -> list[features.Lease]:
    rng = random.Random(3)
    speeds = [math.exp(rng.uniform(0, math.log(10))) for _ in range(20)]
    # true speed, reported benchmark (off by up to ~2x), flaky
    nodes = {f"n{i}": (s, s * math.exp(rng.gauss(0, 0.4)), i < 4) for i, s in enumerate(speeds)}
    out = []
    for k in range(n):
        node = f"n{k % 20}"
        speed, benchmark, flaky = nodes[node]
        cost = math.exp(rng.gauss(1.0, 0.6))
        runtime = cost / speed * math.exp(rng.gauss(0, 0.05))
        on_time = not (flaky and rng.random() < 0.7)
        out.append(features.Lease("app", node, float(k), cost, benchmark, 50.0,
                                  runtime if on_time else None, on_time))
    return out


def test_runtime_beats_the_benchmark_alone_and_reliability_ranks_flaky_nodes() -> None:
    trained = predictors.train(_history())
    assert trained.runtime_mdape is not None and trained.naive_mdape is not None
    assert trained.runtime_mdape < 0.5 * trained.naive_mdape  # node history corrects a noisy benchmark
    assert trained.reliability_auc is not None and trained.reliability_auc > 0.8
    assert trained.reliability_brier is not None and trained.base_brier is not None
    assert trained.reliability_brier < trained.base_brier


def test_auc_on_known_orders() -> None:
    y = np.array([0, 0, 1, 1])
    assert predictors.roc_auc(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert predictors.roc_auc(y, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    assert predictors.roc_auc(y, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    assert predictors.roc_auc(np.array([1, 1]), np.array([0.1, 0.2])) is None


def test_too_little_history_trains_nothing_and_says_so() -> None:
    trained = predictors.train(_history(5))
    assert trained.runtime_mdape is None and trained.reliability_auc is None
    assert trained.runtime.predict("app", 4.0, 2.0, features.NodeStats()) == 2.0  # cost / benchmark
