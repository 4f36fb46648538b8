"""The BPSW-Hunter kernel against gmpy2: the primality tests, and sweeps of ranges anywhere
below 2^64 through each code path (patterns, array primes, buckets, passes, order checks,
direct testing)."""

import math
import os
import platform
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import gmpy2
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cyext import bpsw

TWO64 = 1 << 64
WIEFERICH_SQUARES = (1093**2, 3511**2)
FIRST_SPSP = (2047, 3277, 4033, 4681, 8321)


def brute_sweep(a, b):
    """The sweep's answer by testing every n with gmpy2."""
    count, found = 0, []
    for n in range(a, b):
        if gmpy2.is_prime(n):
            count += 1
        elif n > 2 and n % 2 and gmpy2.is_strong_prp(n, 2):
            found.append((n, bool(gmpy2.is_strong_selfridge_prp(n))))
    return count, found


def reference_tests(n):
    """(is_sprp2, is_strong_lucas, is_prime) as gmpy2 answers them."""
    if n == 0:
        return False, False, False
    return (
        bool(gmpy2.is_strong_prp(n, 2)),
        bool(gmpy2.is_strong_selfridge_prp(n)),
        bool(gmpy2.is_prime(n)),
    )


def prime_below(bits):
    return st.integers(3, (1 << bits) - 1).map(lambda k: int(gmpy2.next_prime(k)))


def interesting_n():
    """Numbers where primality tests go wrong: near 2^64, squares, products of primes."""
    odd_products = st.tuples(prime_below(32), prime_below(32)).map(lambda t: t[0] * t[1])
    return st.one_of(
        st.integers(0, TWO64 - 1),
        st.integers(1, 1 << 16).map(lambda k: TWO64 - k),
        prime_below(32).map(lambda p: p * p),
        odd_products,
        st.tuples(prime_below(21), prime_below(21), prime_below(21)).map(
            lambda t: t[0] * t[1] * t[2]
        ),
        st.tuples(prime_below(16), st.integers(1, 1 << 20)).map(
            # p * (1 + k * (p - 1)): the shape of many pseudoprimes
            lambda t: t[0] * (1 + t[1] * (t[0] - 1))
        ),
        st.sampled_from(FIRST_SPSP + WIEFERICH_SQUARES + (3215031751, 2152302898747)),
    ).filter(lambda n: 0 <= n < TWO64)


# ------------------------------------------------------------------ primality tests


@settings(max_examples=3000, deadline=None)
@given(interesting_n())
@example(TWO64 - 1)
@example(TWO64 - 59)  # the largest prime below 2^64
@example(1)
@example(2)
@example(3)
def test_tests_agree_with_gmpy2(n):
    expected = reference_tests(n)
    assert (bpsw.is_sprp2(n), bpsw.is_strong_lucas(n), bpsw.is_prime(n)) == expected


def test_tests_on_all_small_numbers():
    for n in range(0, 20000):
        assert (bpsw.is_sprp2(n), bpsw.is_strong_lucas(n), bpsw.is_prime(n)) == reference_tests(n)


@pytest.mark.parametrize("fn", [bpsw.is_sprp2, bpsw.is_strong_lucas, bpsw.is_prime])
@pytest.mark.parametrize("bad", [-1, TWO64, TWO64 + 5])
def test_tests_reject_out_of_range(fn, bad):
    with pytest.raises(ValueError, match="2\\*\\*64"):
        fn(bad)


# ------------------------------------------------------------------ known values


def test_first_pseudoprimes():
    count, found = bpsw.sweep(0, 10000)
    assert count == 1229
    assert found == [(n, False) for n in FIRST_SPSP]


def test_counts_below_ten_to_the_seven():
    count6, found6 = bpsw.sweep(0, 10**6)
    count7, found7 = bpsw.sweep(0, 10**7)
    assert (count6, len(found6)) == (78498, 46)
    assert (count7, len(found7)) == (664579, 162)
    assert found7[: len(found6)] == found6
    assert not any(lucas for _, lucas in found7)


