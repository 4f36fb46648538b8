"""Parts of the BPSW-Hunter sweep kernel on their own, against gmpy2 and Python: the
wheel prime generator (primegen.h) and the batched modular checks (order_check.h,
cofactor.h). The sweeps themselves are tested in test_bpsw_kernel.py."""

import math
import random

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


def first_multiple_index(n0, p):
    m = max(p * p, -(-n0 // p) * p)
    if m % 2 == 0:
        m += p
    return (m - n0) // 2


@settings(max_examples=80, deadline=None)
@given(st.integers(1, TWO64 - 1).map(lambda n: n | 1),
       st.lists(primes_below_two_to_the_32(), min_size=1, max_size=19, unique=True))
def test_first_multiples_of_the_staged_primes(n0, ps):
    # in groups of four (AVX2 lanes) and alone, past 2^16 and below it, around p^2 >= n0
    expected = [first_multiple_index(n0, p) for p in ps]
    assert bpsw._first_multiples(n0, ps, staged=False) == expected  # as drawn: a bucket's order
    ps.sort()
    assert bpsw._first_multiples(n0, ps) == [first_multiple_index(n0, p) for p in ps]


@pytest.mark.parametrize("n0", [TWO64 - 1, TWO64 - 3, 2**63 + 1, 2**53 + 1, 2**53 - 1, 65537**2 - 2,
                                4294967291**2, 4294967291**2 + 2])
def test_first_multiples_at_the_edges(n0):
    ps = [65537, 65539, 1048573, 2**31 - 1, 4294967279, 4294967291, 3, 5, 65521]
    ps = sorted(ps)
    assert bpsw._first_multiples(n0, ps) == [first_multiple_index(n0, p) for p in ps]
    big = [int(gmpy2.next_prime(2**32 - 4000 + 300 * k)) for k in range(12)]
    big = sorted(set(p for p in big if p < TWO32))
    assert bpsw._first_multiples(n0, big) == [first_multiple_index(n0, p) for p in big]
    mixed = big[:3] + [65521] + big[3:] + ps  # a group of four with a prime below 2^16
    assert bpsw._first_multiples(n0, mixed, staged=False) == [first_multiple_index(n0, p) for p in mixed]


def progression_products(hits, clear_before=()):
    """What the sweep's product table should hold after the hits [(j, p)]: the product
    of j's primes, 0 once it passes 32 bits."""
    products = {}
    for i, (j, p) in enumerate(hits):
        if i in clear_before:
            products.clear()
        prod = products.get(j, 1) * p
        products[j] = prod if prod < TWO32 else 0
    return products


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, (1 << 24) - 1), st.integers(1, TWO32 - 1)), max_size=300),
       st.integers(0, 30), st.sets(st.integers(0, 300), max_size=3))
def test_progression_products_table(hits, repeat, clear_before):
    # repeated offsets multiply (past 32 bits: 0, for good); a cleared table forgets
    hits = hits + hits[:repeat]
    assert bpsw._progression_products(hits, clear_before)[0] == progression_products(hits, clear_before)


def home_slot(j, bits=14):
    return ((j + 1) * 0x9E3779B1 % TWO32) >> (32 - bits)  # as ev_map.h


def test_progression_products_table_grows():
    # past half of its first 2^14 slots the table doubles, keeping every product; offsets
    # that share a home slot probe on
    same_home = [j for j in range(1 << 21) if home_slot(j) == home_slot(5)][:64]
    assert len(same_home) == 64
    hits = [(j * 997 % (1 << 24), 3 + 2 * (j % 5)) for j in range(40000)]
    hits += [(j, 7) for j in same_home] + [(same_home[0], 11), (same_home[3], 13)]
    table, slots = bpsw._progression_products(hits)
    assert table == progression_products(hits)
    assert slots >= 1 << 17
    table, slots = bpsw._progression_products(hits, clear_before={40000})
    assert table == progression_products(hits, clear_before={40000}) and len(table) == 64
    assert slots >= 1 << 17  # clearing keeps the size


