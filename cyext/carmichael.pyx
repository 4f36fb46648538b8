# cython: language_level=3
"""Carmichael-number kernels: a pre-product search and a segmented sieve.

Both return every Carmichael number found with its sorted prime factors, the
certificate that cyext.korselt.check verifies. Arithmetic is exact for every
bound below 2^64.

Pre-product search. Write n = P*q with q the largest prime factor of n, and
P = R*p with p the next largest. Then q - 1 = (P - 1)/k for some 1 <= k < R,
and k*(n - 1) = (P - 1)*(P + k), so L = lcm(f - 1 : f | P) must divide
(P - 1)*(P + k): the admissible k form one residue class, -P modulo
L/gcd(L, P - 1). The search walks R (a depth-first tree over primes, pruned by
f not dividing f' - 1) and, for each R, every prime p up to sqrt(X/R); for each
(R, p) it steps through that class of k (modulo the p - 1 part of the modulus
first, all of it when that leaves many), or through q = P^-1 (mod L) when that
progression is shorter. Every prime factor of a Carmichael number is below
sqrt(n) < 2^32, so primality tests on q need only 64-bit products.

Memory: the odd primes up to sqrt(X/p1) for the smallest p1 of the slice, as
uint32 (190 KB at X = 10^12, 14 MB at 10^16, with a transient byte sieve of
sqrt(X/p1)/2 while building it), and a factor table up to cbrt(X/3).
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memset

cdef extern from "carmichael_arith.h" nogil:
    uint64_t carm_gcd(uint64_t a, uint64_t b)
    uint64_t carm_invmod(uint64_t a, uint64_t m)
    int carm_is_prime32(uint64_t n)
    uint32_t carm_inv32(uint32_t f)
    uint64_t carm_inv64(uint64_t f)
    int carm_ctz64(uint64_t x)
    int CARM_PORTABLE

cdef enum:
    MAXD = 24          # more prime factors than any n < 2^64 can have
    MAXL = 16          # more distinct primes than any lambda(R) < 2^64 can have
    K_REFINE = 4       # above this many k candidates, sharpen their modulus with lambda(R)
    K_STEPS = 24       # above this many k candidates, try the q progression
    SEG_ODDS = 1 << 15 # sieve segment: odd numbers per segment (128 KiB of uint32)

MAX_BOUND = (1 << 64) - 1
PORTABLE_BUILD = bool(CARM_PORTABLE)


ctypedef struct State:
    uint64_t X
    const uint32_t* primes
    Py_ssize_t nprimes
    int depth
    uint32_t f[MAXD]
    uint32_t finv[MAXD]
    uint32_t flim[MAXD]
    # lambda(R) = lcm(f - 1 : f | R) as prime powers l^e, one list per depth
    int nl[MAXD + 1]
    uint64_t lq[MAXD + 1][MAXL]
    uint64_t linv[MAXD + 1][MAXL]
    uint64_t llim[MAXD + 1][MAXL]
    int le[MAXD + 1][MAXL]
    const uint32_t* spf         # smallest prime factor of each n < spf_len
    uint64_t spf_len
    uint64_t second_lo
    uint64_t second_hi
    uint64_t* out
    size_t out_len
    size_t out_cap
    int oom
    uint64_t work


cdef int push_out(State* st, uint64_t v) noexcept nogil:
    cdef size_t cap
    cdef uint64_t* grown
    if st.out_len == st.out_cap:
        cap = st.out_cap * 2 if st.out_cap else 1024
        grown = <uint64_t*>realloc(st.out, cap * sizeof(uint64_t))
        if grown == NULL:
            st.oom = 1
            return -1
        st.out = grown
        st.out_cap = cap
    st.out[st.out_len] = v
    st.out_len += 1
    return 0


cdef inline void try_q(State* st, uint64_t R, uint64_t lam, uint64_t p, uint64_t q) noexcept nogil:
    """Record n = R*p*q if it passes Korselt; q - 1 | R*p - 1 and q <= X/(R*p) hold."""
    cdef uint64_t n
    cdef int i
    if (R * q - 1) % (p - 1) != 0:
        return
    n = R * p * q
    if (n - 1) % lam != 0:
        return
    if not carm_is_prime32(q):
        return
    push_out(st, <uint64_t>(st.depth + 2))
    push_out(st, n)
    for i in range(st.depth):
        push_out(st, st.f[i])
    push_out(st, p)
    push_out(st, q)


cdef inline uint64_t sharpen(State* st, uint64_t x, uint64_t m) noexcept nogil:
    """lcm(m, lambda(R)/gcd(lambda(R), x)) from the prime powers of lambda(R)."""
    cdef int d = st.depth, i, e, v, t
    cdef uint64_t l, inv, lim, y
    for i in range(st.nl[d]):
        l = st.lq[d][i]
        e = st.le[d][i]
        if l == 2:
            v = carm_ctz64(x)
            if v < e:
                t = carm_ctz64(m)
                if t < e - v:
                    m <<= e - v - t
            continue
        inv = st.linv[d][i]
        lim = st.llim[d][i]
        y = x
        v = 0
        while v < e and y * inv <= lim:
            y *= inv
            v += 1
        if v < e:
            y = m
            t = 0
            while t < e - v and y * inv <= lim:
                y *= inv
                t += 1
            while t < e - v:
                m *= l
                t += 1
    return m


cdef inline void pair_search(State* st, uint64_t R, uint64_t lam, uint64_t p,
                             uint64_t XR) noexcept nogil:
    """Every Carmichael number R*p*q <= X with p < q, q the largest prime.

    With P = R*p and q - 1 = (P - 1)/k: k*(n - 1) = (P - 1)*(P + k), so
    L = lambda(P*q) divides (P - 1)*(P + k) and k = -P modulo L/gcd(L, P - 1).
    The p - 1 part of that modulus, m, is cheap and usually enough; the
    lambda(R) part is added when m leaves many candidates.
    """
    cdef uint64_t P = R * p
    cdef uint64_t Qmax = XR // p
    cdef uint64_t pm1 = p - 1
    cdef uint64_t kmin, kmax, m, k, L, q, na
    # p + 1 <= q - 1 <= Qmax - 1 (the caller ensures Qmax >= p + 2)
    kmin = (P - 1 + Qmax - 2) // (Qmax - 1)
    kmax = R - 1 if R <= p else (P - 1) // (p + 1)
    if kmin > kmax:
        return
    m = pm1 // carm_gcd(pm1, (R - 1) % pm1 if R > pm1 else R - 1)
    st.work += 1
    if kmax - kmin >= K_REFINE * m:
        m = sharpen(st, P - 1, m)
        if kmax - kmin >= K_STEPS * m:
            # still many k: the q progression may be shorter
            L = lam // carm_gcd(lam, pm1) * pm1
            na = (Qmax - p) // L + 1
            if na <= (kmax - kmin) // m:
                st.work += na
                q = carm_invmod(P % L, L)
                if q <= p:
                    q += ((p - q) // L + 1) * L
                while q <= Qmax:
                    if (P - 1) % (q - 1) == 0:
                        try_q(st, R, lam, p, q)
                    q += L
                return
    # the first k >= kmin with k = -P (mod m)
    k = m - (P + kmin) % m
    k = kmin + (0 if k == m else k)
    while k <= kmax:
        st.work += 1
        if (P - 1) % k == 0:
            try_q(st, R, lam, p, (P - 1) // k + 1)
        k += m


cdef void push_lambda(State* st, int d, uint64_t pm1) noexcept nogil:
    """Level d + 1 of the lambda factorisation: level d merged with pm1 = p - 1."""
    cdef int i, n = st.nl[d], e
    cdef uint64_t l
    for i in range(n):
        st.lq[d + 1][i] = st.lq[d][i]
        st.le[d + 1][i] = st.le[d][i]
        st.linv[d + 1][i] = st.linv[d][i]
        st.llim[d + 1][i] = st.llim[d][i]
    while pm1 > 1:
        if pm1 < st.spf_len:
            l = st.spf[pm1]
        else:  # not reached: R is only extended by p <= cbrt(X)
            l = 2
            while pm1 % l:
                l += 1
        e = 0
        while pm1 % l == 0:
            pm1 //= l
            e += 1
        for i in range(n):
            if st.lq[d + 1][i] == l:
                if st.le[d + 1][i] < e:
                    st.le[d + 1][i] = e
                break
        else:
            if n < MAXL:
                st.lq[d + 1][n] = l
                st.le[d + 1][n] = e
                st.linv[d + 1][n] = carm_inv64(l)
                st.llim[d + 1][n] = (<uint64_t>0xFFFFFFFFFFFFFFFF) // l
                n += 1
    st.nl[d + 1] = n


cdef void visit(State* st, uint64_t R, uint64_t lam, Py_ssize_t j) noexcept nogil:
    """Search every n = R*p*q (p, q primes above those of R), then extend R."""
    cdef uint64_t XR = st.X // R
    cdef uint64_t p
    cdef uint32_t pm1
    cdef int i, d = st.depth
    while j < st.nprimes:
        p = st.primes[j]
        j += 1
        if p * (p + 2) > XR:
            break
        if d == 1:
            # p is the second smallest prime of every n found below here
            if p < st.second_lo:
                continue
            if p >= st.second_hi:
                break
        pm1 = <uint32_t>(p - 1)
        for i in range(d):
            if <uint32_t>(pm1 * st.finv[i]) <= st.flim[i]:
                break
        else:
            pair_search(st, R, lam, p, XR)
            if d + 1 < MAXD and (p + 2) * (p + 4) <= XR // p:
                st.f[d] = <uint32_t>p
                st.finv[d] = carm_inv32(<uint32_t>p)
                st.flim[d] = <uint32_t>(0xFFFFFFFFu // p)
                push_lambda(st, d, p - 1)
                st.depth = d + 1
                visit(st, R * p, lam // carm_gcd(lam, p - 1) * (p - 1), j)
                st.depth = d


cdef uint64_t isqrt64(uint64_t n) noexcept nogil:
    cdef uint64_t r = 0, bit = (<uint64_t>1) << 62
    while bit > n:
        bit >>= 2
    while bit:
        if n >= r + bit:
            n -= r + bit
            r = (r >> 1) + bit
        else:
            r >>= 1
        bit >>= 2
    return r


cdef uint64_t icbrt64(uint64_t n) noexcept nogil:
    cdef uint64_t r = 0, b
    cdef int s
    for s in range(63, -1, -3):
        r <<= 1
        b = 3 * r * (r + 1) + 1
        if (n >> s) >= b:
            n -= b << s
            r += 1
    return r


cdef uint32_t* smallest_factors(uint64_t n) noexcept nogil:
    """spf[i] = smallest prime factor of i, for 2 <= i < n; NULL when out of memory."""
    cdef uint32_t* spf = <uint32_t*>malloc(n * sizeof(uint32_t))
    cdef uint64_t i, j
    if spf == NULL:
        return NULL
    memset(spf, 0, n * sizeof(uint32_t))
    for i in range(2, n):
        if spf[i] == 0:
            spf[i] = <uint32_t>i
            j = i * i
            while j < n:
                if spf[j] == 0:
                    spf[j] = <uint32_t>i
                j += i
    return spf


cdef uint32_t* odd_primes(uint64_t limit, Py_ssize_t* count) noexcept nogil:
    """Odd primes <= limit (< 2^32), or NULL when out of memory."""
    cdef uint64_t half = limit // 2 + 1, i, j, n
    cdef uint8_t* comp
    cdef uint32_t* out
    cdef Py_ssize_t c = 0
    comp = <uint8_t*>malloc(half)
    if comp == NULL:
        return NULL
    memset(comp, 0, half)
    comp[0] = 1  # 1 is not prime
    i = 1
    while (2 * i + 1) * (2 * i + 1) <= limit:
        if not comp[i]:
            n = 2 * i + 1
            j = n * n // 2
            while j < half:
                comp[j] = 1
                j += n
        i += 1
    for i in range(1, half):
        if not comp[i] and 2 * i + 1 <= limit:
            c += 1
    out = <uint32_t*>malloc((c + 1) * sizeof(uint32_t))
    if out != NULL:
        c = 0
        for i in range(1, half):
            if not comp[i] and 2 * i + 1 <= limit:
                out[c] = <uint32_t>(2 * i + 1)
                c += 1
    free(comp)
    count[0] = c
    return out


cdef uint64_t _as_bound(object bound, str name) except? 0:
    if not isinstance(bound, int) or isinstance(bound, bool):
        raise TypeError(f"{name} must be an int, not {type(bound).__name__}")
    if bound < 0 or bound > MAX_BOUND:
        raise ValueError(f"{name} must be in [0, 2**64 - 1], got {bound}")
    return <uint64_t>bound


cdef list _collect(uint64_t* buf, size_t length):
    cdef list found = []
    cdef size_t i = 0, c, t
    while i < length:
        c = buf[i]
        found.append((buf[i + 1], tuple([buf[i + 2 + t] for t in range(c)])))
        i += 2 + c
    found.sort()
    return found


def search(bound, slice_lo=0, slice_hi=None, second_lo=0, second_hi=None):
    """Every Carmichael number n <= bound whose smallest prime factor p satisfies
    slice_lo <= p < slice_hi (None = no upper limit), ascending by n, each with
    its sorted prime factors.

    second_lo/second_hi restrict the second smallest prime factor the same way,
    so that one crowded smallest prime can be split into several workunits.
    """
    found, _ = _run(bound, slice_lo, slice_hi, second_lo, second_hi)
    return found


def search_work(bound, slice_lo=0, slice_hi=None, second_lo=0, second_hi=None):
    """Like search(), but returns (results, work units spent), for cost models."""
    return _run(bound, slice_lo, slice_hi, second_lo, second_hi)


cdef tuple _run(object bound, object slice_lo, object slice_hi, object second_lo, object second_hi):
    cdef uint64_t X = _as_bound(bound, "bound")
    cdef uint64_t lo = _as_bound(slice_lo, "slice_lo")
    cdef uint64_t hi = MAX_BOUND if slice_hi is None else _as_bound(slice_hi, "slice_hi")
    cdef uint64_t lo2 = _as_bound(second_lo, "second_lo")
    cdef uint64_t hi2 = MAX_BOUND if second_hi is None else _as_bound(second_hi, "second_hi")
    cdef State st
    cdef uint64_t p1min, limit, p1
    cdef Py_ssize_t i, nprimes = 0
    cdef uint32_t* primes
    cdef uint32_t* spf
    cdef uint64_t spf_len
    memset(&st, 0, sizeof(State))
    p1min = lo if lo > 3 else 3
    # smallest n with smallest prime p1 is at least p1 * (p1 + 2) * (p1 + 4)
    if X < 561 or hi <= p1min or p1min * p1min > X // p1min:
        return [], 0
    limit = isqrt64(X // p1min) + 1
    if limit > 0xFFFFFFFFu:
        limit = 0xFFFFFFFFu
    spf_len = icbrt64(X // 3) + 8
    with nogil:
        primes = odd_primes(limit, &nprimes)
        spf = smallest_factors(spf_len)
    if primes == NULL or spf == NULL:
        free(primes)
        free(spf)
        raise MemoryError("prime tables for the Carmichael search")
    st.spf = spf
    st.spf_len = spf_len
    st.X = X
    st.primes = primes
    st.nprimes = nprimes
    st.second_lo = lo2
    st.second_hi = hi2
    try:
        with nogil:
            for i in range(nprimes):
                p1 = primes[i]
                if p1 < lo:
                    continue
                if p1 >= hi or p1 * p1 > X // p1:
                    break
                st.depth = 1
                st.f[0] = <uint32_t>p1
                st.finv[0] = carm_inv32(<uint32_t>p1)
                st.flim[0] = <uint32_t>(0xFFFFFFFFu // p1)
                st.nl[0] = 0
                push_lambda(&st, 0, p1 - 1)
                visit(&st, p1, p1 - 1, i + 1)
                if st.oom:
                    break
        if st.oom:
            raise MemoryError("Carmichael search results")
        return _collect(st.out, st.out_len), st.work
    finally:
        free(primes)
        free(spf)
        free(st.out)


# ---------------------------------------------------------------- sieve method


cdef int factor_korselt(uint64_t n, const uint32_t* primes, Py_ssize_t nprimes,
                        uint64_t* fac, int* nf) noexcept nogil:
    """Trial-divide n; 1 when n is a Carmichael number (factors in fac)."""
    cdef uint64_t m = n, p
    cdef Py_ssize_t i
    cdef int c = 0
    for i in range(nprimes):
        p = primes[i]
        if p * p > m:
            break
        if m % p == 0:
            m //= p
            if m % p == 0 or (n - 1) % (p - 1) != 0 or c >= MAXD - 1:
                return 0
            fac[c] = p
            c += 1
    if m > 1:
        if (n - 1) % (m - 1) != 0 or m == n:
            return 0
        fac[c] = m
        c += 1
    nf[0] = c
    return c >= 3


def sieve_range(lo, hi):
    """Every Carmichael number in [lo, hi), by sieving every n of the range.

    For each odd n the sieve accumulates (mod 2^32) the product of the primes
    p | n with p - 1 | n - 1, i.e. those with n = p mod p*(p - 1); n is a
    Carmichael number exactly when that product is n itself and n is composite.
    Every prime factor of a Carmichael number is below sqrt(n), so sieving
    primes up to sqrt(hi) suffices; the rare matches are confirmed by exact
    trial division.
    """
    cdef uint64_t a = _as_bound(lo, "lo")
    cdef uint64_t b = _as_bound(hi, "hi")
    cdef uint64_t base, seg_end, n, stride, p, first, limit
    cdef uint64_t* nxt = NULL
    cdef uint32_t* prod = NULL
    cdef uint32_t* primes = NULL
    cdef uint32_t target
    cdef Py_ssize_t nprimes = 0, i, t, count
    cdef uint64_t fac[MAXD]
    cdef int nf
    cdef uint64_t* out = NULL
    cdef size_t out_len = 0, out_cap = 0
    cdef State st
    if a < 561:
        a = 561
    if b <= a:
        return []
    if a % 2 == 0:
        a += 1
    limit = isqrt64(b - 1) + 1
    memset(&st, 0, sizeof(State))
    with nogil:
        primes = odd_primes(limit, &nprimes)
    if primes == NULL:
        raise MemoryError("prime table for the Carmichael sieve")
    try:
        nxt = <uint64_t*>malloc((nprimes + 1) * sizeof(uint64_t))
        prod = <uint32_t*>malloc(SEG_ODDS * sizeof(uint32_t))
        if nxt == NULL or prod == NULL:
            raise MemoryError("Carmichael sieve buffers")
        with nogil:
            # first n >= a with n = p mod p*(p - 1); all such n are odd
            for i in range(nprimes):
                p = primes[i]
                stride = p * (p - 1)
                if a <= p:
                    first = p
                else:
                    first = a + (p + stride - a % stride) % stride
                nxt[i] = first
            base = a
            while base < b:
                count = SEG_ODDS
                if (b - base + 1) // 2 < <uint64_t>count:
                    count = <Py_ssize_t>((b - base + 1) // 2)
                seg_end = base + 2 * <uint64_t>count
                for t in range(count):
                    prod[t] = 1
                for i in range(nprimes):
                    n = nxt[i]
                    if n >= seg_end:
                        continue
                    p = primes[i]
                    stride = (p * (p - 1)) >> 1
                    t = <Py_ssize_t>((n - base) >> 1)
                    while t < count:
                        prod[t] *= <uint32_t>p
                        t += stride
                    nxt[i] = base + 2 * <uint64_t>t
                target = <uint32_t>base
                for t in range(count):
                    if prod[t] == target:
                        n = base + 2 * <uint64_t>t
                        if factor_korselt(n, primes, nprimes, fac, &nf):
                            push_out(&st, <uint64_t>nf)
                            push_out(&st, n)
                            for i in range(nf):
                                push_out(&st, fac[i])
                    target += 2
                base = seg_end
        if st.oom:
            raise MemoryError("Carmichael sieve results")
        return _collect(st.out, st.out_len)
    finally:
        free(primes)
        free(nxt)
        free(prod)
        free(st.out)


# ---------------------------------------------------------------- cost model

cdef Py_ssize_t count_upto(const uint32_t* primes, Py_ssize_t n, uint64_t y) noexcept nogil:
    """Number of entries of primes[0:n] that are <= y."""
    cdef Py_ssize_t lo = 0, hi = n, mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if primes[mid] <= y:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef double est_visit(State* st, uint64_t R, double dens, Py_ssize_t j) noexcept nogil:
    """Estimated work of visit(R) and its subtree: one unit per admissible p.

    dens is the share of primes p with no prime f | R dividing p - 1, about the
    product of (f - 2)/(f - 1); the inadmissible ones cost next to nothing.
    """
    cdef uint64_t XR = st.X // R
    cdef uint64_t p, s
    cdef uint32_t pm1
    cdef int i, d = st.depth
    cdef double total
    s = isqrt64(XR)
    total = <double>(count_upto(st.primes, st.nprimes, s) - j)
    if total < 0:
        total = 0
    total *= dens
    while j < st.nprimes:
        p = st.primes[j]
        j += 1
        if (p + 2) * (p + 4) > XR // p:
            break
        pm1 = <uint32_t>(p - 1)
        for i in range(d):
            if <uint32_t>(pm1 * st.finv[i]) <= st.flim[i]:
                break
        else:
            if d + 1 < MAXD:
                st.f[d] = <uint32_t>p
                st.finv[d] = carm_inv32(<uint32_t>p)
                st.flim[d] = <uint32_t>(0xFFFFFFFFu // p)
                st.depth = d + 1
                total += est_visit(st, R * p, dens * (p - 2) / (p - 1), j)
                st.depth = d
    return total


def cost_profile(bound, p1=None):
    """Estimated work of the pre-product search up to bound, in work units.

    With p1 None: a list of (p, units) for every prime p that can be the smallest
    factor of a Carmichael number <= bound. With p1 a prime: a list of (p2, units)
    for the second smallest factor p2 of those numbers whose smallest is p1. A unit
    is one prime tried as the next-to-largest factor, the search's inner step.
    """
    cdef uint64_t X = _as_bound(bound, "bound")
    cdef uint64_t first = 0 if p1 is None else _as_bound(p1, "p1")
    cdef uint64_t limit, p, q, XR
    cdef Py_ssize_t i, j, nprimes = 0
    cdef uint32_t* primes
    cdef State st
    cdef list out = []
    cdef double units
    memset(&st, 0, sizeof(State))
    if X < 561 or (p1 is not None and (first < 3 or first * first > X // first)):
        return out
    limit = isqrt64(X // (first if first > 3 else 3)) + 1
    if limit > 0xFFFFFFFFu:
        limit = 0xFFFFFFFFu
    with nogil:
        primes = odd_primes(limit, &nprimes)
    if primes == NULL:
        raise MemoryError("prime table for the Carmichael cost model")
    st.X = X
    st.primes = primes
    st.nprimes = nprimes
    try:
        for i in range(nprimes):
            p = primes[i]
            if p * p > X // p:
                break
            if p1 is not None and p != first:
                continue
            st.depth = 1
            st.f[0] = <uint32_t>p
            st.finv[0] = carm_inv32(<uint32_t>p)
            st.flim[0] = <uint32_t>(0xFFFFFFFFu // p)
            if p1 is None:
                with nogil:
                    units = est_visit(&st, p, (p - 2.0) / (p - 1), i + 1)
                out.append((p, units))
                continue
            # split the tree under p1 by its second prime q
            XR = X // p
            j = i + 1
            while j < nprimes:
                q = primes[j]
                j += 1
                if q * (q + 2) > XR:
                    break
                units = 1.0
                if (<uint32_t>(q - 1) * st.finv[0]) > st.flim[0] and (q + 2) * (q + 4) <= XR // q:
                    st.depth = 2
                    st.f[1] = <uint32_t>q
                    st.finv[1] = carm_inv32(<uint32_t>q)
                    st.flim[1] = <uint32_t>(0xFFFFFFFFu // q)
                    units += est_visit(&st, p * q, (p - 2.0) / (p - 1) * (q - 2.0) / (q - 1), j)
                out.append((q, units))
            break
        return out
    finally:
        free(primes)