def test_wieferich_squares_are_found():
    for square in WIEFERICH_SQUARES:
        _, found = bpsw.sweep(square - 100, square + 100)
        assert (square, False) in found


def test_split_sweeps_add_up():
    whole = bpsw.sweep(10**8, 10**8 + 3 * 10**6)
    parts = [bpsw.sweep(10**8 + k * 10**6, 10**8 + (k + 1) * 10**6) for k in range(3)]
    assert whole[0] == sum(p[0] for p in parts)
    assert whole[1] == [x for p in parts for x in p[1]]


# ------------------------------------------------------------------ sweeps against gmpy2


SIEVE_KNOBS = st.fixed_dictionaries(
    {
        "method": st.just("sieve"),
        "seg_bytes": st.sampled_from([16, 32, 64, 256, 1 << 15]),
        "ord_limit": st.sampled_from([0, 50, 1000, bpsw.DEFAULT_ORDER_LIMIT]),
        # below the segment length, bucket primes hit a segment several times
        "array_limit": st.sampled_from([None, 64, 100, 1000]),
        # 4-byte bucket entries (the prime alone, its hit recomputed) or 8-byte ones
        "entry_bytes": st.sampled_from([None, 4, 8]),
        # passes per pass-set (the later ones read their large primes from lists)
        "set_passes": st.sampled_from([None, 1, 2, 5]),
        # pre-sieved primes from 19 up to this limit (0: none; see presieve.h)
        "presieve_limit": st.sampled_from([0, 23, 127, 311]),
    }
)


@st.composite
def sieve_case(draw):
    knobs = draw(SIEVE_KNOBS)
    bits = draw(st.integers(2, 36))
    a = draw(st.integers(0, 1 << bits))
    length = draw(st.integers(0, 1500))
    if draw(st.booleans()):
        knobs["pass_len"] = knobs["seg_bytes"] * draw(st.integers(1, 4))
    return a, a + length, knobs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sieve_case())
@example((0, 0, {"method": "sieve"}))
@example((0, 1, {"method": "sieve"}))
@example((1, 2, {"method": "sieve"}))
@example((2, 3, {"method": "sieve"}))
@example((0, 3000, {"method": "sieve", "seg_bytes": 16, "pass_len": 32}))
@example((1194549, 1194749, {"method": "sieve", "seg_bytes": 16, "ord_limit": 0}))
@example((12327021, 12327221, {"method": "sieve", "seg_bytes": 32}))
def test_sieve_matches_gmpy2(case):
    a, b, knobs = case
    count, found, _ = bpsw._sweep_impl(a, b, **knobs)
    assert (count, found) == brute_sweep(a, b)


@settings(max_examples=120, deadline=None)
@given(
    st.one_of(
        st.integers(0, TWO64 - 2000),
        st.integers(TWO64 - 50000, TWO64 - 2000),
        st.integers(0, 5000),
    ),
    st.integers(0, 600),
)
def test_sweep_matches_gmpy2_anywhere(a, length):
    b = min(a + length, TWO64)
    assert bpsw.sweep(a, b) == brute_sweep(a, b)
    assert bpsw._sweep_impl(a, b, method="direct")[:2] == brute_sweep(a, b)


# ------------------------------------------------------------------ pre-sieve

# the base-2 strong pseudoprimes in [16130, 500000) (OEIS A001262); many have a factor
# from 19 to 127 in its progression, which the pre-sieve patterns leave out
SPSP_16130_500000 = [
    29341, 42799, 49141, 52633, 65281, 74665, 80581, 85489, 88357, 90751, 104653, 130561,
    196093, 220729, 233017, 252601, 253241, 256999, 271951, 280601, 314821, 357761, 390937,
    458989, 476971, 486737, 489997,
]


@pytest.mark.parametrize("limit", [0, 19, 31, 127, 311])
def test_presieve_finds_the_known_pseudoprimes(limit):
    a, b = 16130, 500000
    count, found, stats = bpsw._sweep_impl(a, b, method="sieve", presieve_limit=limit,
                                           seg_bytes=1 << 12)
    assert [n for n, _ in found] == SPSP_16130_500000
    assert (count, found) == bpsw._sweep_impl(a, b, method="direct")[:2]
    # the limit counts where every pre-sieved prime's square is below the range
    expected = len([p for p in range(19, limit + 1) if gmpy2.is_prime(p)]) if limit ** 2 < a else 0
    assert stats["presieved_primes"] == expected
    assert (stats["presieve_bytes"] > 0) == (expected > 0)