@settings(max_examples=40, deadline=None)
@given(st.integers(0, TWO64 // 2).map(lambda n: n | 1),
       st.lists(st.tuples(primes_below_two_to_the_32(), st.integers(0, 3), st.integers(0, 1 << 20)),
                min_size=1, max_size=60))
def test_order_checks_in_long_batches(n_lo, cases):
    # batches past the lanes of the gcds (4 scalar, 16 with AVX2) and of the
    # exponentiations (4), with checks the exponentiation settles in their progressions:
    # n = p mod p (p - 1) has n - 1 = 0 mod p - 1 (kind 0), and its neighbours p
    # further on (kind 1) share the factor p but mostly not the progression
    js, ps = [], []
    for p, kind, j in cases:
        if kind <= 1:
            n = n_lo + (p - n_lo) % (p * (p - 1)) + kind * 2 * p
            if (n - n_lo) // 2 < TWO32:
                j = (n - n_lo) // 2
        js.append(j)
        ps.append(p)
    expected = [pow(2, n_lo + 2 * j - 1, p) == 1 for j, p in zip(js, ps, strict=True)]
    assert bpsw._order_checks(n_lo, js, ps) == expected


def test_order_checks_in_progression_across_lanes():
    # forty checks all in their progressions, and forty beside them: every lane of a
    # gcd group and of an exponentiation group is taken, and the short last group
    ps = [int(gmpy2.next_prime(65537 + 577 * k)) for k in range(40)]  # p (p - 1) < 2^33
    n_lo = 10**12 + 1
    js = [(p - n_lo) % (p * (p - 1)) // 2 for p in ps]
    got = bpsw._order_checks(n_lo, js + [j + 1 for j in js], ps + ps)
    assert got[:40] == [True] * 40
    assert got[40:] == [pow(2, n_lo + 2 * j + 1, p) == 1 for j, p in zip(js, ps, strict=True)]


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


def test_progression_periods_leave_room_in_the_hit_list():
    # mark_progression keeps an array prime's hits in a segment in a list of S / 128 + 2
    # slots (SAVED_SPACING in bpsw.pyx): every prime from 19 on repeats its progression
    # every p M / 2 > 128 offsets
    # (M = ord_p(2) made even; from 2^16 on, ord_p(2) >= 17 makes it larger still)
    def half_period(p):
        order = bpsw._order2(p)
        return p * (order if order % 2 == 0 else 2 * order) // 2
    periods = [half_period(p) for p in range(19, 1 << 16) if gmpy2.is_prime(p)]
    assert min(periods) == half_period(31) == 155 > 128


def test_factors_of_two_to_the_d_minus_one():
    # the table behind the pre-sieve's weak hits: complete factorisations into primes
    table = bpsw._FACTORS_OF_2_TO_D_MINUS_1
    assert sorted(table) == sorted([p - 1 for p in range(19, 128) if gmpy2.is_prime(p)] + [32, 64])
    for d, factors in table.items():
        assert math.prod(factors) == 2**d - 1
        assert all(gmpy2.is_prime(q) for q in factors)
        assert len(set(factors)) <= 16  # MAX_STRONG in bpsw.pyx


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.integers(0, 130), st.integers(0, TWO64 - 1)),
                          st.integers(1, 1 << 20).map(lambda k: 2 * k + 1)),
                max_size=40))
def test_pow2_batch_mixes_short_and_long_exponents(pairs):
    # exponents below 64 take a division, the others the Montgomery lanes; small moduli
    # so that 2^e = 1 happens
    es = [e for e, _ in pairs]
    ms = [m for _, m in pairs]
    assert bpsw._pow2_is_one(es, ms) == [pow(2, e, m) == 1 for e, m in pairs]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(64, (1 << 32) - 1), st.integers(64, (1 << 32) - 6),
                          st.booleans()), max_size=40),
       st.lists(st.tuples(st.integers(64, TWO64 - 1),
                          st.integers(1, TWO64 // 2 - 1).map(lambda k: 2 * k + 1)),
                max_size=6))
def test_pow2_batch_32_bit_lanes(small, large):
    """Moduli and exponents below 2^32 take 32-bit Montgomery lanes, the others 64-bit
    ones, in one batch; for a prime m, the exponent m - 1 gives a one (Fermat)."""
    pairs = []
    for e, m, fermat in small:
        if fermat:
            m = int(gmpy2.next_prime(m))
            e = m - 1
        pairs.append((e, m | 1))
    pairs += large
    es = [e for e, _ in pairs]
    ms = [m for _, m in pairs]
    assert bpsw._pow2_is_one(es, ms) == [pow(2, e, m) == 1 for e, m in pairs]


def test_pow2_batch_sees_ones():
    # 2^(ord) = 1: 2^10 = 1 mod 11 * 31 (= 341), 2^64 = 1 mod 2^64 - 1, 2^0 = 1
    ms = [341, TWO64 - 1, 3, 2**61 - 1, 7]
    es = [10, 64, 0, 61, 4]
    assert bpsw._pow2_is_one(es, ms) == [True, True, True, True, False]


# ------------------------------------------------------------------ the bit sieve


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 3000), st.integers(0, 600).map(lambda k: 2 * k + 1),
       st.integers(0, 4000))
