# bpsw_sweep.pxi: the sieve sweep (_Sweep): pass-sets, passes, segments, candidates.
# Included by bpsw.pyx (textually, in its order); not a module of its own.

# ---------------------------------------------------------------- the sweep

cdef int _cmp_prog(const void *x, const void *y) noexcept nogil:
    cdef uint64_t a = (<const ProgHit *>x).idx, b = (<const ProgHit *>y).idx
    return (a > b) - (a < b)


cdef class _SmallPattern:
    """One small-prime pattern and its bit arrays (see _Sweep._build_small_pattern): built
    once per (segment size, kill flags), kept in _PATTERN_CACHE, and only read by the
    sweeps that borrow it."""

    cdef uint8_t *kpat           # KPERIOD + S bytes
    cdef uint64_t *ksmall        # words bit arrays each
    cdef uint64_t *kpoison
    cdef uint64_t *kcand
    cdef uint8_t *kdeadbits      # 4 bit arrays of KPERIOD bits, DEAD_STRIDE bytes apart

    def __cinit__(self, uint64_t S, uint64_t words):
        self.kpat = <uint8_t *>malloc(KPERIOD + S)
        self.ksmall = <uint64_t *>calloc(words, 8)
        self.kpoison = <uint64_t *>calloc(words, 8)
        self.kcand = <uint64_t *>calloc(words, 8)
        self.kdeadbits = <uint8_t *>calloc(4 * DEAD_STRIDE, 1)
        if (self.kpat == NULL or self.ksmall == NULL or self.kpoison == NULL
                or self.kcand == NULL or self.kdeadbits == NULL):
            raise MemoryError()

    def __dealloc__(self):
        free(self.kpat)
        free(self.ksmall)
        free(self.kpoison)
        free(self.kcand)
        free(self.kdeadbits)


