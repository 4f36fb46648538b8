"""The load harness's verdict on the issue's target (1,000 workunits/s, p99 under 50 ms
for leases and reports), on made-up runs: the harness itself needs a machine's worth of
processes and is run by hand (benchmarks/load/README.md)."""

from __future__ import annotations

from benchmarks.load.run import Outcome, pick, verdict


def run(leased: float = 1100.0, reported: float = 1100.0, lease: float | None = 30.0,
        report: float | None = 45.0, validated: float | None = None) -> Outcome:
    return Outcome(leased, reported, {"lease": lease, "report": report}, validated)


def test_a_run_meets_the_target_only_with_both_rates_and_both_tails_inside_it() -> None:
    assert run().meets_target()
    assert not run(report=50.0).meets_target()  # "under 50 ms": 50.0 is not
    assert not run(lease=50.1).meets_target()
    assert not run(reported=999.9).meets_target()
    assert not run(leased=999.9).meets_target()
    assert not run(report=None).meets_target()  # no report measured: nothing shown
    assert run(validated=1000.0).meets_target()
    assert not run(validated=999.9).meets_target()  # the validator fell behind


def test_the_verdict_counts_the_runs_that_met_it_and_lists_every_p99() -> None:
    lines = verdict([run(report=47.9), run(report=84.2), run(leased=990.0, report=44.1)])
    assert lines[0].endswith("met in 1 of 3 run(s)")
    assert lines[1].endswith("990.0 to 1100.0")
    assert lines[3] == "  report p99, ms, in order: 44.1, 47.9, 84.2 (median 47.9)"


def test_pick_is_the_value_at_rank_q_n_in_milliseconds() -> None:
    seconds = [i / 1000 for i in range(1, 101)]  # 1 .. 100 ms
    assert pick(seconds, 0.99) == 100.0
    assert pick(seconds, 0.50) == 51.0
    assert pick([0.002], 0.99) == 2.0
