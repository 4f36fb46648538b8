/* 64-bit (and 32-bit) Montgomery arithmetic for the prime kernels.
 *
 * The only platform-dependent piece is the 64x64->128-bit multiply. With
 * NEWRAL_PORTABLE_MULHI defined (or a compiler without unsigned __int128, such
 * as MSVC) it is built from four 32x32->64 products; otherwise __int128 is used.
 * Both paths compute identical results, so outputs never depend on the build.
 *
 * Montgomery form with R = 2^64: x~ = x R mod n for odd n < 2^64. The reduction
 * uses the positive inverse n^-1 mod 2^64 and a borrow instead of a carry, so it
 * is exact for every odd n up to 2^64 - 1 (no 65-bit intermediate).
 */
#ifndef NEWRAL_MULMOD_H
#define NEWRAL_MULMOD_H

#include <math.h>
#include <stdint.h>

#if defined(NEWRAL_PORTABLE_MULHI) || !defined(__SIZEOF_INT128__)
#define NEWRAL_MULHI_PORTABLE 1
#else
#define NEWRAL_MULHI_PORTABLE 0
#endif

/* Returns the low 64 bits of a*b and stores the high 64 bits in *hi. */
static inline uint64_t nw_mul128(uint64_t a, uint64_t b, uint64_t *hi)
{
#if NEWRAL_MULHI_PORTABLE
    uint64_t a_lo = (uint32_t)a, a_hi = a >> 32;
    uint64_t b_lo = (uint32_t)b, b_hi = b >> 32;
    uint64_t p0 = a_lo * b_lo;
    uint64_t p1 = a_lo * b_hi;
    uint64_t p2 = a_hi * b_lo;
    uint64_t p3 = a_hi * b_hi;
    uint64_t mid = (p0 >> 32) + (uint32_t)p1 + (uint32_t)p2;
    *hi = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
    return (mid << 32) | (uint32_t)p0;
#else
    unsigned __int128 t = (unsigned __int128)a * b;
    *hi = (uint64_t)(t >> 64);
    return (uint64_t)t;
#endif
}

static inline uint64_t nw_mulhi(uint64_t a, uint64_t b)
{
    uint64_t hi;
    (void)nw_mul128(a, b, &hi);
    return hi;
}

/* n^-1 mod 2^64 for odd n (Newton's iteration, 5 -> 10 -> 20 -> 40 -> 80 bits). */
static inline uint64_t nw_inv64(uint64_t n)
{
    uint64_t x = (3 * n) ^ 2;
    x *= 2 - n * x;
    x *= 2 - n * x;
    x *= 2 - n * x;
    x *= 2 - n * x;
    return x;
}

/* a*b/R mod n for a, b < n. */
static inline uint64_t nw_mont_mul(uint64_t a, uint64_t b, uint64_t n, uint64_t ninv)
{
    uint64_t hi;
    uint64_t lo = nw_mul128(a, b, &hi);
    uint64_t mh = nw_mulhi(lo * ninv, n);
    uint64_t r = hi - mh;
    return hi < mh ? r + n : r;
}

/* R mod n: the Montgomery form of 1. */
static inline uint64_t nw_mont_one(uint64_t n)
{
    return (0 - n) % n;
}

static inline uint64_t nw_addmod(uint64_t a, uint64_t b, uint64_t n)
{
    uint64_t s = a + b;
    return (s < a || s >= n) ? s - n : s;
}

static inline uint64_t nw_submod(uint64_t a, uint64_t b, uint64_t n)
{
    return a >= b ? a - b : a - b + n;
}

/* x/2 mod n for odd n. */
static inline uint64_t nw_halfmod(uint64_t x, uint64_t n)
{
    return (x & 1) ? (x >> 1) + (n >> 1) + 1 : x >> 1;
}

/* R^2 mod n, for converting into Montgomery form. */
static inline uint64_t nw_mont_r2(uint64_t n)
{
    uint64_t x = nw_mont_one(n);
    for (int i = 0; i < 64; i++)
        x = nw_addmod(x, x, n);
    return x;
}

