"""BPSW-Large: seeded candidates of the Pomerance shape, their canonical encoding,
and the coordinator's strict checker."""

import hashlib
import random
import re

import gmpy2
import pytest

from client.taskapps import bpsw_large as task
from client.taskapps import registry
from coordinator.apps import REGISTRY
from coordinator.apps.base import OutputInvalid
from coordinator.apps.bpsw_large import BpswLarge
from coordinator.errors import InvalidInput
from cyext import bpsw_large as bl

SEARCH = bl.Search(family="psw", seed="test-1", bits=100, factors=3, pool=64)
PARAMS = {"family": "psw", "seed": "test-1", "bits": 100, "factors": 3, "pool": 64, "start": 0, "count": 600}
SPSP = (15841, (7, 31, 73))  # a base-2 strong pseudoprime that fails BPSW


@pytest.fixture(scope="module")
def data() -> bytes:
    return task.run(PARAMS)


def _distinct_factors(m: int, allowed: tuple[int, ...]) -> list[int]:
    out = []
    for q in allowed:
        if m % q == 0:
            out.append(q)
            m //= q
            assert m % q, f"{q}^2 divides it"
        if m == 1:
            return out
    raise AssertionError(f"cofactor {m} is not built from the allowed primes")


def test_same_seed_same_bytes_other_seed_other_bytes(data):
    bl.pool_prime.cache_clear()
    again = task.run(PARAMS)
    assert again == data and bl.digest(again) == bl.digest(data)
    other = task.run({**PARAMS, "seed": "test-2"})
    assert other != data
    assert bl.candidate(SEARCH, 0) != bl.candidate(bl.Search("psw", "test-2", 100, 3, 64), 0)


def test_pinned_values_do_not_drift():
    """Replicas on other machines and Python versions must build the same numbers."""
    first = bl.pool_prime(SEARCH, 0)
    n, factors = bl.candidate(SEARCH, 7)
    pin = hashlib.sha256(f"{first} {n} {factors}".encode()).hexdigest()[:16]
    assert pin == PINNED, (first, n, factors, pin)


