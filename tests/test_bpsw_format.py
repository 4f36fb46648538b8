"""The canonical encoding of sweep results: exact bytes, a strict decoder, and the digest."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyext import bpsw_format as fmt
from cyext import sweep_scan
from cyext.bpsw_format import FormatError, SweepOutput

TWO64 = 1 << 64


def _primes_below(n):
    sieve = bytearray([1]) * n
    sieve[:2] = b"\0\0"[:n]
    for p in range(2, int(n**0.5) + 1):
        if sieve[p]:
            sieve[p * p::p] = bytes(len(range(p * p, n, p)))
    return sieve


def _output(a, b, pseudoprimes):
    """A correct output for a small range, counted by a plain sieve (not the kernel)."""
    sieve = _primes_below(b)
    counts = tuple(sum(sieve[lo:hi]) for lo, hi in fmt.block_bounds(a, b))
    return SweepOutput(a=a, b=b, prime_count=sum(counts), pseudoprimes=pseudoprimes, block_counts=counts)


@st.composite
def outputs(draw):
    a = draw(st.integers(0, TWO64))
    b = draw(st.integers(a, min(TWO64, a + (1 << draw(st.integers(0, 64))))))
    odd = [n for n in draw(st.lists(st.integers(a, max(a, b - 1)), max_size=20)) if n % 2 and n >= 3 and n < b]
    found = tuple((n, draw(st.booleans())) for n in sorted(set(odd)))
    counts = tuple(draw(st.integers(0, hi - lo)) for lo, hi in fmt.block_bounds(a, b))
    return SweepOutput(a=a, b=b, prime_count=sum(counts), pseudoprimes=found, block_counts=counts)


@pytest.mark.parametrize("a, b", [(0, 0), (5, 6), (0, 255), (0, 256), (0, 257), (10, 10_000), (TWO64 - 1000, TWO64)])
def test_block_layout_covers_the_range_once(a, b):
    bounds = fmt.block_bounds(a, b)
    assert len(bounds) <= fmt.AUDIT_BLOCKS
    assert [lo for lo, _ in bounds[1:]] == [hi for _, hi in bounds[:-1]]
    if a < b:
        assert bounds[0][0] == a and bounds[-1][1] == b and all(lo < hi for lo, hi in bounds)
    else:
        assert bounds == []


@settings(max_examples=300)
@given(outputs())
def test_round_trip(out):
    data = fmt.encode(out)
    assert fmt.decode(data) == out
    assert fmt.encode(fmt.decode(data)) == data
    assert data.isascii() and data.endswith(b"\n") and b" \n" not in data


def test_exact_bytes_and_digest():
    with pytest.raises(FormatError, match="outside"):
        fmt.encode(_output(0, 10000, ((2047, False), (3277, False), (12327121, True))))
    out = _output(2040, 2050, ((2047, True),))
    data = fmt.encode(out)
    assert data == b"newral-bpsw-sweep/2\nrange 2040 2050\nprimes 0\ncounts 0 0 0 0 0 0 0 0 0 0\nspsp 2047 1\n"
    assert fmt.digest(data) == hashlib.sha256(data).hexdigest()
    assert out.bpsw_claims == (2047,)
    assert fmt.encode(_output(0, 10, ())) == b"newral-bpsw-sweep/2\nrange 0 10\nprimes 4\ncounts 0 0 1 1 0 1 0 1 0 0\n"
    empty = SweepOutput(a=5, b=5, prime_count=0, pseudoprimes=(), block_counts=())
    assert fmt.encode(empty) == b"newral-bpsw-sweep/2\nrange 5 5\nprimes 0\ncounts\n"


def test_run_sweep_matches_known_values():
    out = fmt.run_sweep(0, 10000)
    assert out.prime_count == 1229
    assert out == _output(0, 10000, out.pseudoprimes)  # every block count agrees with a plain sieve
    assert [n for n, _ in out.pseudoprimes] == [2047, 3277, 4033, 4681, 8321]
    assert out.bpsw_claims == ()
    assert fmt.decode(fmt.encode(out)) == out


GOOD = fmt.encode(_output(0, 10000, ((2047, False), (3277, False))))
COUNTS = GOOD.split(b"\n")[3]


def _first_count(token):
    """COUNTS with the first block's count replaced by token (it is 12 really)."""
    return b" ".join([b"counts", token, *COUNTS.split(b" ")[2:]])


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "newline"),
        (GOOD[:-1], "newline"),
        (GOOD + b"\n", "spsp"),
        (GOOD.replace(b"sweep/2", b"sweep/1"), "header"),
        (GOOD.replace(COUNTS + b"\n", b""), "counts"),
        (GOOD.replace(COUNTS, COUNTS + b" 0"), "audit blocks"),
        (GOOD.replace(COUNTS, COUNTS[:-2]), "audit blocks"),
        (GOOD.replace(COUNTS, _first_count(b"5")), "add up"),
        (GOOD.replace(COUNTS, _first_count(b"41")), "impossible for the block"),
        (GOOD.replace(COUNTS, _first_count(b"012")), "canonical decimal"),
        (GOOD.replace(COUNTS, b"counts " + COUNTS), "counts"),
        (GOOD.replace(b"range 0", b"range 00"), "canonical decimal"),
        (GOOD.replace(b"range 0 ", b"range  0 "), "range"),
        (GOOD.replace(b"primes 1229", b"primes +1229"), "canonical decimal"),
        (GOOD.replace(b"primes 1229", b"primes 1229 "), "primes"),
        (GOOD.replace(b"\n", b"\r\n"), "canonical decimal|primes|range|header"),
        (GOOD.replace(b"2047 0", b"2047 2"), "spsp"),
        (GOOD.replace(b"2047 0", b"2047 false"), "spsp"),
        (GOOD.replace(b"2047", b"3277"), "ascending"),
        (GOOD.replace(b"spsp 2047 0\nspsp 3277 0", b"spsp 3277 0\nspsp 2047 0"), "ascending"),
        (GOOD.replace(b"2047", b"2048"), "odd"),
        (GOOD.replace(b"3277", b"10001"), "outside"),
        (GOOD.replace(b"range 0 10000", b"range 10000 0"), "range"),
        (GOOD.replace(b"range 0 10000", b"range 0 18446744073709551617"), "2\\*\\*64"),
        (GOOD.replace(b"primes 1229", b"primes 10001"), "impossible"),
        (GOOD.replace(b"primes 1229", b"primes \xd9\xa1"), "ASCII"),
        (GOOD.replace(b"primes 1229", b"primes \xef\xbc\x91"), "ASCII"),
        (b"\xef\xbb\xbf" + GOOD, "ASCII"),
        (GOOD.replace(b"spsp", b"SPSP", 1), "spsp"),
        (b"newral-bpsw-sweep/2\nrange 0 10\nprimes 4\n", "header"),
        (b"newral-bpsw-sweep/2\nprimes 4\nrange 0 10\ncounts 4\n", "range"),
        (GOOD.replace(b"1229", b"1" * 30), "too long"),
    ],
)
def test_decode_rejects(data, message):
    with pytest.raises(FormatError, match=message):
        fmt.decode(data)