def test_presieve_is_off_where_a_prime_of_it_could_be_in_the_range():
    # 127^2 = 16129: from 16129 on, the range may hold 127 itself, a progression hit
    for a in (16127, 16129):
        count, found, stats = bpsw._sweep_impl(a, a + 10**5, method="sieve")
        assert stats["presieved_primes"] == 0
        assert (count, found) == brute_sweep(a, a + 10**5)
    assert bpsw._sweep_impl(16131, 16131 + 10**5, method="sieve")[2]["presieved_primes"] == 24
    # and it takes only primes below the array limit
    assert bpsw._sweep_impl(10**9, 10**9 + 10**4, method="sieve", seg_bytes=64)[2][
        "presieved_primes"] == len([p for p in range(19, 64) if gmpy2.is_prime(p)])


def test_presieve_plan_covers_each_prime_once():
    plan = bpsw._presieve_plan(311)
    primes = [p for group, _, _ in plan for p in group]
    assert sorted(primes) == [p for p in range(19, 312) if gmpy2.is_prime(p)]
    for group, halves, common in plan:
        for p, half in zip(group, halves):
            order = next(k for k in range(1, p) if pow(2, k, p) == 1)
            assert half == p * (order if order % 2 == 0 else 2 * order) // 2
            assert common % half == 0
        assert len(group) == 1 or common <= bpsw.PRESIEVE_GROUP_BITS


# base-2 strong pseudoprimes with a weak pre-sieved factor (p <= s_kill: p * (a prime)
# cannot be one there): alone, with a small pattern prime (7), with another sieving prime
WEAK_FACTOR_SPSP = [
    (104857391, 23), (305897131, 19), (925265551, 23 * 7), (1227133513, 23 * 89),
    (1720630759, 23 * 103), (2112030361, 23 * 7), (3697673959, 23 * 7),
]


@pytest.mark.parametrize("n, known", WEAK_FACTOR_SPSP)
@pytest.mark.parametrize("seg_bytes", [1 << 12, 1 << 21])
def test_pseudoprimes_with_weak_factors_are_found(n, known, seg_bytes):
    assert n % known == 0 and gmpy2.is_strong_prp(n, 2) and not gmpy2.is_prime(n)
    a, b = n - 5000, n + 5000
    count, found, stats = bpsw._sweep_impl(a, b, method="sieve", seg_bytes=seg_bytes)
    assert stats["weak_primes"] >= 1
    assert n in [x for x, _ in found]
    assert (count, found) == bpsw._sweep_impl(a, b, method="direct")[:2]


# base-2 strong pseudoprimes p * m with p pre-sieved and m a prime factor of 2^(p-1) - 1:
# the strong hits of the pre-sieve (see _Sweep.plan_weak_hits); every other hit is weak
STRONG_HIT_SPSP = [(233017, 43, 5419), (8388607, 47, 178481), (178956971, 59, 3033169),
                   (733007751851, 83, 8831418697), (3002399751580331, 107, 28059810762433)]


@pytest.mark.parametrize("n, p, m", STRONG_HIT_SPSP)
def test_strong_hits_of_the_presieve_are_found(n, p, m):
    assert n == p * m and (2 ** (p - 1) - 1) % m == 0 and gmpy2.is_strong_prp(n, 2)
    a, b = n - 3000, n + 3000
    for knobs in ({}, {"seg_bytes": 1 << 10}):
        count, found, stats = bpsw._sweep_impl(a, b, method="sieve", **knobs)
        assert stats["presieved_primes"] > 0 and stats["weak_primes"] > 0
        assert n in [x for x, _ in found]
        assert (count, found) == bpsw._sweep_impl(a, b, method="direct")[:2]