def test_mark_bits_sets_every_step_below_end(j, p, end):
    bits, nxt = bpsw._mark_bits(max(end, j) + 64, j, p, end)
    expected = list(range(j, end, p))
    assert bits == expected
    assert nxt == (expected[-1] + p if expected else j)


@pytest.mark.parametrize("jr", range(8))
@pytest.mark.parametrize("p", [1, 3, 5, 7, 9, 11, 13, 15, 17 * 8 + 1, 17 * 8 + 3, 17 * 8 + 5,
                               17 * 8 + 7, 1001 * 8 + 5])
def test_mark_bits_every_case_of_the_unrolled_turn(jr, p):
    # one case per (j mod 8, p mod 8), with and without whole bytes in p, over several turns
    for j in (jr, 8 * 37 + jr):
        end = j + 8 * p * 5 + p // 2 + 1
        bits, nxt = bpsw._mark_bits(end + 64, j, p, end)
        assert bits == list(range(j, end, p))
        assert nxt == j + p * len(bits)


@pytest.mark.parametrize("j, p, end", [(0, 1, 64), (5, 3, 5 + 8 * 3 + 1), (7, 19, 7 + 8 * 19),
                                       (3, 19, 7 + 8 * 19 + 1), (0, 65535, 1 << 20),
                                       # where the plain loop gives way to the unrolled turns
                                       (0, 19, 32 * 19), (0, 19, 32 * 19 + 1),
                                       (3, 19, 3 + 32 * 19 + 1), (6, 21, 6 + 33 * 21 - 1)])
def test_mark_bits_at_turn_boundaries(j, p, end):
    bits, nxt = bpsw._mark_bits(end + 64, j, p, end)
    assert bits == list(range(j, end, p))
    assert nxt >= end and (nxt - j) % p == 0


@settings(max_examples=300, deadline=None)
@given(st.data(), st.integers(1, 400), st.integers(2, 900), st.integers(0, 3000))
def test_live_progression_agrees_with_python(data, period, kperiod, end):
    """nw_live_progression (the pre-sieved primes' progression hits, without branches):
    the hits on live numbers in order; a dead hit on a live number rules it out; g and t
    end at the first hit past end, t wrapping around kperiod."""
    g = data.draw(st.integers(0, end + 5))
    t = data.draw(st.integers(0, kperiod - 1))
    seg = data.draw(st.integers(0, (1 << (end + 64)) - 1))
    dead = data.draw(st.integers(0, (1 << kperiod) - 1))
    live, seg_after, g_after, t_after = bpsw._live_progression(seg, dead, g, t, period,
                                                              kperiod, end)
    want, want_seg, j, tt = [], seg, g, t
    while j < end:
        if (dead >> tt) & 1:
            want_seg |= 1 << j
        elif not (seg >> j) & 1:
            want.append(j)
        j += period
        tt = (tt + period) % kperiod
    assert live == want
    assert seg_after == want_seg
    assert (g_after, t_after) == (j, tt)


def _scan_model(seg, prog, weak, small, poison, scand, t0, j0, j1):
    def bit(x, i):
        return (x >> i) & 1

    primes = 0
    cands = []
    for j in range(j0, j1):
        if not (bit(seg, j) or bit(prog, j) or bit(weak, j) or bit(small, t0 + j)):
            primes += 1
        # a weak hit is a candidate only with a small prime factor it knows of
        if not (bit(seg, j) or bit(poison, t0 + j)) and (
                bit(prog, j) or bit(scand, t0 + j) or (bit(weak, j) and bit(small, t0 + j))):
            cands.append(j)
    return primes, cands


