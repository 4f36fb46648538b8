# bpsw_testing.pxi: the C pieces of the kernel exposed to Python, for tests.
# Included by bpsw.pyx (textually, in its order); not a module of its own.

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


def _first_multiples(uint64_t n0, ps, bint staged=True):
    """[index from odd n0 of the first odd multiple of p that is >= max(p^2, n0)] for odd
    primes p < 2^32, through the staging loop (ascending primes) or, staged=False, the
    bucket blocks' loop (any order), AVX2 lanes where the processor has them
    (first_hits.h): for tests."""
    cdef Py_ssize_t k, count = len(ps)
    cdef uint32_t *p = <uint32_t *>malloc((count + 1) * sizeof(uint32_t))
    cdef uint64_t *st_h = <uint64_t *>malloc((count + 1) * sizeof(uint64_t))
    cdef uint32_t *st_p = <uint32_t *>malloc((count + 1) * sizeof(uint32_t))
    cdef uint64_t nst = 0, nls = 0
    try:
        if p == NULL or st_h == NULL or st_p == NULL:
            raise MemoryError()
        for k in range(count):
            p[k] = ps[k]
        if not staged:
            nw_first_multiples(p, count, n0, <double>n0, st_h)
            return [st_h[k] for k in range(count)]
        # every prime hits a pass of 2^64 - 1 odd numbers: one staged index each
        nw_stage_first_hits(p, count, n0, <double>n0, U64_MAX, 0, U64_MAX, 0, st_h, st_p,
                            &nst, NULL, NULL, &nls)
        return [st_h[k] for k in range(nst)]
    finally:
        free(p)
        free(st_h)
        free(st_p)


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
    cdef uint32_t *idx = <uint32_t *>malloc((count + 1) * sizeof(uint32_t))
    try:
        if e == NULL or m == NULL or res == NULL or idx == NULL:
            raise MemoryError()
        for k in range(count):
            e[k] = es[k]
            m[k] = ms[k]
        nw_pow2_is_one_batch(e, m, count, res, idx)
        return [bool(res[k]) for k in range(count)]
    finally:
        free(idx)
        free(e)
        free(m)
        free(res)


def _plist_roundtrip(primes):
    """(bytes, primes read back) of a pass-set list (passlist.h) of ascending odd primes
    below 2^32: for tests."""
    cdef PList l
    cdef const uint8_t *pos
    cdef const uint8_t *end
    cdef uint32_t q = 1
    nw_plist_init(&l)
    try:
        for x in primes:
            if nw_plist_push(&l, x) != 0:
                raise MemoryError()
        data = bytes(l.buf[:l.len]) if l.len else b""
        out = []
        pos = l.buf
        end = l.buf + l.len
        while pos < end:
            q = nw_plist_next(&pos, q)
            out.append(q)
        return data, out
    finally:
        nw_plist_free(&l)


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


def _live_progression(seg, dead, uint64_t g, uint64_t t, uint64_t period, uint64_t kperiod,
                      uint64_t end):
    """nw_live_progression on bit lists given as Python ints (seg of end + 64 bits, dead of
    kperiod bits): (live offsets, seg after, the next g, its t): for tests."""
    cdef uint64_t sbytes = (end + 64) // 8 + 8, dbytes = (kperiod + 7) // 8 + 8, k, n
    cdef uint8_t *sb = <uint8_t *>calloc(sbytes, 1)
    cdef uint8_t *db = <uint8_t *>calloc(dbytes, 1)
    cdef uint32_t *out = <uint32_t *>malloc(((end - g) // period + 2) * sizeof(uint32_t)) \
        if end > g else <uint32_t *>malloc(sizeof(uint32_t))
    try:
        if sb == NULL or db == NULL or out == NULL:
            raise MemoryError()
        sb_bytes = seg.to_bytes(sbytes, "little")
        db_bytes = dead.to_bytes(dbytes, "little")
        memcpy(sb, <const char *>sb_bytes, sbytes)
        memcpy(db, <const char *>db_bytes, dbytes)
        n = nw_live_progression(sb, db, &g, &t, period, kperiod, end, out)
        live = [out[k] for k in range(n)]
        return live, int.from_bytes(sb[:sbytes], "little"), g, t
    finally:
        free(sb)
        free(db)
        free(out)


def _scan_bits(seg, prog, weak, small, poison, scand, uint64_t t0, uint64_t j0, uint64_t j1):
    """nw_scan_bits on bit lists given as Python ints (bit i = number i; the patterns are
    read from bit t0 on): (prime count, candidates): for tests."""
    cdef uint64_t nw = (max(j1, 1) + t0 + 63) // 64 + 3, ncand = 0, count, i
    cdef uint64_t *w = <uint64_t *>calloc(6 * nw, 8)
    cdef uint32_t *cand = <uint32_t *>malloc((j1 + 1) * sizeof(uint32_t))
    try:
        if w == NULL or cand == NULL:
            raise MemoryError()
        for k, x in enumerate((seg, prog, weak, small, poison, scand)):
            for i in range(nw):
                w[k * nw + i] = (x >> (64 * i)) & 0xFFFFFFFFFFFFFFFF
        count = nw_scan_bits(w, w + nw, w + 2 * nw, w + 3 * nw, w + 4 * nw, w + 5 * nw, t0,
                             j0, j1, cand, &ncand)
        return count, [cand[i] for i in range(ncand)]
    finally:
        free(w)
        free(cand)


def _progression_products(hits, clear_before=()):
    """Applies the progression hits [(j, p)] in order as _Sweep.prog_hit does, to the
    products' hash table (ev_map.h), and returns ({j: product}, slots); the table is
    emptied before hit i for each i in clear_before: for tests."""
    cdef NwEvMap m
    cdef uint32_t j
    cdef uint64_t p
    if nw_ev_init(&m, EV_MAP_BITS) != 0:
        raise MemoryError()
    seen = set()
    clear_before = set(clear_before)
    try:
        for i, (j, p) in enumerate(hits):
            if i in clear_before:
                nw_ev_clear(&m)
                seen.clear()
            if j in seen:
                nw_ev_times(&m, j, p)
            else:
                seen.add(j)
                if nw_ev_put(&m, j, <uint32_t>p) != 0:
                    raise MemoryError()
        if len(seen) != m.n:
            raise RuntimeError("ev map: key count disagrees")
        return {j: nw_ev_get(&m, j) for j in seen}, 1 << m.bits
    finally:
        nw_ev_free(&m)