@pytest.mark.parametrize("limit", [-1, 312, 19.0, None])
def test_presieve_limit_is_checked(limit):
    with pytest.raises(ValueError, match="presieve_limit"):
        bpsw._sweep_impl(10**6, 10**6 + 100, method="sieve", presieve_limit=limit)


@pytest.mark.parametrize("length", [0, 1, 2, 3, 1000])
def test_ranges_ending_at_two_to_the_64(length):
    a = TWO64 - length
    assert bpsw.sweep(a, TWO64) == brute_sweep(a, TWO64)


def test_sieve_near_two_to_the_64():
    # the whole machinery at its limit: sieving primes up to 2^32, order checks, buckets
    a = TWO64 - 3000
    expected = brute_sweep(a, TWO64)
    assert bpsw._sweep_impl(a, TWO64, method="sieve", seg_bytes=256)[:2] == expected


@pytest.mark.parametrize(
    "a, b",
    [(10**12, 10**12 + 200_000), (2**40 + 12345, 2**40 + 212345), (3 * 10**10, 3 * 10**10 + 300_000)],
)
def test_sieve_paths_agree(a, b):
    reference = bpsw._sweep_impl(a, b, method="direct")[:2]
    assert bpsw._sweep_impl(a, b, method="sieve")[:2] == reference
    assert bpsw._sweep_impl(a, b, method="sieve", seg_bytes=1024, ord_limit=0)[:2] == reference
    assert bpsw._sweep_impl(a, b, method="sieve", seg_bytes=512, pass_len=4096)[:2] == reference
    assert bpsw._sweep_impl(a, b, method="sieve", seg_bytes=4096, array_limit=64)[:2] == reference
    assert bpsw._sweep_impl(a, b, method="sieve", seg_bytes=4096, array_limit=64,
                            ord_limit=0)[:2] == reference
    for entry_bytes in (4, 8):
        for knobs in ({}, {"seg_bytes": 512, "pass_len": 4096, "array_limit": 64},
                      {"seg_bytes": 1024, "ord_limit": 0, "array_limit": 100}):
            assert bpsw._sweep_impl(a, b, method="sieve", entry_bytes=entry_bytes,
                                    **knobs)[:2] == reference


@pytest.mark.parametrize("a", [10**12, 2**50, 3 * 10**15])
@pytest.mark.parametrize("l1_block_bits", [None, 1 << 17, 1 << 19])
def test_segments_of_several_cache_blocks_agree_with_small_segments(a, l1_block_bits):
    # default segments (2^21 odd numbers) mark their small array primes in blocks sized to
    # the first-level cache (2^18 or 2^19 bits); segments of 2^15 (checked against gmpy2
    # above) never need more than one
    b = a + 12 * 10**6
    default = bpsw._sweep_impl(a, b, method="sieve", l1_block_bits=l1_block_bits)
    small = bpsw._sweep_impl(a, b, method="sieve", seg_bytes=1 << 15)
    block = default[2]["l1_block_bits"]
    assert block == (l1_block_bits or bpsw.L1_BLOCK_BITS)
    assert default[2]["pass_len"] > 4 * block
    assert default[:2] == small[:2]


def test_a_segment_whose_progression_products_outgrow_their_first_table():
    # near 10^16 a segment of 2^22 odd numbers has more progression hits than half of the
    # products table's first 2^14 slots, so it doubles mid-segment; segments of 2^12 never
    # fill it
    a, b = 10**16, 10**16 + 2 * 10**7
    default = bpsw._sweep_impl(a, b, method="sieve")
    small = bpsw._sweep_impl(a, b, method="sieve", seg_bytes=1 << 12)
    assert default[2]["ev_slots"] >= 1 << 15 and small[2]["ev_slots"] == 1 << 14
    assert default[:2] == small[:2]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc",
                    reason="heap_tuning.h sets glibc's malloc thresholds; with another C library "
                           "it is a no-op and the heap's behaviour is that library's own")
