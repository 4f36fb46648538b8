"""`newral simulate` on a small scenario: the targets of the validation issue hold
against BOINC's adaptive replication, run through the real domain and database."""

from __future__ import annotations

import pytest

from coordinator.simulate import report, runner
from coordinator.simulate.behaviours import Scenario

pytestmark = pytest.mark.slow

SMALL = Scenario(nodes=24, workunits=400, liar_share=0.08, sleeper_share=0.08, faulty_share=0.08, seed=3)


@pytest.fixture(scope="module")
def outcomes() -> dict[str, runner.PolicyOutcome]:
    import asyncio

    results = asyncio.run(runner.run(SMALL, ("boinc", "newral")))
    print(report.table(results))
    return {o.policy: o for o in results}


def test_everything_is_accepted(outcomes: dict[str, runner.PolicyOutcome]) -> None:
    assert all(o.accepted == SMALL.workunits for o in outcomes.values())


def test_newral_accepts_at_most_a_tenth_of_boincs_wrong_results(outcomes: dict[str, runner.PolicyOutcome]) -> None:
    boinc, newral = outcomes["boinc"], outcomes["newral"]
    assert boinc.wrong_accepted > 0, "the scenario must be hard enough for BOINC's rule to let some through"
    assert newral.wrong_accepted * 10 <= boinc.wrong_accepted


def test_newral_spends_no_more_replicas_than_boinc(outcomes: dict[str, runner.PolicyOutcome]) -> None:
    assert outcomes["newral"].replicas_per_accepted <= outcomes["boinc"].replicas_per_accepted


def test_liars_get_nothing_accepted_no_credit_and_are_quarantined_early(
        outcomes: dict[str, runner.PolicyOutcome]) -> None:
    newral = outcomes["newral"]
    assert newral.wrong_by_kind.get("liar", 0) == 0
    assert newral.credit_for_wrong_by_kind.get("liar", 0.0) == 0.0
    caught = newral.before_quarantine["liar"]
    assert caught and all(n is not None and n <= 20 for n in caught)


def test_wrong_results_earn_no_credit_under_newral(outcomes: dict[str, runner.PolicyOutcome]) -> None:
    newral = outcomes["newral"]
    # Credit for a wrong result is revoked when a retroactive audit overturns it.
    assert newral.credit_for_wrong <= newral.wrong_accepted * SMALL.blocks


def test_sleepers_are_quarantined_when_an_audit_first_proves_them_wrong(
        outcomes: dict[str, runner.PolicyOutcome]) -> None:
    newral = outcomes["newral"]
    assert newral.wrong_by_kind.get("sleeper", 0) == 0
    caught = newral.before_quarantine["sleeper"]
    assert caught and all(n is not None for n in caught)
    # BOINC's rule has no audit: the same sleepers get wrong results accepted.
    assert outcomes["boinc"].wrong_by_kind.get("sleeper", 0) > 0
