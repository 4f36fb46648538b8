"""BPSW-Hunter past 2^64: candidates of the shape where a counterexample is thought
likeliest, generated from a seed, tested with gmpy2, and encoded canonically.

Family "psw" follows Pomerance's heuristic ("Are there counter-examples to the
Baillie-PSW primality test?", 1984; Chen and Greene, 2001). Its primes p have

    p ≡ 3 (mod 8), (5/p) = -1, (p - 1)/2 = 3 times a product of distinct primes of S-,
    (p + 1)/4 a product of distinct primes of S+,

where S- and S+ split the primes from 7 to 2^16 alternately, in order, so that
n ≡ 1 (mod p - 1) and n ≡ -1 (mod p + 1) never contradict each other. (3 must
divide p - 1 or p + 1; fixing it in p - 1 makes n ≡ 1 (mod 3) automatic.) A candidate n is the product of an odd number k of distinct such primes,
each of exactly `bits // k` bits. Then (5/n) = -1 and n ≡ 3 (mod 8), and if n
also met those congruences for every p | n it would pass both halves of BPSW.

Everything is derived with SHA-256 in counter mode from the search's key, so two
machines produce the same candidates, verdicts and bytes. Pool prime j and
candidate i are each a pure function of (search, j) or (search, i): a checker
regenerates any one candidate without the rest.

Output (ASCII, '\\n' line ends, decimal without leading zeros):

    newral-bpsw-large/1
    search <family> <seed> <bits> <factors> <pool>
    range <start> <count>
    block <16 hex>        one per BLOCK candidates: a digest of their base-2 residues
    hit <i> <flags> <n> <p1> ... <pk>   every candidate with 2^(n-1) ≡ 1 (mod n),
                                        ascending i; factors ascending

flags: 1 strong base-2 probable prime, 2 gmpy2.is_bpsw_prp, 4 gmpy2.is_strong_bpsw_prp,
8 strong probable prime to every base in MR_BASES. A hit with flag 2 is a composite
that passes BPSW: a counterexample, with its factors.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

import gmpy2

from cyext import canonical

FORMAT = "newral-bpsw-large/1"
FAMILIES = ("psw",)
MR_BASES = (2, 3, 5, 7, 11, 13)
# Miller-Rabin to these bases proves primality below 3.3 * 10^24 (Sorenson and Webster),
# so pool primes are proven without leaning on the BPSW test under study.
PROOF_BASES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
SMOOTH_BOUND = 1 << 16
BLOCK = 256
FINAL_SPAN = 4096
FINAL_TRIES = 64
MIN_PRIME_BITS, MAX_PRIME_BITS = 24, 44
MAX_BITS = 4096
MAX_POOL = 1 << 16
MAX_COUNT = 1 << 22
DEFAULT_MAX_SIZE = 1 << 21
SEED_RE = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")

FLAG_SPRP2, FLAG_BPSW, FLAG_STRONG_BPSW, FLAG_MR = 1, 2, 4, 8


class FormatError(ValueError):
    """The bytes are not a canonical bpsw-large result, or a search is impossible."""


def _odd_primes(limit: int) -> list[int]:
    sieve = bytearray([1]) * limit
    sieve[:2] = b"\0\0"
    for q in range(2, int(limit**0.5) + 1):
        if sieve[q]:
            sieve[q * q :: q] = bytearray(len(range(q * q, limit, q)))
    return [q for q in range(3, limit, 2) if sieve[q] and q != 5]


_SMALL = _odd_primes(SMOOTH_BOUND)[1:]  # 7, 11, 13, ...
S_MINUS = tuple(_SMALL[1::2])  # may divide (p - 1)/6
S_PLUS = tuple(_SMALL[0::2])  # may divide (p + 1)/4
_PROD_PLUS = gmpy2.mpz(1)
for _q in S_PLUS:
    _PROD_PLUS *= _q
del _q


@dataclass(frozen=True)
class Search:
    """One targeted search: which family, which seed, and the candidates' size."""

    family: str
    seed: str
    bits: int
    factors: int
    pool: int

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise FormatError(f"unknown family {self.family!r}; known: {', '.join(FAMILIES)}")
        if not isinstance(self.seed, str) or not SEED_RE.match(self.seed):
            raise FormatError("seed must be 1 to 64 characters of A-Z a-z 0-9 . _ -")
        for name in ("bits", "factors", "pool"):
            if type(getattr(self, name)) is not int:
                raise FormatError(f"{name} must be an int")
        if not 64 < self.bits <= MAX_BITS:
            raise FormatError(f"bits must be in (64, {MAX_BITS}], got {self.bits}")
        if self.factors < 3 or self.factors % 2 == 0:
            raise FormatError(f"factors must be odd and at least 3, got {self.factors}")
        if not MIN_PRIME_BITS <= self.prime_bits <= MAX_PRIME_BITS:
            raise FormatError(f"bits // factors = {self.prime_bits}; it must be in "
                              f"[{MIN_PRIME_BITS}, {MAX_PRIME_BITS}] (choose another factor count)")
        if self.factors * (self.prime_bits - 1) < 64:
            raise FormatError("candidates would not all lie above 2^64")
        if not 2 * self.factors <= self.pool <= MAX_POOL:
            raise FormatError(f"pool must be in [2 * factors, {MAX_POOL}], got {self.pool}")

    @property
    def prime_bits(self) -> int:
        return self.bits // self.factors

    @property
    def key(self) -> bytes:
        return f"{FORMAT}|{self.family}|{self.seed}|{self.bits}|{self.factors}|{self.pool}".encode()


