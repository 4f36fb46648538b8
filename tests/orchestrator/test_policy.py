"""The orchestrator's pure decisions: Full's pick, the live lease bound, stragglers,
and the two live recommendation kinds."""

from __future__ import annotations

import math

import pytest

from coordinator.orchestrator import features, policy, predictors

HOUR = 3600.0


def _c(key: int, cost: float, runtime: float, on_time: float = 0.95, best: float = 0.0) -> policy.Candidate:
    return policy.Candidate(key, cost, runtime, on_time, best)


def test_full_takes_the_largest_workunit_it_finishes_within_the_horizon() -> None:
    cands = [_c(0, 1.0, 1 * HOUR), _c(1, 6.0, 5 * HOUR), _c(2, 12.0, 11 * HOUR), _c(3, 6.0, 5 * HOUR)]
    assert policy.pick_full(cands, 8 * HOUR, 18 * HOUR).key == 1  # largest that fits; ties in queue order
    assert policy.pick_full(cands, 20 * HOUR, 18 * HOUR).key == 2
    assert policy.pick_full(cands, 20 * HOUR, 10 * HOUR).key == 1  # never past the deadline


def test_full_gives_an_unreliable_or_too_slow_node_nothing() -> None:
    assert policy.pick_full([_c(0, 1.0, HOUR, on_time=0.3)], 10 * HOUR, 18 * HOUR) is None
    assert policy.pick_full([_c(0, 6.0, 9 * HOUR, best=2 * HOUR)], 3 * HOUR, 18 * HOUR) is None
    # Work nobody finishes within the horizon still goes to a node close to the fastest.
    assert policy.pick_full([_c(0, 30.0, 4 * HOUR, best=3 * HOUR)], 2 * HOUR, 18 * HOUR) is not None


def test_live_cost_bound_holds_slow_nodes_to_work_they_finish_in_time() -> None:
    assert policy.max_cost_for(0.1, 0.1, 1.0, 100.0) is None  # the fastest node: no bound
    bound = policy.max_cost_for(1.0, 0.1, 1.0, 2 * HOUR)
    assert bound is not None and policy.planned_runtime(bound) == pytest.approx(2 * HOUR)
    assert policy.max_cost_for(1.0, 0.1, 1.0, 300.0) == 0.0  # the queue ends before its slack


def test_straggler_rules() -> None:
    assert policy.is_straggler(finish_in=HOUR, deadline_in=2 * HOUR, silent_for=2 * HOUR)  # quiet in its window
    assert policy.is_straggler(finish_in=3 * HOUR, deadline_in=2 * HOUR, silent_for=0.0)
    assert not policy.is_straggler(finish_in=HOUR, deadline_in=2 * HOUR, silent_for=0.0)
    assert policy.straggler_odds(0.4, HOUR, 2 * HOUR) and not policy.straggler_odds(0.9, HOUR, 2 * HOUR)


def test_queue_dry_warns_only_when_the_queue_ends_soon() -> None:
    tip = policy.queue_dry("hunt", unsent_cost=3600.0, rate=1.0, busy_nodes=4)
    assert tip is not None and tip.kind == "queue-dry" and tip.prediction["dry_in"] == 3600.0
    assert tip.predicted_benefit == (policy.QUEUE_DRY - 3600.0) * 4
    assert policy.queue_dry("hunt", unsent_cost=10 * HOUR, rate=1.0, busy_nodes=4) is None
    assert policy.queue_dry("hunt", unsent_cost=1.0, rate=0.0, busy_nodes=0) is None


def test_drift_needs_a_real_change_in_the_nodes_own_record() -> None:
    slower = policy.drift("n1", 0.0, math.log(3.0), 0.05, 0.05, 5, 18 * HOUR)
    assert slower is not None and slower.kind == "raise-replication" and "3.0x" in slower.summary
    misses = policy.drift("n1", 0.0, 0.0, 0.0, 0.6, 5, 18 * HOUR)
    assert misses is not None and "missed" in misses.summary
    assert policy.drift("n1", 0.0, 0.2, 0.05, 0.1, 5, 18 * HOUR) is None  # within its usual spread
    assert policy.drift("n1", 0.0, math.log(3.0), 0.0, 0.0, 2, 18 * HOUR) is None  # too few recent leases


def test_stored_models_predict_as_the_trained_ones() -> None:
    leases = [features.Lease("app", f"n{i % 4}", float(i), 1000.0 * (1 + i % 3), 10.0 * (1 + i % 4), 3600.0,
                             100.0 * (1 + i % 3) / (1 + i % 4) * (1.2 if i % 5 == 0 else 1.0), i % 7 != 0)
              for i in range(60)]
    trained = predictors.train(leases)
    runtime, reliability = predictors.restore(trained.summary())
    st = features.NodeStats(leases=5, missed=1, resid_sum=0.3, resid_n=5)
    assert runtime.predict("app", 2000.0, 20.0, st) == trained.runtime.predict("app", 2000.0, 20.0, st)
    assert reliability.predict(500.0, 3600.0, st) == trained.reliability.predict(500.0, 3600.0, st)
    curve = trained.reliability.curve(3600.0, st)
    assert curve(500.0) == pytest.approx(trained.reliability.predict(500.0, 3600.0, st))
    assert predictors.restore({})[0].coef == {} and predictors.restore({})[1].coef is None