def test_candidates_have_the_chosen_shape():
    for i in range(40):
        n, factors = bl.candidate(SEARCH, i)
        assert len(factors) == 3 and list(factors) == sorted(set(factors))
        assert n == factors[0] * factors[1] * factors[2] and n > 1 << 64 and n.bit_length() <= 100
        assert n % 8 == 3 and gmpy2.jacobi(5, n) == -1
        for p in factors:
            assert p.bit_length() == SEARCH.prime_bits and bl.is_proven_prime(p)
            assert p % 8 == 3 and gmpy2.jacobi(5, p) == -1
            minus = _distinct_factors((p - 1) // 6, bl.S_MINUS)
            plus = _distinct_factors((p + 1) // 4, bl.S_PLUS)
            assert (p - 1) % 6 == 0 and max(minus + plus) < bl.SMOOTH_BOUND
            assert not set(minus) & set(bl.S_PLUS) and not set(plus) & set(bl.S_MINUS)


def test_output_round_trips_and_covers_the_range(data):
    out = bl.decode(data)
    assert (out.search, out.start, out.count) == (SEARCH, 0, 600)
    assert len(out.blocks) == 3 and bl.encode(out) == data
    assert data.startswith(b"newral-bpsw-large/1\nsearch psw test-1 100 3 64\nrange 0 600\nblock ")


def test_checker_accepts_an_honest_output(data):
    checked = BpswLarge().check(PARAMS, data, rng=random.Random(1))
    assert checked.summary["candidates"] == 600 and checked.summary["bpsw_pseudoprimes"] == []
    assert checked.findings == ()
    verdict = BpswLarge().audit(PARAMS, data, random.Random(2))
    assert verdict.ok and 0 < verdict.cost_fraction <= 256 / 600


@pytest.mark.parametrize("mutate", [
    lambda d: d[:-1],
    lambda d: d + b"\n",
    lambda d: d.replace(b"range 0 600", b"range 00 600"),
    lambda d: d.replace(b"range 0 600", b"range 0  600"),
    lambda d: d.replace(b"newral-bpsw-large/1", b"newral-bpsw-large/2"),
    lambda d: d.replace(b"block ", b"block X", 1),
    lambda d: d.rsplit(b"block", 1)[0],
    lambda d: d + b"hit 5 3 12 3 4\n",
    lambda d: d.replace(b"test-1", b"test\xff1"),
    lambda d: b"",
])
def test_malformed_outputs_are_rejected(data, mutate):
    with pytest.raises(OutputInvalid):
        BpswLarge().check(PARAMS, mutate(data))


def test_output_for_another_search_or_range_is_rejected(data):
    with pytest.raises(OutputInvalid, match="another search"):
        BpswLarge().check({**PARAMS, "seed": "test-2"}, data)
    with pytest.raises(OutputInvalid, match="another search"):
        BpswLarge().check({**PARAMS, "start": 600}, data)


def _with_hit(data: bytes, index: int, flags: int, n: int, factors: tuple[int, ...]) -> bytes:
    return data + " ".join(map(str, ("hit", index, flags, n, *factors))).encode() + b"\n"


def test_claimed_counterexample_that_is_prime_is_rejected(data):
    prime = (1 << 89) - 1
    with pytest.raises(OutputInvalid, match="not that candidate"):
        BpswLarge().check(PARAMS, _with_hit(data, 5, 15, prime, (3, 5, 7)))


def test_claimed_counterexample_that_fails_bpsw_is_rejected(data):
    n, factors = bl.candidate(SEARCH, 5)
    with pytest.raises(OutputInvalid, match="wrong verdicts"):
        BpswLarge().check(PARAMS, _with_hit(data, 5, bl.FLAG_SPRP2 | bl.FLAG_BPSW, n, factors))


@pytest.fixture
def planted(monkeypatch):
    """Candidate 5 replaced by a known base-2 strong pseudoprime, so a real hit exists."""
    real = bl.candidate

    def candidate(search, i):
        return SPSP if (search, i) == (SEARCH, 5) else real(search, i)

    monkeypatch.setattr(bl, "candidate", candidate)
    return {**PARAMS, "count": 10}


def test_a_true_hit_is_listed_and_verified(planted):
    data = task.run(planted)
    out = bl.decode(data)
    assert [(h.index, h.n, h.flags) for h in out.hits] == [(5, 15841, bl.FLAG_SPRP2)]
    checked = BpswLarge().check(planted, data, rng=random.Random(0))
    assert checked.summary["sprp2"] == 1 and checked.summary["bpsw_pseudoprimes"] == []
    forged = data.replace(b"hit 5 1 15841", b"hit 5 3 15841")
    with pytest.raises(OutputInvalid, match="wrong verdicts"):
        BpswLarge().check(planted, forged)


def test_a_left_out_hit_is_caught_by_the_spot_check(planted):
    params = {**planted, "start": 4, "count": 3}  # as many candidates as spot checks: all are re-tested
    data = task.run(params)
    hidden = data.replace(b"hit 5 1 15841 7 31 73\n", b"")
    assert hidden != data
    with pytest.raises(OutputInvalid, match="candidate 5 .* not listed"):
        BpswLarge().check(params, hidden, rng=random.Random(0))


def test_audit_catches_a_faked_block(data):
    forged = re.sub(rb"block [0-9a-f]{16}", b"block 0000000000000000", data)  # a node that skipped the work
    assert forged != data
    verdict = BpswLarge().audit(PARAMS, forged, random.Random(0))
    assert not verdict.ok and "differs" in verdict.detail


def test_plan_cuts_a_request_into_workunits():
    app = BpswLarge()
    plans = app.plan({"family": "psw", "seed": 42, "count": 2500, "bits": 256, "chunk": 1000})
    assert [p.params["start"] for p in plans] == [0, 1000, 2000]
    assert [p.params["count"] for p in plans] == [1000, 1000, 500]
    assert plans[0].params["seed"] == "42" and plans[0].params["factors"] == 7
    assert plans[0].cost == pytest.approx(1000 * 2 ** 1.6)


@pytest.mark.parametrize("request_", [
    {"count": 10, "bits": 256, "chunk": 1000},
    {"seed": "bad seed", "count": 10, "bits": 256, "chunk": 1000},
    {"seed": "s", "family": "rsa", "count": 10, "bits": 256, "chunk": 1000},
    {"seed": "s", "count": 10, "bits": 64, "chunk": 1000},
    {"seed": "s", "count": 10, "bits": 256, "factors": 8, "chunk": 1000},
    {"seed": "s", "count": 10, "bits": 256, "factors": 3, "chunk": 1000},
    {"seed": "s", "count": 10, "bits": 256, "pool": 5, "chunk": 1000},
    {"seed": "s", "count": 0, "bits": 256, "chunk": 1000},
    {"seed": "s", "count": 10, "bits": 256, "chunk": 10},
    {"seed": "s", "count": 10**12, "bits": 256, "chunk": 1000},
    {"seed": "s", "count": "lots", "bits": 256, "chunk": 1000},
    {"seed": "s", "count": True, "bits": 256, "chunk": 1000},
])
def test_plan_rejects_bad_requests(request_):
    with pytest.raises(InvalidInput):
        BpswLarge().plan(request_)


def test_totals_and_registration():
    app = BpswLarge()
    rows = [{"candidates": 10, "fermat2": 1, "sprp2": 1, "mr_all": 0, "bpsw_pseudoprimes": []},
            {"candidates": 5, "fermat2": 0, "sprp2": 0, "mr_all": 0,
             "bpsw_pseudoprimes": [{"n": "9", "factors": ["3", "3"]}]}]
    assert app.totals(rows) == {"candidates": 15, "fermat2": 1, "sprp2": 1, "mr_all": 0, "bpsw_pseudoprimes": 1}
    assert REGISTRY["bpsw-large"].name == "bpsw-large" and registry()["bpsw-large"] is task.run


PINNED = "4a2f7e2583f87771"