/* Montgomery form of 2^e mod n (left-to-right; a doubling is an addition). */
static inline uint64_t nw_mont_pow2(uint64_t e, uint64_t n, uint64_t ninv, uint64_t one)
{
    uint64_t x = one;
    if (e == 0)
        return x;
    int bit = 63;
    while (!((e >> bit) & 1))
        bit--;
    x = nw_addmod(x, x, n);
    while (bit-- > 0) {
        x = nw_mont_mul(x, x, n, ninv);
        if ((e >> bit) & 1)
            x = nw_addmod(x, x, n);
    }
    return x;
}

/* Strong probable-prime test to base 2 for odd n > 2. */
static inline int nw_sprp2(uint64_t n)
{
    uint64_t ninv = nw_inv64(n), one = nw_mont_one(n), mone = n - one;
    uint64_t d = n - 1;
    int s = 0;
    while (!(d & 1)) {
        d >>= 1;
        s++;
    }
    uint64_t x = nw_mont_pow2(d, n, ninv, one);
    if (x == one || x == mone)
        return 1;
    while (--s > 0) {
        x = nw_mont_mul(x, x, n, ninv);
        if (x == mone)
            return 1;
        if (x == one)
            return 0;
    }
    return 0;
}

/* Strong probable-prime test to base a (any a) for odd n > 2. */
static inline int nw_sprp(uint64_t n, uint64_t a)
{
    a %= n;
    if (a == 0)
        return 1;
    uint64_t ninv = nw_inv64(n), one = nw_mont_one(n), mone = n - one;
    uint64_t r2 = nw_mont_r2(n);
    uint64_t b = nw_mont_mul(a, r2, n, ninv);
    uint64_t d = n - 1;
    int s = 0;
    while (!(d & 1)) {
        d >>= 1;
        s++;
    }
    uint64_t x = one;
    int bit = 63;
    while (!((d >> bit) & 1))
        bit--;
    for (; bit >= 0; bit--) {
        x = nw_mont_mul(x, x, n, ninv);
        if ((d >> bit) & 1)
            x = nw_mont_mul(x, b, n, ninv);
    }
    if (x == one || x == mone)
        return 1;
    while (--s > 0) {
        x = nw_mont_mul(x, x, n, ninv);
        if (x == mone)
            return 1;
        if (x == one)
            return 0;
    }
    return 0;
}

/* 32-bit Montgomery arithmetic (R = 2^32) for odd p < 2^32. */
static inline uint32_t nw_inv32(uint32_t p)
{
    uint32_t x = (3 * p) ^ 2;
    x *= 2 - p * x;
    x *= 2 - p * x;
    x *= 2 - p * x;
    return x;
}

static inline uint32_t nw_mont_mul32(uint32_t a, uint32_t b, uint32_t p, uint32_t pinv)
{
    uint64_t t = (uint64_t)a * b;
    uint32_t m = (uint32_t)t * pinv;
    uint32_t th = (uint32_t)(t >> 32);
    uint32_t mh = (uint32_t)(((uint64_t)m * p) >> 32);
    uint32_t r = th - mh;
    return th < mh ? r + p : r;
}

/* Whether 2^e == 1 (mod p), for an odd prime p < 2^32. */
static inline int nw_pow2_is_one32(uint64_t e, uint32_t p)
{
    uint32_t pinv = nw_inv32(p);
    uint32_t one = (uint32_t)((((uint64_t)1) << 32) % p);
    uint32_t x = one;
    e %= (p - 1);
    if (e == 0)
        return 1;
    int bit = 63;
    while (!((e >> bit) & 1))
        bit--;
    x = one + one;
    if (x >= p || x < one)
        x -= p;
    while (bit-- > 0) {
        x = nw_mont_mul32(x, x, p, pinv);
        if ((e >> bit) & 1) {
            uint32_t y = x + x;
            x = (y < x || y >= p) ? y - p : y;
        }
    }
    return x == one;
}

/* floor(sqrt(n)) for any 64-bit n. */
static inline uint64_t nw_isqrt(uint64_t n)
{
    uint64_t r = (uint64_t)sqrt((double)n);
    if (r > 0xFFFFFFFFu)
        r = 0xFFFFFFFFu;
    while (r * r > n)
        r--;
    while (r < 0xFFFFFFFFu && (r + 1) * (r + 1) <= n)
        r++;
    return r;
}

