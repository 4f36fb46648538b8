# cython: annotation_typing=False
"""BPSW-Hunter kernel: an exact sweep of [a, b) below 2^64 for primes and base-2
strong pseudoprimes, each pseudoprime also given the strong Lucas test.

Sieve mode. The odd numbers of the range are sieved in cache-sized segments. Every
sieving prime p <= sqrt(b) marks its odd multiples n >= p^2; the order filter says
such an n can be a base-2 strong pseudoprime only if ord_p(2) | n - 1, that is
n = p (mod p * lcm(2, ord_p 2)) ("n is in p's progression"). Each number has a byte
holding two 4-bit counters: low = primes that hit it outside their progression (it
is ruled out), high = primes that hit it inside. The multiples of p add 1, the
progression adds 15 more (so 16 = one in the high counter); byte arithmetic is exact
because a number below 2^64 has at most 15 prime factors >= 19.

The primes 3..17 are not counted but read from one precomputed pattern (period
1,021,020) giving, per residue, whether a small prime rules n out and which small
primes divide it. That catches the commonest false candidates, n = s * q with s a
product of small primes and q a prime > sqrt(n): such n can only be a pseudoprime
if q | 2^(s-1) - 1, impossible when s * (2^(s-1) - 1) < n. Candidates with one
large prime p in its progression and no other factor below sqrt(n) are n = p * q
likewise, and are refuted by 2^(p-1) != 1 (mod q) before Miller-Rabin.

A byte of 0 (and no small prime) is a prime, exactly: every composite has a prime
factor below its square root. Primes below the segment size are sieved from arrays,
larger ones from buckets (a list of pending hits per segment). ord_p(2) is tabulated
for primes up to an order limit; a hit of a larger prime on a number not yet ruled
out is checked directly (2^(n-1) = 1 mod p). Memory is bounded whatever the range:
the range is cut into passes whose bucket entries fit a fixed budget, and each pass
streams its sieving primes afresh. Short ranges far from 0, where sieving up to
sqrt(b) costs more than testing each number, are swept directly with trial division
and deterministic Miller-Rabin.
"""

from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
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

DEFAULT_SEGMENT_BYTES = 1 << 15
DEFAULT_ORDER_LIMIT = 1 << 22
DEFAULT_MAX_ENTRIES = 1 << 22

# The small primes read from the pattern, and its period in odd numbers.
_SMALL_PRIMES = (3, 5, 7, 11, 13, 17)
cdef enum:
    NSMALL = 6
    KPERIOD = 1021020
    FIRST_ARRAY_PRIME = 19
    BLOCK_N = 1020
    NBASE_MAX = 6600
    OFF_MASK = 0x00FFFFFF
    K_POISON = 0x80
    K_KILL = 0x40
    K_MASK = 0x3F

cdef uint32_t FLAG_CHECK = 0x80000000