def test_short_sweeps_reuse_their_scratch_memory():
    # each sweep allocates a few 256 KB bit arrays; glibc would give them back to the system
    # and fault them in again on the next short sweep (13,000 faults for these 50 sweeps
    # before heap_tuning.h, 0 with it), so a fresh process checks the heap setting holds
    code = """
import resource
from cyext import bpsw
a = 10**9 + 12345678
bpsw._sweep_impl(a, a + 39062)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    bpsw._sweep_impl(a, a + 39062)
print(bpsw._HEAP_KEPT, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    kept, faults = out.stdout.split()
    assert kept == "True" and int(faults) < 2000


def test_the_default_cache_block_fits_the_first_level_cache():
    assert bpsw.L1_BLOCK_BITS in (1 << 16, 1 << 17, 1 << 18, 1 << 19, 1 << 20)
    l1 = os.sysconf("SC_LEVEL1_DCACHE_SIZE") if "SC_LEVEL1_DCACHE_SIZE" in os.sysconf_names else 0
    if l1 > 0:
        assert bpsw.L1_BLOCK_BITS // 8 <= l1 < bpsw.L1_BLOCK_BITS // 4


@pytest.mark.parametrize("bits", [0, 32, 3 << 10, 1 << 25, 1024.0])
def test_l1_block_bits_is_checked(bits):
    with pytest.raises(ValueError, match="l1_block_bits"):
        bpsw._sweep_impl(10**6, 10**6 + 100, method="sieve", l1_block_bits=bits)


@pytest.mark.parametrize("a, length", [(10**9, 80_000), (10**9 + 1, 2 * 65536 + 1),
                                       (10**12 + 3, 131_072), (10**12, 4 * 10**6), (3, 10)])
def test_a_short_sweep_takes_a_short_segment(a, length):
    """The default segment is the power of two at or above the odd numbers (at least
    MIN_SEGMENT_BYTES), up to the long sweeps' default; the result is the same as in a
    segment of 2^21."""
    b = a + length
    size = bpsw.default_segment_bytes(b, a)
    odd = length // 2 + 1
    assert size >= bpsw.MIN_SEGMENT_BYTES == 1 << 16
    assert size & (size - 1) == 0 and size <= bpsw.default_segment_bytes(b)
    assert size == bpsw.default_segment_bytes(b) or size >= odd
    assert size == bpsw.MIN_SEGMENT_BYTES or size // 2 < odd
    count, found, stats = bpsw._sweep_impl(a, b, method="sieve")
    assert stats["seg_bytes"] == size
    assert (count, found) == bpsw._sweep_impl(a, b, method="sieve", seg_bytes=1 << 21)[:2]
    assert count == sum(1 for n in range(a, b) if gmpy2.is_prime(n))


def test_the_segment_doubles_where_the_sieving_primes_pass_it():
    edge = (1 << 42) + 1  # the first b whose sieving primes reach 2^21
    assert bpsw.default_segment_bytes(edge - 1) == bpsw.DEFAULT_SEGMENT_BYTES == 1 << 21
    assert bpsw.default_segment_bytes(edge) == bpsw.LARGE_SEGMENT_BYTES == 1 << 22
    assert bpsw.default_segment_bytes(0) == 1 << 21
    for a, size in ((edge - 1 - 10**7, 1 << 21), (edge - 10**7, 1 << 22)):
        default = bpsw._sweep_impl(a, a + 10**7, method="sieve")
        assert default[2]["seg_bytes"] == size
        assert default[:2] == bpsw._sweep_impl(a, a + 10**7, method="sieve", seg_bytes=1 << 15)[:2]


@pytest.mark.parametrize("size, error", [(3 << 20, ValueError), (1 << 25, ValueError), (8, ValueError),
                                         (4096.0, TypeError), (True, TypeError)])
def test_seg_bytes_is_checked(size, error):
    with pytest.raises(error, match="seg_bytes"):
        bpsw._sweep_impl(10**6, 10**6 + 100, method="sieve", seg_bytes=size)


def test_known_pseudoprime_counts_in_a_window():
    # every base-2 strong pseudoprime below 10^7, found through tiny segments and passes
    count, found, _ = bpsw._sweep_impl(0, 10**7, method="sieve", seg_bytes=4096, pass_len=1 << 16)
    assert (count, len(found)) == (664579, 162)


# ------------------------------------------------------------------ arguments, resources


@pytest.mark.parametrize(
    "a, b, message",
    [
        (-1, 10, ">= 0"),
        (10, 5, "greater than"),
        (0, TWO64 + 1, "<= 2\\*\\*64"),
        (TWO64 + 1, TWO64 + 2, "<= 2\\*\\*64"),
    ],
)
def test_invalid_ranges(a, b, message):
    with pytest.raises(ValueError, match=message):
        bpsw.sweep(a, b)


def test_non_integers_are_rejected():
    with pytest.raises(TypeError):
        bpsw.sweep(0.0, 10)
    with pytest.raises(TypeError):
        bpsw.sweep(0, True)


def test_shared_small_pattern_is_only_read():
    """Sweeps borrow the cached small-prime pattern (read-only): sweeps after many others
    that share it, or that use another one (other kill flags, other segment sizes),
    answer exactly as with a freshly built pattern."""
    ranges = [(10**9 + 12345, 10**9 + 52345), (5 * 10**5, 5 * 10**5 + 30000), (1, 20000),
              (2**40 + 7, 2**40 + 40007)]
    knobs = [{"method": "sieve"}, {"method": "sieve", "seg_bytes": 1024},
             {"method": "sieve", "seg_bytes": 64, "array_limit": 64}]
    bpsw._PATTERN_CACHE.clear()
    fresh = {}
    for a, b in ranges:
        for i, k in enumerate(knobs):
            bpsw._PATTERN_CACHE.clear()
            fresh[a, i] = bpsw._sweep_impl(a, b, **k)[:2]
    assert fresh[1, 0] == brute_sweep(1, 20000)
    assert fresh[5 * 10**5, 2] == brute_sweep(5 * 10**5, 5 * 10**5 + 30000)
    for _ in range(2):
        for a, b in ranges:
            for i, k in enumerate(knobs):
                assert bpsw._sweep_impl(a, b, **k)[:2] == fresh[a, i]
    # sweeps in threads share one pattern at the same time
    results = {}

    def work(key, a, b, k):
        results[key] = bpsw._sweep_impl(a, b, **k)[:2]

    threads = [threading.Thread(target=work, args=((a, i), a, b, k))
               for a, b in ranges for i, k in enumerate(knobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == fresh


def test_memory_stays_bounded():
    _, _, stats = bpsw._sweep_impl(2**50, 2**50 + 10**7, method="sieve")
    assert stats["peak_bucket_bytes"] < 64 << 20


@pytest.mark.parametrize("max_entries", [1 << 16, 1 << 18])
def test_bucket_budget_is_kept_by_taking_more_passes(max_entries):
    # segments of 2^18 odd numbers: a pass is a whole number of them
    a, b = 2**50, 2**50 + 4 * 10**6
    count, found, stats = bpsw._sweep_impl(a, b, method="sieve", max_entries=max_entries,
                                           seg_bytes=1 << 18)
    assert stats["passes"] > 1
    assert stats["peak_bucket_bytes"] <= 4 * max_entries  # 4-byte entries
    assert (count, found) == bpsw.sweep(a, b)


def test_entry_width_is_planned():
    # wide (8-byte) entries where they take no more passes than 4-byte ones; 4-byte ones
    # far from 0, where they halve the passes
    near = bpsw._sweep_impl(10**12, 10**12 + 10**7)[2]
    assert near["entry_bytes"] == 8
    plen, entry_bytes = bpsw._plan_passes(5 * 10**8, math.isqrt(2**63 + 10**9),
                                          bpsw.DEFAULT_SEGMENT_BYTES, bpsw.DEFAULT_MAX_ENTRIES)
    assert entry_bytes == 4
    wide = bpsw._plan_passes(5 * 10**8, math.isqrt(2**63 + 10**9), bpsw.DEFAULT_SEGMENT_BYTES,
                             bpsw.DEFAULT_MAX_ENTRIES, 8)[0]
    assert -(-5 * 10**8 // plen) < -(-5 * 10**8 // wide)
    with pytest.raises(ValueError, match="entry_bytes"):
        bpsw._sweep_impl(0, 1000, method="sieve", entry_bytes=6)


@pytest.mark.parametrize("set_passes", [1, 2, 3, 100])
@pytest.mark.parametrize("entry_bytes", [4, 8])
def test_pass_sets_agree(set_passes, entry_bytes):
    # primes above max(pass_len, ord_limit) are listed by a set's first pass for the others
    a, b = 2**50 + 12345, 2**50 + 12345 + 5 * 10**5
    expected = bpsw._sweep_impl(a, b, method="direct")[:2]
    for knobs in ({"seg_bytes": 1 << 12, "pass_len": 1 << 14},
                  {"seg_bytes": 1 << 12, "pass_len": 3 << 12, "ord_limit": 0},
                  {"seg_bytes": 256, "pass_len": 1 << 13, "array_limit": 64, "ord_limit": 1000}):
        count, found, stats = bpsw._sweep_impl(a, b, method="sieve", entry_bytes=entry_bytes,
                                               set_passes=set_passes, **knobs)
        assert (count, found) == expected
        assert stats["set_passes"] == set_passes
        if set_passes > 1:
            assert stats["peak_list_bytes"] > 0
    blocks = bpsw._sweep_impl(a, b, method="sieve", block=10**4, set_passes=set_passes,
                              seg_bytes=1 << 12, pass_len=1 << 14)[2]["block_counts"]
    assert blocks == bpsw._sweep_impl(a, b, method="direct", block=10**4)[2]["block_counts"]


def test_pass_sets_are_planned():
    # near 2^63 a second pass reads its large primes from the first pass's lists
    plen, _ = bpsw._plan_passes(5 * 10**8, math.isqrt(2**63 + 10**9), bpsw.DEFAULT_SEGMENT_BYTES,
                                bpsw.DEFAULT_MAX_ENTRIES)
    assert bpsw._set_passes(5 * 10**8, math.isqrt(2**63 + 10**9), plen,
                            bpsw.DEFAULT_ORDER_LIMIT, bpsw.DEFAULT_MAX_ENTRIES) >= 2
    # one pass, or primes no larger than the pass: no sets
    assert bpsw._set_passes(10**6, 10**6, 1 << 20, bpsw.DEFAULT_ORDER_LIMIT, 1 << 25) == 1
    assert bpsw._set_passes(5 * 10**9, 10**6, 1 << 31, bpsw.DEFAULT_ORDER_LIMIT, 1 << 25) == 1
    with pytest.raises(ValueError, match="set_passes"):
        bpsw._sweep_impl(0, 1000, method="sieve", set_passes=0)


@pytest.mark.parametrize("entry_bytes", [4, 8])
def test_entry_widths_agree_over_several_passes(entry_bytes):
    a, b = 2**50, 2**50 + 3 * 10**6
    count, found, stats = bpsw._sweep_impl(a, b, method="sieve", max_entries=1 << 17,
                                           entry_bytes=entry_bytes, seg_bytes=1 << 18)
    assert stats["passes"] > 1 and stats["entry_bytes"] == entry_bytes
    assert stats["peak_bucket_bytes"] <= 4 * (1 << 17)
    assert (count, found) == bpsw._sweep_impl(a, b, method="direct")[:2]


def test_default_bucket_budget():
    # 128 MB of 4-byte entries; a long range far out takes several passes within it
    assert bpsw.DEFAULT_MAX_ENTRIES * 4 == 128 << 20
    plen = bpsw._pass_length(5 * 10**8, math.isqrt(2**63 + 10**9), bpsw.DEFAULT_SEGMENT_BYTES,
                             bpsw.DEFAULT_MAX_ENTRIES)
    assert plen % bpsw.DEFAULT_SEGMENT_BYTES == 0
    assert 2 <= -(-5 * 10**8 // plen) <= 16


def test_sweep_releases_the_gil():
    """Two sweeps in threads overlap in time only if the heavy loop runs without the GIL."""
    ticks = []

    def work():
        bpsw.sweep(10**11, 10**11 + 2 * 10**8)

    thread = threading.Thread(target=work)
    thread.start()
    while thread.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    thread.join()
    assert len(ticks) > 20
    assert max(b - a for a, b in zip(ticks, ticks[1:], strict=False)) < 0.2


# ------------------------------------------------------------------ portable build

# order checks and first hits for the portable build, which has only the scalar loops
# (no AVX2 lanes): primes past 2^16 (the floating-point reduction), a third of them in their progressions
ORDER_N_LO = 2**63 + 1
ORDER_PS = [int(gmpy2.next_prime(65537 + 499 * k)) for k in range(50)]
ORDER_JS = [(p - ORDER_N_LO) % (p * (p - 1)) // 2 if k % 3 == 0 else 12345 * k
            for k, p in enumerate(ORDER_PS)]
PORTABLE_CHECK = textwrap.dedent(
    """
    import json, sys
    from cyext import bpsw
    ORDER_N_LO, ORDER_JS, ORDER_PS = {ORDER_ARGS}
    numbers = [int(x) for x in sys.argv[1:]]
    print(json.dumps({
        "portable": bpsw.PORTABLE_MULHI,
        "tests": [[bpsw.is_sprp2(n), bpsw.is_strong_lucas(n), bpsw.is_prime(n)] for n in numbers],
        "sweep": bpsw.sweep(2**64 - 2000, 2**64),
        "sieve": bpsw._sweep_impl(10**12, 10**12 + 4 * 10**6, method="sieve")[:2],
        "orders": bpsw._order_checks(ORDER_N_LO, ORDER_JS, ORDER_PS),
        "first": bpsw._first_multiples(ORDER_N_LO, ORDER_PS),
    }))
    """
).replace("{ORDER_ARGS}", repr((ORDER_N_LO, ORDER_JS, ORDER_PS)))


def test_portable_mulhi_build_gives_the_same_answers(tmp_path):
    """Builds the kernel with NEWRAL_PORTABLE_MULHI (no unsigned __int128, no AVX2 or
    popcnt builds of the pre-sieve fill and the scan: bitops.h, and no AVX2 lanes for the
    order checks' gcds, order_check.h, or the first hits, first_hits.h) and compares."""
    import json

    root = Path(__file__).resolve().parents[1]
    package = tmp_path / "cyext"
    package.mkdir()
    for pattern in ("*.pyx", "*.pxd", "*.pxi", "*.h", "__init__.py"):
        for path in (root / "cyext").glob(pattern):
            shutil.copy(path, package / path.name)
    shutil.copy(root / "setup.py", tmp_path / "setup.py")
    env = dict(os.environ, NEWRAL_PORTABLE_MULHI="1")
    build = subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--inplace", "-q"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    numbers = [TWO64 - 1, TWO64 - 59, 3215031751, 1093**2, 2**61 - 1, 18446744030759878681]
    numbers += [int(gmpy2.next_prime(2**62 + k)) * 3 for k in range(5)]
    run = subprocess.run(
        [sys.executable, "-c", PORTABLE_CHECK, *map(str, numbers)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert result["portable"] is True
    assert result["tests"] == [
        [bpsw.is_sprp2(n), bpsw.is_strong_lucas(n), bpsw.is_prime(n)] for n in numbers
    ]
    count, found = bpsw.sweep(2**64 - 2000, 2**64)
    assert result["sweep"] == [count, [list(x) for x in found]]
    count, found = bpsw._sweep_impl(10**12, 10**12 + 4 * 10**6, method="sieve")[:2]
    assert result["sieve"] == [count, [list(x) for x in found]] and count > 100_000
    expected = [pow(2, ORDER_N_LO + 2 * j - 1, p) == 1 for j, p in zip(ORDER_JS, ORDER_PS, strict=True)]
    assert result["orders"] == expected == bpsw._order_checks(ORDER_N_LO, ORDER_JS, ORDER_PS)
    assert sum(expected) >= 17
    assert result["first"] == bpsw._first_multiples(ORDER_N_LO, ORDER_PS)
