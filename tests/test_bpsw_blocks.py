"""Per-block prime counts of the BPSW-Hunter sweep (bpsw.sweep_blocks) against gmpy2 and
against sweep() on each block, through every kernel path (pattern, array and bucket
primes, several passes, direct testing)."""

import gmpy2
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cyext import bpsw

TWO64 = 1 << 64


def bounds(a, b, block):
    return [(lo, min(lo + block, b)) for lo in range(a, b, block)]


def brute_counts(a, b, block):
    return [sum(1 for n in range(lo, hi) if gmpy2.is_prime(n)) for lo, hi in bounds(a, b, block)]


KNOBS = st.one_of(
    st.just({}),
    st.just({"method": "direct"}),
    st.fixed_dictionaries(
        {
            "method": st.just("sieve"),
            "seg_bytes": st.sampled_from([16, 64, 256, 1 << 15]),
            "ord_limit": st.sampled_from([0, 1000, bpsw.DEFAULT_ORDER_LIMIT]),
        }
    ),
)


@st.composite
def block_case(draw):
    a = draw(
        st.one_of(
            st.integers(0, 40),
            st.integers(0, 1 << draw(st.integers(8, 40))),
            st.integers(TWO64 - 5000, TWO64),
        )
    )
    b = min(a + draw(st.integers(0, 1500)), TWO64)
    block = draw(st.one_of(st.integers(1, 40), st.integers(1, 2000), st.just(b - a + 1)))
    # sieving near 2^64 streams every prime below 2^32: test_near_two_to_the_64 does it once
    knobs = draw(KNOBS) if a < 1 << 40 else {}
    if knobs.get("method") == "sieve" and draw(st.booleans()):
        knobs["pass_len"] = knobs["seg_bytes"] * draw(st.integers(1, 3))
    return a, b, block, knobs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(block_case())
@example((0, 100, 10, {}))
@example((1, 100, 7, {"method": "sieve", "seg_bytes": 16}))
@example((2, 3, 1, {}))
@example((0, 3000, 333, {"method": "sieve", "seg_bytes": 16, "pass_len": 32}))
@example((TWO64 - 1000, TWO64, 333, {}))
@example((TWO64 - 3000, TWO64, 1001, {"method": "sieve", "seg_bytes": 256}))
def test_block_counts_match_gmpy2(case):
    a, b, block, knobs = case
    count, found, stats = bpsw._sweep_impl(a, b, block=block, **knobs)
    assert stats["block_counts"] == brute_counts(a, b, block)
    assert (count, found) == bpsw.sweep(a, b)


@pytest.mark.parametrize(
    "a, b, block",
    [
        (10**9, 10**9 + 10**6, 77_777),  # blocks cut segments anywhere
        (10**12 + 1, 10**12 + 300_001, 65_536 * 2 + 1),
        (2**40, 2**40 + 200_000, 3),  # many tiny blocks
        (0, 10**6, 1 << 20),  # one block longer than the range
    ],
)
def test_block_counts_match_sweeps_of_each_block(a, b, block):
    counts, found = bpsw.sweep_blocks(a, b, block)
    assert counts == [bpsw.sweep(lo, hi)[0] for lo, hi in bounds(a, b, block)]
    assert (sum(counts), found) == bpsw.sweep(a, b)


def test_block_counts_over_several_passes():
    a, b, block = 10**10, 10**10 + 400_000, 12_345
    expected = [bpsw.sweep(lo, hi)[0] for lo, hi in bounds(a, b, block)]
    count, found, stats = bpsw._sweep_impl(a, b, method="sieve", seg_bytes=1024, pass_len=8192,
                                           block=block)
    assert stats["passes"] > 1
    assert stats["block_counts"] == expected
    assert (count, found) == bpsw.sweep(a, b)


@pytest.mark.parametrize("a", [0, 1, 2, 3])
def test_ranges_starting_near_zero(a):
    counts, found = bpsw.sweep_blocks(a, 10_000, 100)
    assert counts == brute_counts(a, 10_000, 100)
    assert found == bpsw.sweep(a, 10_000)[1]
    assert counts[0] == {0: 25, 1: 25, 2: 26, 3: 25}[a]  # [2, 102) holds 2 and 101


def test_known_counts_by_block():
    counts, found = bpsw.sweep_blocks(0, 10**7, 10**6)
    assert counts[0] == 78498 and sum(counts) == 664579
    assert len(found) == 162


def test_block_longer_than_the_range_and_empty_ranges():
    assert bpsw.sweep_blocks(100, 200, 10**30) == ([21], [])
    assert bpsw.sweep_blocks(5, 5, 1) == ([], [])
    assert bpsw.sweep_blocks(TWO64, TWO64, 7) == ([], [])
    assert bpsw.sweep_blocks(0, 2, 1) == ([0, 0], [])


def test_near_two_to_the_64():
    a = TWO64 - 2000
    counts, found = bpsw.sweep_blocks(a, TWO64, 301)
    assert counts == brute_counts(a, TWO64, 301)
    assert found == bpsw.sweep(a, TWO64)[1]


@pytest.mark.parametrize("block", [0, -1, -(10**30)])
def test_block_must_be_positive(block):
    with pytest.raises(ValueError, match="block length must be >= 1"):
        bpsw.sweep_blocks(0, 100, block)


def test_too_many_blocks_are_refused():
    with pytest.raises(ValueError, match="at most"):
        bpsw.sweep_blocks(0, 10**12, 1)
    counts, _ = bpsw.sweep_blocks(0, bpsw.MAX_BLOCKS, 1)  # the limit itself is fine
    assert len(counts) == bpsw.MAX_BLOCKS and sum(counts) == bpsw.sweep(0, bpsw.MAX_BLOCKS)[0]


@pytest.mark.parametrize("block", [1.0, True, "10", None])
def test_block_must_be_an_integer(block):
    with pytest.raises(TypeError, match="block length"):
        bpsw.sweep_blocks(0, 100, block)


@pytest.mark.parametrize(
    "a, b, message",
    [(-1, 10, ">= 0"), (10, 5, "greater than"), (0, TWO64 + 1, "<= 2\\*\\*64")],
)
def test_range_checks_are_those_of_sweep(a, b, message):
    with pytest.raises(ValueError, match=message):
        bpsw.sweep_blocks(a, b, 10)
