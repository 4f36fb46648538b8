# cython: annotation_typing=False
"""BPSW-Hunter kernel: an exact sweep of [a, b) below 2^64 for primes and base-2
strong pseudoprimes, each pseudoprime also given the strong Lucas test.

Sieve mode. The odd numbers of the range are sieved in cache-sized segments. Every
sieving prime p <= sqrt(b) marks its odd multiples n >= p^2; the order filter says
such an n can be a base-2 strong pseudoprime only if ord_p(2) | n - 1, that is
n = p (mod p * lcm(2, ord_p 2)) ("n is in p's progression"). Each number has two
bits: seg, some prime hit it outside its progression (it is ruled out), and pseg, some
prime hit it inside (ev keeps that prime, or 0 when there were several). So every
prime sets seg at its multiples except at its own progression, which sets pseg: array
primes mark up to their next progression hit and step over it; bucket primes step
over the progression hits listed for the segment (qseg flags their offsets).

The primes 3..17 are not counted but read from one precomputed pattern (period
1,021,020) giving, per residue, whether a small prime rules n out and which small
primes divide it. That catches the commonest false candidates, n = s * q with s a
product of small primes and q a prime > sqrt(n): such n can only be a pseudoprime
if q | 2^(s-1) - 1, impossible when s * (2^(s-1) - 1) < n. Candidates with one
large prime p in its progression and no other factor below sqrt(n) are n = p * q
likewise, and are refuted by 2^(p-1) != 1 (mod q) before Miller-Rabin (or, for several
such primes, by their product).

A strong pseudoprime's prime factors q all share t = the 2-adic valuation of ord_q(2)
(a strong pseudoprime either has 2^d = 1, d the odd part of n - 1, modulo every q, or
2^(2^r d) = -1 modulo every q for one r). So the pattern rules out small primes that
disagree, a candidate must agree with its known factors (and t <= v2(n - 1), and the
cofactor m = 1 (mod 2^t)), and a large prime need not mark a number whose small
primes disagree with it, when p mod 8 gives t (p != 1 mod 8): a prime whose one hit in
a pass is such a number stays out of the buckets, and a hit of a prime of untabulated
order on one is not checked.

No bit set (and no small prime) is a prime, exactly: every composite has a prime
factor below its square root, and the marks left out above fall on numbers with a
small prime. A segment is 2^18 odd numbers, 32 KB of bits (the L1 data cache). Primes
below the segment length are sieved from arrays (sieve_bits.h), larger ones from
buckets (pending hits per segment, buckets.h). ord_p(2) is tabulated for primes up to
an order limit; a hit of a larger prime on a number not yet ruled out is checked
directly (2^(n-1) = 1 mod p), in batches (order_check.h), and so are the cofactor
refutations (cofactor.h). The sieving primes come from a mod-30 wheel
sieve (primegen.h); a segment is classified by segment_scan.h.

Memory is bounded whatever the range: the range is cut into passes whose bucket
entries are expected to fit max_entries (DEFAULT_MAX_ENTRIES = 2^24 entries of 8
bytes: at most about 128 MB of buckets, plus 7 to 12 MB of tables, reported as
table_bytes), and each pass streams its sieving primes afresh. Fewer, longer passes
matter far from 0, where streaming the primes up to sqrt(b) dominates. Short ranges
far from 0, where sieving up to sqrt(b) costs more than testing each number, are
swept directly with trial division and deterministic Miller-Rabin.

sweep_blocks() also counts the primes of each block of a fixed length within the same
pass: the scan of a segment is cut at block boundaries.
"""

from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, qsort, realloc
from libc.string cimport memcpy, memset

from cyext.mont cimport (
    NEWRAL_MULHI_PORTABLE,
    nw_inv64,
    nw_is_prime,
    nw_isqrt,
    nw_mont_one,
    nw_mont_pow2,
    nw_pow2_is_one32,
    nw_sprp2,
    nw_strong_lucas,
)

# Whether this build uses the portable 64x64->128 multiply (no unsigned __int128).
PORTABLE_MULHI = bool(NEWRAL_MULHI_PORTABLE)

cdef uint64_t U64_MAX = 0xFFFFFFFFFFFFFFFF
_TWO64 = 1 << 64

# Odd numbers per segment (a bit each); the name is older than the bits.
DEFAULT_SEGMENT_BYTES = 1 << 18
DEFAULT_ORDER_LIMIT = 1 << 22
# Sieving primes below seg_bytes / DEFAULT_ARRAY_DIVISOR (at least 64) are sieved from
# arrays, larger ones from buckets (which handle several hits per segment).
DEFAULT_ARRAY_DIVISOR = 1
# sweep_blocks() counts at most this many blocks (one 8-byte counter each).
MAX_BLOCKS = 1 << 24

# Bucket memory of one sweep: at most about DEFAULT_MAX_ENTRIES entries of 8 bytes
# (128 MB), whatever the range; longer ranges take more passes.
DEFAULT_MAX_ENTRIES = 1 << 24

# Small-prime patterns already built, by (segment bytes, kill flags): see _build_small_pattern.
_PATTERN_CACHE = {}

# The small primes read from the pattern, and its period in odd numbers.
_SMALL_PRIMES = (3, 5, 7, 11, 13, 17)
cdef enum:
    NSMALL = 6
    KPERIOD = 1021020
    FIRST_ARRAY_PRIME = 19
    BLOCK_N = 1022           # entries per bucket block (buckets.h)
    OFF_MASK = 0x00FFFFFF
    K_POISON = 0x80
    K_KILL = 0x40
    K_MASK = 0x3F
    CHUNK = 4096             # candidates tested, and order checks flushed, per batch
    NO_T = 255               # no 2-adic valuation known (see test_chunk)
    DEAD_STRIDE = (KPERIOD + 7) // 8

cdef uint32_t FLAG_CHECK = 0x80000000


cdef extern from "bitops.h" nogil:
    int nw_ctz64(uint64_t x)


cdef extern from "sieve_bits.h" nogil:
    uint64_t nw_mark_bits(uint8_t *b, uint64_t j, uint64_t p, uint64_t end)
    int nw_bit_test(const uint8_t *b, uint64_t j)
    void nw_bit_set(uint8_t *b, uint64_t j)
    void nw_bit_clear(uint8_t *b, uint64_t j)


cdef extern from "segment_scan.h" nogil:
    uint64_t nw_scan_bits(const uint64_t *seg, const uint64_t *prog, const uint64_t *small,
                          const uint64_t *poison, const uint64_t *scand, uint64_t t0,
                          uint64_t j0, uint64_t j1, uint32_t *cand, uint64_t *ncand_out)


cdef uint32_t _SMALL_C[NSMALL]
_SMALL_C[:] = [3, 5, 7, 11, 13, 17]


cdef extern from "buckets.h" nogil:
    ctypedef struct Entry "nw_entry":
        uint32_t stride   # index distance to the next hit (the prime)
        uint32_t info     # offset in the segment | FLAG_CHECK
    ctypedef struct Block "nw_block":
        Block *next
        Entry e[1]
    int NW_BLOCK_N
    Block *nw_block_alloc()
    void nw_block_release(Block *b)
    bint nw_tail_full(const Entry *t)
    Block *nw_block_of(const Entry *t)


cdef struct ProgHit:
    uint64_t idx
    uint64_t p


cdef struct Found:
    uint64_t n
    int lucas


cdef struct Blocks:
    uint64_t a          # start of block 0
    uint64_t size       # block length
    uint64_t n          # number of blocks; the last one takes everything past its start
    uint64_t *count     # primes per block


cdef int blocks_init(Blocks *B, uint64_t a, uint64_t size, uint64_t n) except -1:
    free(B.count)
    B.a = a
    B.size = size
    B.n = n
    B.count = <uint64_t *>calloc(n if n else 1, sizeof(uint64_t))
    if B.count == NULL:
        raise MemoryError()
    return 0


cdef inline uint64_t blocks_index(const Blocks *B, uint64_t n) noexcept nogil:
    """The block holding n >= B.a."""
    cdef uint64_t i = (n - B.a) // B.size
    return i if i < B.n else B.n - 1


cdef inline uint64_t blocks_odd_left(const Blocks *B, uint64_t n, uint64_t i) noexcept nogil:
    """How many of the odd numbers n, n + 2, ... (n odd, in block i) lie in block i."""
    cdef uint64_t to_end
    if i + 1 >= B.n:
        return U64_MAX
    to_end = B.size - ((n - B.a) - i * B.size)
    return (to_end + 1) >> 1


# ---------------------------------------------------------------- small helpers

