# Declarations of the 64-bit Montgomery arithmetic and the probable-prime tests
# in mulmod.h, for any kernel in cyext/ (`from cyext.mont cimport ...`).

from libc.stdint cimport int64_t, uint32_t, uint64_t


cdef extern from "mulmod.h" nogil:
    int NEWRAL_MULHI_PORTABLE
    uint64_t nw_mul128(uint64_t a, uint64_t b, uint64_t *hi)
    uint64_t nw_mulhi(uint64_t a, uint64_t b)
    uint64_t nw_inv64(uint64_t n)
    uint64_t nw_mont_mul(uint64_t a, uint64_t b, uint64_t n, uint64_t ninv)
    uint64_t nw_mont_one(uint64_t n)
    uint64_t nw_mont_r2(uint64_t n)
    uint64_t nw_addmod(uint64_t a, uint64_t b, uint64_t n)
    uint64_t nw_submod(uint64_t a, uint64_t b, uint64_t n)
    uint64_t nw_isqrt(uint64_t n)
    uint64_t nw_mont_pow2(uint64_t e, uint64_t n, uint64_t ninv, uint64_t one)
    int nw_jacobi(int64_t a, uint64_t n)
    int nw_sprp2(uint64_t n)
    int nw_sprp(uint64_t n, uint64_t a)
    int nw_pow2_is_one32(uint64_t e, uint32_t p)
    int nw_strong_lucas(uint64_t n)
    int nw_is_prime(uint64_t n)
