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
over the progression hits listed for the segment (a small filter, qflt, flags their
offsets mod 4096).

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
small prime. A segment is 2^21 odd numbers, 256 KB of bits (the second-level cache;
longer segments spread each array prime's per-segment work over more marks), or 2^22
where the sieving primes pass 2^21 and the buckets' work dominates. Far from
0 a segment starts as the OR of the periodic patterns of the primes 19..127 (their
multiples outside their progressions, presieve.h), whose progression hits are then
recorded on the numbers still alive. Such a hit on n = p m is strong only if m divides
2^(p-1) - 1 (a table of those factors), as a prime m must; every other one is weak: it
sets a third bit, weak, which makes n a candidate only together with another factor
it knows of (pseg, a small prime, a second weak hit), and the candidate test finds the
weak primes again by division. Primes below the segment length are sieved from arrays
(sieve_bits.h; those that cross a block sized to the first-level cache 32 times or more
a block at a time), larger ones from buckets (pending hits per segment, buckets.h).
ord_p(2) is tabulated for primes up to an order limit; a hit of a larger prime on a
number not yet ruled out is checked directly (2^(n-1) = 1 mod p), in batches
(order_check.h), and so are the cofactor refutations (cofactor.h). The sieving primes
come from a mod-30 wheel sieve (primegen.h); those above a pass hit it once at most and
are staged in one branch-free loop (first_hits.h); a segment is classified by
segment_scan.h.

Memory is bounded whatever the range: the range is cut into passes whose bucket
entries are expected to fit max_entries 4-byte slots (DEFAULT_MAX_ENTRIES = 2^25: at
most about 128 MB of buckets, plus 16 to 36 MB of tables, reported as table_bytes). An
entry is the prime and its hit's offset (8 bytes), or far from 0, where that halves the
passes, the prime alone (4 bytes; the hit is recomputed, a division). Fewer, longer
passes matter far from 0, where streaming the primes up to sqrt(b) dominates: passes are
grouped in pass-sets, whose first pass streams every sieving prime and lists each prime
above the pass length (it hits a pass at most once) under the later passes it hits,
about two bytes a prime (passlist.h, at most max_entries bytes); the later passes stream
only the primes up to the pass length. Short ranges far from 0, where sieving up to
sqrt(b) costs more than testing each number, are swept directly with trial division
and deterministic Miller-Rabin.

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

# Odd numbers per segment (a bit each); the name is older than the bits. Where the
# sieving primes pass the default segment (b past about 4.4 * 10^12), most of the work is
# the buckets' and the order checks': segments twice as long took 5% less time from 10^13
# on and 11% less near 2^63, against 1.6% more at 10^12 (see default_segment_bytes).
DEFAULT_SEGMENT_BYTES = 1 << 21
LARGE_SEGMENT_BYTES = 1 << 22
MIN_SEGMENT_BYTES = 1 << 16     # a short sweep's segment, at least (see default_segment_bytes)
DEFAULT_ORDER_LIMIT = 1 << 22
# Sieving primes below seg_bytes / DEFAULT_ARRAY_DIVISOR (at least 64) are sieved from
# arrays, larger ones from buckets (which handle several hits per segment).
DEFAULT_ARRAY_DIVISOR = 1
# sweep_blocks() counts at most this many blocks (one 8-byte counter each).
MAX_BLOCKS = 1 << 24

# Bucket memory of one sweep: at most about DEFAULT_MAX_ENTRIES entries of 4 bytes
# (128 MB), whatever the range; longer ranges take more passes.
DEFAULT_MAX_ENTRIES = 1 << 25

# Small-prime patterns already built, by (segment bytes, kill flags): see _build_small_pattern.
_PATTERN_CACHE = {}

# The sieving primes from 19 up to this limit are pre-sieved (see presieve.h) where the
# range starts past its square; 0 turns it off. Their patterns are grouped within
# PRESIEVE_GROUP_BITS bits; built patterns are kept in _PRESIEVE_CACHE, by limit.
DEFAULT_PRESIEVE_LIMIT = 127
PRESIEVE_GROUP_BITS = 1 << 16
_PRESIEVE_CACHE = {}

# The small primes read from the pattern, and its period in odd numbers.
_SMALL_PRIMES = (3, 5, 7, 11, 13, 17)
cdef enum:
    NSMALL = 6
    KPERIOD = 1021020
    FIRST_ARRAY_PRIME = 19
    BLOCK_N = 2044           # entries per bucket block (buckets.h)
    K_POISON = 0x80
    K_KILL = 0x40
    K_MASK = 0x3F
    CHUNK = 4096             # candidates tested, and order checks flushed, per batch
    NO_T = 255               # no 2-adic valuation known (see test_chunk)
    DEAD_STRIDE = (KPERIOD + 7) // 8
    QFLT_BITS = 4096         # filter of the bucket primes' progression hits (see _Sweep.qflt)
    STAGE = 1024             # hits staged (first_hits.h) before they are filed
    MAX_PRESIEVE = 64        # pre-sieved primes at most (see _Presieve)
    MAX_STRONG = 16          # distinct prime factors of 2^(p-1) - 1, p <= 127, at most
    SCAN_PIECE = 1 << 16     # odd numbers scanned for candidates at a time (see _Sweep.scan)
    PREFETCH_AHEAD = 8       # test_chunk asks for a candidate's pattern byte this far ahead
    SAVED_SPACING = 128      # p * M / 2 for every prime p >= 19 is at least this (155 for 31)
    EV_MAP_BITS = 14         # the progression products' first table: 2^14 slots (see ev_map.h)
    KEEP_HEAP_BELOW = 8 << 20  # see heap_tuning.h
    SMALL_BLOCK_CROSSINGS = 32  # array primes below a block's bits / this mark a segment
                                # a first-level cache block at a time (see L1_BLOCK_BITS)


cdef extern from "cache_size.h" nogil:
    uint64_t nw_l1d_bytes()


def _default_l1_block_bits():
    """Bits of the blocks in which the array primes below L1_BLOCK_BITS /
    SMALL_BLOCK_CROSSINGS (those that cross a block at least 32 times) mark a segment: the
    largest power of two of bytes at most the first-level data cache, 32 KB where the
    system does not tell its size. Measured (see the README): with a 32 KB cache, blocks
    of 32 KB against 16 and 64 KB; with a 48 KB cache, 32 KB blocks took 5% less time
    than 64 KB near 10^12."""
    cdef uint64_t l1 = nw_l1d_bytes(), block = 1 << 12
    if l1 == 0:
        l1 = 1 << 15
    while 2 * block <= l1 and block < (1 << 21):
        block *= 2
    return 8 * block


L1_BLOCK_BITS = _default_l1_block_bits()


cdef extern from "bitops.h" nogil:
    int nw_ctz64(uint64_t x)
    void nw_prefetch(const void *addr)
    void nw_prefetch_w(const void *addr)


cdef extern from "sieve_bits.h" nogil:
    uint64_t nw_mark_bits(uint8_t *b, uint64_t j, uint64_t p, uint64_t end)
    int nw_bit_test(const uint8_t *b, uint64_t j)
    void nw_bit_set(uint8_t *b, uint64_t j)
    void nw_bit_clear(uint8_t *b, uint64_t j)


cdef extern from "presieve.h" nogil:
    uint64_t NW_PRESIEVE_MIN_BITS
    void nw_presieve_add(uint64_t *buf, uint64_t nbits, uint32_t p, uint64_t half_pm)
    void nw_presieve_fill(uint64_t *seg, uint64_t nwords, const uint64_t *buf, uint64_t rep,
                          uint64_t o, int or_into)


cdef extern from "heap_tuning.h" nogil:
    int nw_keep_heap(int mmap_threshold)


cdef extern from "ev_map.h" nogil:
    ctypedef struct NwEvMap:
        uint64_t *slot
        uint32_t bits
        uint32_t n
    int nw_ev_init(NwEvMap *m, uint32_t bits)
    void nw_ev_free(NwEvMap *m)
    void nw_ev_clear(NwEvMap *m)
    void nw_ev_prefetch(const NwEvMap *m, uint32_t j, int write)
    uint32_t nw_ev_get(const NwEvMap *m, uint32_t j)
    int nw_ev_put(NwEvMap *m, uint32_t j, uint32_t v)
    void nw_ev_times(NwEvMap *m, uint32_t j, uint64_t p)


cdef extern from "first_hits.h" nogil:
    uint64_t nw_first_multiple(uint64_t p, uint64_t n0, double n0d)
    void nw_first_multiples(const uint32_t *ps, uint64_t n, uint64_t n0, double n0d,
                            uint64_t *out)
    void nw_stage_first_hits(const uint32_t *ps, uint64_t n, uint64_t n0, double n0d,
                             uint64_t plen, int listing, uint64_t list_above, uint64_t set_len,
                             uint64_t *st_h, uint32_t *st_p, uint64_t *nst, uint64_t *ls_h,
                             uint32_t *ls_p, uint64_t *nls)


cdef extern from "live_hits.h" nogil:
    uint64_t nw_keep_live_hits(uint8_t *seg, const uint8_t *deadbits, uint64_t stride,
                               uint64_t t0, uint64_t period, uint32_t *pj, uint32_t *pp,
                               uint64_t n)
    uint64_t nw_live_progression(uint8_t *seg, const uint8_t *deadbits, uint64_t *g,
                                 uint64_t *t, uint64_t period, uint64_t kperiod,
                                 uint64_t end, uint32_t *out)


cdef extern from "segment_scan.h" nogil:
    uint64_t nw_scan_bits(const uint64_t *seg, const uint64_t *prog, const uint64_t *weak,
                          const uint64_t *small,
                          const uint64_t *poison, const uint64_t *scand, uint64_t t0,
                          uint64_t j0, uint64_t j1, uint32_t *cand, uint64_t *ncand_out)




cdef extern from "buckets.h" nogil:
    ctypedef uint32_t Entry "nw_entry"   # the prime (its hit is recomputed per segment)
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


cdef struct ArrayPrime:
    uint32_t p          # an array prime (see _Sweep.setup_arrays)
    uint32_t j          # the offset of its next multiple from the segment's start
    uint64_t g          # the offset of its next progression hit


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


# Tables of the small primes, built once: the primes, p * lcm(2, ord_p 2), and per mask m
# of small primes their product, whether their orders of 2 disagree on the 2-adic
# valuation (mixed), that valuation (NO_T: none or mixed), and dead_for's table by p mod 8.
cdef uint32_t _SMALL_C[NSMALL]
cdef uint32_t _SMALL_PM[NSMALL]
cdef uint64_t _KPROD[64]
cdef uint8_t _KTWO[64]
cdef uint8_t _KMIXED[64]
cdef uint8_t _KDEAD[4][64]


def _init_small_tables():
    for i, p in enumerate(_SMALL_PRIMES):
        L = _order2(p)
        _SMALL_C[i] = p
        _SMALL_PM[i] = p * (L if L % 2 == 0 else 2 * L)
    for m in range(64):
        s = 1
        for i, p in enumerate(_SMALL_PRIMES):
            if m >> i & 1:
                s *= p
        _KPROD[m] = s
        twos = {_nu2(_order2(p)) for i, p in enumerate(_SMALL_PRIMES) if m >> i & 1}
        # a strong pseudoprime's prime factors q share the 2-adic valuation of ord_q(2)
        _KMIXED[m] = len(twos) > 1
        _KTWO[m] = twos.pop() if len(twos) == 1 else NO_T
        for c, tc in enumerate(_TWO_BY_CLASS):
            _KDEAD[c][m] = tc is not None and m != 0 and _KTWO[m] != tc


_init_small_tables()


cdef extern from "passlist.h" nogil:
    ctypedef struct PList "nw_plist":
        uint8_t *buf
        uint64_t len
        uint32_t last
    void nw_plist_init(PList *l)
    void nw_plist_free(PList *l)
    int nw_plist_push(PList *l, uint32_t p)
    uint32_t nw_plist_next(const uint8_t **pos, uint32_t last)


cdef extern from "cofactor.h" nogil:
    void nw_pow2_is_one_batch(const uint64_t *e, const uint64_t *m, uint64_t count,
                              uint8_t *is_one, uint32_t *idx)


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


# The rest of the kernel, one job a file (included in this order):
include "bpsw_testing.pxi"   # C pieces exposed for tests
include "bpsw_orders.pxi"    # order of 2, the shared order table
include "bpsw_presieve.pxi"  # the pre-sieve patterns of the smallest sieving primes
include "bpsw_sweep.pxi"     # the sieve sweep (_Sweep)
include "bpsw_direct.pxi"    # the direct method
include "bpsw_plan.pxi"      # the pass planner
include "bpsw_api.pxi"       # the Python-facing API