def _order2(p):
    """ord_p(2) for a small odd prime p (pure Python, used for the pattern primes)."""
    k, x = 1, 2 % p
    while x != 1:
        x = x * 2 % p
        k += 1
    return k


def _nu2(x):
    """The 2-adic valuation of x > 0."""
    return (x & -x).bit_length() - 1


# The 2-adic valuation of ord_p(2) for an odd prime p by (p >> 1) & 3, that is p mod 8 =
# 1, 3, 5, 7: unknown for p = 1 (mod 8); else p - 1 = 2^e * odd with e = 2 for p = 5
# and e = 1 otherwise, and ord_p(2) | (p - 1) / 2 exactly when 2 is a square mod p
# (p = 7 mod 8).
_TWO_BY_CLASS = (None, 1, 2, 0)


def _alive_fraction():
    """The share of a large prime's hits that it must mark (see _Sweep.dead_for), on
    average over p mod 8: n is spared when no small prime q divides it, and otherwise
    only if every such q divides it in q's progression (a share 2/M_q of q's odd
    multiples, M_q = lcm(2, ord_q 2)) and their orders of 2 share the 2-adic valuation
    t that p needs; the small primes are independent (CRT)."""
    none = 1.0
    for q in _SMALL_PRIMES:
        none *= 1.0 - 1.0 / q

    def sharing(t):
        # no small prime divides n, or each one that does is in its progression with t
        share = 1.0
        for q in _SMALL_PRIMES:
            L = _order2(q)
            M = L if L % 2 == 0 else 2 * L
            share *= 1.0 - 1.0 / q + (2.0 / M / q if _nu2(L) == t else 0.0)
        return share

    ts = {_nu2(_order2(q)) for q in _SMALL_PRIMES}
    alive = [none + sum(sharing(t) - none for t in ts) if tc is None else sharing(tc)
             for tc in _TWO_BY_CLASS]
    return sum(alive) / len(alive)


_ALIVE = _alive_fraction()   # about 0.5


cdef extern from "cofactor.h" nogil:
    void nw_pow2_is_one_batch(const uint64_t *e, const uint64_t *m, uint64_t count,
                              uint8_t *is_one)


cdef extern from "order_check.h" nogil:
    void nw_order_checks(uint64_t n_lo, const uint32_t *j, const uint32_t *p, uint64_t count,
                         uint8_t *in_prog)


# ---------------------------------------------------------------- prime generator

cdef extern from "primegen.h" nogil:
    ctypedef struct nw_pgen:
        uint32_t *out
    int nw_pgen_setup()
    int nw_pgen_init(nw_pgen *g, uint64_t start, uint64_t stop)
    uint32_t nw_pgen_next(nw_pgen *g)
    void nw_pgen_free(nw_pgen *g)

ctypedef nw_pgen PrimeGen


cdef inline int gen_init(PrimeGen *g, uint64_t start, uint64_t stop) noexcept nogil:
    """Streams the odd primes in [start, stop], stop < 2^32, one block at a time."""
    return nw_pgen_init(g, start, stop)


cdef inline uint32_t gen_next(PrimeGen *g) noexcept nogil:
    """Sieves the next block; returns how many primes it put in g.out (0: done)."""
    return nw_pgen_next(g)


cdef inline void gen_free(PrimeGen *g) noexcept nogil:
    nw_pgen_free(g)


def _generate_primes(uint64_t start, uint64_t stop, int listing=True):
    """The odd primes in [start, stop] (stop < 2^32) from the streaming generator, as a
    list, or (count, sum, last) when not listing: for tests and benchmarks."""
    cdef PrimeGen g
    cdef uint32_t cnt, i
    cdef uint64_t total = 0, acc = 0, last = 0
    if stop >= (<uint64_t>1 << 32):
        raise ValueError("stop must be below 2**32")
    out = []
    if gen_init(&g, start, stop) != 0:
        gen_free(&g)
        raise MemoryError()
    try:
        while True:
            with nogil:
                cnt = gen_next(&g)
            if cnt == 0:
                break
            if listing:
                out.extend([g.out[i] for i in range(cnt)])
            for i in range(cnt):
                acc += g.out[i]
            total += cnt
            last = g.out[cnt - 1]
    finally:
        gen_free(&g)
    return out if listing else (total, acc, last)


def _order_checks(n_lo, js, ps):
    """[2^(n-1) = 1 (mod p) for n = n_lo + 2 j, p] through the batched C routine
    (odd primes p < 2^32, n_lo < 2^64 odd): for tests."""
    cdef Py_ssize_t k, count = len(js)
    cdef uint32_t *j = <uint32_t *>malloc((count + 1) * sizeof(uint32_t))
    cdef uint32_t *p = <uint32_t *>malloc((count + 1) * sizeof(uint32_t))
    cdef uint8_t *res = <uint8_t *>malloc(count + 1)
    try:
        if j == NULL or p == NULL or res == NULL:
            raise MemoryError()
        for k in range(count):
            j[k] = js[k]
            p[k] = ps[k]
        nw_order_checks(n_lo, j, p, count, res)
        return [bool(res[k]) for k in range(count)]
    finally:
        free(j)
        free(p)
        free(res)


def _pow2_is_one(es, ms):
    """[2^e = 1 (mod m)] for odd m > 1 through the batched C routine: for tests."""
    cdef Py_ssize_t k, count = len(es)
    cdef uint64_t *e = <uint64_t *>malloc((count + 1) * sizeof(uint64_t))
    cdef uint64_t *m = <uint64_t *>malloc((count + 1) * sizeof(uint64_t))
    cdef uint8_t *res = <uint8_t *>malloc(count + 1)
    try:
        if e == NULL or m == NULL or res == NULL:
            raise MemoryError()
        for k in range(count):
            e[k] = es[k]
            m[k] = ms[k]
        nw_pow2_is_one_batch(e, m, count, res)
        return [bool(res[k]) for k in range(count)]
    finally:
        free(e)
        free(m)
        free(res)


def _mark_bits(nbits, j, p, end):
    """(the bits set, the returned position) after nw_mark_bits on a cleared array of
    nbits bits: for tests."""
    cdef uint64_t nbytes = (nbits + 7) // 8 + 8, r, i
    cdef uint8_t *b = <uint8_t *>calloc(nbytes, 1)
    if b == NULL:
        raise MemoryError()
    try:
        r = nw_mark_bits(b, j, p, end)
        return [i for i in range(8 * nbytes) if nw_bit_test(b, i)], r
    finally:
        free(b)


def _scan_bits(seg, prog, small, poison, scand, uint64_t t0, uint64_t j0, uint64_t j1):
    """nw_scan_bits on bit lists given as Python ints (bit i = number i; the patterns are
    read from bit t0 on): (prime count, candidates): for tests."""
    cdef uint64_t nw = (max(j1, 1) + t0 + 63) // 64 + 3, ncand = 0, count, i
    cdef uint64_t *w = <uint64_t *>calloc(5 * nw, 8)
    cdef uint32_t *cand = <uint32_t *>malloc((j1 + 1) * sizeof(uint32_t))
    try:
        if w == NULL or cand == NULL:
            raise MemoryError()
        for k, x in enumerate((seg, prog, small, poison, scand)):
            for i in range(nw):
                w[k * nw + i] = (x >> (64 * i)) & 0xFFFFFFFFFFFFFFFF
        count = nw_scan_bits(w, w + nw, w + 2 * nw, w + 3 * nw, w + 4 * nw, t0, j0, j1,
                             cand, &ncand)
        return count, [cand[i] for i in range(ncand)]
    finally:
        free(w)
        free(cand)


# ---------------------------------------------------------------- order of 2

cdef uint16_t *_make_spf(uint64_t limit) noexcept nogil:
    """Smallest prime factor of each odd m < limit, at [(m - 1) / 2] (0 if m is prime)."""
    cdef uint64_t half = (limit + 1) >> 1, i, j, q
    cdef uint16_t *spf = <uint16_t *>calloc(half + 1, sizeof(uint16_t))
    if spf == NULL:
        return NULL
    i = 1
    while True:
        q = 2 * i + 1
        if q * q >= limit:
            break
        if spf[i] == 0:
            j = (q * q - 1) >> 1
            while j < half:
                if spf[j] == 0:
                    spf[j] = <uint16_t>q
                j += q
        i += 1
    return spf