def test_decode_rejects_unicode_digits_and_non_bytes():
    with pytest.raises(FormatError):
        fmt.decode(GOOD.decode())  # str, not bytes
    with pytest.raises(FormatError, match="canonical decimal|ASCII"):
        fmt.decode(GOOD.replace(b"1229", "\u0661\u0662".encode()))


def test_decode_enforces_the_size_limit():
    assert fmt.decode(GOOD, max_size=len(GOOD)).prime_count == 1229
    with pytest.raises(FormatError, match="over the limit"):
        fmt.decode(GOOD, max_size=len(GOOD) - 1)


def test_format_error_is_a_value_error():
    assert issubclass(FormatError, ValueError)


FOUR = (0, 0, 1, 1, 0, 1, 0, 1, 0, 0)  # the primes of [0, 10), one block each


@pytest.mark.parametrize(
    "out",
    [
        SweepOutput(a=-1, b=5, prime_count=0, pseudoprimes=(), block_counts=()),
        SweepOutput(a=0, b=TWO64 + 1, prime_count=0, pseudoprimes=(), block_counts=()),
        SweepOutput(a=0, b=10, prime_count=True, pseudoprimes=(), block_counts=FOUR),
        SweepOutput(a=0, b=10, prime_count=4, pseudoprimes=[(3, False)], block_counts=FOUR),
        SweepOutput(a=0, b=10, prime_count=4, pseudoprimes=((3, 1),), block_counts=FOUR),
        SweepOutput(a=0, b=10, prime_count=4, pseudoprimes=((1, False),), block_counts=FOUR),
        SweepOutput(a=0, b=10, prime_count=4, pseudoprimes=(), block_counts=list(FOUR)),
        SweepOutput(a=0, b=10, prime_count=4, pseudoprimes=(), block_counts=FOUR[:-1]),
        SweepOutput(a=0, b=10, prime_count=5, pseudoprimes=(), block_counts=FOUR),
        SweepOutput(a=0, b=10, prime_count=4, pseudoprimes=(), block_counts=(2, 0, 0, 1, 0, 1, 0, 0, 0, 0)),
        SweepOutput(a=0, b=10, prime_count=4, pseudoprimes=(), block_counts=(0, 0, 1, 1, 0, 1, 0, 1.0, 0, 0)),
    ],
)
def test_encode_rejects_impossible_outputs(out):
    with pytest.raises(FormatError):
        fmt.encode(out)


