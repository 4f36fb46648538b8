"""The coordinator's side of BPSW-Hunter: cutting work and checking output."""

from __future__ import annotations

import pytest

from coordinator.apps.base import OutputInvalid
from coordinator.apps.bpsw_hunter import BpswHunter, parse_int
from coordinator.errors import InvalidInput
from cyext import bpsw_format

APP = BpswHunter()


@pytest.mark.parametrize("text, value", [("1000", 1000), ("1_000", 1000), ("1e9", 10**9),
                                         ("2^63", 2**63), ("2^63+10^9", 2**63 + 10**9),
                                         ("1e12+1e10", 10**12 + 10**10)])
def test_parse_int(text: str, value: int) -> None:
    assert parse_int(text) == value


@pytest.mark.parametrize("text", ["", "ten", "1e99", "2^999", "1.5", "0x10", "1e", "+"])
def test_parse_int_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_int(text)


def test_plan_covers_the_range_exactly_once() -> None:
    plans = APP.plan({"a": 5, "b": 2**64, "chunk": "2^62"})
    bounds = [(int(p.params["a"]), int(p.params["b"])) for p in plans]
    assert bounds[0][0] == 5 and bounds[-1][1] == 2**64
    assert all(x[1] == y[0] for x, y in zip(bounds, bounds[1:]))
    assert sum(p.cost for p in plans) == 2**64 - 5


def test_check_accepts_a_true_sweep_and_reports_totals() -> None:
    data = bpsw_format.encode(bpsw_format.run_sweep(0, 10_000))
    checked = APP.check({"a": "0", "b": "10000"}, data)
    assert checked.summary == {"primes": 1229, "spsp": 5, "bpsw_claims": [], "integers": 10_000}
    assert checked.findings == ()


def test_check_refuses_wrong_range_fake_pseudoprime_and_wrong_lucas_verdict() -> None:
    real = bpsw_format.run_sweep(0, 10_000)
    with pytest.raises(OutputInvalid, match="range"):
        APP.check({"a": "0", "b": "9999"}, bpsw_format.encode(real))
    fake = bpsw_format.SweepOutput(0, 10_000, real.prime_count, ((2047, False), (2049, False)))
    with pytest.raises(OutputInvalid, match="2049"):
        APP.check({"a": "0", "b": "10000"}, bpsw_format.encode(fake))
    flipped = bpsw_format.SweepOutput(0, 10_000, real.prime_count, ((2047, True),))
    with pytest.raises(OutputInvalid, match="Lucas"):
        APP.check({"a": "0", "b": "10000"}, bpsw_format.encode(flipped))
    with pytest.raises(OutputInvalid):
        APP.check({"a": "0", "b": "10000"}, b"garbage")


def test_plan_rejects_bad_requests() -> None:
    for request in ({"a": 1, "b": 1, "chunk": 1000}, {"a": -1, "b": 10, "chunk": 1000},
                    {"a": 0, "b": 10**6, "chunk": 10}, {"b": 10, "chunk": 1000},
                    {"a": True, "b": 10, "chunk": 1000}):
        with pytest.raises(InvalidInput):
            APP.plan(request)