cdef uint32_t _order_of_2(uint32_t p, const uint16_t *spf) noexcept nogil:
    """ord_p(2) for an odd prime p, factoring p - 1 with the table spf."""
    cdef uint32_t L = p - 1, o = p - 1, q
    while (o & 1) == 0:
        o >>= 1
    while (L & 1) == 0 and nw_pow2_is_one32(L >> 1, p):
        L >>= 1
    while o > 1:
        q = spf[(o - 1) >> 1]
        if q == 0:
            q = o
        while o % q == 0:
            o //= q
        while L % q == 0 and nw_pow2_is_one32(L // q, p):
            L //= q
    return L


# ord_p(2) for the odd primes p < _ord_filled, at [(p - 1) / 2] (0 for composites), shared
# by every sweep of the process: a short sweep (an audit's block) would otherwise spend most
# of its time on these orders. Filled in increasing order under the GIL only, so a sweep
# running without the GIL reads entries below the mark it saw at its start, which never
# change again.
cdef uint64_t ORDER_TABLE_LIMIT = 1 << 22
cdef uint32_t *_ord_table = NULL
cdef uint64_t _ord_filled = 0


cdef _ensure_orders(uint64_t limit):
    """Extends the shared order table to every odd prime below limit (at most
    ORDER_TABLE_LIMIT). Call with the GIL held."""
    global _ord_table, _ord_filled
    cdef uint64_t i
    cdef uint16_t *spf
    if limit > ORDER_TABLE_LIMIT:
        limit = ORDER_TABLE_LIMIT
    if limit <= _ord_filled:
        return
    if _ord_table == NULL:
        _ord_table = <uint32_t *>calloc(ORDER_TABLE_LIMIT >> 1, sizeof(uint32_t))
        if _ord_table == NULL:
            raise MemoryError("bpsw: no memory for the order table")
    spf = _make_spf(limit + 2)
    if spf == NULL:
        raise MemoryError("bpsw: no memory for the order table")
    for i in range(max(1, _ord_filled >> 1), limit >> 1):
        if spf[i] == 0:
            _ord_table[i] = _order_of_2(<uint32_t>(2 * i + 1), spf)
    free(spf)
    _ord_filled = limit & ~(<uint64_t>1)


# ---------------------------------------------------------------- the sweep

cdef int _cmp_prog(const void *x, const void *y) noexcept nogil:
    cdef uint64_t a = (<const ProgHit *>x).idx, b = (<const ProgHit *>y).idx
    return (a > b) - (a < b)


cdef class _Sweep:
    """State of one exact sweep of the odd numbers lo, lo + 2, ..., last."""

    cdef uint64_t lo, last, nidx
    cdef uint32_t S, log2S, array_limit
    cdef uint64_t ord_limit
    cdef const uint32_t *ord_table  # the shared order table, and the mark below which it is filled
    cdef uint64_t ord_filled
    # the segment, a bit per odd number: seg, some prime hit it outside its progression;
    # pseg, some prime hit it in its progression (its prime in ev, or 0 if several);
    # qseg, a bucket prime hit it in its progression (see sieve_segment)
    cdef uint8_t *seg
    cdef uint8_t *pseg
    cdef uint8_t *qseg
    cdef uint64_t *ev
    cdef uint8_t *saved          # bits of the segment at one array prime's progression hits
    # the small-prime pattern as bits, KPERIOD + S + 128 of each (see _build_small_pattern)
    cdef uint64_t *ksmall
    cdef uint64_t *kpoison
    cdef uint64_t *kcand
    cdef uint8_t *kpat           # small-prime pattern, KPERIOD + S bytes
    cdef uint8_t kdead[4][64]    # see dead_for
    cdef uint8_t *kdeadbits      # dead_for by p mod 8 and residue: 4 bit arrays of KPERIOD
    cdef uint64_t kprod[64]      # product of the small primes in a mask
    cdef uint8_t ktwo[64]        # their common 2-adic valuation of ord_q(2) (NO_T: none)
    cdef uint64_t s_kill         # s * (2^(s-1) - 1) < lo for every s <= s_kill
    # primes below the array limit: stride, progression stride, next offsets
    cdef uint32_t *ap
    cdef uint64_t *apm
    cdef uint64_t *am_off
    cdef uint64_t *ag_off
    cdef int na
    # orders of bucket primes, in the order the generator yields them
    cdef uint32_t *ord_cache
    cdef uint64_t ncache, cache_cap
    cdef uint16_t *spf
    # buckets of multiples, and the progression hits of bucket primes in this pass
    cdef Entry **heads           # per segment of the pass: its bucket's write position
    cdef uint64_t nheads
    cdef Block *free_blocks
    cdef uint64_t nblocks, peak_blocks
    cdef ProgHit *prog
    cdef uint64_t nprog, prog_cap, prog_pos
    cdef uint32_t *pend_j
    cdef uint32_t *pend_p
    cdef uint8_t *chk            # results of the batched order checks
    cdef uint8_t *cstate         # per candidate: what test_candidates does with it
    cdef uint64_t *cf_e          # batched cofactor refutations: exponents, moduli, results
    cdef uint64_t *cf_m
    cdef uint8_t *cf_one
    cdef uint32_t *cand
    # results
    cdef uint64_t prime_count
    cdef Blocks blocks           # per-block prime counts (blocks.n == 0: not wanted)
    cdef Found *found
    cdef uint64_t nfound, found_cap
    cdef uint64_t n_checks, n_candidates, n_mr
    cdef int failed

    def __cinit__(self):
        self.seg = NULL
        self.pseg = NULL
        self.qseg = NULL
        self.ksmall = NULL
        self.kpoison = NULL
        self.kdeadbits = NULL
        self.kcand = NULL
        self.ev = NULL
        self.saved = NULL
        self.kpat = NULL
        self.ap = NULL
        self.apm = NULL
        self.am_off = NULL
        self.ag_off = NULL
        self.ord_cache = NULL
        self.spf = NULL
        self.heads = NULL
        self.free_blocks = NULL
        self.prog = NULL
        self.pend_j = NULL
        self.pend_p = NULL
        self.chk = NULL
        self.cstate = NULL
        self.cf_e = NULL
        self.cf_m = NULL
        self.cf_one = NULL
        self.cand = NULL
        self.found = NULL
        self.blocks.count = NULL
        self.blocks.n = 0

    def __dealloc__(self):
        cdef Block *b
        free(self.blocks.count)
        free(self.seg)
        free(self.pseg)
        free(self.qseg)
        free(self.ksmall)
        free(self.kpoison)
        free(self.kdeadbits)
        free(self.kcand)
        free(self.ev)
        free(self.saved)
        free(self.kpat)
        free(self.ap)
        free(self.apm)
        free(self.am_off)
        free(self.ag_off)
        free(self.ord_cache)
        free(self.spf)
        self.free_heads()
        free(self.heads)
        while self.free_blocks != NULL:
            b = self.free_blocks
            self.free_blocks = b.next
            nw_block_release(b)
        free(self.prog)
        free(self.pend_j)
        free(self.pend_p)
        free(self.chk)
        free(self.cstate)
        free(self.cf_e)
        free(self.cf_m)
        free(self.cf_one)
        free(self.cand)
        free(self.found)

    def __init__(self, uint64_t lo, uint64_t last, uint32_t seg_bytes, uint64_t ord_limit,
                 uint64_t array_limit):
        self.lo = lo
        self.last = last
        self.nidx = ((last - lo) >> 1) + 1
        self.S = seg_bytes
        self.log2S = 0
        while (1u << self.log2S) < seg_bytes:
            self.log2S += 1
        self.array_limit = array_limit if array_limit > 64 else 64
        self.ord_limit = ord_limit
        # bits, in whole 64-bit words, with a spare word
        self.seg = <uint8_t *>malloc(self.seg_words() * 8)
        self.pseg = <uint8_t *>malloc(self.seg_words() * 8)
        self.qseg = <uint8_t *>malloc(self.seg_words() * 8)
        self.ksmall = <uint64_t *>calloc(self.pattern_words(), 8)
        self.kpoison = <uint64_t *>calloc(self.pattern_words(), 8)
        self.kdeadbits = <uint8_t *>calloc(4 * DEAD_STRIDE, 1)
        self.kcand = <uint64_t *>calloc(self.pattern_words(), 8)
        self.ev = <uint64_t *>malloc(seg_bytes * sizeof(uint64_t))
        # a progression hit every p * M / 2 >= 19 offsets
        self.saved = <uint8_t *>malloc(seg_bytes // 16 + 2)
        self.pend_j = <uint32_t *>malloc(CHUNK * sizeof(uint32_t))
        self.pend_p = <uint32_t *>malloc(CHUNK * sizeof(uint32_t))
        self.chk = <uint8_t *>malloc(CHUNK)
        self.cstate = <uint8_t *>malloc(CHUNK)
        self.cf_e = <uint64_t *>malloc(CHUNK * sizeof(uint64_t))
        self.cf_m = <uint64_t *>malloc(CHUNK * sizeof(uint64_t))
        self.cf_one = <uint8_t *>malloc(CHUNK)
        self.cand = <uint32_t *>malloc(seg_bytes * sizeof(uint32_t))
        self.kpat = <uint8_t *>malloc(KPERIOD + seg_bytes)
        if (self.seg == NULL or self.pseg == NULL or self.qseg == NULL or self.ksmall == NULL
                or self.kpoison == NULL or self.kdeadbits == NULL or self.kcand == NULL
                or self.ev == NULL or self.saved == NULL or self.pend_j == NULL or self.pend_p == NULL
                or self.cand == NULL or self.kpat == NULL or self.chk == NULL
                or self.cstate == NULL or self.cf_e == NULL or self.cf_m == NULL
                or self.cf_one == NULL):
            raise MemoryError()
        self._build_small_pattern()

    cdef inline uint64_t seg_words(self) noexcept nogil:
        return (self.S + 63) // 64 + 1

    cdef inline uint64_t pattern_words(self) noexcept nogil:
        return (KPERIOD + self.S + 127) // 64 + 1

    def _build_small_pattern(self):
        """Fills kpat: per odd n (at (n - 1) / 2 mod KPERIOD) K_POISON if a small prime
        divides n outside its progression, else the mask of small primes dividing n,
        with K_KILL if that product s is too small to be a pseudoprime's cofactor here."""
        cdef uint32_t mod_p[NSMALL]
        cdef uint32_t mod_pm[NSMALL]
        cdef uint32_t r[NSMALL]
        cdef uint32_t g[NSMALL]
        cdef uint8_t kill[64]
        cdef uint8_t mixed[64]
        cdef uint32_t t, i, total = KPERIOD + self.S
        cdef uint8_t mask, poison
        self.s_kill = 0
        while self.s_kill < 63 and (self.s_kill + 1) * ((1 << self.s_kill) - 1) < self.lo:
            self.s_kill += 1
        for i, p in enumerate(_SMALL_PRIMES):
            L = _order2(p)
            mod_p[i] = p
            mod_pm[i] = p * (L if L % 2 == 0 else 2 * L)
            r[i] = 1
            g[i] = 1
        for m in range(64):
            s = 1
            for i, p in enumerate(_SMALL_PRIMES):
                if m >> i & 1:
                    s *= p
            self.kprod[m] = s
            twos = {_nu2(_order2(p)) for i, p in enumerate(_SMALL_PRIMES) if m >> i & 1}
            # a strong pseudoprime's prime factors q share the 2-adic valuation of ord_q(2)
            mixed[m] = len(twos) > 1
            self.ktwo[m] = twos.pop() if len(twos) == 1 else NO_T
            for c, tc in enumerate(_TWO_BY_CLASS):
                self.kdead[c][m] = tc is not None and m != 0 and self.ktwo[m] != tc
            # n = s * q with q > 2^(s-1) - 1 for every n in the sweep
            kill[m] = m != 0 and s < 64 and s * ((1 << (s - 1)) - 1) < self.lo
        # The pattern and its bit arrays depend only on the segment size and which products
        # are too small; build them once per process for each (small audits sweep many
        # short ranges).
        key = (self.S, bytes([kill[m] for m in range(64)]))
        cached = _PATTERN_CACHE.get(key)
        if cached is not None:
            self._copy_pattern(cached)
            return
        with nogil:
            for t in range(total):
                mask = 0
                poison = 0
                for i in range(NSMALL):
                    if r[i] == 0:
                        if g[i] == mod_p[i]:
                            mask |= <uint8_t>(1 << i)
                        else:
                            poison = 1
                    r[i] += 2
                    if r[i] >= mod_p[i]:
                        r[i] -= mod_p[i]
                    g[i] += 2
                    if g[i] >= mod_pm[i]:
                        g[i] -= mod_pm[i]
                if poison or mixed[mask]:
                    self.kpat[t] = K_POISON
                elif kill[mask]:
                    self.kpat[t] = mask | K_KILL
                else:
                    self.kpat[t] = mask
        self._pattern_bits()
        words = self.pattern_words() * 8
        _PATTERN_CACHE[key] = (bytes(<uint8_t[:total]>self.kpat),
                               bytes(<uint8_t[:words]><uint8_t *>self.ksmall),
                               bytes(<uint8_t[:words]><uint8_t *>self.kpoison),
                               bytes(<uint8_t[:words]><uint8_t *>self.kcand),
                               bytes(<uint8_t[:4 * DEAD_STRIDE]>self.kdeadbits))

    cdef _copy_pattern(self, cached):
        """Fills the pattern and its bit arrays from the cache."""
        cdef const uint8_t[::1] pat = cached[0]
        cdef const uint8_t[::1] small = cached[1]
        cdef const uint8_t[::1] poison = cached[2]
        cdef const uint8_t[::1] cand = cached[3]
        cdef const uint8_t[::1] dead = cached[4]
        memcpy(self.kpat, &pat[0], pat.shape[0])
        memcpy(self.ksmall, &small[0], small.shape[0])
        memcpy(self.kpoison, &poison[0], poison.shape[0])
        memcpy(self.kcand, &cand[0], cand.shape[0])
        memcpy(self.kdeadbits, &dead[0], dead.shape[0])

    cdef void _pattern_bits(self) noexcept:
        """The pattern as three bit arrays read by the scan: ksmall (a small prime divides
        n), kpoison (K_POISON), kcand (a mask of small primes without K_KILL or K_POISON)."""
        cdef uint64_t t, nbits = (self.pattern_words() - 1) * 64, bit
        cdef uint8_t k
        cdef int c
        with nogil:
            # a compact copy of what start_pass reads at random (the pattern is 1 MB)
            for t in range(KPERIOD):
                for c in range(4):
                    if self.dead_for(2 * c + 1, self.kpat[t]):
                        self.kdeadbits[c * DEAD_STRIDE + (t >> 3)] |= <uint8_t>(1 << (t & 7))
            for t in range(nbits):
                k = self.kpat[t if t < KPERIOD + self.S else t - KPERIOD]
                bit = (<uint64_t>1) << (t & 63)
                if k != 0:
                    self.ksmall[t >> 6] |= bit
                if k & K_POISON:
                    self.kpoison[t >> 6] |= bit
                elif k != 0 and not (k & K_KILL):
                    self.kcand[t >> 6] |= bit

    # ------------------------------------------------------------ buckets

    cdef inline int push(self, uint64_t gidx, uint32_t stride, uint32_t flags) noexcept nogil:
        cdef uint64_t s = gidx >> self.log2S
        cdef Entry *t = self.heads[s]
        cdef Block *b
        if nw_tail_full(t):
            if self.free_blocks != NULL:
                b = self.free_blocks
                self.free_blocks = b.next
            else:
                b = nw_block_alloc()
                if b == NULL:
                    self.failed = 1
                    return -1
                self.nblocks += 1
                if self.nblocks > self.peak_blocks:
                    self.peak_blocks = self.nblocks
            b.next = nw_block_of(t) if t != NULL else NULL
            t = b.e
        t.stride = stride
        t.info = <uint32_t>(gidx & (self.S - 1)) | flags
        self.heads[s] = t + 1
        return 0

    cdef inline Block *take_bucket(self, uint64_t s, uint64_t *count) noexcept nogil:
        """Empties bucket s: returns its newest block (NULL if none), which holds count
        entries; every older block of the chain is full (NW_BLOCK_N entries)."""
        cdef Entry *t = self.heads[s]
        cdef Block *b
        self.heads[s] = NULL
        if t == NULL:
            count[0] = 0
            return NULL
        b = nw_block_of(t)
        count[0] = t - b.e
        return b

    cdef void free_heads(self) noexcept nogil:
        """Returns the blocks of every bucket of the pass to the free list."""
        cdef Block *b
        cdef Block *nb
        cdef uint64_t s = 0, count
        if self.heads == NULL:
            return
        while s < self.nheads:
            b = self.take_bucket(s, &count)
            while b != NULL:
                nb = b.next
                b.next = self.free_blocks
                self.free_blocks = b
                b = nb
            s += 1

    cdef int add_prog(self, uint64_t idx, uint64_t p) noexcept nogil:
        if self.nprog == self.prog_cap:
            self.prog_cap = 2 * self.prog_cap + 256
            self.prog = <ProgHit *>realloc(self.prog, self.prog_cap * sizeof(ProgHit))
            if self.prog == NULL:
                return -1
        self.prog[self.nprog].idx = idx
        self.prog[self.nprog].p = p
        self.nprog += 1
        return 0

    # ------------------------------------------------------------ setup

    cdef inline uint32_t order_of(self, uint32_t p) noexcept nogil:
        if p < self.ord_filled:
            return self.ord_table[(p - 1) >> 1]
        return _order_of_2(p, self.spf)

    cdef int setup_arrays(self, uint64_t sp_max) noexcept nogil:
        """Collects the array primes (from 19 up to the array limit) and their orders."""
        cdef PrimeGen g
        cdef uint32_t cnt, i, p, L, M
        cdef uint64_t limit = self.array_limit
        cdef int cap = 0
        if limit > sp_max + 1:
            limit = sp_max + 1
        self.na = 0
        self.am_off = <uint64_t *>malloc(8 * sizeof(uint64_t))
        self.ag_off = <uint64_t *>malloc(8 * sizeof(uint64_t))
        if self.am_off == NULL or self.ag_off == NULL:
            return -1
        if limit <= FIRST_ARRAY_PRIME:
            return 0
        if gen_init(&g, FIRST_ARRAY_PRIME, limit - 1) != 0:
            gen_free(&g)
            return -1
        while True:
            cnt = gen_next(&g)
            if cnt == 0:
                break
            if self.na + <int>cnt > cap:
                cap = 2 * (self.na + cnt)
                self.ap = <uint32_t *>realloc(self.ap, cap * sizeof(uint32_t))
                self.apm = <uint64_t *>realloc(self.apm, cap * sizeof(uint64_t))
                self.am_off = <uint64_t *>realloc(self.am_off, cap * sizeof(uint64_t))
                self.ag_off = <uint64_t *>realloc(self.ag_off, cap * sizeof(uint64_t))
                if self.ap == NULL or self.apm == NULL or self.am_off == NULL or self.ag_off == NULL:
                    gen_free(&g)
                    return -1
            for i in range(cnt):
                p = g.out[i]
                L = self.order_of(p)
                M = L if (L & 1) == 0 else 2 * L
                self.ap[self.na] = p
                self.apm[self.na] = (<uint64_t>p * M) >> 1
                self.na += 1
        gen_free(&g)
        return 0

    cdef inline uint64_t first_multiple(self, uint64_t p, uint64_t n0, double n0d) noexcept nogil:
        """Index (from odd n0, n0d = n0 as a double) of the first odd multiple of p that is
        >= max(p^2, n0). Written without unpredictable branches: called for every
        sieving prime in every pass."""
        cdef uint64_t s = p * p, r, q
        if s >= n0:
            return (s - n0) >> 1
        if p > 65535:
            # n0 mod p from a floating-point quotient (< 2^49), exact up to one step
            # either way for p >= 2^16 (n0 < 2^64 is rounded by at most 2^11)
            q = <uint64_t><int64_t>(n0d / <double><int64_t>p)
            r = n0 - q * p
            r += p & (0 - <uint64_t>(<int64_t>r < 0))
            r -= p & (0 - <uint64_t>(r >= p))
        else:
            r = n0 % p
        r = (p - r) & (0 - <uint64_t>(r != 0))   # distance to the next multiple
        r += p & (0 - (r & 1))                   # ... that is odd
        return r >> 1

    cdef inline uint64_t first_progression(self, uint64_t p, uint64_t half_pm, uint64_t n0,
                                           uint64_t last) noexcept nogil:
        """Index (from odd n0) of the first n >= max(p^2, n0) with n = p mod p*M, where
        half_pm = p*M/2; U64_MAX if there is none up to last."""
        cdef uint64_t pm = 2 * half_pm, start = p * p, r, d
        if start < n0:
            start = n0
        if start > last:
            return U64_MAX
        r = (start - p) % pm
        d = (pm - r) % pm
        if d > last - start:
            return U64_MAX
        return (start + d - n0) >> 1

    cdef int start_pass(self, uint64_t pidx0, uint64_t plen) noexcept nogil:
        """First hits of every sieving prime in the pass: array offsets, buckets, and the
        list of progression hits of bucket primes (sorted by index). A prime whose only
        hit in the pass falls on a number a small prime rules out is left out."""
        cdef uint64_t n0 = self.lo + 2 * pidx0
        cdef uint64_t nlast = n0 + 2 * (plen - 1)
        cdef uint64_t t0 = ((n0 - 1) >> 1) % KPERIOD, t   # n0 in the small-prime pattern
        cdef double n0d = <double>n0
        cdef uint64_t sp_max = nw_isqrt(nlast), idx, k, p, L, M, half_pm
        cdef uint32_t cnt, i
        cdef int a
        cdef PrimeGen g
        for a in range(self.na):
            p = self.ap[a]
            if p > sp_max:
                self.am_off[a] = U64_MAX
                self.ag_off[a] = U64_MAX
                continue
            self.am_off[a] = self.first_multiple(p, n0, n0d)
            self.ag_off[a] = self.first_progression(p, self.apm[a], n0, nlast)
        self.free_heads()
        free(self.heads)
        self.nheads = (plen + self.S - 1) >> self.log2S
        self.heads = <Entry **>calloc(self.nheads, sizeof(Entry *))
        if self.heads == NULL:
            return -1
        self.nprog = 0
        self.prog_pos = 0
        if self.array_limit > sp_max:
            return 0
        if gen_init(&g, self.array_limit, sp_max) != 0:
            gen_free(&g)
            return -1
        k = 0
        while True:
            cnt = gen_next(&g)
            if cnt == 0:
                break
            for i in range(cnt):
                p = g.out[i]
                L = 0
                if p <= self.ord_limit:
                    if k < self.ncache:
                        L = self.ord_cache[k]
                    else:
                        if self.ncache == self.cache_cap:
                            self.cache_cap = 2 * self.cache_cap + 1024
                            self.ord_cache = <uint32_t *>realloc(
                                self.ord_cache, self.cache_cap * sizeof(uint32_t))
                            if self.ord_cache == NULL:
                                gen_free(&g)
                                return -1
                        L = self.order_of(<uint32_t>p)
                        self.ord_cache[k] = <uint32_t>L
                        self.ncache += 1
                    k += 1
                idx = self.first_multiple(p, n0, n0d)
                if idx < plen:
                    t = (t0 + idx) % KPERIOD
                    if idx + p >= plen and (self.kdeadbits[((p >> 1) & 3) * DEAD_STRIDE + (t >> 3)]
                                            >> (t & 7)) & 1:
                        pass  # its one hit in the pass is on n that cannot be a pseudoprime
                    elif self.push(idx, <uint32_t>p, 0 if L else FLAG_CHECK) != 0:
                        gen_free(&g)
                        return -1
                    if L:
                        M = L if (L & 1) == 0 else 2 * L
                        half_pm = (p * M) >> 1
                        idx = self.first_progression(p, half_pm, n0, nlast)
                        while idx < plen:
                            if self.add_prog(idx, p) != 0:
                                gen_free(&g)
                                return -1
                            idx += half_pm
        gen_free(&g)
        qsort(self.prog, self.nprog, sizeof(ProgHit), _cmp_prog)
        return 0

    # ------------------------------------------------------------ one segment

    cdef inline bint dead_for(self, uint64_t p, uint8_t k) noexcept nogil:
        """Whether n, with pattern byte k, cannot be a pseudoprime if the prime p divides
        it: a small prime rules n out, or the 2-adic valuation of ord_p(2), which p mod 8
        gives unless p = 1 (mod 8), differs from that of the small primes dividing n.
        Such an n is not prime either (a small prime divides it), so p need not mark it."""
        return (k & K_POISON) != 0 or self.kdead[(p >> 1) & 3][k & K_MASK]

    cdef inline uint8_t two_of(self, uint64_t p) noexcept nogil:
        """The 2-adic valuation of ord_p(2) if p is a prime of the order table, else NO_T."""
        cdef uint32_t L
        if p < 3 or p >= self.ord_filled:
            return NO_T
        L = self.ord_table[(p - 1) >> 1]
        return <uint8_t>nw_ctz64(L) if L else NO_T

    cdef inline void prog_hit(self, uint64_t j, uint32_t p) noexcept nogil:
        """Records that p hits offset j in its progression: ev[j] is the product of those
        primes, or 0 if it overflows."""
        if nw_bit_test(self.pseg, j):
            self.ev[j] = self.ev[j] * p if self.ev[j] <= U64_MAX // p else 0
        else:
            nw_bit_set(self.pseg, j)
            self.ev[j] = p

    cdef bint in_prog(self, uint64_t lo, uint64_t hi, uint64_t idx, uint64_t p) noexcept nogil:
        """Whether (idx, p) is among the progression hits prog[lo:hi] (sorted by index)."""
        cdef uint64_t mid
        while lo < hi:
            mid = (lo + hi) >> 1
            if self.prog[mid].idx < idx:
                lo = mid + 1
            else:
                hi = mid
        while lo < self.nprog and self.prog[lo].idx == idx:
            if self.prog[lo].p == p:
                return True
            lo += 1
        return False

    cdef int sieve_segment(self, uint64_t pidx0, uint64_t plen, uint64_t s) noexcept nogil:
        """Sieves segment s of the pass, counts its primes and tests its candidates. Every
        prime sets seg at its multiples except those in its progression, which set pseg."""
        cdef uint64_t base = s << self.log2S
        cdef uint64_t length = plen - base
        cdef uint64_t n_lo = self.lo + 2 * (pidx0 + base)
        cdef uint64_t j, g, gnext, stride, end, npend = 0, ncand, nent, ie, prog0, nsaved
        cdef uint64_t period = 0
        cdef uint8_t *seg = self.seg
        cdef const uint8_t *kp
        cdef uint32_t info, p
        cdef int a
        cdef Block *b
        cdef Block *nb
        if length > self.S:
            length = self.S
        kp = self.kpat + ((n_lo - 1) >> 1) % KPERIOD
        memset(seg, 0, self.seg_words() * 8)
        memset(self.pseg, 0, self.seg_words() * 8)
        memset(self.qseg, 0, self.seg_words() * 8)
        # 1. progressions of bucket primes (their multiples below skip these offsets)
        end = base + length
        prog0 = self.prog_pos
        while self.prog_pos < self.nprog and self.prog[self.prog_pos].idx < end:
            j = self.prog[self.prog_pos].idx - base
            self.prog_hit(j, <uint32_t>self.prog[self.prog_pos].p)
            nw_bit_set(self.qseg, j)
            self.prog_pos += 1
        # 2. array primes: every multiple, then the bits at the progression hits are put
        # back as they were before (a progression repeats every M/2 multiples, often
        # fewer than eight: stopping the marking at each hit would cost more)
        for a in range(self.na):
            stride = self.ap[a]
            j = self.am_off[a]
            g = self.ag_off[a]
            nsaved = 0
            if g < length:
                period = self.apm[a]
                while g < length:
                    self.saved[nsaved] = <uint8_t>nw_bit_test(seg, g)
                    nsaved += 1
                    g += period
            j = nw_mark_bits(seg, j, stride, length)
            if nsaved:
                g = self.ag_off[a]
                for ie in range(nsaved):
                    if not self.saved[ie]:  # else ruled out already: nothing to record
                        nw_bit_clear(seg, g)
                        self.prog_hit(g, <uint32_t>stride)
                    g += period
            self.am_off[a] = j - self.S if j >= self.S else 0
            self.ag_off[a] = g - self.S if g >= self.S else 0
        # 3. bucket primes: multiples
        b = self.take_bucket(s, &nent)
        while b != NULL:
            for ie in range(nent):
                info = b.e[ie].info
                stride = b.e[ie].stride
                j = info & OFF_MASK
                # a prime below the segment length may hit this segment again
                if info & FLAG_CHECK:
                    while j < length:
                        if npend == CHUNK:
                            # early flush: a check may then see fewer marks than it could,
                            # which only costs a needless check, never a wrong bit
                            self.flush_checks(n_lo, npend, kp)
                            npend = 0
                        self.pend_j[npend] = <uint32_t>j
                        self.pend_p[npend] = <uint32_t>stride
                        npend += 1
                        j += stride
                else:
                    while j < length:
                        if not nw_bit_test(self.qseg, j) or not self.in_prog(
                                prog0, self.prog_pos, base + j, stride):
                            nw_bit_set(seg, j)
                        j += stride
                gnext = base + j
                if gnext < plen:
                    if self.push(gnext, <uint32_t>stride, info & FLAG_CHECK) != 0:
                        return -1
            nb = b.next
            b.next = self.free_blocks
            self.free_blocks = b
            b = nb
            nent = NW_BLOCK_N
        # 4. hits of primes whose order is not tabulated, once the rest is known
        self.flush_checks(n_lo, npend, kp)
        # 5. count primes, collect candidates
        ncand = self.scan(n_lo, length)
        if n_lo <= 17:
            self.fix_small_primes(n_lo, length, kp)
        return self.test_candidates(n_lo, ncand, kp)

    cdef void flush_checks(self, uint64_t n_lo, uint64_t npend, const uint8_t *kp) noexcept nogil:
        """Applies the pending hits of primes whose order is not tabulated: each hit on a
        number not yet ruled out is checked (in a batch), the others are dropped."""
        cdef uint64_t i, j, nkeep = 0
        for i in range(npend):
            j = self.pend_j[i]
            if nw_bit_test(self.seg, j):
                continue  # already ruled out; it is composite whatever p says
            if self.dead_for(self.pend_p[i], kp[j]):
                nw_bit_set(self.seg, j)  # not a pseudoprime whatever p says, nor prime
                continue
            self.pend_j[nkeep] = <uint32_t>j
            self.pend_p[nkeep] = self.pend_p[i]
            nkeep += 1
        self.n_checks += nkeep
        nw_order_checks(n_lo, self.pend_j, self.pend_p, nkeep, self.chk)
        for i in range(nkeep):
            j = self.pend_j[i]
            if self.chk[i]:
                self.prog_hit(j, self.pend_p[i])
            else:
                nw_bit_set(self.seg, j)

    cdef uint64_t scan(self, uint64_t n_lo, uint64_t length) noexcept nogil:
        """Adds the primes of the segment to the count (and to the count of each block
        it overlaps); returns the candidates in cand."""
        cdef uint64_t ncand = 0, j0 = 0, piece, c, bi
        cdef uint64_t t0 = ((n_lo - 1) >> 1) % KPERIOD
        cdef const uint64_t *sw = <const uint64_t *>self.seg
        cdef const uint64_t *pw = <const uint64_t *>self.pseg
        if self.blocks.n == 0:
            self.prime_count += nw_scan_bits(sw, pw, self.ksmall, self.kpoison, self.kcand, t0,
                                             0, length, self.cand, &ncand)
            return ncand
        while j0 < length:
            bi = blocks_index(&self.blocks, n_lo + 2 * j0)
            piece = blocks_odd_left(&self.blocks, n_lo + 2 * j0, bi)
            if piece > length - j0:
                piece = length - j0
            c = nw_scan_bits(sw, pw, self.ksmall, self.kpoison, self.kcand, t0,
                             j0, j0 + piece, self.cand, &ncand)
            self.prime_count += c
            self.blocks.count[bi] += c
            j0 += piece
        return ncand

    def set_blocks(self, a, block, nblocks):
        """Counts the primes of each block [a + i*block, a + (i+1)*block) as well."""
        blocks_init(&self.blocks, a, block, nblocks)

    cdef inline void add_prime(self, uint64_t n) noexcept nogil:
        self.prime_count += 1
        if self.blocks.n:
            self.blocks.count[blocks_index(&self.blocks, n)] += 1

    cdef void fix_small_primes(self, uint64_t n_lo, uint64_t length, const uint8_t *kp) noexcept nogil:
        """The small primes themselves match their own pattern; count those the scan
        classed as ruled out (the candidates among them are counted in test_candidates)."""
        cdef uint64_t q, j
        cdef int i
        for i in range(NSMALL):
            q = _SMALL_C[i]
            if q >= n_lo and q < n_lo + 2 * length:
                j = (q - n_lo) >> 1
                if not (nw_bit_test(self.seg, j) or nw_bit_test(self.pseg, j)) and (kp[j] & K_KILL):
                    self.add_prime(q)

    cdef int test_candidates(self, uint64_t n_lo, uint64_t ncand, const uint8_t *kp) noexcept nogil:
        """Refutes what it can of the candidates, then runs Miller-Rabin on the rest, in
        ascending order, CHUNK at a time."""
        cdef uint64_t i = 0
        while i < ncand:
            if self.test_chunk(n_lo, self.cand + i, ncand - i if ncand - i < CHUNK else CHUNK,
                               kp) != 0:
                return -1
            i += CHUNK
        return 0

    cdef int test_chunk(self, uint64_t n_lo, const uint32_t *cand, uint64_t ncand,
                        const uint8_t *kp) noexcept nogil:
        """test_candidates() of at most CHUNK candidates. Cofactor refutations are batched
        (see cofactor.h)."""
        cdef uint64_t i, j, n, s, m, p, nbatch = 0
        cdef uint8_t k, t, tp
        cdef uint8_t *todo = self.cstate   # per candidate: 0 drop, 1 Miller-Rabin, 2 batch
        for i in range(ncand):
            j = cand[i]
            k = kp[j]
            n = n_lo + 2 * j
            self.n_candidates += 1
            todo[i] = 0
            s = self.kprod[k & K_MASK]
            # t: the 2-adic valuation of ord_q(2) for the known prime factors q of n, which
            # every prime factor of a strong pseudoprime shares (NO_T: unknown)
            t = self.ktwo[k & K_MASK]
            if not nw_bit_test(self.pseg, j):
                pass  # no sieving prime hit n: n = s * m, m prime or 1 (or n has a square factor)
            else:
                # n = s * m, s the product of the primes that hit n (in their
                # progressions), m prime or 1 (or n has a square factor)
                p = self.ev[j]
                tp = self.two_of(p)
                if tp != NO_T:  # p is one prime (below 2^32; s below 2^18)
                    if t != NO_T and t != tp:
                        continue  # two prime factors disagree
                    t = tp
                    s = 0 if p == 1093 or p == 3511 else s * p
                elif p == 0 or (p >> 40) or p % 1093 == 0 or p % 3511 == 0:
                    s = 0  # no shortcut (the square of a Wieferich prime may divide n)
                else:
                    s *= p
            if t != NO_T and nw_ctz64(n - 1) < t:
                continue  # ord_q(2) | n - 1 is impossible
            if s and s <= self.s_kill:
                continue  # n = s * q with q > 2^(s-1) - 1: q cannot divide 2^(s-1) - 1
            if s:
                m = n * nw_inv64(s)  # s is odd and divides n: the exact quotient
                if m == 1:
                    if n <= 17:
                        self.add_prime(n)  # one of the pattern primes itself
                        continue
                elif s - 1 < 64 and ((<uint64_t>1 << (s - 1)) - 1) < m:
                    continue  # the prime m cannot divide 2^(s-1) - 1
                else:
                    # m is prime or shares a non-Wieferich prime with s: n is refuted
                    # unless 2^(s-1) = 1 (mod m), as the prime m needs ord_m(2) | s - 1;
                    # and ord_m(2) | m - 1 with 2-adic valuation t
                    if t != NO_T and (nw_ctz64(s - 1) < t or (m - 1) & ((<uint64_t>1 << t) - 1)):
                        continue
                    self.cf_e[nbatch] = s - 1
                    self.cf_m[nbatch] = m
                    nbatch += 1
                    todo[i] = 2
                    continue
            todo[i] = 1
        nw_pow2_is_one_batch(self.cf_e, self.cf_m, nbatch, self.cf_one)
        nbatch = 0
        for i in range(ncand):
            if todo[i] == 0:
                continue
            if todo[i] == 2:
                nbatch += 1
                if not self.cf_one[nbatch - 1]:
                    continue
            n = n_lo + 2 * <uint64_t>cand[i]
            self.n_mr += 1
            if nw_sprp2(n):
                if self.add_found(n) != 0:
                    return -1
        return 0

    cdef int add_found(self, uint64_t n) noexcept nogil:
        if self.nfound == self.found_cap:
            self.found_cap = 2 * self.found_cap + 64
            self.found = <Found *>realloc(self.found, self.found_cap * sizeof(Found))
            if self.found == NULL:
                return -1
        self.found[self.nfound].n = n
        self.found[self.nfound].lucas = nw_strong_lucas(n)
        self.nfound += 1
        return 0

    # ------------------------------------------------------------ driver

    cdef int run(self, uint64_t pass_len) noexcept nogil:
        cdef uint64_t sp_max = nw_isqrt(self.last), spf_limit, pidx0 = 0, plen, s
        # orders are needed for every array prime and bucket primes up to ord_limit
        spf_limit = self.ord_limit if self.ord_limit > self.array_limit else self.array_limit
        if spf_limit > sp_max:
            spf_limit = sp_max
        self.spf = _make_spf(spf_limit + 2)
        if self.spf == NULL:
            return -1
        if self.setup_arrays(sp_max) != 0:
            return -1
        while pidx0 < self.nidx:
            plen = self.nidx - pidx0
            if plen > pass_len:
                plen = pass_len
            if self.start_pass(pidx0, plen) != 0 or self.failed:
                return -1
            for s in range(self.nheads):
                if self.sieve_segment(pidx0, plen, s) != 0 or self.failed:
                    return -1
            pidx0 += plen
        return 0

    cdef uint64_t table_bytes(self):
        """Bytes of the sweep's own tables besides the buckets (the order table shared by
        every sweep, 8 MB at most, not counted)."""
        cdef uint64_t spf_limit = self.ord_limit if self.ord_limit > self.array_limit else self.array_limit
        if spf_limit > nw_isqrt(self.last):
            spf_limit = nw_isqrt(self.last)
        return (3 * self.seg_words() * 8 + 3 * self.pattern_words() * 8 + KPERIOD + self.S
                + self.S * (sizeof(uint64_t) + sizeof(uint32_t)) + self.S // 16
                + CHUNK * (2 * sizeof(uint32_t) + 2 * sizeof(uint64_t) + 3)
                + (spf_limit + 4) // 2 * sizeof(uint16_t) + self.cache_cap * sizeof(uint32_t)
                + self.na * (sizeof(uint32_t) + 3 * sizeof(uint64_t))
                + self.nheads * sizeof(Entry *) + self.prog_cap * sizeof(ProgHit))

    def execute(self, uint64_t pass_len):
        cdef int rc
        cdef uint64_t need = self.ord_limit if self.ord_limit > self.array_limit else self.array_limit
        if need > nw_isqrt(self.last):
            need = nw_isqrt(self.last)
        _ensure_orders(need + 1)
        self.ord_table = _ord_table
        self.ord_filled = _ord_filled
        with nogil:
            rc = self.run(pass_len)
        if rc != 0:
            raise MemoryError("bpsw sweep: out of memory")
        found = [(self.found[i].n, bool(self.found[i].lucas)) for i in range(self.nfound)]
        stats = {
            "passes": -(-<object>self.nidx // <object>pass_len),
            "pass_len": pass_len,
            "peak_bucket_bytes": self.peak_blocks * sizeof(Block),
            "table_bytes": self.table_bytes(),
            "order_checks": self.n_checks,
            "candidates": self.n_candidates,
            "miller_rabin": self.n_mr,
            "array_primes": self.na,
            "cached_orders": self.ncache,
        }
        counts = [self.blocks.count[i] for i in range(self.blocks.n)]
        return self.prime_count, found, stats, counts


# Tables shared by every sweep, built once under the GIL (sweeps run without it).
if nw_pgen_setup() != 0:
    raise MemoryError()


# ---------------------------------------------------------------- direct mode

cdef uint32_t _DIRECT_PRIMES[15]
cdef uint64_t _DIRECT_MOD[15]   # p * lcm(2, ord_p 2)


def _init_direct():
    for i, p in enumerate((3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53)):
        L = _order2(p)
        _DIRECT_PRIMES[i] = p
        _DIRECT_MOD[i] = p * (L if L % 2 == 0 else 2 * L)


_init_direct()


cdef int _direct(uint64_t lo, uint64_t last, uint64_t *count, Found **found,
                 uint64_t *nfound, Blocks *blocks) noexcept nogil:
    """Tests each odd n in [lo, last] on its own (for short ranges)."""
    cdef uint64_t n = lo, cap = 0
    cdef int k, out
    while True:
        out = 0
        for k in range(15):
            if n % _DIRECT_PRIMES[k] == 0 and n != _DIRECT_PRIMES[k]:
                if (n - _DIRECT_PRIMES[k]) % _DIRECT_MOD[k] != 0:
                    out = 1  # composite, and the order filter rules it out
                    break
        if not out and nw_sprp2(n):
            if nw_is_prime(n):
                count[0] += 1
                if blocks.n:
                    blocks.count[blocks_index(blocks, n)] += 1
            else:
                if nfound[0] == cap:
                    cap = 2 * cap + 16
                    found[0] = <Found *>realloc(found[0], cap * sizeof(Found))
                    if found[0] == NULL:
                        return -1
                found[0][nfound[0]].n = n
                found[0][nfound[0]].lucas = nw_strong_lucas(n)
                nfound[0] += 1
        if last - n < 2:
            break
        n += 2
    return 0


def _sweep_direct(uint64_t lo, uint64_t last, blocks=None):
    """(count, pseudoprimes, per-block counts or []) of the odd n in [lo, last];
    blocks = (a, block length, number of blocks) or None."""
    cdef uint64_t count = 0, nfound = 0
    cdef Found *found = NULL
    cdef Blocks B
    cdef int rc
    B.n = 0
    B.count = NULL
    if blocks is not None:
        blocks_init(&B, blocks[0], blocks[1], blocks[2])
    try:
        with nogil:
            rc = _direct(lo, last, &count, &found, &nfound, &B)
        if rc != 0:
            raise MemoryError("bpsw sweep: out of memory")
        return (count, [(found[i].n, bool(found[i].lucas)) for i in range(nfound)],
                [B.count[i] for i in range(B.n)])
    finally:
        free(found)
        free(B.count)


# ---------------------------------------------------------------- public API

def _check_range(a, b):
    if not isinstance(a, int) or not isinstance(b, int) or isinstance(a, bool) or isinstance(b, bool):
        raise TypeError(f"sweep bounds must be integers, got {type(a).__name__} and {type(b).__name__}")
    if a < 0:
        raise ValueError(f"sweep start must be >= 0, got {a}")
    if b > _TWO64:
        raise ValueError(f"sweep end must be <= 2**64, got {b}")
    if a > b:
        raise ValueError(f"sweep start {a} is greater than its end {b}")


def _check_n(n):
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"n must be an integer, got {type(n).__name__}")
    if n < 0 or n >= _TWO64:
        raise ValueError(f"n must satisfy 0 <= n < 2**64, got {n}")


def _estimate_pi(double x):
    import math
    if x < 3:
        return 1.0
    return x / (math.log(x) - 1.0)


def _pass_length(nidx, sp_max, seg_bytes, max_entries):
    """Longest pass (in odd numbers, a multiple of the segment, at most 2**31) whose bucket
    entries are expected to fit max_entries, counting the partly filled block of each
    bucket in use."""
    import math
    log_sp = math.log(max(sp_max, 3))

    def entries(plen):
        # every prime below the pass length has one pending hit; a larger prime p one
        # with probability plen / p, kept unless a small prime rules the number out
        x = float(min(plen, sp_max))
        est = _estimate_pi(x)
        if sp_max > plen:
            est += plen * math.log(log_sp / math.log(plen)) * _ALIVE
        # a prime's next hit is at most sp_max odd numbers ahead: the buckets holding
        # entries at any moment span at most that many segments
        return est + (min(plen, sp_max) // seg_bytes + 2) * BLOCK_N

    lo, hi = 1, max(1, min(-(-nidx // seg_bytes), (1 << 31) // seg_bytes))
    while lo < hi:  # the largest number of segments that fits (at least one)
        mid = (lo + hi + 1) // 2
        if entries(mid * seg_bytes) <= max_entries:
            lo = mid
        else:
            hi = mid - 1
    # spread the range evenly over the passes it needs
    passes = -(-nidx // (lo * seg_bytes))
    return -(-nidx // (passes * seg_bytes)) * seg_bytes


def _check_block(block):
    if not isinstance(block, int) or isinstance(block, bool):
        raise TypeError(f"block length must be an integer, got {type(block).__name__}")
    if block < 1:
        raise ValueError(f"block length must be >= 1, got {block}")


def _block_layout(a, b, block):
    """(block length as the kernel stores it, number of blocks) of [a, b)."""
    nblocks = -(-(b - a) // block)
    if nblocks > MAX_BLOCKS:
        raise ValueError(f"block length {block} cuts [a, b) into {nblocks} blocks; at most "
                         f"{MAX_BLOCKS} are allowed")
    # a block at least as long as the range is the whole range; keep the length in 64 bits
    return min(block, U64_MAX), nblocks


def _sweep_impl(a, b, *, method="auto", seg_bytes=DEFAULT_SEGMENT_BYTES,
                ord_limit=DEFAULT_ORDER_LIMIT, max_entries=DEFAULT_MAX_ENTRIES, pass_len=None,
                array_limit=None, block=None):
    """sweep() with its tuning knobs exposed (for tests and benchmarks); returns
    (prime count, pseudoprimes, statistics). With block, statistics["block_counts"] holds
    the prime count of each block [a + i*block, min(a + (i+1)*block, b)), counted in the
    same pass."""
    _check_range(a, b)
    if block is not None:
        _check_block(block)
    if seg_bytes < 16 or seg_bytes > (1 << 24) or seg_bytes & (seg_bytes - 1):
        raise ValueError("seg_bytes must be a power of two between 16 and 2**24")
    blocks = None
    counts = []
    if block is not None:
        size, nblocks = _block_layout(a, b, block)
        counts = [0] * nblocks
        blocks = (a, size, nblocks) if nblocks else None
    count = 0
    if a <= 2 < b:
        count = 1
        if blocks is not None:
            counts[min((2 - a) // block, nblocks - 1)] += 1
    lo = max(a, 3) | 1
    last = b - 1
    if last % 2 == 0:
        last -= 1
    if lo > last:
        stats = {"method": "empty"}
    else:
        nidx = (last - lo) // 2 + 1
        sp_max = _isqrt(last)
        if method == "auto":
            # sieving costs ~10 ns per sieving prime per pass; testing ~150 ns per number
            method = "direct" if nidx * 15 < _estimate_pi(sp_max) or nidx < 64 else "sieve"
        if method == "direct":
            c, found, part = _sweep_direct(lo, last, blocks)
            stats = {"method": "direct"}
        elif method == "sieve":
            if pass_len is None:
                pass_len = _pass_length(nidx, sp_max, seg_bytes, max_entries)
            elif pass_len % seg_bytes or pass_len <= 0 or pass_len > (1 << 31):
                raise ValueError("pass_len must be a positive multiple of seg_bytes, at most 2**31")
            if array_limit is None:
                array_limit = max(64, seg_bytes // DEFAULT_ARRAY_DIVISOR)
            elif not 1 <= array_limit <= (1 << 24):
                raise ValueError("array_limit must be between 1 and 2**24")
            sw = _Sweep(lo, last, seg_bytes, ord_limit, array_limit)
            if blocks is not None:
                sw.set_blocks(*blocks)
            c, found, stats, part = sw.execute(pass_len)
            stats["method"] = "sieve"
        else:
            raise ValueError(f"unknown method {method!r}")
        count += c
        for i, k in enumerate(part):
            counts[i] += k
    if block is not None:
        if sum(counts) != count:  # cheap internal consistency check
            raise RuntimeError("bpsw sweep: block counts do not add up to the prime count")
        stats["block_counts"] = counts
    return count, ([] if lo > last else found), stats


def _isqrt(n):
    import math
    return math.isqrt(n)


def sweep(a, b):
    """sweep(a: int, b: int) -> tuple[int, list[tuple[int, bool]]]

    Exact sweep of [a, b), 0 <= a <= b <= 2**64: returns (number of primes in [a, b),
    [(n, passes_strong_lucas) for every base-2 strong pseudoprime n in [a, b), ascending])."""
    count, found, _ = _sweep_impl(a, b)
    return count, found


def sweep_blocks(a, b, block):
    """sweep_blocks(a: int, b: int, block: int) -> tuple[list[int], list[tuple[int, bool]]]

    The sweep of [a, b) with its prime count split by blocks: returns ([c_0, c_1, ...],
    pseudoprimes), c_i the number of primes in [a + i*block, min(a + (i+1)*block, b)) for
    i = 0 .. ceil((b - a) / block) - 1, and the pseudoprimes exactly as sweep(a, b) lists
    them; sum(c_i) == sweep(a, b)[0]. One pass over the range, about the cost of sweep().
    block >= 1 and at most MAX_BLOCKS blocks; the range checks are those of sweep()."""
    _check_range(a, b)
    _check_block(block)
    _, found, stats = _sweep_impl(a, b, block=block)
    return stats["block_counts"], found


def is_sprp2(n):
    """Whether n passes Miller-Rabin to base 2 (is a base-2 strong probable prime), n < 2**64."""
    _check_n(n)
    if n < 2:
        return False
    if n == 2:
        return True
    if n % 2 == 0:
        return False
    return bool(nw_sprp2(n))


def is_strong_lucas(n):
    """Whether n passes the strong Lucas test with Selfridge's parameters (method A), n < 2**64."""
    _check_n(n)
    if n < 2:
        return False
    if n == 2:
        return True
    if n % 2 == 0:
        return False
    return bool(nw_strong_lucas(n))


def is_prime(n):
    """Deterministic primality for n < 2**64 (Miller-Rabin with Sinclair's seven bases)."""
    _check_n(n)
    return bool(nw_is_prime(n))
