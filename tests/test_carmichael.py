"""Carmichael kernels: the two search methods, the certificate checker, the planner.

The pre-product search, the sieve and a brute-force Korselt check are three
independent methods; they must agree on every range tested, and with the
published counts.
"""

from __future__ import annotations

import functools
import itertools

import gmpy2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyext import carmichael, carmichael_plan, korselt

FIRST = [
    (561, (3, 11, 17)),
    (1105, (5, 13, 17)),
    (1729, (7, 13, 19)),
    (2465, (5, 17, 29)),
    (2821, (7, 13, 31)),
    (6601, (7, 23, 41)),
    (8911, (7, 19, 67)),
]

# Carmichael numbers below 10^k (OEIS A055553)
COUNTS = {4: 7, 5: 16, 6: 43, 7: 105, 8: 255, 9: 646, 10: 1547, 11: 3605, 12: 8241}


def _trial_factor(n: int) -> list[int]:
    factors, m, d = [], gmpy2.mpz(n), 2
    while d * d <= m:
        while m % d == 0:
            factors.append(d)
            m //= d
        d += 1
    if m > 1:
        factors.append(int(m))
    return factors


def brute_force(lo: int, hi: int) -> list[tuple[int, tuple[int, ...]]]:
    """Carmichael numbers in [lo, hi) by Korselt's criterion on every odd n.

    Only n with 2^(n-1) = 1 (mod n) are factored: every Carmichael number passes
    that test, and this keeps the reference quick without sharing any logic
    with the kernels.
    """
    found = []
    for n in range(max(lo, 3) | 1, hi, 2):
        if gmpy2.powmod(2, n - 1, n) != 1 or gmpy2.is_prime(n):
            continue
        fs = _trial_factor(n)
        if len(set(fs)) == len(fs) >= 3 and all((n - 1) % (p - 1) == 0 for p in fs):
            found.append((n, tuple(fs)))
    return found


@pytest.fixture(scope="module")
def upto_1e7() -> list[tuple[int, tuple[int, ...]]]:
    return brute_force(0, 10**7)


# ------------------------------------------------------------------ kernels


def test_first_carmichael_numbers() -> None:
    assert carmichael.search(10**4) == FIRST
    assert carmichael.sieve_range(0, 10**4) == FIRST


def test_bound_is_inclusive_and_range_half_open() -> None:
    assert carmichael.search(561) == FIRST[:1]
    assert carmichael.search(560) == []
    assert carmichael.sieve_range(561, 562) == FIRST[:1]
    assert carmichael.sieve_range(562, 1105) == []


def test_both_methods_match_brute_force_to_1e7(upto_1e7) -> None:
    assert len(upto_1e7) == COUNTS[7]
    assert carmichael.search(10**7) == upto_1e7
    assert carmichael.sieve_range(0, 10**7) == upto_1e7


@pytest.mark.parametrize("k", sorted(COUNTS))
def test_search_matches_known_counts(k: int) -> None:
    assert len(carmichael.search(10**k)) == COUNTS[k]


def test_sieve_matches_search_to_1e9() -> None:
    found = carmichael.sieve_range(0, 10**9)
    assert len(found) == COUNTS[9]
    assert found == carmichael.search(10**9)


@functools.cache
def _known(bound: int) -> list[int]:
    return [n for n, _ in carmichael.search(bound)]


# windows anywhere, and windows around a known Carmichael number (random windows
# rarely hold one)
def _windows(top: int, widest: int) -> st.SearchStrategy[tuple[int, int]]:
    anywhere = st.tuples(st.integers(0, top), st.integers(1, widest))
    around = st.tuples(
        st.integers(0, widest - 1), st.integers(1, widest), st.sampled_from(_known(top))
    ).map(lambda t: (max(0, t[2] - t[0]), t[1]))
    return st.one_of(anywhere, around)