cdef extern from *:
    """
    /* Classifies a sieved segment: counts the primes (sieve byte and small-prime
     * pattern byte both 0) and lists the candidates (no prime rules n out, and n is
     * not a killable small cofactor times a prime). SSE2 where available. */
    #include <stdint.h>
    #if defined(__SSE2__) || defined(_M_X64)
    #include <emmintrin.h>
    #define NW_SCAN_SSE2 1
    #endif
    static inline int nw_is_cand(uint8_t v, uint8_t k)
    {
        if ((v & 0x0F) | (k & 0x80))
            return 0;
        return v != 0 || (k != 0 && k < 0x40);
    }
    static uint64_t nw_scan(const uint8_t *seg, const uint8_t *kp, uint64_t length,
                            uint32_t *cand, uint64_t *ncand_out)
    {
        uint64_t count = 0, ncand = 0, i = 0;
    #ifdef NW_SCAN_SSE2
        const __m128i zero = _mm_setzero_si128();
        const __m128i lo4 = _mm_set1_epi8(0x0F), hi1 = _mm_set1_epi8((char)0x80);
        const __m128i b6 = _mm_set1_epi8(0x40), lo6 = _mm_set1_epi8(0x3F);
        while (i + 16 <= length) {
            __m128i acc = zero;
            uint64_t stop = i + 16 * 255;
            if (stop > (length & ~(uint64_t)15))
                stop = length & ~(uint64_t)15;
            for (; i < stop; i += 16) {
                __m128i v = _mm_loadu_si128((const __m128i *)(seg + i));
                __m128i k = _mm_loadu_si128((const __m128i *)(kp + i));
                acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_or_si128(v, k), zero));
                __m128i y = _mm_or_si128(_mm_and_si128(v, lo4), _mm_and_si128(k, hi1));
                __m128i killed = _mm_cmpeq_epi8(_mm_and_si128(k, b6), b6);
                __m128i w = _mm_or_si128(v, _mm_andnot_si128(killed, _mm_and_si128(k, lo6)));
                __m128i c = _mm_andnot_si128(_mm_cmpeq_epi8(w, zero), _mm_cmpeq_epi8(y, zero));
                unsigned m = (unsigned)_mm_movemask_epi8(c);
                while (m) {
                    cand[ncand++] = (uint32_t)(i + (uint64_t)__builtin_ctz(m));
                    m &= m - 1;
                }
            }
            __m128i sums = _mm_sad_epu8(acc, zero);
            count += (uint64_t)_mm_cvtsi128_si32(sums) + (uint64_t)_mm_extract_epi16(sums, 4);
        }
    #endif
        for (; i < length; i++) {
            if ((seg[i] | kp[i]) == 0)
                count++;
            else if (nw_is_cand(seg[i], kp[i]))
                cand[ncand++] = (uint32_t)i;
        }
        *ncand_out = ncand;
        return count;
    }
    /* The primes of a generator block: first + 2 j for every zero byte buf[j]. */
    static uint32_t nw_collect_zeros(const uint8_t *buf, uint64_t size, uint32_t first, uint32_t *out)
    {
        uint32_t cnt = 0;
        uint64_t i = 0;
    #ifdef NW_SCAN_SSE2
        const __m128i zero = _mm_setzero_si128();
        for (; i + 16 <= size; i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(buf + i));
            unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero));
            while (m) {
                out[cnt++] = first + 2 * (uint32_t)(i + (uint64_t)__builtin_ctz(m));
                m &= m - 1;
            }
        }
    #endif
        for (; i < size; i++)
            if (!buf[i])
                out[cnt++] = first + 2 * (uint32_t)i;
        return cnt;
    }
    """
    uint64_t nw_scan(const uint8_t *seg, const uint8_t *kp, uint64_t length, uint32_t *cand,
                     uint64_t *ncand) noexcept nogil
    uint32_t nw_collect_zeros(const uint8_t *buf, uint64_t size, uint32_t first, uint32_t *out) noexcept nogil
cdef uint32_t _SMALL_C[NSMALL]
_SMALL_C[:] = [3, 5, 7, 11, 13, 17]


cdef struct Entry:
    uint32_t stride   # index distance to the next hit (the prime)
    uint32_t info     # offset in the segment | FLAG_CHECK


cdef struct Block:
    Block *next
    uint32_t n
    Entry e[BLOCK_N]


cdef struct ProgHit:
    uint64_t idx
    uint64_t p


cdef struct Found:
    uint64_t n
    int lucas


# ---------------------------------------------------------------- small helpers

def _order2(p):
    """ord_p(2) for a small odd prime p (pure Python, used for the pattern primes)."""
    k, x = 1, 2 % p
    while x != 1:
        x = x * 2 % p
        k += 1
    return k


cdef uint32_t _base_primes[NBASE_MAX]
cdef int _nbase = 0


cdef void _init_base_primes() noexcept nogil:
    """Odd primes below 2^16, enough to sieve any interval below 2^32."""
    global _nbase
    cdef uint8_t *comp
    cdef uint32_t i, j
    if _nbase:
        return
    comp = <uint8_t *>calloc(65536, 1)
    i = 3
    while i < 65536:
        if not comp[i]:
            _base_primes[_nbase] = i
            _nbase += 1
            j = i * i
            while j < 65536:
                comp[j] = 1
                j += 2 * i
        i += 2
    free(comp)


# ---------------------------------------------------------------- prime generator

cdef struct PrimeGen:
    uint64_t lo          # odd number at index 0 of the next block
    uint64_t stop        # last number wanted (inclusive)
    uint32_t size        # block length in odd numbers
    uint8_t *buf
    uint64_t *off        # per base prime: index of its next odd multiple >= p^2
    uint32_t *out
    uint32_t nout


