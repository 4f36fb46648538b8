"""Canonical encoding of a BPSW-Hunter sweep result, so two nodes' results compare bit for bit.

The bytes are ASCII with '\\n' line ends, and nothing in them depends on the machine:

    newral-bpsw-sweep/2
    range <a> <b>
    primes <count>
    counts <c_0> <c_1> ...  the primes in each audit block (see block_layout); "counts"
                          alone for an empty range
    spsp <n> <0|1>        one line per base-2 strong pseudoprime, ascending n;
                          1 = it also passes the strong Lucas test (a BPSW pseudoprime)

The audit blocks cut [a, b) into at most AUDIT_BLOCKS equal pieces (the last may be
shorter). Their prime counts are a cheap proof of work: a validator recomputes a few
blocks chosen after the result arrives, so a node that skipped part of the range
cannot know which part will be checked.

Integers are decimal without leading zeros; the last line ends with '\\n'. decode() is
strict: it accepts exactly the bytes encode() would produce and nothing else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cyext import canonical, sweep_scan

FORMAT = "newral-bpsw-sweep/2"
AUDIT_BLOCKS = 256
TWO_64 = 1 << 64
DEFAULT_MAX_SIZE = 1 << 20


class FormatError(ValueError):
    """The bytes are not a canonical BPSW-Hunter sweep result."""


@dataclass(frozen=True)
class SweepOutput:
    """What a sweep of [a, b) found: the prime count and every base-2 strong pseudoprime,
    each with whether it also passes the strong Lucas test."""

    a: int
    b: int
    prime_count: int
    pseudoprimes: tuple[tuple[int, bool], ...]
    block_counts: tuple[int, ...]  # primes per audit block, in order

    @property
    def blocks(self) -> list[tuple[int, int]]:
        """The audit blocks [lo, hi) of the range, in order."""
        return block_bounds(self.a, self.b)

    @property
    def bpsw_claims(self) -> tuple[int, ...]:
        """Pseudoprimes that also pass the strong Lucas test: a discovery or a fault."""
        return tuple(n for n, lucas in self.pseudoprimes if lucas)


def block_layout(a: int, b: int) -> tuple[int, int]:
    """(block length, number of blocks) of the audit blocks of [a, b)."""
    if b <= a:
        return 1, 0
    length = -(-(b - a) // AUDIT_BLOCKS)
    return length, -(-(b - a) // length)


def block_bounds(a: int, b: int) -> list[tuple[int, int]]:
    length, count = block_layout(a, b)
    return [(a + i * length, min(b, a + (i + 1) * length)) for i in range(count)]


def _check(out: SweepOutput) -> None:
    """Raises FormatError unless out describes a possible sweep result."""
    _check_types(out)
    _check_values(out)


def _check_types(out: SweepOutput) -> None:
    for name in ("a", "b", "prime_count"):
        value = getattr(out, name)
        if type(value) is not int:
            raise FormatError(f"{name} must be an int, got {type(value).__name__}")
    if not isinstance(out.block_counts, tuple) or not set(map(type, out.block_counts)) <= {int}:
        raise FormatError("block_counts must be a tuple of ints")
    if not isinstance(out.pseudoprimes, tuple):
        raise FormatError("pseudoprimes must be a tuple of (n, bool) pairs")
    for item in out.pseudoprimes:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise FormatError(f"pseudoprime entry {item!r} is not an (n, bool) pair")
        n, lucas = item
        if type(n) is not int or type(lucas) is not bool:
            raise FormatError(f"pseudoprime entry {item!r} is not an (int, bool) pair")


def _check_values(out: SweepOutput) -> None:
    """The checks of _check that remain once the types are known to be right (as they
    are for what sweep_scan built)."""
    if not 0 <= out.a <= out.b <= TWO_64:
        raise FormatError(f"range [{out.a}, {out.b}) is not within 0 <= a <= b <= 2**64")
    if not 0 <= out.prime_count <= out.b - out.a:
        raise FormatError(f"prime count {out.prime_count} is impossible for [{out.a}, {out.b})")
    counts = out.block_counts
    length, blocks = block_layout(out.a, out.b)
    if len(counts) != blocks:
        raise FormatError(f"[{out.a}, {out.b}) has {blocks} audit blocks, got {len(counts)} counts")
    # Every block is `length` long but the last; check the extremes, name the culprit if any.
    if counts and (min(counts) < 0 or max(counts[:-1], default=0) > length
                   or counts[-1] > out.b - out.a - (blocks - 1) * length):
        for (lo, hi), c in zip(block_bounds(out.a, out.b), counts, strict=True):
            if not 0 <= c <= hi - lo:
                raise FormatError(f"prime count {c} is impossible for the block [{lo}, {hi})")
    if sum(counts) != out.prime_count:
        raise FormatError(f"the block counts add up to {sum(out.block_counts)}, not to {out.prime_count} primes")
    previous = -1
    for n, _ in out.pseudoprimes:
        if not out.a <= n < out.b:
            raise FormatError(f"pseudoprime {n} is outside [{out.a}, {out.b})")
        if n % 2 == 0 or n < 3:
            raise FormatError(f"pseudoprime {n} is not an odd number above 2")
        if n <= previous:
            raise FormatError(f"pseudoprimes are not strictly ascending at {n}")
        previous = n


def encode(out: SweepOutput) -> bytes:
    """The canonical bytes of a sweep result."""
    _check(out)
    lines = [FORMAT, f"range {out.a} {out.b}", f"primes {out.prime_count}",
             " ".join(["counts", *map(str, out.block_counts)])]
    lines.extend(f"spsp {n} {int(lucas)}" for n, lucas in out.pseudoprimes)
    return ("\n".join(lines) + "\n").encode("ascii")


def _parse_int(token: str, what: str) -> int:
    return canonical.decimal(token, what, 20, FormatError)


def _parse_counts(tokens: list[str]) -> tuple[int, ...]:
    """Up to 256 small counts: plain int() when every token is a canonical decimal (the
    common case, checked in bulk); otherwise the strict parser names the bad token."""
    joined = "".join(tokens)
    if joined.isascii() and joined.isdigit() and all(t and len(t) <= 20 and (t[0] != "0" or t == "0")
                                                     for t in tokens):
        return tuple(map(int, tokens))
    return tuple(_parse_int(c, "block count") for c in tokens)


def decode(data: bytes, max_size: int = DEFAULT_MAX_SIZE) -> SweepOutput:
    """Parses canonical bytes; raises FormatError on anything encode() would not produce.

    Bytes shaped exactly as encode() writes them (the header, the line keywords, single
    spaces, canonical decimals, the final newline: scanned in C by cyext/sweep_scan.pyx)
    need only the range and ordering checks of encode(); anything else goes through the
    line-by-line parser, which names what is wrong. Both accept the same bytes
    (tests/test_bpsw_format.py)."""
    if isinstance(data, bytes) and len(data) <= max_size:
        shaped = sweep_scan.scan(data)
        if shaped is not None:
            a, b, primes, counts, pseudoprimes = shaped
            out = SweepOutput(a=a, b=b, prime_count=primes, pseudoprimes=pseudoprimes, block_counts=counts)
            _check_values(out)
            return out
    return _decode_lines(data, max_size)


def _decode_lines(data: bytes, max_size: int = DEFAULT_MAX_SIZE) -> SweepOutput:
    """The strict parser, line by line: slower, with an error message for each defect."""
    lines = canonical.text_lines(data, max_size, FormatError)
    if len(lines) < 4 or lines[0] != FORMAT:
        raise FormatError(f"result does not start with the header {FORMAT!r}")
    range_parts = lines[1].split(" ")
    if len(range_parts) != 3 or range_parts[0] != "range":
        raise FormatError(f"line 2 is not 'range <a> <b>': {lines[1][:80]!r}")
    count_parts = lines[2].split(" ")
    if len(count_parts) != 2 or count_parts[0] != "primes":
        raise FormatError(f"line 3 is not 'primes <count>': {lines[2][:80]!r}")
    counts_parts = lines[3].split(" ")
    if counts_parts[0] != "counts" or len(counts_parts) > AUDIT_BLOCKS + 1:
        raise FormatError(f"line 4 is not 'counts <c_0> <c_1> ...': {lines[3][:80]!r}")
    pseudoprimes = []
    for number, line in enumerate(lines[4:], start=5):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "spsp" or parts[2] not in ("0", "1"):
            raise FormatError(f"line {number} is not 'spsp <n> <0|1>': {line[:80]!r}")
        pseudoprimes.append((_parse_int(parts[1], "pseudoprime"), parts[2] == "1"))
    out = SweepOutput(
        a=_parse_int(range_parts[1], "range start"),
        b=_parse_int(range_parts[2], "range end"),
        prime_count=_parse_int(count_parts[1], "prime count"),
        pseudoprimes=tuple(pseudoprimes),
        block_counts=_parse_counts(counts_parts[1:]),
    )
    if encode(out) != data:  # also runs every range and ordering check
        raise FormatError("result is not in canonical form")
    return out


def digest(data: bytes) -> str:
    """sha256 of the canonical bytes, in hex: what replicas compare."""
    return hashlib.sha256(data).hexdigest()


def run_sweep(a: int, b: int) -> SweepOutput:
    """Sweeps [a, b) with the compiled kernel, counting the primes of each audit block."""
    from cyext import bpsw

    length, _ = block_layout(a, b)
    counts, found = bpsw.sweep_blocks(a, b, length)
    return SweepOutput(a=a, b=b, prime_count=sum(counts), pseudoprimes=tuple(found),
                       block_counts=tuple(counts))