@settings(max_examples=40, deadline=None)
@given(window=st.deferred(lambda: _windows(10**10, 4000)))
def test_windows_agree_with_brute_force(window: tuple[int, int]) -> None:
    lo, hi = window[0], window[0] + window[1]
    expected = brute_force(lo, hi)
    assert carmichael.sieve_range(lo, hi) == expected
    assert [c for c in carmichael.search(hi - 1) if c[0] >= lo] == expected


@settings(max_examples=15, deadline=None)
@given(window=st.deferred(lambda: _windows(10**11, 10**6)))
def test_sieve_window_matches_search(window: tuple[int, int]) -> None:
    lo, hi = window[0], window[0] + window[1]
    assert carmichael.sieve_range(lo, hi) == [c for c in carmichael.search(hi - 1) if c[0] >= lo]


def test_results_are_valid_certificates() -> None:
    for n, factors in carmichael.search(10**10):
        korselt.check(n, factors)
        assert list(factors) == sorted(factors)


def test_near_2_64() -> None:
    """A Chernick number (6k+1)(12k+1)(18k+1) just below 2^64 is found in its slice."""
    bound = 2**64 - 1
    k = int(gmpy2.iroot(bound // 1296, 3)[0])
    while True:
        ps = (6 * k + 1, 12 * k + 1, 18 * k + 1)
        if ps[0] * ps[1] * ps[2] <= bound and all(gmpy2.is_prime(p) for p in ps):
            break
        k -= 1
    n = ps[0] * ps[1] * ps[2]
    found = carmichael.search(bound, ps[0], ps[0] + 1)
    assert (n, ps) in found
    assert all(f[0] == ps[0] for _, f in found)
    for m, factors in found:
        korselt.check(m, factors)
    assert carmichael.search(n - 1, ps[0], ps[0] + 1) == [c for c in found if c[0] < n]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((-1,), ValueError),
        ((2**64,), ValueError),
        ((10**6, -3), ValueError),
        ((1.5e6,), TypeError),
        (("1000",), TypeError),
    ],
)
def test_search_rejects_bad_arguments(args, error) -> None:
    with pytest.raises(error):
        carmichael.search(*args)


def test_sieve_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        carmichael.sieve_range(-1, 100)
    with pytest.raises(TypeError):
        carmichael.sieve_range(0, 10.0)
    assert carmichael.sieve_range(10**6, 10**5) == []


# ------------------------------------------------------------------ slices


def _covers_exactly_once(slices, bound: int) -> None:
    found = [c for s in slices for c in s.run()]
    assert len(found) == len(set(found)), "a Carmichael number is in two slices"
    assert sorted(found) == carmichael.search(bound)


def test_plan_covers_every_number_exactly_once() -> None:
    bound = 10**9
    slices = carmichael_plan.plan(bound, target_seconds=0.0005)
    assert len(slices) > 10
    assert any(s.second_hi is not None for s in slices), "expected a split smallest prime"
    _covers_exactly_once(slices, bound)


def test_plan_tiles_the_smallest_primes() -> None:
    slices = carmichael_plan.plan(10**11, target_seconds=0.01)
    assert slices[0].lo == 0 and slices[-1].hi is None
    i = 0
    while i < len(slices):
        group = [s for s in slices if (s.lo, s.hi) == (slices[i].lo, slices[i].hi)]
        assert group == slices[i : i + len(group)]
        assert group[0].second_lo == 0 and group[-1].second_hi is None
        for a, b in itertools.pairwise(group):
            assert a.second_hi == b.second_lo
        i += len(group)
        if i < len(slices):
            assert group[-1].hi == slices[i].lo
    assert all(s.est_cost >= 0 for s in slices)


def test_plan_balances_costs() -> None:
    target = 0.05
    slices = carmichael_plan.plan(10**12, target_seconds=target)
    heavy = [s for s in slices[:-1] if s.est_cost > 1.5 * target]
    assert not heavy
    assert sum(s.est_cost for s in slices) == pytest.approx(
        carmichael_plan.SECONDS_PER_UNIT * sum(u for _, u in carmichael.cost_profile(10**12)),
        rel=0.01,
    )