@pytest.mark.parametrize("t0", list(range(64)) + [64, 127, 128, 1000])
def test_scan_bits_dense_random_words_at_every_shift(t0):
    # hypothesis draws few dense words; these have every bit at even odds, so that each
    # pattern's window (its shift t0 mod 64, both words it joins) decides some bits
    rng = random.Random(t0)
    words = [rng.getrandbits(1400) for _ in range(6)]
    for j0, j1 in ((0, 640), (3, 257), (64, 128), (100, 101)):
        assert bpsw._scan_bits(*words, t0, j0, j1) == _scan_model(*words, t0, j0, j1)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 300), st.integers(0, 300), st.integers(0, 200),
       st.lists(st.integers(0, (1 << 700) - 1), min_size=6, max_size=6))
def test_scan_bits_agrees_with_python(j0, span, t0, words):
    j1 = j0 + span
    assert bpsw._scan_bits(*words, t0, j0, j1) == _scan_model(*words, t0, j0, j1)


@pytest.mark.parametrize("q", [65537, 65539, 1048573, 2**31 - 1, 4294967291])
def test_order_checks_at_exact_multiples_of_q_minus_1(q):
    # the reduction of n - 1 mod q - 1 is taken from a floating-point quotient for
    # q > 2^16: check it where the remainder is 0, 1 or q - 2, up to 2^64
    js, expected = [], []
    for top in (TWO64 - 1, 2**53 + 1, 3 * q):
        base = (top - 1) // (q - 1) * (q - 1) + 1  # n = base has n - 1 = 0 mod q - 1
        for n in (base, base + 1, base - 1, base - (q - 2)):
            if n % 2 == 1 and 1 <= n < TWO64:
                js.append(n)
                expected.append(pow(2, n - 1, q) == 1)
    n_lo = min(js)
    got = bpsw._order_checks(n_lo, [(n - n_lo) // 2 for n in js], [q] * len(js)) if all(
        (n - n_lo) // 2 < TWO32 for n in js) else None
    if got is None:  # spread too wide for one batch: one batch per number
        got = [bpsw._order_checks(n, [0], [q])[0] for n in js]
    assert got == expected


# ------------------------------------------------------------------ 2-adic valuations


def order_of_2(p):
    return min(d for d in divisors(p - 1) if pow(2, d, p) == 1)


def divisors(n):
    small = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    return small + [n // d for d in small]


def nu2(x):
    return (x & -x).bit_length() - 1


def test_two_adic_valuation_of_the_order_by_class():
    # the sweep lets a large prime skip hits by p mod 8 (see _Sweep.dead_for)
    primes = odd_primes(3, 3000) + [int(gmpy2.next_prime(10**9 + k)) for k in range(0, 10**4, 997)]
    for p in primes:
        expected = bpsw._TWO_BY_CLASS[(p >> 1) & 3]
        if expected is not None:
            assert nu2(order_of_2(p)) == expected, p


def test_a_strong_pseudoprime_has_one_valuation():
    # the filter the sweep relies on: the prime factors q of a strong pseudoprime share
    # nu2(ord_q(2)); check it on the pseudoprimes below 10^6 (factored by trial)
    _, found = bpsw.sweep(0, 10**6)
    assert len(found) == 46
    for n, _ in found:
        factors = [q for q in odd_primes(3, int(n**0.5) + 1) if n % q == 0]
        rest = n
        for q in factors:
            while rest % q == 0:
                rest //= q
        if rest > 1:
            factors.append(rest)
        assert len({nu2(order_of_2(q)) for q in factors}) == 1


# ------------------------------------------------------------------ pass-set lists


def _varint_list(primes):
    """passlist.h's format in Python: half the gap to the previous prime (from 1), in
    7-bit groups, low group first, the high bit set when a group follows."""
    out, last = bytearray(), 1
    for p in primes:
        d = (p - last) // 2
        while d >= 128:
            out.append(d & 127 | 128)
            d >>= 7
        out.append(d)
        last = p
    return bytes(out)


@pytest.mark.parametrize(
    "primes",
    [[], [3], [3, 5, 7], [2**32 - 5], [3, 2**32 - 5], [257, 259, 2**14 + 3, 2**21 + 1, 2**28 + 1],
     odd_primes(10**6, 10**6 + 5000)],
)
def test_pass_list_round_trip(primes):
    data, back = bpsw._plist_roundtrip(primes)
    assert back == primes
    assert data == _varint_list(primes)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, TWO32 // 2 - 3), unique=True, max_size=300))
def test_pass_list_random(halves):
    values = sorted(2 * h + 1 for h in halves)
    data, back = bpsw._plist_roundtrip(values)
    assert back == values
    assert data == _varint_list(values)
