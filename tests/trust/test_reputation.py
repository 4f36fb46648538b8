"""Every trust transition of Dr. Mann#n (pure)."""

from __future__ import annotations

import random

import pytest

from coordinator.domain import reputation as r

CFG = r.TrustConfig()


def _after(outcomes: list[str], state: r.TrustState | None = None) -> r.TrustChange:
    change = r.TrustChange(state or r.TrustState(), "probation", False)
    for o in outcomes:
        change = r.apply(change.state, o, CFG)
    return change


def test_a_new_node_is_on_probation_with_zero_score() -> None:
    assert r.TrustState().score == 0.0
    assert r.level_of(r.TrustState(), CFG) == "probation"


def test_valid_results_climb_to_trusted_then_highly_trusted() -> None:
    assert _after(["valid"] * 9).level == "probation"  # not enough history yet
    assert _after(["valid"] * 30).level == "trusted"
    assert _after(["valid"] * 300).level == "highly_trusted"


def test_an_invalid_result_is_a_sharp_fall_and_the_climb_back_is_slow() -> None:
    trusted = _after(["valid"] * 300)
    fallen = r.apply(trusted.state, "invalid", CFG)
    assert fallen.level == "probation" and fallen.state.score < 0.9
    steps = 0
    change = fallen
    while change.level == "probation":
        change = r.apply(change.state, "valid", CFG)
        steps += 1
    assert steps >= 20  # slow climb back


def test_errors_and_timeouts_weigh_less_than_invalid() -> None:
    base = _after(["valid"] * 100).state
    invalid = r.apply(base, "invalid", CFG).state.score
    error = r.apply(base, "error", CFG).state.score
    timeout = r.apply(base, "timeout", CFG).state.score
    assert invalid < error < timeout < base.score + 1e-9


def test_recent_behaviour_weighs_more() -> None:
    old_sin = _after(["invalid"] + ["valid"] * 200).state.score
    new_sin = _after(["valid"] * 200 + ["invalid"]).state.score
    assert old_sin > new_sin


def test_repeated_invalid_results_quarantine() -> None:
    change = _after(["invalid", "invalid"])
    assert not change.quarantine
    change = r.apply(change.state, "invalid", CFG)
    assert change.quarantine and "3 invalid" in change.reason


def test_a_trusted_node_proven_wrong_by_the_coordinator_is_quarantined_at_once() -> None:
    trusted = _after(["valid"] * 30)
    assert trusted.level == "trusted"
    outvoted = r.apply(trusted.state, "invalid", CFG)  # lost a vote: could be the others
    assert not outvoted.quarantine and outvoted.level == "probation"
    proven = r.apply(trusted.state, "invalid", CFG, proven=True)
    assert proven.quarantine and "proven wrong" in proven.reason
    # On probation its work is replicated anyway: a proven lie counts like any invalid one.
    assert not r.apply(r.TrustState(), "invalid", CFG, proven=True).quarantine
    lenient = r.TrustConfig(quarantine_proven_lie=False)
    assert not r.apply(trusted.state, "invalid", lenient, proven=True).quarantine


def test_anomalies_drop_to_probation_and_quarantine_past_the_threshold() -> None:
    state = _after(["valid"] * 300).state
    first = r.flag_anomaly(state, "too fast", CFG)
    assert first.level == "probation" and not first.quarantine
    second = r.flag_anomaly(first.state, "too fast", CFG)
    third = r.flag_anomaly(second.state, "too fast", CFG)
    assert third.quarantine


def test_spot_checks_fall_with_trust_and_never_reach_zero() -> None:
    probation = r.spot_check_probability(r.TrustState(), CFG)
    trusted = r.spot_check_probability(_after(["valid"] * 30).state, CFG)
    veteran = r.spot_check_probability(_after(["valid"] * 5000).state, CFG)
    assert probation == 1.0 and trusted > veteran >= CFG.spot_min > 0


def test_too_fast() -> None:
    assert r.too_fast(cost=100, wall_seconds=0.01, benchmark=10, cfg=CFG)
    assert not r.too_fast(cost=100, wall_seconds=8, benchmark=10, cfg=CFG)
    assert not r.too_fast(cost=100, wall_seconds=0.01, benchmark=0, cfg=CFG)  # no benchmark, no verdict


@pytest.mark.parametrize("policy", ["fixed", "boinc", "newral"])
def test_probation_nodes_always_replicate(policy: str) -> None:
    rng = random.Random(1)
    decisions = {r.decide_replication(policy, r.TrustState(), 0, CFG, rng).alone for _ in range(200)}
    assert decisions == {False}


def test_boinc_rule_replicates_with_probability_one_over_count() -> None:
    rng = random.Random(2)
    alone = sum(r.decide_replication("boinc", r.TrustState(), 20, CFG, rng).alone for _ in range(20_000))
    assert abs(alone / 20_000 - (1 - 1 / 20)) < 0.01


def test_newral_trusted_node_runs_alone_with_spot_checks() -> None:
    rng = random.Random(3)
    state = _after(["valid"] * 300).state
    modes = [r.decide_replication("newral", state, 300, CFG, rng).mode for _ in range(5000)]
    share = modes.count("spot-check") / len(modes)
    assert set(modes) == {"alone", "spot-check"}
    assert abs(share - r.spot_check_probability(state, CFG)) < 0.02


def test_unknown_policy_and_outcome() -> None:
    with pytest.raises(ValueError):
        r.decide_replication("yolo", r.TrustState(), 0, CFG, random.Random())
    with pytest.raises(ValueError):
        r.apply(r.TrustState(), "meh", CFG)