def default_factors(bits: int) -> int:
    """The fewest (odd) factors that keep each prime at or below 40 bits (pool primes
    get costly to find above that)."""
    k = max(3, -(-bits // 40))
    return k if k % 2 else k + 1


def _words(key: bytes) -> Iterator[int]:
    """An endless stream of 32-bit words: SHA-256 in counter mode, the same everywhere."""
    counter = 0
    while True:
        block = hashlib.sha256(key + counter.to_bytes(8, "big")).digest()
        for at in range(0, 32, 4):
            yield int.from_bytes(block[at : at + 4], "big")
        counter += 1


def is_proven_prime(n: int) -> bool:
    """Deterministic below 3.3 * 10^24, far above any pool prime."""
    if n < 2:
        return False
    if n in PROOF_BASES:
        return True
    return all(n % b and gmpy2.is_strong_prp(n, b) for b in PROOF_BASES)


@functools.lru_cache(maxsize=1 << 17)
def pool_prime(search: Search, j: int) -> int:
    """The j-th prime of the search's pool: the first prime of the family's shape
    that the stream for (search, j) builds."""
    words = _words(search.key + f"|pool|{j}".encode())
    lo, hi = 1 << (search.prime_bits - 2), 1 << (search.prime_bits - 1)  # (p - 1)/2 in [lo, hi)
    while True:
        drawn = _partial_product(S_MINUS, -(-lo // 3), -(-hi // 3), words)
        if drawn is None:
            continue
        base, used, first, last = drawn
        # Many last factors per partial product: the partial draw is the costly part.
        for _ in range(FINAL_TRIES):
            q = S_MINUS[first + next(words) % (last - first)]
            a = 3 * base * q
            if q in used or a % 4 != 1 or a % 5 not in (1, 3):  # p ≡ 3 (mod 8), p ≡ 2, 3 (mod 5)
                continue
            p = 2 * a + 1
            if not gmpy2.is_strong_prp(p, 2):
                continue
            m = (a + 1) // 2  # (p + 1)/4, odd because a ≡ 1 (mod 4)
            if gmpy2.gcd(m, _PROD_PLUS) == m and is_proven_prime(p):
                return p


def _partial_product(primes: tuple[int, ...], lo: int, hi: int,
                     words: Iterator[int]) -> tuple[int, set[int], int, int] | None:
    """Distinct primes drawn from `primes` whose product b leaves room for one more:
    (b, the primes, i, j) such that b * primes[t] is in [lo, hi) for i <= t < j; or None."""
    b, used = 1, set()
    while True:
        first, last = -(-lo // b), (hi - 1) // b  # the last factor's range
        if last <= primes[-1]:
            i, j = bisect.bisect_left(primes, first), bisect.bisect_right(primes, last)
            return (b, used, i, j) if i < j else None
        # Keep the last factor's range wide (>= FINAL_SPAN), so the last draw has many choices.
        top = bisect.bisect_right(primes, min(primes[-1], last // FINAL_SPAN))
        if top == 0:
            return None
        q = primes[next(words) % top]
        if q in used:
            return None
        used.add(q)
        b *= q


def candidate(search: Search, i: int) -> tuple[int, tuple[int, ...]]:
    """Candidate i: n and its prime factors, ascending."""
    words = _words(search.key + f"|cand|{i}".encode())
    picked: set[int] = set()
    for _ in range(64 * search.factors):
        picked.add(pool_prime(search, next(words) % search.pool))
        if len(picked) == search.factors:
            break
    else:  # only a pool with hardly any distinct primes gets here
        raise ArithmeticError(f"candidate {i}: the pool has too few distinct primes")
    factors = tuple(sorted(picked))
    n = gmpy2.mpz(1)
    for p in factors:
        n *= p
    return int(n), factors


def verdict(n: int) -> tuple[int, int]:
    """(flags, residue): the verdicts on n and the low 64 bits of 2^(n-1) mod n.
    Only a base-2 Fermat probable prime can have flags; that is the fast path."""
    x = gmpy2.powmod(2, n - 1, n)
    residue = int(x) & 0xFFFF_FFFF_FFFF_FFFF
    if x != 1:
        return 0, residue
    flags = FLAG_SPRP2 if gmpy2.is_strong_prp(n, 2) else 0
    flags |= FLAG_BPSW if gmpy2.is_bpsw_prp(n) else 0
    flags |= FLAG_STRONG_BPSW if gmpy2.is_strong_bpsw_prp(n) else 0
    flags |= FLAG_MR if all(gmpy2.is_strong_prp(n, b) for b in MR_BASES) else 0
    return flags, residue


@dataclass(frozen=True)
class Hit:
    """A candidate that passed the base-2 Fermat test, with its verdicts and factors."""

    index: int
    flags: int
    n: int
    factors: tuple[int, ...]

    @property
    def is_bpsw_pseudoprime(self) -> bool:
        return bool(self.flags & FLAG_BPSW) and len(self.factors) > 1


@dataclass(frozen=True)
class LargeOutput:
    search: Search
    start: int
    count: int
    blocks: tuple[str, ...]
    hits: tuple[Hit, ...]

    @property
    def claims(self) -> tuple[Hit, ...]:
        return tuple(h for h in self.hits if h.is_bpsw_pseudoprime)


def block_digest(residues: list[int]) -> str:
    h = hashlib.sha256(b"".join(r.to_bytes(8, "little") for r in residues))
    return h.hexdigest()[:16]


def run_block(search: Search, start: int, count: int) -> tuple[str, list[Hit]]:
    """Tests candidates [start, start + count): the block digest and the hits."""
    residues, hits = [], []
    for i in range(start, start + count):
        n, factors = candidate(search, i)
        flags, residue = verdict(n)
        residues.append(residue)
        if residue == 1:
            hits.append(Hit(index=i, flags=flags, n=n, factors=factors))
    return block_digest(residues), hits


def run(search: Search, start: int, count: int) -> LargeOutput:
    """Tests candidates [start, start + count) of the search."""
    _check_range(start, count)
    blocks, hits = [], []
    for lo in range(start, start + count, BLOCK):
        digest, found = run_block(search, lo, min(BLOCK, start + count - lo))
        blocks.append(digest)
        hits.extend(found)
    return LargeOutput(search=search, start=start, count=count, blocks=tuple(blocks), hits=tuple(hits))


def _check_range(start: int, count: int) -> None:
    if type(start) is not int or type(count) is not int:
        raise FormatError("start and count must be ints")
    if start < 0 or not 1 <= count <= MAX_COUNT or start + count > 1 << 63:
        raise FormatError(f"range start={start} count={count} is out of bounds")


def _check(out: LargeOutput) -> None:
    _check_range(out.start, out.count)
    if len(out.blocks) != -(-out.count // BLOCK):
        raise FormatError(f"{len(out.blocks)} block digests for {out.count} candidates")
    for d in out.blocks:
        if len(d) != 16 or not all(c in "0123456789abcdef" for c in d):
            raise FormatError(f"block digest {d[:20]!r} is not 16 lowercase hex digits")
    previous = out.start - 1
    for h in out.hits:
        if not previous < h.index < out.start + out.count:
            raise FormatError(f"hit {h.index} is out of order or outside the range")
        previous = h.index
        if type(h.flags) is not int or not 0 <= h.flags < 16:
            raise FormatError(f"flags {h.flags!r} of hit {h.index} are not in 0..15")
        if len(h.factors) != out.search.factors or list(h.factors) != sorted(set(h.factors)):
            raise FormatError(f"hit {h.index} does not list {out.search.factors} distinct ascending factors")


def encode(out: LargeOutput) -> bytes:
    """The canonical bytes of a result."""
    _check(out)
    s = out.search
    lines = [FORMAT, f"search {s.family} {s.seed} {s.bits} {s.factors} {s.pool}",
             f"range {out.start} {out.count}"]
    lines.extend(f"block {d}" for d in out.blocks)
    lines.extend(" ".join(map(str, ("hit", h.index, h.flags, h.n, *h.factors))) for h in out.hits)
    return ("\n".join(lines) + "\n").encode("ascii")


def _int(token: str, what: str, max_digits: int = 1300) -> int:
    return canonical.decimal(token, what, max_digits, FormatError)


def decode(data: bytes, max_size: int = DEFAULT_MAX_SIZE) -> LargeOutput:
    """Parses canonical bytes; FormatError on anything encode() would not produce.
    Checks the form only: whether the hits are true is the checker's business."""
    lines = canonical.text_lines(data, max_size, FormatError)
    if len(lines) < 4 or lines[0] != FORMAT:
        raise FormatError(f"result does not start with the header {FORMAT!r}")
    head = lines[1].split(" ")
    if len(head) != 6 or head[0] != "search":
        raise FormatError(f"line 2 is not 'search <family> <seed> <bits> <factors> <pool>': {lines[1][:80]!r}")
    search = Search(family=head[1], seed=head[2], bits=_int(head[3], "bits", 5),
                    factors=_int(head[4], "factors", 5), pool=_int(head[5], "pool", 6))
    span = lines[2].split(" ")
    if len(span) != 3 or span[0] != "range":
        raise FormatError(f"line 3 is not 'range <start> <count>': {lines[2][:80]!r}")
    start, count = _int(span[1], "start", 19), _int(span[2], "count", 8)
    blocks, hits = [], []
    for number, line in enumerate(lines[3:], start=4):
        parts = line.split(" ")
        if parts[0] == "block" and len(parts) == 2 and not hits:
            blocks.append(parts[1])
        elif parts[0] == "hit" and len(parts) == 4 + search.factors:
            nums = [_int(t, "hit field") for t in parts[1:]]
            hits.append(Hit(index=nums[0], flags=nums[1], n=nums[2], factors=tuple(nums[3:])))
        else:
            raise FormatError(f"line {number} is not a block or hit line: {line[:80]!r}")
    out = LargeOutput(search=search, start=start, count=count, blocks=tuple(blocks), hits=tuple(hits))
    if encode(out) != data:
        raise FormatError("result is not in canonical form")
    return out


def digest(data: bytes) -> str:
    """sha256 of the canonical bytes, in hex: what replicas compare."""
    return hashlib.sha256(data).hexdigest()