cdef int gen_init(PrimeGen *g, uint64_t start, uint64_t stop, uint32_t size) noexcept nogil:
    """Streams the odd primes in [start, stop], stop < 2^32, one block at a time."""
    cdef int k
    cdef uint64_t p, s, r
    if _nbase == 0 or _gen_pattern == NULL or size > GEN_BLOCK:
        return -1
    if start < 3:
        start = 3
    g.lo = start | 1
    g.stop = stop
    g.size = size
    g.buf = <uint8_t *>malloc(size)
    g.out = <uint32_t *>malloc(size * sizeof(uint32_t))
    g.off = <uint64_t *>malloc(_nbase * sizeof(uint64_t))
    if g.buf == NULL or g.out == NULL or g.off == NULL:
        return -1
    for k in range(_nbase):
        p = _base_primes[k]
        s = p * p
        if s >= g.lo:
            g.off[k] = (s - g.lo) >> 1
        else:
            r = (p - g.lo % p) % p
            if r & 1:
                r += p
            g.off[k] = r >> 1
    return 0


cdef void gen_free(PrimeGen *g) noexcept nogil:
    free(g.buf)
    free(g.out)
    free(g.off)
    g.buf = NULL
    g.out = NULL
    g.off = NULL


cdef enum:
    GEN_PERIOD = 15015        # 3 * 5 * 7 * 11 * 13, in odd numbers
    GEN_FIRST_BASE = 5        # _base_primes[5] = 17: the first prime not in the pattern

cdef uint8_t *_gen_pattern = NULL
GEN_BLOCK_BYTES = 1 << 16
cdef enum:
    GEN_BLOCK = 1 << 16


cdef int _init_gen_pattern(uint32_t size) noexcept nogil:
    """Composites among the odd numbers 1, 3, 5, ... from the primes 3..13, repeated
    to cover GEN_PERIOD + size bytes."""
    global _gen_pattern
    cdef uint32_t t, q
    cdef uint32_t primes[5]
    if _gen_pattern != NULL:
        return 0
    primes[0] = 3
    primes[1] = 5
    primes[2] = 7
    primes[3] = 11
    primes[4] = 13
    _gen_pattern = <uint8_t *>calloc(GEN_PERIOD + size, 1)
    if _gen_pattern == NULL:
        return -1
    for q in range(5):
        t = (primes[q] - 1) >> 1
        while t < GEN_PERIOD + size:
            _gen_pattern[t] = 1
            t += primes[q]
    return 0


cdef uint32_t gen_next(PrimeGen *g) noexcept nogil:
    """Sieves the next block; returns how many primes it put in g.out (0: done)."""
    cdef uint64_t last, j, size, end, p4
    cdef uint32_t p, cnt = 0
    cdef uint8_t *buf = g.buf
    cdef int k
    while g.lo <= g.stop:
        size = g.size
        last = g.lo + 2 * (size - 1)
        if last > g.stop:
            last = g.stop
            size = ((last - g.lo) >> 1) + 1
        memcpy(buf, _gen_pattern + ((g.lo - 1) >> 1) % GEN_PERIOD, size)
        for k in range(GEN_FIRST_BASE, _nbase):
            p = _base_primes[k]
            j = g.off[k]
            p4 = 4 * <uint64_t>p
            if size > p4:
                end = size - p4 + p
                while j < end:
                    buf[j] = 1
                    buf[j + p] = 1
                    buf[j + 2 * p] = 1
                    buf[j + 3 * p] = 1
                    j += p4
            while j < size:
                buf[j] = 1
                j += p
            g.off[k] = j - g.size if j >= g.size else 0
        if g.lo <= 13:
            # the pattern marks 3..13 themselves (and 1)
            for j in range((15 - g.lo) >> 1):
                if j < size:
                    buf[j] = (g.lo + 2 * j) == 1 or (g.lo + 2 * j) == 9
        cnt = nw_collect_zeros(buf, size, <uint32_t>g.lo, g.out)
        g.lo = last + 2
        if cnt:
            return cnt
    return 0


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


# ---------------------------------------------------------------- the sweep

cdef int _cmp_prog(const void *x, const void *y) noexcept nogil:
    cdef uint64_t a = (<const ProgHit *>x).idx, b = (<const ProgHit *>y).idx
    return (a > b) - (a < b)


