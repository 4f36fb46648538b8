# bpsw_presieve.pxi: the pre-sieve patterns of the smallest sieving primes (presieve.h).
# Included by bpsw.pyx (textually, in its order); not a module of its own.

# ---------------------------------------------------------------- pre-sieve

# The prime factors of 2^d - 1 (with repeats) for d = p - 1, p a prime from 19 to 127, and
# for d = s - 1, s = 33 and 65 (the products of small primes that agree on the 2-adic
# valuation of their orders), found by Pollard's rho on 2^(d/2) - 1 and 2^(d/2) + 1
# (tests/test_bpsw_parts.py checks them). n = s m, m prime, is a pseudoprime only if m
# divides 2^(s-1) - 1: for a pre-sieved prime s = p (see _Sweep.plan_weak_hits), and for a
# product of small primes (see _Sweep._build_small_pattern).
_FACTORS_OF_2_TO_D_MINUS_1 = {
    18: (3, 3, 3, 7, 19, 73),
    22: (3, 23, 89, 683),
    28: (3, 5, 29, 43, 113, 127),
    30: (3, 3, 7, 11, 31, 151, 331),
    36: (3, 3, 3, 5, 7, 13, 19, 37, 73, 109),
    40: (3, 5, 5, 11, 17, 31, 41, 61681),
    42: (3, 3, 7, 7, 43, 127, 337, 5419),
    46: (3, 47, 178481, 2796203),
    52: (3, 5, 53, 157, 1613, 2731, 8191),
    58: (3, 59, 233, 1103, 2089, 3033169),
    60: (3, 3, 5, 5, 7, 11, 13, 31, 41, 61, 151, 331, 1321),
    66: (3, 3, 7, 23, 67, 89, 683, 20857, 599479),
    70: (3, 11, 31, 43, 71, 127, 281, 86171, 122921),
    72: (3, 3, 3, 5, 7, 13, 17, 19, 37, 73, 109, 241, 433, 38737),
    78: (3, 3, 7, 79, 2731, 8191, 121369, 22366891),
    82: (3, 83, 13367, 164511353, 8831418697),
    88: (3, 5, 17, 23, 89, 353, 397, 683, 2113, 2931542417),
    96: (3, 3, 5, 7, 13, 17, 97, 193, 241, 257, 673, 65537, 22253377),
    100: (3, 5, 5, 5, 11, 31, 41, 101, 251, 601, 1801, 4051, 8101, 268501),
    102: (3, 3, 7, 103, 307, 2143, 2857, 6529, 11119, 43691, 131071),
    106: (3, 107, 6361, 69431, 20394401, 28059810762433),
    108: (3, 3, 3, 3, 5, 7, 13, 19, 37, 73, 109, 87211, 246241, 262657, 279073),
    112: (3, 5, 17, 29, 43, 113, 127, 257, 5153, 15790321, 54410972897),
    126: (3, 3, 3, 7, 7, 19, 43, 73, 127, 337, 5419, 92737, 649657, 77158673929),
    32: (3, 5, 17, 257, 65537),
    64: (3, 5, 17, 257, 641, 65537, 6700417),
}


def _presieve_plan(limit):
    """The primes from 19 up to limit, in groups [(primes, half periods, common period)]
    whose patterns repeat within PRESIEVE_GROUP_BITS bits where they can: each prime p
    with its half period p M / 2 (M = ord_p(2), made even), the period of its multiples
    outside its progression, in odd numbers."""
    import math
    primes = [p for p in range(FIRST_ARRAY_PRIME, limit + 1)
              if all(p % q for q in range(2, math.isqrt(p) + 1))]
    half = {}
    for p in primes:
        order = _order2(p)
        half[p] = p * (order if order % 2 == 0 else 2 * order) // 2
    # first fit, shortest periods first: 19 to 127 make 19 groups, not 25
    groups = []
    for p in sorted(primes, key=lambda p: (half[p], p)):
        for g in groups:
            common = math.lcm(g[2], half[p])
            if common <= PRESIEVE_GROUP_BITS:
                g[0].append(p)
                g[1].append(half[p])
                g[2] = common
                break
        else:
            groups.append([[p], [half[p]], half[p]])
    return [(tuple(g[0]), tuple(g[1]), g[2]) for g in groups]


cdef class _Presieve:
    """The pre-sieve patterns of the primes from 19 up to a limit (see presieve.h), built
    once per process for each limit, kept in _PRESIEVE_CACHE, and only read by sweeps."""

    cdef int nprimes, ngroups
    cdef uint32_t p[MAX_PRESIEVE]
    cdef uint64_t half_pm[MAX_PRESIEVE]
    cdef uint8_t two[MAX_PRESIEVE]      # the 2-adic valuation of ord_p(2)
    cdef uint64_t *buf[MAX_PRESIEVE]
    cdef uint64_t rep[MAX_PRESIEVE]     # a group's period in bits (its pattern has 128 more)
    cdef uint64_t nbytes

    def __cinit__(self, limit):
        cdef int i
        self.nprimes = 0
        self.ngroups = 0
        for i in range(MAX_PRESIEVE):
            self.buf[i] = NULL

    def __init__(self, limit):
        cdef uint64_t rep, nbits
        cdef uint64_t *b
        self.nbytes = 0
        plan = _presieve_plan(limit)
        if sum(len(primes) for primes, _, _ in plan) > MAX_PRESIEVE:
            raise ValueError(f"presieve_limit {limit} takes more than {MAX_PRESIEVE} primes")
        for primes, halves, common in plan:
            rep = common * ((NW_PRESIEVE_MIN_BITS + common - 1) // common)
            nbits = rep + 128
            b = <uint64_t *>calloc((nbits + 63) // 64, 8)
            if b == NULL:
                raise MemoryError()
            self.buf[self.ngroups] = b
            self.rep[self.ngroups] = rep
            self.ngroups += 1
            self.nbytes += (nbits + 63) // 64 * 8
            for p, h in zip(primes, halves):
                nw_presieve_add(b, nbits, p, h)
                self.p[self.nprimes] = p
                self.half_pm[self.nprimes] = h
                self.two[self.nprimes] = _nu2(_order2(p))
                self.nprimes += 1

    def __dealloc__(self):
        cdef int i
        for i in range(MAX_PRESIEVE):
            free(self.buf[i])


def _presieve_for(limit):
    """The shared _Presieve of limit (built on first use)."""
    pre = _PRESIEVE_CACHE.get(limit)
    if pre is None:
        pre = _PRESIEVE_CACHE[limit] = _Presieve(limit)
    return pre
