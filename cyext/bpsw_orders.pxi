# bpsw_orders.pxi: the order of 2 modulo the sieving primes, and the shared order table.
# Included by bpsw.pyx (textually, in its order); not a module of its own.

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