cdef class _Sweep:
    """State of one exact sweep of the odd numbers lo, lo + 2, ..., last."""

    cdef uint64_t lo, last, nidx
    cdef uint32_t S, log2S, array_limit
    cdef uint64_t ord_limit
    cdef uint8_t *seg
    cdef uint32_t *ev            # the prime of the latest progression hit at each offset
    cdef uint8_t *kpat           # small-prime pattern, KPERIOD + S bytes
    cdef uint64_t kprod[64]      # product of the small primes in a mask
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
    cdef Block **heads
    cdef uint64_t nheads
    cdef Block *free_blocks
    cdef uint64_t nblocks, peak_blocks
    cdef ProgHit *prog
    cdef uint64_t nprog, prog_cap, prog_pos
    cdef uint32_t *pend_j
    cdef uint32_t *pend_p
    cdef uint32_t *cand
    # results
    cdef uint64_t prime_count
    cdef Found *found
    cdef uint64_t nfound, found_cap
    cdef uint64_t n_checks, n_candidates, n_mr
    cdef int failed

    def __cinit__(self):
        self.seg = NULL
        self.ev = NULL
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
        self.cand = NULL
        self.found = NULL

    def __dealloc__(self):
        cdef Block *b
        free(self.seg)
        free(self.ev)
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
            free(b)
        free(self.prog)
        free(self.pend_j)
        free(self.pend_p)
        free(self.cand)
        free(self.found)

    def __init__(self, uint64_t lo, uint64_t last, uint32_t seg_bytes, uint64_t ord_limit):
        self.lo = lo
        self.last = last
        self.nidx = ((last - lo) >> 1) + 1
        self.S = seg_bytes
        self.log2S = 0
        while (1u << self.log2S) < seg_bytes:
            self.log2S += 1
        self.array_limit = seg_bytes if seg_bytes > 64 else 64
        self.ord_limit = ord_limit
        self.seg = <uint8_t *>malloc(seg_bytes)
        self.ev = <uint32_t *>malloc(seg_bytes * sizeof(uint32_t))
        self.pend_j = <uint32_t *>malloc(seg_bytes * sizeof(uint32_t))
        self.pend_p = <uint32_t *>malloc(seg_bytes * sizeof(uint32_t))
        self.cand = <uint32_t *>malloc(seg_bytes * sizeof(uint32_t))
        self.kpat = <uint8_t *>malloc(KPERIOD + seg_bytes)
        if (self.seg == NULL or self.ev == NULL or self.pend_j == NULL or self.pend_p == NULL
                or self.cand == NULL or self.kpat == NULL):
            raise MemoryError()
        self._build_small_pattern()

    def _build_small_pattern(self):
        """Fills kpat: per odd n (at (n - 1) / 2 mod KPERIOD) K_POISON if a small prime
        divides n outside its progression, else the mask of small primes dividing n,
        with K_KILL if that product s is too small to be a pseudoprime's cofactor here."""
        cdef uint32_t mod_p[NSMALL]
        cdef uint32_t mod_pm[NSMALL]
        cdef uint32_t r[NSMALL]
        cdef uint32_t g[NSMALL]
        cdef uint8_t kill[64]
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
            # n = s * q with q > 2^(s-1) - 1 for every n in the sweep
            kill[m] = m != 0 and s < 64 and s * ((1 << (s - 1)) - 1) < self.lo
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
                if poison:
                    self.kpat[t] = K_POISON
                elif kill[mask]:
                    self.kpat[t] = mask | K_KILL
                else:
                    self.kpat[t] = mask

    # ------------------------------------------------------------ buckets

    cdef inline int push(self, uint64_t gidx, uint32_t stride, uint32_t flags) noexcept nogil:
        cdef uint64_t s = gidx >> self.log2S
        cdef Block *b = self.heads[s]
        if b == NULL or b.n == BLOCK_N:
            if self.free_blocks != NULL:
                b = self.free_blocks
                self.free_blocks = b.next
            else:
                b = <Block *>malloc(sizeof(Block))
                if b == NULL:
                    self.failed = 1
                    return -1
                self.nblocks += 1
                if self.nblocks > self.peak_blocks:
                    self.peak_blocks = self.nblocks
            b.n = 0
            b.next = self.heads[s]
            self.heads[s] = b
        b.e[b.n].stride = stride
        b.e[b.n].info = <uint32_t>(gidx & (self.S - 1)) | flags
        b.n += 1
        return 0

    cdef void free_heads(self) noexcept nogil:
        """Returns the blocks of every bucket of the pass to the free list."""
        cdef Block *b
        cdef Block *nb
        cdef uint64_t s = 0
        if self.heads == NULL:
            return
        while s < self.nheads:
            b = self.heads[s]
            while b != NULL:
                nb = b.next
                b.next = self.free_blocks
                self.free_blocks = b
                b = nb
            self.heads[s] = NULL
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
        if gen_init(&g, FIRST_ARRAY_PRIME, limit - 1, 1 << 16) != 0:
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
                L = _order_of_2(p, self.spf)
                M = L if (L & 1) == 0 else 2 * L
                self.ap[self.na] = p
                self.apm[self.na] = (<uint64_t>p * M) >> 1
                self.na += 1
        gen_free(&g)
        return 0

    cdef inline uint64_t first_multiple(self, uint64_t p, uint64_t n0) noexcept nogil:
        """Index (from odd n0) of the first odd multiple of p that is >= max(p^2, n0)."""
        cdef uint64_t s = p * p, r
        if s >= n0:
            return (s - n0) >> 1
        r = (p - n0 % p) % p
        if r & 1:
            r += p
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
        list of progression hits of bucket primes (sorted by index)."""
        cdef uint64_t n0 = self.lo + 2 * pidx0
        cdef uint64_t nlast = n0 + 2 * (plen - 1)
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
            self.am_off[a] = self.first_multiple(p, n0)
            self.ag_off[a] = self.first_progression(p, self.apm[a], n0, nlast)
        self.free_heads()
        free(self.heads)
        self.nheads = (plen + self.S - 1) >> self.log2S
        self.heads = <Block **>calloc(self.nheads, sizeof(Block *))
        if self.heads == NULL:
            return -1
        self.nprog = 0
        self.prog_pos = 0
        if self.array_limit > sp_max:
            return 0
        if gen_init(&g, self.array_limit, sp_max, 1 << 16) != 0:
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
                        L = _order_of_2(<uint32_t>p, self.spf)
                        self.ord_cache[k] = <uint32_t>L
                        self.ncache += 1
                    k += 1
                idx = self.first_multiple(p, n0)
                if idx < plen:
                    if self.push(idx, <uint32_t>p, 0 if L else FLAG_CHECK) != 0:
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

    cdef int sieve_segment(self, uint64_t pidx0, uint64_t plen, uint64_t s) noexcept nogil:
        cdef uint64_t base = s << self.log2S
        cdef uint64_t length = plen - base
        cdef uint64_t n_lo = self.lo + 2 * (pidx0 + base)
        cdef uint64_t j, gnext, stride, stride4, end, npend = 0, ncand
        cdef uint8_t *seg = self.seg
        cdef uint32_t *ev = self.ev
        cdef const uint8_t *kp
        cdef uint32_t info, p
        cdef int a, k
        cdef Block *b
        cdef Block *nb
        if length > self.S:
            length = self.S
        kp = self.kpat + ((n_lo - 1) >> 1) % KPERIOD
        memset(seg, 0, length)
        # 1. array primes: multiples, then their progressions
        for a in range(self.na):
            stride = self.ap[a]
            j = self.am_off[a]
            stride4 = 4 * stride
            if length > stride4:
                end = length - stride4 + stride
                while j < end:
                    seg[j] += 1
                    seg[j + stride] += 1
                    seg[j + 2 * stride] += 1
                    seg[j + 3 * stride] += 1
                    j += stride4
            while j < length:
                seg[j] += 1
                j += stride
            self.am_off[a] = j - self.S if j >= self.S else 0
            j = self.ag_off[a]
            if j < length:
                stride = self.apm[a]
                p = self.ap[a]
                while j < length:
                    seg[j] += 15
                    ev[j] = p
                    j += stride
            self.ag_off[a] = j - self.S if j >= self.S else 0
        # 2. bucket primes: multiples
        b = self.heads[s]
        self.heads[s] = NULL
        while b != NULL:
            for k in range(b.n):
                info = b.e[k].info
                stride = b.e[k].stride
                j = info & OFF_MASK
                if info & FLAG_CHECK:
                    if npend == self.S:
                        # early flush: a check may then see fewer marks than it could,
                        # which only costs a needless check, never a wrong byte
                        self.flush_checks(n_lo, npend, kp)
                        npend = 0
                    self.pend_j[npend] = <uint32_t>j
                    self.pend_p[npend] = <uint32_t>stride
                    npend += 1
                else:
                    seg[j] += 1
                gnext = base + j + stride
                if gnext < plen:
                    if self.push(gnext, <uint32_t>stride, info & FLAG_CHECK) != 0:
                        return -1
            nb = b.next
            b.next = self.free_blocks
            self.free_blocks = b
            b = nb
        # 3. progressions of bucket primes
        end = base + length
        while self.prog_pos < self.nprog and self.prog[self.prog_pos].idx < end:
            j = self.prog[self.prog_pos].idx - base
            seg[j] += 15
            ev[j] = <uint32_t>self.prog[self.prog_pos].p
            self.prog_pos += 1
        # 4. hits of primes whose order is not tabulated, once the rest is known
        self.flush_checks(n_lo, npend, kp)
        # 5. count primes, collect candidates
        ncand = self.scan(length, kp)
        if n_lo <= 17:
            self.fix_small_primes(n_lo, length, kp)
        return self.test_candidates(n_lo, ncand, kp)

    cdef void flush_checks(self, uint64_t n_lo, uint64_t npend, const uint8_t *kp) noexcept nogil:
        cdef uint64_t i, j, n
        cdef uint32_t p
        cdef uint8_t v
        for i in range(npend):
            j = self.pend_j[i]
            v = self.seg[j]
            if (v & 15) or (kp[j] & K_POISON):
                continue  # already ruled out; it is composite whatever p says
            p = self.pend_p[i]
            n = n_lo + 2 * j
            self.n_checks += 1
            if nw_pow2_is_one32((n - 1) % (p - 1), p):
                self.seg[j] = v + 16
                self.ev[j] = p
            else:
                self.seg[j] = v + 1

    cdef uint64_t scan(self, uint64_t length, const uint8_t *kp) noexcept nogil:
        """Adds the primes of the segment to the count; returns the candidates in cand."""
        cdef uint64_t ncand = 0
        self.prime_count += nw_scan(self.seg, kp, length, self.cand, &ncand)
        return ncand

    cdef void fix_small_primes(self, uint64_t n_lo, uint64_t length, const uint8_t *kp) noexcept nogil:
        """The small primes themselves match their own pattern; count those the scan
        classed as ruled out (the candidates among them are counted in test_candidates)."""
        cdef uint64_t q, j
        cdef int i
        for i in range(NSMALL):
            q = _SMALL_C[i]
            if q >= n_lo and q < n_lo + 2 * length:
                j = (q - n_lo) >> 1
                if self.seg[j] == 0 and (kp[j] & K_KILL):
                    self.prime_count += 1

    cdef int test_candidates(self, uint64_t n_lo, uint64_t ncand, const uint8_t *kp) noexcept nogil:
        cdef uint64_t i, j, n, s, m, p
        cdef uint8_t v, k
        for i in range(ncand):
            j = self.cand[i]
            v = self.seg[j]
            k = kp[j]
            n = n_lo + 2 * j
            self.n_candidates += 1
            s = self.kprod[k & K_MASK]
            if v == 0:
                pass  # n = s * m, m prime or 1 (or n has a square factor)
            elif v == 16:
                p = self.ev[j]
                if p == 1093 or p == 3511:
                    s = 0  # Wieferich: p^2 may divide a pseudoprime
                else:
                    s *= p
            else:
                s = 0  # several large primes: no shortcut
            if s and s <= self.s_kill:
                continue  # n = s * q with q > 2^(s-1) - 1: q cannot divide 2^(s-1) - 1
            if s:
                m = n // s
                if m == 1:
                    if n <= 17:
                        self.prime_count += 1  # one of the pattern primes itself
                        continue
                elif cofactor_refutes(s, m):
                    continue
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

    def execute(self, uint64_t pass_len):
        cdef int rc
        with nogil:
            rc = self.run(pass_len)
        if rc != 0:
            raise MemoryError("bpsw sweep: out of memory")
        found = [(self.found[i].n, bool(self.found[i].lucas)) for i in range(self.nfound)]
        stats = {
            "passes": -(-<object>self.nidx // <object>pass_len),
            "pass_len": pass_len,
            "peak_bucket_bytes": self.peak_blocks * sizeof(Block),
            "order_checks": self.n_checks,
            "candidates": self.n_candidates,
            "miller_rabin": self.n_mr,
            "array_primes": self.na,
            "cached_orders": self.ncache,
        }
        return self.prime_count, found, stats


cdef inline bint cofactor_refutes(uint64_t s, uint64_t m) noexcept nogil:
    """For n = s * m where m is prime or shares a non-Wieferich prime with s: whether n
    cannot be a base-2 strong pseudoprime, because the prime m would need ord_m(2) | s - 1."""
    cdef uint64_t minv, one
    if s - 1 < 64 and ((<uint64_t>1 << (s - 1)) - 1) < m:
        return True
    minv = nw_inv64(m)
    one = nw_mont_one(m)
    return nw_mont_pow2(s - 1, m, minv, one) != one


# Tables shared by every sweep, built once under the GIL (sweeps run without it).
_init_base_primes()
if _init_gen_pattern(GEN_BLOCK) != 0:
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
                 uint64_t *nfound) noexcept nogil:
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


def _sweep_direct(uint64_t lo, uint64_t last):
    cdef uint64_t count = 0, nfound = 0
    cdef Found *found = NULL
    cdef int rc
    with nogil:
        rc = _direct(lo, last, &count, &found, &nfound)
    try:
        if rc != 0:
            raise MemoryError("bpsw sweep: out of memory")
        return count, [(found[i].n, bool(found[i].lucas)) for i in range(nfound)]
    finally:
        free(found)


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


def _pass_length(uint64_t nidx, uint64_t sp_max, uint32_t seg_bytes, uint64_t max_entries):
    """Longest pass (in odd numbers, a multiple of the segment) whose bucket entries
    are expected to fit max_entries."""
    import math
    plen = seg_bytes
    limit = min(nidx, 1 << 31)
    while plen < limit:
        nxt = plen * 2
        # primes with a hit every pass-length or more often, plus expected hits of the rest
        x = float(min(nxt, sp_max))
        est = _estimate_pi(x)
        if sp_max > nxt:
            est += nxt * math.log(math.log(sp_max) / math.log(nxt))
        if est > max_entries:
            break
        plen = nxt
    return plen


def _sweep_impl(a, b, *, method="auto", seg_bytes=DEFAULT_SEGMENT_BYTES,
                ord_limit=DEFAULT_ORDER_LIMIT, max_entries=DEFAULT_MAX_ENTRIES, pass_len=None):
    """sweep() with its tuning knobs exposed (for tests and benchmarks); returns
    (prime count, pseudoprimes, statistics)."""
    _check_range(a, b)
    if seg_bytes < 16 or seg_bytes > (1 << 24) or seg_bytes & (seg_bytes - 1):
        raise ValueError("seg_bytes must be a power of two between 16 and 2**24")
    count = 1 if a <= 2 < b else 0
    lo = max(a, 3) | 1
    last = b - 1
    if last % 2 == 0:
        last -= 1
    if lo > last:
        return count, [], {"method": "empty"}
    nidx = (last - lo) // 2 + 1
    sp_max = _isqrt(last)
    if method == "auto":
        # sieving costs ~10 ns per sieving prime per pass; testing ~150 ns per number
        method = "direct" if nidx * 15 < _estimate_pi(sp_max) or nidx < 64 else "sieve"
    if method == "direct":
        c, found = _sweep_direct(lo, last)
        return count + c, found, {"method": "direct"}
    if method != "sieve":
        raise ValueError(f"unknown method {method!r}")
    if pass_len is None:
        pass_len = _pass_length(nidx, sp_max, seg_bytes, max_entries)
    elif pass_len % seg_bytes or pass_len <= 0 or pass_len > (1 << 31):
        raise ValueError("pass_len must be a positive multiple of seg_bytes, at most 2**31")
    sw = _Sweep(lo, last, seg_bytes, ord_limit)
    c, found, stats = sw.execute(pass_len)
    stats["method"] = "sieve"
    return count + c, found, stats


def _isqrt(n):
    import math
    return math.isqrt(n)


def sweep(a, b):
    """sweep(a: int, b: int) -> tuple[int, list[tuple[int, bool]]]

    Exact sweep of [a, b), 0 <= a <= b <= 2**64: returns (number of primes in [a, b),
    [(n, passes_strong_lucas) for every base-2 strong pseudoprime n in [a, b), ascending])."""
    count, found, _ = _sweep_impl(a, b)
    return count, found


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
