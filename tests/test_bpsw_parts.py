"""Parts of the BPSW-Hunter sweep kernel on their own, against gmpy2 and Python: the
wheel prime generator (primegen.h) and the batched modular checks (order_check.h,
cofactor.h). The sweeps themselves are tested in test_bpsw_kernel.py."""

import gmpy2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyext import bpsw

TWO32 = 1 << 32
TWO64 = 1 << 64


def odd_primes(lo, hi):
    return [n for n in range(max(lo, 3), hi + 1) if n % 2 and gmpy2.is_prime(n)]


@pytest.mark.parametrize(
    "lo, hi",
    [(0, 0), (0, 2), (0, 3), (1, 1), (3, 17), (7, 7), (17, 23), (18, 19), (0, 10**5),
     (30 * 32768 - 100, 30 * 32768 + 100),  # across a generator block
     (10**9, 10**9 + 3 * 10**5), (TWO32 - 10**5, TWO32 - 1)],
)
def test_generator_lists_the_odd_primes(lo, hi):
    assert bpsw._generate_primes(lo, hi) == odd_primes(lo, hi)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, TWO32 - 1), st.integers(0, 20000))
def test_generator_on_random_ranges(lo, length):
    hi = min(lo + length, TWO32 - 1)
    assert bpsw._generate_primes(lo, hi) == odd_primes(lo, hi)


def test_generator_counts_every_prime_below_two_to_the_32():
    count, total, last = bpsw._generate_primes(0, TWO32 - 1, False)
    assert count == 203280221 - 1  # pi(2^32), without 2
    assert last == 4294967291


def test_generator_rejects_stop_past_two_to_the_32():
    with pytest.raises(ValueError, match="2\\*\\*32"):
        bpsw._generate_primes(0, TWO32)


def primes_below_two_to_the_32():
    return st.integers(3, TWO32 - 6).map(lambda k: min(int(gmpy2.next_prime(k)), 4294967291))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, TWO64 - 2 * 40000 - 1).map(lambda n: n | 1),
       st.lists(st.tuples(st.integers(0, 32767), primes_below_two_to_the_32()), max_size=11))
def test_order_checks_agree_with_pow(n_lo, cases):
    js = [j for j, _ in cases]
    ps = [p for _, p in cases]
    expected = [pow(2, n_lo + 2 * j - 1, p) == 1 for j, p in cases]
    assert bpsw._order_checks(n_lo, js, ps) == expected


def test_order_checks_find_progressions():
    # n = p * k with ord_p(2) | n - 1 exactly when n = p mod p * lcm(2, ord): 341 = 11 * 31
    js = [(341 - 1) // 2, (11 * 23 - 1) // 2, (31 * 31 - 1) // 2]  # ord 10, 10, 5
    assert bpsw._order_checks(1, js, [11, 11, 31]) == [True, False, True]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, TWO64 - 1),
                          st.integers(1, TWO64 // 2 - 1).map(lambda k: 2 * k + 1)),
                max_size=9))
def test_pow2_batch_agrees_with_pow(pairs):
    es = [e for e, _ in pairs]
    ms = [m for _, m in pairs]
    assert bpsw._pow2_is_one(es, ms) == [pow(2, e, m) == 1 for e, m in pairs]


def test_pow2_batch_sees_ones():
    # 2^(ord) = 1: 2^10 = 1 mod 11 * 31 (= 341), 2^64 = 1 mod 2^64 - 1, 2^0 = 1
    ms = [341, TWO64 - 1, 3, 2**61 - 1, 7]
    es = [10, 64, 0, 61, 4]
    assert bpsw._pow2_is_one(es, ms) == [True, True, True, True, False]
