"""The coordinator's side of BPSW-Hunter: cutting work and checking output."""

from __future__ import annotations

import ast
import dataclasses
import random

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
    fake = dataclasses.replace(real, pseudoprimes=((2047, False), (2049, False)))
    with pytest.raises(OutputInvalid, match="2049"):
        APP.check({"a": "0", "b": "10000"}, bpsw_format.encode(fake))
    flipped = dataclasses.replace(real, pseudoprimes=((2047, True),))
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


PARAMS = {"a": str(10**9), "b": str(10**9 + 2_560_000)}  # 256 audit blocks of 10,000


def _picks(detail: str) -> set[int]:
    """The blocks an audit says it recomputed ("recomputed blocks [3, 200]...")."""
    return set(ast.literal_eval(detail[len("recomputed blocks "):detail.index("]") + 1]))


def test_audit_recomputes_two_blocks_of_an_honest_sweep() -> None:
    data = bpsw_format.encode(bpsw_format.run_sweep(10**9, 10**9 + 2_560_000))
    verdicts = [APP.audit(PARAMS, data, random.Random(seed)) for seed in range(40)]
    assert all(v.ok and "all match" in v.detail and len(_picks(v.detail)) == 2 for v in verdicts)
    assert verdicts[0].cost_fraction == pytest.approx(2 / 256)
    assert len(set.union(*(_picks(v.detail) for v in verdicts))) > 40  # chosen at random


def test_audit_catches_a_node_that_skipped_half_the_range() -> None:
    real = bpsw_format.run_sweep(10**9, 10**9 + 2_560_000)
    # Skipped the second half: made-up counts there (an estimate), adding up as they must.
    made_up = real.block_counts[:128] + (483,) * 128
    assert made_up != real.block_counts
    fake = bpsw_format.encode(dataclasses.replace(real, block_counts=made_up, prime_count=sum(made_up)))
    assert APP.check(PARAMS, fake)  # well formed; only recomputing shows the lie
    wrong_blocks = {i for i in range(256) if made_up[i] != real.block_counts[i]}
    verdicts = [APP.audit(PARAMS, fake, random.Random(seed)) for seed in range(200)]
    for v in verdicts:
        assert v.ok == (not _picks(v.detail) & wrong_blocks), v.detail
    assert 100 < sum(not v.ok for v in verdicts) < 190  # about 3 times in 4


def test_audit_catches_an_omitted_pseudoprime_in_a_recomputed_block() -> None:
    real = bpsw_format.run_sweep(0, 2_560_000)  # blocks of 10,000; 2047 lies in block 0
    assert real.pseudoprimes[0] == (2047, False)
    fake = bpsw_format.encode(dataclasses.replace(real, pseudoprimes=real.pseudoprimes[1:]))
    verdicts = [APP.audit({"a": "0", "b": "2560000"}, fake, random.Random(seed)) for seed in range(300)]
    for v in verdicts:
        assert v.ok == (0 not in _picks(v.detail)), v.detail
    assert not all(v.ok for v in verdicts)
