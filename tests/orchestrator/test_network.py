"""The heterogeneous-network simulation on a small network: Advisory applies
nothing (the same schedule as AI Off), and no mode accepts a wrong result or
breaks a hard constraint."""

from __future__ import annotations

import pytest

from coordinator.simulate import network, network_report

SMALL = network.NetworkScenario(nodes=40, workunits=300, history_workunits=150, seed=3)


@pytest.fixture(scope="module")
def outcomes() -> dict[str, network.ModeOutcome]:
    _, outs = network.run(SMALL)
    return {o.mode: o for o in outs}


def test_advisory_applies_nothing_on_its_own(outcomes: dict[str, network.ModeOutcome]) -> None:
    off, advisory = outcomes["off"], outcomes["advisory"]
    assert advisory.schedule == off.schedule
    assert advisory.actions == 0 and off.actions == 0
    assert (advisory.makespan, advisory.wasted_node_hours) == (off.makespan, off.wasted_node_hours)
    assert not any(e["kind"].startswith("orchestrator.") and e["kind"] != "orchestrator.recommendation"
                   for e in advisory.events)
    assert sum(c + r for c, r in advisory.recommendations.values()) > 0
    assert off.recommendations == {}


def test_every_mode_finishes_the_work_within_the_rules(outcomes: dict[str, network.ModeOutcome]) -> None:
    for o in outcomes.values():
        assert o.accepted == SMALL.workunits
        assert o.wrong_accepted == 0 and o.constraint_violations == 0


def test_partial_and_full_log_each_action_with_its_prediction(outcomes: dict[str, network.ModeOutcome]) -> None:
    for mode in ("partial", "full"):
        acted = [e for e in outcomes[mode].events if e["kind"] == "orchestrator.reissue"]
        assert len(acted) == outcomes[mode].actions
        assert all("prediction" in e for e in acted)


def test_full_finishes_sooner_and_wastes_less_than_off(outcomes: dict[str, network.ModeOutcome]) -> None:
    off, full = outcomes["off"], outcomes["full"]
    assert full.makespan < off.makespan
    assert full.wasted_node_hours <= off.wasted_node_hours


def test_same_seed_same_run() -> None:
    small = network.NetworkScenario(nodes=20, workunits=80, history_workunits=40, seed=5)
    a = network.run(small, ("off",))[1][0]
    b = network.run(small, ("off",))[1][0]
    assert a.schedule == b.schedule and a.makespan == b.makespan


def test_table_prints_every_mode(outcomes: dict[str, network.ModeOutcome]) -> None:
    text = network_report.table(list(outcomes.values()))
    assert "makespan (h)" in text and "Full" in text and "same schedule as AI Off" in text