@settings(max_examples=20, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 500), max_size=6),
    second_cuts=st.lists(st.integers(0, 3000), max_size=4),
    p1=st.sampled_from([3, 5, 7, 11, 13]),
)
def test_arbitrary_cuts_cover_exactly_once(cuts, second_cuts, p1) -> None:
    bound = 10**8
    edges = [0, *sorted(set(cuts)), None]
    found = []
    for lo, hi in itertools.pairwise(edges):
        if hi is not None and hi <= lo:
            continue
        found += carmichael.search(bound, lo, hi)
    assert sorted(found) == carmichael.search(bound)
    second = [0, *sorted(set(second_cuts)), None]
    parts = []
    for lo, hi in itertools.pairwise(second):
        if hi is not None and hi <= lo:
            continue
        parts += carmichael.search(bound, p1, p1 + 1, lo, hi)
    assert sorted(parts) == carmichael.search(bound, p1, p1 + 1)


def test_small_bound_plans_one_slice() -> None:
    assert carmichael_plan.plan(1) == [carmichael_plan.Slice(1, 0, None, 0.0)]
    assert carmichael_plan.plan(560)[0].run() == []


@pytest.mark.parametrize("bound", [0, -1, -(10**12), 2**64])
def test_plan_rejects_bad_bound(bound: int) -> None:
    with pytest.raises(ValueError):
        carmichael_plan.plan(bound)


@pytest.mark.parametrize("target", [0, -1.0, float("nan"), float("inf")])
def test_plan_rejects_bad_target(target: float) -> None:
    with pytest.raises(ValueError):
        carmichael_plan.plan(10**6, target_seconds=target)


# ------------------------------------------------------------------ checker


@pytest.mark.parametrize(("n", "factors"), [*FIRST, (41041, (7, 11, 13, 41))])
def test_checker_accepts_carmichael_numbers(n: int, factors: tuple[int, ...]) -> None:
    korselt.check(n, factors)
    assert korselt.is_valid(n, list(factors))
    assert korselt.is_valid(gmpy2.mpz(n), factors)


@pytest.mark.parametrize(
    ("n", "factors", "reason"),
    [
        (561, (3, 13, 17), "multiply to"),  # a wrong factor
        (1683, (3, 3, 11, 17), "repeated"),  # 1683 = 3^2 * 11 * 17
        (561, (3, 11, 17, 1), "below 2"),
        (561 * 17, (3, 11, 17, 17), "repeated"),
        (3927, (3, 7, 11, 17), "7 - 1 does not divide"),  # squarefree, not Korselt
        (105, (3, 5, 7), "7 - 1 does not divide"),
        (41041, (7, 11, 533), "533 is not prime"),  # 533 = 13 * 41
        (41041, (7, 11, 13, 41, 1), "below 2"),
        (561 * 2, (3, 11, 17), "multiply to"),  # product mismatch
        (15, (3, 5), "at least 3"),
        (561, (561,), "at least 3"),
        (561, (), "at least 3"),
        (1, (3, 11, 17), "below 3"),
        (561, "3,11,17", "sequence"),
        (561.0, (3, 11, 17), "integer"),
        (561, (3, 11.0, 17), "not an integer"),
        (2**5000 + 1, (3, 11, 17), "bits"),
    ],
)
def test_checker_rejects(n, factors, reason: str) -> None:
    with pytest.raises(korselt.CertificateError, match=reason):
        korselt.check(n, factors)
    assert not korselt.is_valid(n, factors)


def test_checker_error_is_a_value_error() -> None:
    assert issubclass(korselt.CertificateError, ValueError)


@pytest.mark.parametrize("n", [2, 97, 561, 2047, 3215031751, 2**61 - 1, (2**31 - 1) * (2**61 - 1), 1000000007**2])
def test_factoring_is_complete_and_prime(n: int) -> None:
    import gmpy2

    from cyext.factoring import factor

    fs = factor(n)
    assert fs == sorted(fs) and all(gmpy2.is_prime(p) for p in fs)
    product = 1
    for p in fs:
        product *= p
    assert product == n
