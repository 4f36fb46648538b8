# cython: language_level=3
"""The shape of a canonical BPSW-Hunter output, scanned in C (bpsw_format.decode's
fast path). Every report a coordinator checks is decoded; the regular expression and
the int() of each of the 256 block counts this replaces took about 60 µs an output,
the largest single cost of a report batch under load.

`scan(data)` accepts exactly the bytes

    newral-bpsw-sweep/2\\nrange A B\\nprimes P\\ncounts( C)*\\n(spsp N L\\n)*

where every number is a canonical decimal ("0", or up to 20 digits without a leading
zero) and L is 0 or 1, and returns (A, B, P, counts, pseudoprimes); anything else gives
None, and the caller's line parser then says what is wrong. Ranges and sums are the
caller's checks."""

from libc.stdint cimport uint64_t
from libc.string cimport memcmp

cdef bytes _HEAD = b"newral-bpsw-sweep/2\nrange "
cdef bytes _PRIMES = b"primes "
cdef bytes _COUNTS = b"counts"
cdef bytes _SPSP = b"spsp "

cdef enum:
    MAX_DIGITS = 20
    ZERO = 48  # '0'
    NINE = 57
    SPACE = 32
    NEWLINE = 10


cdef inline Py_ssize_t _decimal_end(const unsigned char *p, Py_ssize_t i, Py_ssize_t n) noexcept:
    """Where the canonical decimal at i ends, or -1 if none starts there. "0" ends at once
    and at most MAX_DIGITS digits are taken, so "01" or a 21st digit is left for the
    caller's separator test to refuse."""
    cdef Py_ssize_t j = i
    if i >= n or p[i] < ZERO or p[i] > NINE:
        return -1
    if p[i] == ZERO:
        return i + 1
    while j < n and j - i < MAX_DIGITS and ZERO <= p[j] <= NINE:
        j += 1
    return j


cdef inline Py_ssize_t _decimal_before(const unsigned char *p, Py_ssize_t i, Py_ssize_t n,
                                       unsigned char separator) noexcept:
    """Where the canonical decimal at i ends if `separator` follows it, else -1."""
    cdef Py_ssize_t j = _decimal_end(p, i, n)
    if j < 0 or j >= n or p[j] != separator:
        return -1
    return j


cdef object _value(bytes data, const unsigned char *p, Py_ssize_t i, Py_ssize_t j):
    cdef uint64_t v = 0
    cdef Py_ssize_t k
    if j - i < MAX_DIGITS:  # 19 digits always fit in 64 bits
        for k in range(i, j):
            v = v * 10 + (p[k] - ZERO)
        return v
    return int(data[i:j])


cdef inline bint _word(const unsigned char *p, Py_ssize_t i, Py_ssize_t n, bytes word) noexcept:
    cdef Py_ssize_t m = len(word)
    return i + m <= n and memcmp(p + i, <const char *>word, m) == 0


def scan(data):
    """(a, b, prime_count, block_counts, pseudoprimes) of bytes shaped exactly as
    bpsw_format.encode writes them; None for anything else."""
    if type(data) is not bytes:
        return None
    cdef bytes raw = data
    cdef const unsigned char *p = raw
    cdef Py_ssize_t n = len(raw), i, j
    cdef list counts = [], pseudoprimes = []
    if not _word(p, 0, n, _HEAD):
        return None
    i = len(_HEAD)
    j = _decimal_before(p, i, n, SPACE)
    if j < 0:
        return None
    a = _value(raw, p, i, j)
    i = j + 1
    j = _decimal_before(p, i, n, NEWLINE)
    if j < 0:
        return None
    b = _value(raw, p, i, j)
    i = j + 1
    if not _word(p, i, n, _PRIMES):
        return None
    i += len(_PRIMES)
    j = _decimal_before(p, i, n, NEWLINE)
    if j < 0:
        return None
    primes = _value(raw, p, i, j)
    i = j + 1
    if not _word(p, i, n, _COUNTS):
        return None
    i += len(_COUNTS)
    while True:  # " C" until the newline
        if i >= n:
            return None
        if p[i] == NEWLINE:
            i += 1
            break
        if p[i] != SPACE:
            return None
        j = _decimal_end(p, i + 1, n)
        if j < 0:
            return None
        counts.append(_value(raw, p, i + 1, j))
        i = j
    while i < n:  # "spsp N L\n" lines up to the end
        if not _word(p, i, n, _SPSP):
            return None
        i += len(_SPSP)
        j = _decimal_end(p, i, n)
        if (j < 0 or j + 2 >= n or p[j] != SPACE or (p[j + 1] != ZERO and p[j + 1] != ZERO + 1)
                or p[j + 2] != NEWLINE):
            return None
        pseudoprimes.append((_value(raw, p, i, j), p[j + 1] == ZERO + 1))
        i = j + 3
    return a, b, primes, tuple(counts), tuple(pseudoprimes)