def test_a_count_too_big_for_the_shorter_last_block_is_refused() -> None:
    # [0, 1001): 251 blocks of 4 integers, the last one [1000, 1001) of one.
    counts = (0,) * 250 + (2,)
    with pytest.raises(FormatError, match=r"impossible for the block \[1000, 1001\)"):
        fmt.encode(SweepOutput(a=0, b=1001, prime_count=2, pseudoprimes=(), block_counts=counts))
    assert fmt.encode(SweepOutput(a=0, b=1001, prime_count=1, pseudoprimes=(), block_counts=(0,) * 250 + (1,)))


@st.composite
def mutated(draw):
    """Canonical bytes with a few bytes inserted, deleted or replaced."""
    data = bytearray(fmt.encode(draw(outputs())))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(("insert", "delete", "replace")))
        byte = draw(st.sampled_from(b"0123456789 \n-+sacoumprn\t\x00\xc3"))
        if kind == "insert":
            data[at:at] = bytes([byte])
        elif at < len(data):
            data[at:at + 1] = b"" if kind == "delete" else bytes([byte])
    return bytes(data)


def _outcome(decoder, data):
    try:
        return decoder(data)
    except FormatError:
        return "refused"


@settings(max_examples=400)
@given(mutated())
def test_the_fast_decoder_accepts_exactly_what_the_line_parser_accepts(data):
    fast, strict = _outcome(fmt.decode, data), _outcome(fmt._decode_lines, data)
    assert fast == strict
    if fast != "refused":
        assert fmt.encode(fast) == data


def _values(out):
    return out.a, out.b, out.prime_count, out.block_counts, out.pseudoprimes


@settings(max_examples=300)
@given(outputs())
def test_the_scanner_reads_every_canonical_output(out):
    assert sweep_scan.scan(fmt.encode(out)) == _values(out)


@settings(max_examples=400)
@given(mutated())
def test_whatever_the_line_parser_accepts_the_scanner_reads_the_same(data):
    strict = _outcome(fmt._decode_lines, data)
    if strict != "refused":
        assert sweep_scan.scan(data) == _values(strict)


HEAD = b"newral-bpsw-sweep/2\nrange "


@pytest.mark.parametrize("tail, expected", [
    (b"0 0\nprimes 0\ncounts\n", (0, 0, 0, (), ())),
    (b"18446744073709551615 18446744073709551616\nprimes 0\ncounts 0\nspsp 99999999999999999999 1\n",
     (2**64 - 1, 2**64, 0, (0,), ((99999999999999999999, True),))),
    (b"1 5\nprimes 2\ncounts 1 1 0 12345678901234567890\nspsp 3 0\nspsp 5 1\n",
     (1, 5, 2, (1, 1, 0, 12345678901234567890), ((3, False), (5, True)))),
])
def test_the_scanner_reads_the_values_of_well_shaped_bytes(tail, expected):
    assert sweep_scan.scan(HEAD + tail) == expected


@pytest.mark.parametrize("data", [
    HEAD + b"01 5\nprimes 0\ncounts 0\n",                      # a leading zero
    HEAD + b"1 5\nprimes 0\ncounts 00\n",
    HEAD + b"1 123456789012345678901\nprimes 0\ncounts 0\n",   # 21 digits
    HEAD + b"1 5\nprimes 0\ncounts 0",                          # no final newline
    HEAD + b"1 5\nprimes 0\ncounts 0\n\n",                      # a blank line after
    HEAD + b"1 5\nprimes 0\ncounts  0\n",                       # two spaces
    HEAD + b"1 5\nprimes 0\ncounts 0 \n",                       # a trailing space
    HEAD + b"1 5\nprimes 0\ncounts -1\n",
    HEAD + b"1 5\nprimes 0\ncounts 0\nspsp 3 2\n",              # not a 0/1 verdict
    HEAD + b"1 5\nprimes 0\ncounts 0\nspsp 3 1",                # truncated
    HEAD + b"1 5\nprimes 0\ncounts 0\nspsp 3 1\nx",
    HEAD + b"1 5\nprime 0\ncounts 0\n",
    HEAD + b"1\xd9\xa1 5\nprimes 0\ncounts 0\n",                # an Arabic-Indic digit after the 1
    b"newral-bpsw-sweep/1\nrange 1 5\nprimes 0\ncounts 0\n",
    b"", HEAD,
])
def test_the_scanner_refuses_anything_else(data):
    assert sweep_scan.scan(data) is None


def test_the_scanner_takes_only_bytes():
    good = HEAD + b"0 0\nprimes 0\ncounts\n"
    assert sweep_scan.scan(good) is not None
    assert sweep_scan.scan(bytearray(good)) is None
    assert sweep_scan.scan(good.decode()) is None
    assert sweep_scan.scan(memoryview(good)) is None
