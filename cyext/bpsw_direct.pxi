# bpsw_direct.pxi: the direct method (trial division and Miller-Rabin on each number).
# Included by bpsw.pyx (textually, in its order); not a module of its own.

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