cdef class _Sweep:
    """State of one exact sweep of the odd numbers lo, lo + 2, ..., last."""

    cdef uint64_t lo, last, nidx
    cdef uint32_t S, log2S, array_limit
    cdef uint64_t ord_limit
    cdef const uint32_t *ord_table  # the shared order table, and the mark below which it is filled
    cdef uint64_t ord_filled
    # the segment, a bit per odd number: seg, some prime hit it outside its progression;
    # pseg, some prime hit it in its progression (evm: the product of those primes, or 0
    # if it passes 32 bits, by offset: see ev_map.h);
    # qflt, a bucket prime may hit it in its progression: a filter of QFLT_BITS bits by
    # offset mod QFLT_BITS, small enough to stay in L1 (hits are few; see sieve_segment)
    cdef uint8_t *seg
    cdef uint8_t *pseg
    cdef uint8_t *qflt
    cdef NwEvMap evm
    cdef uint32_t *saved         # an array prime's progression hits (see mark_progression)
    cdef uint64_t *bucket_j      # a bucket block's next hits (4-byte entries: see sieve_segment)
    # the small-prime pattern as bits, KPERIOD + S + 128 of each (see _build_small_pattern)
    # borrowed, read-only, from the shared pattern (see _SmallPattern), which pattern keeps alive
    cdef _SmallPattern pattern
    cdef const uint64_t *ksmall
    cdef const uint64_t *kpoison
    cdef const uint64_t *kcand
    cdef const uint8_t *kpat     # small-prime pattern, KPERIOD + S bytes
    cdef uint8_t kdead[4][64]    # see dead_for
    cdef const uint8_t *kdeadbits  # dead_for by p mod 8 and residue: 4 bit arrays of KPERIOD
    cdef uint64_t kprod[64]      # product of the small primes in a mask
    cdef uint8_t ktwo[64]        # their common 2-adic valuation of ord_q(2) (NO_T: none)
    cdef uint64_t s_kill         # s * (2^(s-1) - 1) < lo for every s <= s_kill
    # the pre-sieved primes (None: none), and the first prime sieved from the arrays
    cdef _Presieve pre
    cdef int pre_primes, pre_groups
    cdef uint32_t first_array
    # weak hits of the pre-sieved primes: a progression hit on n = p m is weak when n
    # cannot be a pseudoprime if m is prime, that is unless m divides 2^(p-1) - 1 (a
    # prime m needs ord_m(2) | p - 1): but for the few strong ones (their odd indexes
    # (n - 1) / 2 in strong_u[a][:nstrong[a]], ascending, the next at strong_at[a]), every
    # hit of a prime with a known factorisation of 2^(p-1) - 1 (has_table[a]) is weak.
    # Weak hits set weak, not pseg (see presieved_progressions); test_chunk finds their
    # primes again by division (p | n when n * p^-1 mod 2^64 <= pre_max[a] = (2^64 - 1) /
    # p). nweak: the primes with weak hits (none: the weak bits are never set).
    cdef uint8_t *weak
    cdef int nweak
    cdef uint8_t has_table[MAX_PRESIEVE]
    cdef uint64_t strong_u[MAX_PRESIEVE][MAX_STRONG]
    cdef int nstrong[MAX_PRESIEVE]
    cdef int strong_at[MAX_PRESIEVE]
    cdef uint64_t pre_max[MAX_PRESIEVE]
    cdef uint64_t pre_inv[MAX_PRESIEVE]
    # each pre-sieved prime's next progression hit in the segment: its offset, and its place
    # in the small-prime pattern (see presieved_progressions)
    cdef uint64_t pre_g[MAX_PRESIEVE]
    cdef uint64_t pre_t[MAX_PRESIEVE]
    # primes below the array limit, ascending: the prime and its next offsets, read at
    # every segment (16 bytes each); the progression stride (p M / 2) and the 2-adic
    # valuation of ord_p(2), read only at a progression hit
    cdef ArrayPrime *arr
    cdef uint64_t *apm
    cdef uint8_t *atwo
    cdef int na
    cdef int na_small            # the array primes below l1_bits / SMALL_BLOCK_CROSSINGS
    cdef int na_pass             # the array primes up to the square root of the pass's end
    cdef int na_large            # the array primes from S / 8 on (see mark_large)
    cdef uint64_t l1_bits        # the first na_small mark a segment in blocks of l1_bits
    # orders of bucket primes, in the order the generator yields them
    cdef uint32_t *ord_cache
    cdef uint64_t ncache, cache_cap
    cdef uint16_t *spf
    # buckets of multiples, and the progression hits of bucket primes in this pass
    cdef Entry **heads           # per segment of the pass: its bucket's write position
    # wide entries: two slots, the prime and its hit's offset (else the prime alone, its
    # hit recomputed: half the memory, for a division per entry)
    cdef bint wide
    cdef uint64_t nheads
    cdef Block *free_blocks
    cdef uint64_t nblocks, peak_blocks
    cdef ProgHit *prog
    cdef uint64_t nprog, prog_cap, prog_pos
    # pass-sets (see run): the listed primes of each later pass of the set
    cdef PList *plists
    cdef uint64_t nplists, list_bytes, peak_list_bytes
    cdef uint32_t *pend_j
    cdef uint32_t *pend_p
    cdef uint8_t *chk            # results of the batched order checks
    cdef uint8_t *cstate         # per candidate: what test_candidates does with it
    cdef uint64_t *cf_e          # batched cofactor refutations: exponents, moduli, results
    cdef uint64_t *cf_m
    cdef uint8_t *cf_one
    cdef uint32_t *cf_idx
    cdef uint32_t *cand          # a scan piece's candidates (and a spare slot: see nw_scan_bits)
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
        self.weak = NULL
        self.qflt = NULL
        self.ksmall = NULL
        self.kpoison = NULL
        self.kdeadbits = NULL
        self.kcand = NULL
        self.evm.slot = NULL
        self.evm.n = 0
        self.saved = NULL
        self.bucket_j = NULL
        self.kpat = NULL
        self.arr = NULL
        self.apm = NULL
        self.atwo = NULL
        self.ord_cache = NULL
        self.spf = NULL
        self.heads = NULL
        self.free_blocks = NULL
        self.prog = NULL
        self.plists = NULL
        self.nplists = 0
        self.pend_j = NULL
        self.pend_p = NULL
        self.chk = NULL
        self.cstate = NULL
        self.cf_e = NULL
        self.cf_m = NULL
        self.cf_one = NULL
        self.cf_idx = NULL
        self.cand = NULL
        self.found = NULL
        self.blocks.count = NULL
        self.blocks.n = 0

    def __dealloc__(self):
        cdef Block *b
        free(self.blocks.count)
        free(self.seg)
        free(self.pseg)
        free(self.weak)
        free(self.qflt)
        nw_ev_free(&self.evm)
        free(self.saved)
        free(self.bucket_j)
        free(self.arr)
        free(self.apm)
        free(self.atwo)
        free(self.ord_cache)
        free(self.spf)
        self.free_heads()
        free(self.heads)
        while self.free_blocks != NULL:
            b = self.free_blocks
            self.free_blocks = b.next
            nw_block_release(b)
        free(self.prog)
        self.free_lists()
        free(self.pend_j)
        free(self.pend_p)
        free(self.chk)
        free(self.cstate)
        free(self.cf_e)
        free(self.cf_m)
        free(self.cf_one)
        free(self.cf_idx)
        free(self.cand)
        free(self.found)

    def __init__(self, uint64_t lo, uint64_t last, uint32_t seg_bytes, uint64_t ord_limit,
                 uint64_t array_limit, uint32_t presieve_limit=0,
                 uint64_t l1_block_bits=L1_BLOCK_BITS):
        self.lo = lo
        self.last = last
        self.nidx = ((last - lo) >> 1) + 1
        self.S = seg_bytes
        self.log2S = 0
        while (1u << self.log2S) < seg_bytes:
            self.log2S += 1
        self.array_limit = array_limit if array_limit > 64 else 64
        self.l1_bits = l1_block_bits
        self.ord_limit = ord_limit
        # the primes from 19 to the limit are pre-sieved when each is below the array
        # limit and its square below the range (a prime itself, p, is a progression hit)
        self.pre = None
        self.pre_primes = 0
        self.pre_groups = 0
        self.first_array = FIRST_ARRAY_PRIME
        presieve_limit = min(presieve_limit, self.array_limit - 1)
        if presieve_limit >= FIRST_ARRAY_PRIME and <uint64_t>presieve_limit * presieve_limit < lo:
            self.pre = _presieve_for(presieve_limit)
            self.pre_primes = self.pre.nprimes
            self.pre_groups = self.pre.ngroups
            self.first_array = presieve_limit + 1
        # bits, in whole 64-bit words, with a spare word
        self.seg = <uint8_t *>malloc(self.seg_words() * 8)
        self.pseg = <uint8_t *>malloc(self.seg_words() * 8)
        self.weak = <uint8_t *>calloc(self.seg_words(), 8)
        self.qflt = <uint8_t *>malloc(QFLT_BITS // 8)
        if nw_ev_init(&self.evm, EV_MAP_BITS) != 0:
            raise MemoryError()
        # an array prime's hits in a segment (see mark_progression): one every p * M / 2
        # offsets, which is at least SAVED_SPACING for every prime from 19 on
        self.saved = <uint32_t *>malloc((seg_bytes // SAVED_SPACING + 2) * sizeof(uint32_t))
        self.bucket_j = <uint64_t *>malloc(NW_BLOCK_N * sizeof(uint64_t))
        self.pend_j = <uint32_t *>malloc(CHUNK * sizeof(uint32_t))
        self.pend_p = <uint32_t *>malloc(CHUNK * sizeof(uint32_t))
        self.chk = <uint8_t *>malloc(CHUNK)
        self.cstate = <uint8_t *>malloc(CHUNK)
        self.cf_e = <uint64_t *>malloc(CHUNK * sizeof(uint64_t))
        self.cf_m = <uint64_t *>malloc(CHUNK * sizeof(uint64_t))
        self.cf_one = <uint8_t *>malloc(CHUNK)
        self.cf_idx = <uint32_t *>malloc(CHUNK * sizeof(uint32_t))
        self.cand = <uint32_t *>malloc((self.scan_piece() + 1) * sizeof(uint32_t))
        if (self.seg == NULL or self.pseg == NULL or self.weak == NULL or self.qflt == NULL
                or self.saved == NULL or self.bucket_j == NULL
                or self.pend_j == NULL or self.pend_p == NULL
                or self.cand == NULL or self.chk == NULL
                or self.cstate == NULL or self.cf_e == NULL or self.cf_m == NULL
                or self.cf_one == NULL or self.cf_idx == NULL):
            raise MemoryError()
        self._build_small_pattern()
        self.plan_weak_hits()

    def plan_weak_hits(self):
        """Fills has_table, strong_u, nstrong, strong_at, pre_max, pre_inv and nweak (see
        their declarations)."""
        lo, last = int(self.lo), int(self.last)  # exact (Python) integers below
        self.nweak = 0
        for a in range(self.pre_primes):
            p = int(self.pre.p[a])
            half_pm = int(self.pre.half_pm[a])
            factors = _FACTORS_OF_2_TO_D_MINUS_1.get(p - 1)
            self.has_table[a] = factors is not None
            self.nweak += factors is not None
            # the progression hits n = p m (n = p mod 2 half_pm) with m | 2^(p-1) - 1
            strong = sorted((p * m - 1) // 2 for m in set(factors or ())
                            if lo <= p * m <= last and (p * m - p) % (2 * half_pm) == 0)
            if len(strong) > MAX_STRONG:
                raise RuntimeError(f"bpsw sweep: {len(strong)} strong hits of {p}, at most {MAX_STRONG}")
            self.nstrong[a] = len(strong)
            self.strong_at[a] = 0
            for i, u in enumerate(strong):
                self.strong_u[a][i] = u
            self.pre_max[a] = U64_MAX // p
            self.pre_inv[a] = nw_inv64(p)

    cdef inline uint64_t scan_piece(self) noexcept nogil:
        """Odd numbers scanned, and their candidates tested, at a time (see scan)."""
        return self.S if self.S < SCAN_PIECE else SCAN_PIECE

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
        cdef uint64_t s
        cdef int m
        cdef uint8_t mask, poison
        cdef uint8_t *kpat
        cdef _SmallPattern pt
        # exact (Python) integers: the shift and product pass 64 bits for large s
        s_kill, lo = 0, self.lo
        while s_kill < 63 and (s_kill + 1) * ((1 << s_kill) - 1) < lo:
            s_kill += 1
        self.s_kill = s_kill
        for i in range(NSMALL):
            mod_p[i] = _SMALL_C[i]
            mod_pm[i] = _SMALL_PM[i]
            r[i] = 1
            g[i] = 1
        memcpy(self.kprod, _KPROD, sizeof(self.kprod))
        memcpy(self.ktwo, _KTWO, sizeof(self.ktwo))
        memcpy(self.kdead, _KDEAD, sizeof(self.kdead))
        for m in range(64):
            mixed[m] = _KMIXED[m]
            # n = s * q with q > 2^(s-1) - 1 for every n in the sweep (s < 64 is at most
            # 55 here, a product of distinct small primes: no overflow), or above every
            # prime factor of 2^(s-1) - 1 where the table has them
            s = _KPROD[m]
            kill[m] = m != 0 and s < 64 and s * ((<uint64_t>1 << (s - 1)) - 1) < self.lo
            if m != 0 and not kill[m] and s - 1 in _FACTORS_OF_2_TO_D_MINUS_1:
                kill[m] = s * max(_FACTORS_OF_2_TO_D_MINUS_1[s - 1]) < self.lo
        # The pattern and its bit arrays depend only on the segment size and which products
        # are too small; build them once per process for each (small audits sweep many
        # short ranges).
        key = (self.S, bytes([kill[m] for m in range(64)]))
        pt = _PATTERN_CACHE.get(key)
        if pt is None:
            pt = _SmallPattern(self.S, self.pattern_words())
            kpat = pt.kpat
            with nogil:
                # one period, then copies of it (a segment may be longer than a period)
                for t in range(KPERIOD):
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
                        kpat[t] = K_POISON
                    elif kill[mask]:
                        kpat[t] = mask | K_KILL
                    else:
                        kpat[t] = mask
                t = KPERIOD
                while t < total:
                    memcpy(kpat + t, kpat, KPERIOD if total - t > KPERIOD else total - t)
                    t += KPERIOD
            self._pattern_bits(pt)
            _PATTERN_CACHE[key] = pt
        # borrowed: the sweep only reads them, and keeps pt alive
        self.pattern = pt
        self.kpat = pt.kpat
        self.ksmall = pt.ksmall
        self.kpoison = pt.kpoison
        self.kcand = pt.kcand
        self.kdeadbits = pt.kdeadbits

    cdef void _pattern_bits(self, _SmallPattern pt) noexcept:
        """The pattern as three bit arrays read by the scan: ksmall (a small prime divides
        n), kpoison (K_POISON), kcand (a mask of small primes without K_KILL or K_POISON)."""
        cdef uint64_t t, nbits = (self.pattern_words() - 1) * 64, bit
        cdef uint8_t k
        cdef int c
        with nogil:
            # a compact copy of what start_pass reads at random (the pattern is 1 MB)
            for t in range(KPERIOD):
                for c in range(4):
                    if self.dead_for(2 * c + 1, pt.kpat[t]):
                        pt.kdeadbits[c * DEAD_STRIDE + (t >> 3)] |= <uint8_t>(1 << (t & 7))
            for t in range(nbits):
                k = pt.kpat[t if t < KPERIOD + self.S else t - KPERIOD]
                bit = (<uint64_t>1) << (t & 63)
                if k != 0:
                    pt.ksmall[t >> 6] |= bit
                if k & K_POISON:
                    pt.kpoison[t >> 6] |= bit
                elif k != 0 and not (k & K_KILL):
                    pt.kcand[t >> 6] |= bit

    # ------------------------------------------------------------ buckets

    cdef inline int push(self, uint64_t gidx, uint32_t p) noexcept nogil:
        """Files the prime p under the segment of its next hit, at pass index gidx (with
        the hit's offset in the segment when the entries are wide)."""
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
        t[0] = p
        if self.wide:
            t[1] = <uint32_t>(gidx & (self.S - 1))
            self.heads[s] = t + 2
        else:
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
        """Collects the array primes (from first_array up to the array limit) and their
        orders."""
        cdef PrimeGen g
        cdef uint32_t cnt, i, p, L, M
        cdef uint64_t limit = self.array_limit
        cdef int cap = 0
        if limit > sp_max + 1:
            limit = sp_max + 1
        self.na = 0
        self.na_small = 0
        self.na_pass = 0
        self.na_large = 0
        if limit <= self.first_array:
            return 0
        if gen_init(&g, self.first_array, limit - 1) != 0:
            gen_free(&g)
            return -1
        while True:
            cnt = gen_next(&g)
            if cnt == 0:
                break
            if self.na + <int>cnt > cap:
                cap = 2 * (self.na + cnt)
                self.arr = <ArrayPrime *>realloc(self.arr, cap * sizeof(ArrayPrime))
                self.apm = <uint64_t *>realloc(self.apm, cap * sizeof(uint64_t))
                self.atwo = <uint8_t *>realloc(self.atwo, cap)
                if self.arr == NULL or self.apm == NULL or self.atwo == NULL:
                    gen_free(&g)
                    return -1
            for i in range(cnt):
                p = g.out[i]
                L = self.order_of(p)
                M = L if (L & 1) == 0 else 2 * L
                self.arr[self.na].p = p
                self.apm[self.na] = (<uint64_t>p * M) >> 1
                self.atwo[self.na] = <uint8_t>nw_ctz64(L)
                self.na += 1
                if p < self.l1_bits // SMALL_BLOCK_CROSSINGS:
                    self.na_small = self.na
                if 8 * <uint64_t>p <= self.S:
                    self.na_large = self.na
        gen_free(&g)
        return 0

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

    cdef inline uint64_t keep_live(self, uint64_t t0, uint64_t *h, uint32_t *p,
                                   uint64_t n) noexcept nogil:
        """Compacts the n hits (index h[i] from the pass's start, prime p[i]) to those on
        numbers that may be pseudoprimes (see dead_for), in order; returns their number.
        The dead bits (half a megabyte, read at random, often from beyond L2) are read
        here, in a loop of independent reads without branches (a hit is dead at close to
        even odds), rather than for each prime as it is generated."""
        cdef uint64_t i, k = 0, t, q
        for i in range(n):
            q = p[i]
            t = (t0 + h[i]) % KPERIOD
            h[k] = h[i]
            p[k] = <uint32_t>q
            k += ~(<uint64_t>self.kdeadbits[((q >> 1) & 3) * DEAD_STRIDE + (t >> 3)]
                   >> (t & 7)) & 1
        return k

    cdef int file_staged(self, uint64_t *st_h, uint32_t *st_p, uint64_t nst, uint64_t t0,
                         uint64_t pass_len, uint64_t *ls_h, uint32_t *ls_p,
                         uint64_t nls) noexcept nogil:
        """Files the hits staged by nw_stage_first_hits but those on numbers that cannot be
        pseudoprimes: the buckets, then the pass lists (ascending primes in each, as
        staged)."""
        cdef uint64_t i, nlive
        nlive = self.keep_live(t0, st_h, st_p, nst)
        for i in range(nlive):
            if self.push(st_h[i], st_p[i]) != 0:
                return -1
        nlive = self.keep_live(t0, ls_h, ls_p, nls)
        for i in range(nlive):
            if nw_plist_push(&self.plists[ls_h[i] // pass_len], ls_p[i]) != 0:
                return -1
        return 0

    cdef int start_pass(self, uint64_t pidx0, uint64_t plen, uint64_t kk, uint64_t kset,
                        uint64_t set_len, uint64_t pass_len) noexcept nogil:
        """First hits of every sieving prime in pass kk of a set of kset passes (set_len
        odd numbers from the set's first pass on, passes of pass_len): array offsets,
        buckets, and the list of progression hits of bucket primes (sorted by index). A
        prime whose only hit in the pass falls on a number a small prime rules out is left
        out. With kset > 1 the first pass lists the primes above max(pass_len, ord_limit)
        under the later passes they hit (see run), and those passes read them back."""
        cdef uint64_t n0 = self.lo + 2 * pidx0
        cdef uint64_t nlast = n0 + 2 * (plen - 1)
        cdef uint64_t t0 = ((n0 - 1) >> 1) % KPERIOD, t   # n0 in the small-prime pattern
        cdef double n0d = <double>n0
        cdef uint64_t sp_max = nw_isqrt(nlast), idx, k, p, L, M, half_pm
        cdef uint64_t thr = pass_len if pass_len > self.ord_limit else self.ord_limit
        cdef uint64_t gen_stop = sp_max, h, i64
        cdef bint listing = kset > 1 and kk == 0
        cdef bint listed = kset > 1 and kk > 0
        cdef const uint8_t *pos
        cdef const uint8_t *pend
        cdef uint32_t cnt, i, q
        cdef int a
        cdef PrimeGen g
        # staged hits of the primes above fast_from (see first_hits.h)
        cdef uint64_t fast_from = plen if plen > self.ord_limit else self.ord_limit
        cdef uint64_t st_h[STAGE]
        cdef uint32_t st_p[STAGE]
        cdef uint64_t ls_h[2 * STAGE]
        cdef uint32_t ls_p[2 * STAGE]
        cdef uint64_t nst = 0, nls = 0, room
        if kset > STAGE:
            fast_from = U64_MAX  # the staged pass lists could overflow
        # the array primes whose square is past the pass do not sieve it (a suffix)
        self.na_pass = 0
        while self.na_pass < self.na and self.arr[self.na_pass].p <= sp_max:
            a = self.na_pass
            p = self.arr[a].p
            self.arr[a].j = <uint32_t>nw_first_multiple(p, n0, n0d)
            self.arr[a].g = self.first_progression(p, self.apm[a], n0, nlast)
            self.na_pass += 1
        self.free_heads()
        free(self.heads)
        self.nheads = (plen + self.S - 1) >> self.log2S
        self.heads = <Entry **>calloc(self.nheads, sizeof(Entry *))
        if self.heads == NULL:
            return -1
        self.nprog = 0
        self.prog_pos = 0
        if listing:
            # primes up to the square root of the set's last number
            gen_stop = nw_isqrt(self.lo + 2 * (pidx0 + set_len - 1))
            self.free_lists()
            self.plists = <PList *>malloc(kset * sizeof(PList))
            if self.plists == NULL:
                return -1
            self.nplists = kset
            for i64 in range(kset):
                nw_plist_init(&self.plists[i64])
        elif listed and gen_stop > thr:
            gen_stop = thr  # the larger ones are listed
        if self.array_limit <= gen_stop:
            if gen_init(&g, self.array_limit, gen_stop) != 0:
                gen_free(&g)
                return -1
            k = 0
            while True:
                cnt = gen_next(&g)
                if cnt == 0:
                    break
                for i in range(cnt):
                    p = g.out[i]
                    if p > fast_from:
                        # this prime and the rest of the block (ascending): one hit a pass
                        # at most, no progression list: staged without branches (see
                        # first_hits.h), filed below (see file_staged)
                        while i < cnt:
                            room = STAGE - nst
                            if room > (2 * STAGE - nls) // kset:
                                room = (2 * STAGE - nls) // kset
                            if room > cnt - i:
                                room = cnt - i
                            if room == 0:
                                if self.file_staged(st_h, st_p, nst, t0, pass_len, ls_h, ls_p, nls) != 0:
                                    gen_free(&g)
                                    return -1
                                nst = 0
                                nls = 0
                                continue
                            nw_stage_first_hits(g.out + i, room, n0, n0d, plen, listing, thr,
                                                set_len, st_h, st_p, &nst, ls_h, ls_p, &nls)
                            i += room
                        break
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
                    idx = nw_first_multiple(p, n0, n0d)
                    if idx < plen:
                        t = (t0 + idx) % KPERIOD
                        if idx + p >= plen and (self.kdeadbits[((p >> 1) & 3) * DEAD_STRIDE + (t >> 3)]
                                                >> (t & 7)) & 1:
                            pass  # its one hit in the pass is on n that cannot be a pseudoprime
                        elif self.push(idx, <uint32_t>p) != 0:
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
                    if listing and p > thr:
                        # one hit a pass at most (p > pass_len): file the later ones, left
                        # out like the one above when they cannot be pseudoprimes
                        h = idx + p if idx < plen else idx
                        while h < set_len:
                            t = (t0 + h) % KPERIOD
                            if not ((self.kdeadbits[((p >> 1) & 3) * DEAD_STRIDE + (t >> 3)]
                                     >> (t & 7)) & 1):
                                if nw_plist_push(&self.plists[h // pass_len], <uint32_t>p) != 0:
                                    gen_free(&g)
                                    return -1
                            h += p
            gen_free(&g)
            if self.file_staged(st_h, st_p, nst, t0, pass_len, ls_h, ls_p, nls) != 0:
                return -1
        if listing:
            for i64 in range(kset):
                self.list_bytes += self.plists[i64].len
            if self.list_bytes > self.peak_list_bytes:
                self.peak_list_bytes = self.list_bytes
        if listed:
            pos = self.plists[kk].buf
            pend = pos + self.plists[kk].len
            q = 1
            while pos < pend:
                q = nw_plist_next(&pos, q)
                idx = nw_first_multiple(q, n0, n0d)
                if idx < plen and self.push(idx, q) != 0:
                    return -1
            self.list_bytes -= self.plists[kk].len
            nw_plist_free(&self.plists[kk])
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

    cdef inline bint ruled_by_small(self, const uint8_t *kp, uint64_t j, uint8_t two) noexcept nogil:
        """Whether n at offset j (kp: the segment's pattern bytes), hit by a prime whose
        order of 2 has 2-adic valuation two (NO_T: unknown) in its progression, cannot be
        a pseudoprime for its small prime factors: one rules n out, or they disagree with
        two. Such an n has a small prime factor, so it is no prime either."""
        cdef uint8_t k = kp[j], kt
        if k & K_POISON:
            return True
        kt = self.ktwo[k & K_MASK]
        return two != NO_T and kt != NO_T and kt != two

    cdef inline void prog_hit(self, uint64_t j, uint32_t p) noexcept nogil:
        """Records that p hits offset j in its progression: evm holds the product of those
        primes at j, or 0 if it passes 32 bits (test_chunk then has no shortcut). Out of
        memory, it sets failed."""
        if nw_bit_test(self.pseg, j):
            nw_ev_times(&self.evm, <uint32_t>j, p)
        else:
            nw_bit_set(self.pseg, j)
            if nw_ev_put(&self.evm, <uint32_t>j, p) != 0:
                self.failed = 1

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
        cdef uint32_t p
        cdef double n_lo_d = <double>n_lo
        cdef int a
        cdef Block *b
        cdef Block *nb
        if length > self.S:
            length = self.S
        kp = self.kpat + ((n_lo - 1) >> 1) % KPERIOD
        # 0. the pre-sieved primes' multiples outside their progressions (or none)
        if self.pre_groups:
            for a in range(self.pre_groups):
                nw_presieve_fill(<uint64_t *>seg, self.seg_words(), self.pre.buf[a],
                                 self.pre.rep[a], ((n_lo - 1) >> 1) % self.pre.rep[a], a > 0)
        else:
            memset(seg, 0, self.seg_words() * 8)
        if self.nweak:
            memset(self.weak, 0, self.seg_words() * 8)
        memset(self.pseg, 0, self.seg_words() * 8)
        nw_ev_clear(&self.evm)
        memset(self.qflt, 0, QFLT_BITS // 8)
        # 1. progressions of bucket primes (their multiples below skip these offsets)
        end = base + length
        prog0 = self.prog_pos
        while self.prog_pos < self.nprog and self.prog[self.prog_pos].idx < end:
            j = self.prog[self.prog_pos].idx - base
            p = <uint32_t>self.prog[self.prog_pos].p
            if self.ruled_by_small(kp, j, self.two_of(p)):
                nw_bit_set(seg, j)
            else:
                self.prog_hit(j, p)
            nw_bit_set(self.qflt, j & (QFLT_BITS - 1))
            self.prog_pos += 1
        # 2. array primes: the small ones a first-level cache block at a time (each of
        # them crosses the block many times)
        j = 0
        while j < length:
            end = j + self.l1_bits if length - j > self.l1_bits else length
            self.mark_array(0, self.na_small if self.na_small < self.na_pass else self.na_pass,
                            end, end == length, kp)
            j = end
        # then the others over the whole segment, those above S / 8 (fewer than eight hits)
        # by a plain loop but in the pass's last, shorter segment
        a = self.na_large if self.na_large < self.na_pass and length == self.S else self.na_pass
        if a < self.na_small:
            a = self.na_small
        if a > self.na_small:
            self.mark_array(self.na_small, a, length, True, kp)
        if self.na_pass > a:
            self.mark_large(a, self.na_pass, kp)
        # 3. bucket primes: multiples
        b = self.take_bucket(s, &nent)
        while b != NULL:
            if not self.wide:
                # the bucket is this segment's: each prime's next hit is its first odd
                # multiple from n_lo on (all of the block's at once: see first_hits.h)
                nw_first_multiples(b.e, nent, n_lo, n_lo_d, self.bucket_j)
            ie = 0
            while ie < nent:
                stride = b.e[ie]
                if self.wide:
                    j = b.e[ie + 1]
                    ie += 2
                else:
                    j = self.bucket_j[ie]
                    ie += 1
                # a prime below the segment length may hit this segment again
                if stride > self.ord_limit:  # its order is not tabulated: check each hit
                    while j < length:
                        if npend == CHUNK:
                            # early flush: a check may then see fewer marks than it could,
                            # which only costs a needless check, never a wrong bit
                            self.flush_checks(n_lo, npend)
                            npend = 0
                        self.pend_j[npend] = <uint32_t>j
                        self.pend_p[npend] = <uint32_t>stride
                        npend += 1
                        j += stride
                else:
                    while j < length:
                        if not nw_bit_test(self.qflt, j & (QFLT_BITS - 1)) or not self.in_prog(
                                prog0, self.prog_pos, base + j, stride):
                            nw_bit_set(seg, j)
                        j += stride
                gnext = base + j
                if gnext < plen:
                    if self.push(gnext, <uint32_t>stride) != 0:
                        return -1
            nb = b.next
            b.next = self.free_blocks
            self.free_blocks = b
            b = nb
            nent = NW_BLOCK_N
        # 4. hits of primes whose order is not tabulated, once the rest is known
        self.flush_checks(n_lo, npend)
        # 5. count primes, collect and test candidates, a piece at a time (which bounds
        # the candidate list), each piece once the pre-sieved primes' progression hits on
        # it are recorded (4b: while its bits are in the first-level cache)
        if self.pre_primes:
            self.presieved_start(n_lo)
        j = 0
        while j < length:
            end = length - j if length - j < self.scan_piece() else self.scan_piece()
            if self.pre_primes:
                self.presieved_progressions(n_lo, j + end, kp)
            ncand = self.scan(n_lo, j, j + end)
            if self.test_candidates(n_lo, ncand, kp) != 0:
                return -1
            j += end
        if n_lo <= 17:
            self.fix_small_primes(n_lo, length, kp)
        return 0

    cdef void mark_array(self, int a0, int a1, uint64_t end, bint last,
                         const uint8_t *kp) noexcept nogil:
        """Array primes a0..a1-1 mark every multiple below offset end (with last, end is
        the segment's length and their offsets move on to the next segment). The few
        that have a progression hit below end take mark_progression's way."""
        cdef uint64_t j, S = self.S
        cdef ArrayPrime *ar
        cdef int a
        for a in range(a0, a1):
            ar = &self.arr[a]
            if ar.g < end:
                self.mark_progression(a, end, kp)
            else:
                ar.j = <uint32_t>nw_mark_bits(self.seg, ar.j, ar.p, end)
            if last:
                j = ar.j
                ar.j = <uint32_t>(j - S if j >= S else 0)
                # g >= end: g - S is the next segment's offset (past a pass's last,
                # shorter segment, start_pass sets them anew)
                ar.g -= S

    cdef void mark_large(self, int a0, int a1, const uint8_t *kp) noexcept nogil:
        """mark_array over the whole segment for array primes a0..a1-1 above an eighth of
        the segment, which hit it fewer than eight times: a plain loop, inline."""
        cdef uint64_t j, S = self.S
        cdef uint8_t *seg = self.seg
        cdef ArrayPrime *ar = self.arr + a0
        cdef ArrayPrime *stop = self.arr + a1
        cdef uint32_t p
        while ar < stop:
            if ar.g < S:
                self.mark_progression(ar - self.arr, S, kp)
            else:
                j = ar.j
                p = ar.p
                while j < S:
                    nw_bit_set(seg, j)
                    j += p
                ar.j = <uint32_t>j
            ar.j -= S
            ar.g -= S
            ar += 1

    cdef void mark_progression(self, int a, uint64_t end, const uint8_t *kp) noexcept nogil:
        """mark_array for array prime a, whose progression hits offsets g, g + period, ...
        below end: it marks every multiple, then puts back the bits at those hits as they
        were before (a progression repeats every M/2 multiples, often fewer than eight:
        stopping the marking at each hit would cost more), unless a small prime factor
        rules n out (ruled_at), and records the hits. Which hits are put back is found
        without branches (saved: the offsets of the hits on numbers not ruled out yet,
        then of those that ruled_at leaves live): each of the two tests goes either way
        about as often, and mispredicted they cost more than the rest of a hit (near
        10^12 the sweep took 3% longer)."""
        cdef ArrayPrime *ar = &self.arr[a]
        cdef uint64_t g = ar.g, period = self.apm[a], nsaved = 0, nlive = 0, ie, live, gnext
        cdef uint64_t t, step = period % KPERIOD
        cdef uint8_t two = self.atwo[a]
        cdef const uint8_t *dead = self.dead_bits(two)
        cdef uint32_t *saved = self.saved
        cdef uint64_t t0 = kp - self.kpat
        t = (t0 + g) % KPERIOD
        while g < end:
            # the hits on numbers not ruled out before p's marks (the others keep them)
            saved[nsaved] = <uint32_t>g
            nsaved += nw_bit_test(self.seg, g) ^ 1
            # what ruled_at will read once the marks are made: far apart
            nw_prefetch(dead + (t >> 3) if dead != NULL else kp + g)
            g += period
            t += step
            if t >= KPERIOD:
                t -= KPERIOD
        gnext = g
        ar.j = <uint32_t>nw_mark_bits(self.seg, ar.j, ar.p, end)
        for ie in range(nsaved):
            g = saved[ie]
            # else ruled out by a small prime factor: the mark stays
            live = <uint64_t>self.ruled_at(dead, kp, g, (t0 + g) % KPERIOD, two) ^ 1
            self.seg[g >> 3] &= <uint8_t>~(live << (g & 7))
            saved[nlive] = <uint32_t>g
            nlive += live
        ar.g = gnext
        for ie in range(nlive):
            self.prog_hit(saved[ie], ar.p)

    cdef inline const uint8_t *dead_bits(self, uint8_t two) noexcept nogil:
        """Where ruled_by_small for a prime whose ord_p(2) has 2-adic valuation two can be
        read from a bit array indexed like kdeadbits (bit t for pattern place t < KPERIOD),
        an eighth the size of the pattern's bytes: the dead bits of the primes whose
        valuation is two (by p mod 8 = 7, 3, 5 for 0, 1, 2: see dead_for), or for a
        valuation above 3, which no small prime has, any small prime factor (ksmall:
        poison or not, it rules n out); NULL for 3 or unknown (read the pattern byte)."""
        if two <= 2:
            return self.kdeadbits + (3 if two == 0 else two) * DEAD_STRIDE
        if two > 3 and two != NO_T:
            return <const uint8_t *>self.ksmall
        return NULL

    cdef inline bint ruled_at(self, const uint8_t *dead, const uint8_t *kp, uint64_t g,
                              uint64_t t, uint8_t two) noexcept nogil:
        """ruled_by_small(kp, g, two) for offset g, at place t < KPERIOD of the pattern:
        from dead = dead_bits(two) where it is a bit array, else from the pattern byte."""
        if dead != NULL:
            return nw_bit_test(dead, t)
        return self.ruled_by_small(kp, g, two)

    cdef void presieved_start(self, uint64_t n_lo) noexcept nogil:
        """Sets each pre-sieved prime's first progression hit in the segment from n_lo:
        the first offset g >= 0 with u0 + g = (p - 1) / 2 (mod p M / 2), u0 = (n_lo - 1) / 2,
        and its place (u0 + g) mod KPERIOD in the small-prime pattern."""
        cdef uint64_t u0 = (n_lo - 1) >> 1, period, g
        cdef int a
        for a in range(self.pre_primes):
            period = self.pre.half_pm[a]
            g = (period + (self.pre.p[a] >> 1) - u0 % period) % period
            self.pre_g[a] = g
            self.pre_t[a] = (u0 + g) % KPERIOD

    cdef void presieved_progressions(self, uint64_t n_lo, uint64_t end,
                                     const uint8_t *kp) noexcept nogil:
        """Records the progression hits of the pre-sieved primes below offset end of the
        segment (those their patterns leave out: see presieve.h; from where the last call,
        or presieved_start, left them) on the numbers still alive: ruled out if a small
        prime factor (kp) disagrees with p on the 2-adic valuation of the order of 2; else
        in pseg and ev for a strong hit, in weak for a weak one (a second weak hit makes
        the number a candidate, as pseg with a product of 1). Called a scan piece at a
        time, just before the piece's scan, which then finds its bits in the first-level
        cache (a small gain: what made these hits cost 15% of the sweep near 10^12 was
        their branches, see presieved_live_hits)."""
        cdef uint64_t u0 = (n_lo - 1) >> 1, period, g, next_strong, t
        cdef uint32_t p
        cdef uint8_t two
        cdef const uint8_t *dead
        cdef bint table, strong
        cdef int a
        for a in range(self.pre_primes):
            p = self.pre.p[a]
            period = self.pre.half_pm[a]
            two = self.pre.two[a]
            table = self.has_table[a]
            # whether a small prime factor rules n out, from a bit array where it can
            dead = self.dead_bits(two)
            if dead != NULL:
                self.presieved_live_hits(a, p, table, dead, u0, end)
                continue
            g = self.pre_g[a]
            t = self.pre_t[a]
            while g < end:
                strong = not table
                if table and self.strong_at[a] < self.nstrong[a]:
                    next_strong = self.strong_u[a][self.strong_at[a]]
                    if next_strong <= u0 + g:
                        strong = next_strong == u0 + g
                        self.strong_at[a] += 1
                if not nw_bit_test(self.seg, g):
                    if self.ruled_at(dead, kp, g, t, two):
                        nw_bit_set(self.seg, g)
                    elif strong:
                        self.prog_hit(g, p)
                    elif nw_bit_test(self.weak, g):
                        self.prog_hit(g, 1)
                    else:
                        nw_bit_set(self.weak, g)
                g += period
                t += period
                if t >= KPERIOD:
                    t -= KPERIOD
            self.pre_g[a] = g
            self.pre_t[a] = t

    cdef void presieved_live_hits(self, int a, uint32_t p, bint table, const uint8_t *dead,
                                  uint64_t u0, uint64_t end) noexcept nogil:
        """presieved_progressions for pre-sieved prime a where its dead bits are a bit
        array: the hits on live numbers are found first without branches, CHUNK at most
        at a time (see nw_live_progression), then recorded."""
        cdef uint64_t period = self.pre.half_pm[a], stop, nlive, i, g, u
        cdef int at
        cdef bint strong
        while self.pre_g[a] < end:
            stop = self.pre_g[a] + (CHUNK - 1) * period
            nlive = nw_live_progression(self.seg, dead, &self.pre_g[a], &self.pre_t[a],
                                        period, KPERIOD, stop if stop < end else end,
                                        self.pend_j)
            for i in range(nlive):
                g = self.pend_j[i]
                strong = not table
                if table:
                    # the strong hits are a few of the progression's, ascending
                    u = u0 + g
                    at = self.strong_at[a]
                    while at < self.nstrong[a] and self.strong_u[a][at] < u:
                        at += 1
                    strong = at < self.nstrong[a] and self.strong_u[a][at] == u
                    self.strong_at[a] = at
                if strong:
                    self.prog_hit(g, p)
                elif nw_bit_test(self.weak, g):
                    self.prog_hit(g, 1)
                else:
                    nw_bit_set(self.weak, g)

    cdef void flush_checks(self, uint64_t n_lo, uint64_t npend) noexcept nogil:
        """Applies the pending hits of primes whose order is not tabulated: each hit on a
        number not yet ruled out is checked (in a batch), the others are dropped."""
        cdef uint64_t i, j, nkeep
        # a hit on n already ruled out is dropped (n is composite whatever p says); one on
        # n that p cannot leave a pseudoprime (dead_for) is dropped and rules n out
        nkeep = nw_keep_live_hits(self.seg, self.kdeadbits, DEAD_STRIDE,
                                  ((n_lo - 1) >> 1) % KPERIOD, KPERIOD,
                                  self.pend_j, self.pend_p, npend)
        self.n_checks += nkeep
        nw_order_checks(n_lo, self.pend_j, self.pend_p, nkeep, self.chk)
        for i in range(nkeep):
            j = self.pend_j[i]
            if self.chk[i]:
                self.prog_hit(j, self.pend_p[i])
            else:
                nw_bit_set(self.seg, j)

    cdef uint64_t scan(self, uint64_t n_lo, uint64_t j0, uint64_t length) noexcept nogil:
        """Adds the primes at offsets [j0, length) of the segment to the count (and to the
        count of each block it overlaps); returns the candidates in cand."""
        cdef uint64_t ncand = 0, piece, c, bi
        cdef uint64_t t0 = ((n_lo - 1) >> 1) % KPERIOD
        cdef const uint64_t *sw = <const uint64_t *>self.seg
        cdef const uint64_t *pw = <const uint64_t *>self.pseg
        cdef const uint64_t *ww = <const uint64_t *>self.weak
        if self.blocks.n == 0:
            self.prime_count += nw_scan_bits(sw, pw, ww, self.ksmall, self.kpoison, self.kcand, t0,
                                             j0, length, self.cand, &ncand)
            return ncand
        while j0 < length:
            bi = blocks_index(&self.blocks, n_lo + 2 * j0)
            piece = blocks_odd_left(&self.blocks, n_lo + 2 * j0, bi)
            if piece > length - j0:
                piece = length - j0
            c = nw_scan_bits(sw, pw, ww, self.ksmall, self.kpoison, self.kcand, t0,
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
        cdef uint64_t i, j, n, s, m, p, ev, nbatch = 0
        cdef uint8_t k, t, tp
        cdef bint clash
        cdef int w
        cdef uint8_t *todo = self.cstate   # per candidate: 0 drop, 1 Miller-Rabin, 2 batch
        for i in range(ncand):
            if i + PREFETCH_AHEAD < ncand:
                # the pattern byte and the progression product of a candidate further on:
                # random reads, far apart
                nw_prefetch(kp + cand[i + PREFETCH_AHEAD])
                nw_ev_prefetch(&self.evm, cand[i + PREFETCH_AHEAD], 0)
            j = cand[i]
            k = kp[j]
            n = n_lo + 2 * j
            self.n_candidates += 1
            todo[i] = 0
            s = self.kprod[k & K_MASK]
            ev = 1
            # t: the 2-adic valuation of ord_q(2) for the known prime factors q of n, which
            # every prime factor of a strong pseudoprime shares (NO_T: unknown)
            t = self.ktwo[k & K_MASK]
            if not nw_bit_test(self.pseg, j):
                pass  # no sieving prime hit n: n = s * m, m prime or 1 (or n has a square factor)
            else:
                # n = s * m, s the product of the primes that hit n (in their
                # progressions), m prime or 1 (or n has a square factor)
                p = nw_ev_get(&self.evm, <uint32_t>j)
                ev = p
                tp = self.two_of(p)
                if tp != NO_T:  # p is one prime (below 2^32; s below 2^18)
                    if t != NO_T and t != tp:
                        continue  # two prime factors disagree
                    t = tp
                    s = 0 if p == 1093 or p == 3511 else s * p
                elif p == 0 or p % 1093 == 0 or p % 3511 == 0:
                    s = 0  # no shortcut (the square of a Wieferich prime may divide n)
                else:
                    s *= p
            if self.nweak and nw_bit_test(self.weak, j):
                # the pre-sieved primes that divide n (each in its progression, else seg is
                # set) and are not in ev: those of the weak hits
                clash = False
                for w in range(self.pre_primes):
                    if n * self.pre_inv[w] <= self.pre_max[w] and (ev == 0 or ev % self.pre.p[w]):
                        if t != NO_T and t != self.pre.two[w]:
                            clash = True  # two prime factors disagree
                            break
                        t = self.pre.two[w]
                        s *= self.pre.p[w]
                if clash:
                    continue
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
        nw_pow2_is_one_batch(self.cf_e, self.cf_m, nbatch, self.cf_one, self.cf_idx)
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

    cdef void free_lists(self) noexcept nogil:
        cdef uint64_t i
        for i in range(self.nplists):
            nw_plist_free(&self.plists[i])
        free(self.plists)
        self.plists = NULL
        self.nplists = 0
        self.list_bytes = 0

    cdef int run(self, uint64_t pass_len, uint64_t set_passes) noexcept nogil:
        """Sweeps the range in passes of pass_len, grouped in sets of set_passes: the first
        pass of a set streams every sieving prime, and lists each prime above
        max(pass_len, ord_limit) (which hits a pass at most once) under the later passes
        of the set it hits; those passes stream only the primes up to that bound."""
        cdef uint64_t sp_max = nw_isqrt(self.last), spf_limit, pidx0 = 0, plen, s
        cdef uint64_t set_len, kset, kk
        # orders are needed for every array prime and bucket primes up to ord_limit
        spf_limit = self.ord_limit if self.ord_limit > self.array_limit else self.array_limit
        if spf_limit > sp_max:
            spf_limit = sp_max
        self.spf = _make_spf(spf_limit + 2)
        if self.spf == NULL:
            return -1
        if self.setup_arrays(sp_max) != 0:
            return -1
        if set_passes < 1:
            set_passes = 1
        while pidx0 < self.nidx:
            set_len = self.nidx - pidx0
            if set_len > set_passes * pass_len:
                set_len = set_passes * pass_len
            kset = (set_len + pass_len - 1) // pass_len
            for kk in range(kset):
                plen = self.nidx - pidx0
                if plen > pass_len:
                    plen = pass_len
                if self.start_pass(pidx0, plen, kk, kset, set_len, pass_len) != 0 or self.failed:
                    return -1
                for s in range(self.nheads):
                    if self.sieve_segment(pidx0, plen, s) != 0 or self.failed:
                        return -1
                pidx0 += plen
            self.free_lists()
        return 0

    cdef uint64_t table_bytes(self):
        """Bytes of the sweep's own tables besides the buckets (the order table and the
        pre-sieve patterns, shared by every sweep, not counted: 8 MB at most, and 35 KB at
        the default limit, reported as presieve_bytes)."""
        cdef uint64_t spf_limit = self.ord_limit if self.ord_limit > self.array_limit else self.array_limit
        if spf_limit > nw_isqrt(self.last):
            spf_limit = nw_isqrt(self.last)
        return (3 * self.seg_words() * 8 + QFLT_BITS // 8 + 3 * self.pattern_words() * 8
                + KPERIOD + self.S
                + (<uint64_t>1 << self.evm.bits) * sizeof(uint64_t)
                + self.scan_piece() * sizeof(uint32_t)
                + (self.S // SAVED_SPACING + 2) * sizeof(uint32_t)
                + NW_BLOCK_N * sizeof(uint64_t)
                + CHUNK * (3 * sizeof(uint32_t) + 2 * sizeof(uint64_t) + 3)
                + (spf_limit + 4) // 2 * sizeof(uint16_t) + self.cache_cap * sizeof(uint32_t)
                + self.na * (sizeof(ArrayPrime) + sizeof(uint64_t) + 1)
                + self.nheads * sizeof(Entry *) + self.prog_cap * sizeof(ProgHit))

    def execute(self, uint64_t pass_len, entry_bytes=4, uint64_t set_passes=1):
        cdef int rc
        if entry_bytes not in (4, 8):
            raise ValueError("entry_bytes must be 4 or 8")
        self.wide = entry_bytes == 8
        cdef uint64_t need = self.ord_limit if self.ord_limit > self.array_limit else self.array_limit
        if need > nw_isqrt(self.last):
            need = nw_isqrt(self.last)
        _ensure_orders(need + 1)
        self.ord_table = _ord_table
        self.ord_filled = _ord_filled
        with nogil:
            rc = self.run(pass_len, set_passes)
        if rc != 0:
            raise MemoryError("bpsw sweep: out of memory")
        found = [(self.found[i].n, bool(self.found[i].lucas)) for i in range(self.nfound)]
        stats = {
            "passes": -(-<object>self.nidx // <object>pass_len),
            "pass_len": pass_len,
            "entry_bytes": entry_bytes,
            "set_passes": set_passes,
            "peak_list_bytes": self.peak_list_bytes,
            "peak_bucket_bytes": self.peak_blocks * sizeof(Block),
            "table_bytes": self.table_bytes(),
            "order_checks": self.n_checks,
            "candidates": self.n_candidates,
            "miller_rabin": self.n_mr,
            "array_primes": self.na,
            "presieved_primes": self.pre_primes,
            "presieve_bytes": self.pre.nbytes if self.pre is not None else 0,
            "weak_primes": self.nweak,
            "l1_block_bits": self.l1_bits,
            "seg_bytes": self.S,
            "ev_slots": 1 << self.evm.bits,
            "cached_orders": self.ncache,
        }
        counts = [self.blocks.count[i] for i in range(self.blocks.n)]
        return self.prime_count, found, stats, counts


# Tables shared by every sweep, built once under the GIL (sweeps run without it).
if nw_pgen_setup() != 0:
    raise MemoryError()
# glibc keeps blocks below 8 MB in its heap, so that short sweeps do not fault their
# scratch arrays in again (see heap_tuning.h); whether it took
_HEAP_KEPT = bool(nw_keep_heap(KEEP_HEAP_BELOW))