/* Jacobi symbol (a/n) for odd n > 0. */
static inline int nw_jacobi(int64_t a_signed, uint64_t n)
{
    int t = 1;
    uint64_t a;
    if (a_signed < 0) {
        a = ((uint64_t)0 - (uint64_t)a_signed) % n;
        if ((n & 3) == 3)
            t = -t;
    } else {
        a = (uint64_t)a_signed % n;
    }
    while (a != 0) {
        while (!(a & 1)) {
            a >>= 1;
            uint64_t r = n & 7;
            if (r == 3 || r == 5)
                t = -t;
        }
        uint64_t tmp = a;
        a = n;
        n = tmp;
        if ((a & 3) == 3 && (n & 3) == 3)
            t = -t;
        a %= n;
    }
    return n == 1 ? t : 0;
}

/* Montgomery form of a signed value. */
static inline uint64_t nw_to_mont_signed(int64_t v, uint64_t n, uint64_t ninv, uint64_t r2)
{
    uint64_t m = v < 0 ? ((uint64_t)0 - (uint64_t)v) % n : (uint64_t)v % n;
    if (v < 0 && m != 0)
        m = n - m;
    return nw_mont_mul(m, r2, n, ninv);
}

/* Strong Lucas probable-prime test with Selfridge's parameters (method A:
 * the first D in 5, -7, 9, -11, ... with (D/n) = -1; P = 1, Q = (1 - D)/4),
 * for odd n > 2. Perfect squares and n with a small factor |D| < n fail. */
static inline int nw_strong_lucas(uint64_t n)
{
    uint64_t root = nw_isqrt(n);
    if (root * root == n)
        return 0;
    int64_t D = 5;
    for (;;) {
        int j = nw_jacobi(D, n);
        if (j == -1)
            break;
        if (j == 0 && (uint64_t)(D < 0 ? -D : D) != n)
            return 0;
        D = D > 0 ? -(D + 2) : -D + 2;
    }
    int64_t Q = (1 - D) / 4;
    uint64_t ninv = nw_inv64(n), one = nw_mont_one(n), r2 = nw_mont_r2(n);
    uint64_t Dm = nw_to_mont_signed(D, n, ninv, r2);
    uint64_t Qm = nw_to_mont_signed(Q, n, ninv, r2);
    /* n = 2^64 - 1 has the factor 5, so n + 1 does not overflow here. */
    uint64_t d = n + 1;
    int s = 0;
    while (!(d & 1)) {
        d >>= 1;
        s++;
    }
    uint64_t U = one, V = one, Qk = Qm;
    int bit = 63;
    while (!((d >> bit) & 1))
        bit--;
    while (bit-- > 0) {
        U = nw_mont_mul(U, V, n, ninv);
        V = nw_submod(nw_mont_mul(V, V, n, ninv), nw_addmod(Qk, Qk, n), n);
        Qk = nw_mont_mul(Qk, Qk, n, ninv);
        if ((d >> bit) & 1) {
            uint64_t U2 = nw_halfmod(nw_addmod(U, V, n), n);
            uint64_t V2 = nw_halfmod(nw_addmod(nw_mont_mul(Dm, U, n, ninv), V, n), n);
            U = U2;
            V = V2;
            Qk = nw_mont_mul(Qk, Qm, n, ninv);
        }
    }
    if (U == 0 || V == 0)
        return 1;
    while (--s > 0) {
        V = nw_submod(nw_mont_mul(V, V, n, ninv), nw_addmod(Qk, Qk, n), n);
        if (V == 0)
            return 1;
        Qk = nw_mont_mul(Qk, Qk, n, ninv);
    }
    return 0;
}

/* Deterministic primality for every n < 2^64: trial division by the primes
 * below 60, then Miller-Rabin with Jim Sinclair's seven bases. */
static inline int nw_is_prime(uint64_t n)
{
    static const uint32_t small[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59};
    static const uint64_t bases[] = {325, 9375, 28178, 450775, 9780504, 1795265022};
    if (n < 2)
        return 0;
    for (int i = 0; i < (int)(sizeof small / sizeof small[0]); i++) {
        if (n == small[i])
            return 1;
        if (n % small[i] == 0)
            return 0;
    }
    if (n < 61 * 61)
        return 1;
    if (!nw_sprp2(n))
        return 0;
    for (int i = 0; i < (int)(sizeof bases / sizeof bases[0]); i++)
        if (!nw_sprp(n, bases[i]))
            return 0;
    return 1;
}

#endif /* NEWRAL_MULMOD_H */
