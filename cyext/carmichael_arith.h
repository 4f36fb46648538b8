/* Small integer helpers for cyext/carmichael.pyx.
 *
 * The Carmichael search never needs a 128-bit product: every modulus it
 * exponentiates with is below 2^32 (the largest prime factor q of a Carmichael
 * number n satisfies q <= sqrt(n) < 2^32), so 64-bit multiplication is exact.
 * What differs between compilers is only the count-trailing-zeros intrinsic;
 * NEWRAL_PORTABLE_MULHI (the switch that forces the MSVC-style path elsewhere in
 * cyext) also forces the plain-C fallback here, so that path is built and tested.
 */
#ifndef NEWRAL_CARMICHAEL_ARITH_H
#define NEWRAL_CARMICHAEL_ARITH_H

#include <stdint.h>

#if defined(NEWRAL_PORTABLE_MULHI) || !(defined(__GNUC__) || defined(__clang__))
static inline int carm_ctz64(uint64_t x)
{
    /* x != 0; de Bruijn sequence lookup, no intrinsic needed. */
    static const int table[64] = {
        0, 1, 2, 53, 3, 7, 54, 27, 4, 38, 41, 8, 34, 55, 48, 28,
        62, 5, 39, 46, 44, 42, 22, 9, 24, 35, 59, 56, 49, 18, 29, 11,
        63, 52, 6, 26, 37, 40, 33, 47, 61, 45, 43, 21, 23, 58, 17, 10,
        51, 25, 36, 32, 60, 20, 57, 16, 50, 31, 19, 15, 30, 14, 13, 12};
    return table[((x & (0 - x)) * UINT64_C(0x022fdd63cc95386d)) >> 58];
}
#define CARM_PORTABLE 1
#else
static inline int carm_ctz64(uint64_t x) { return __builtin_ctzll(x); }
#define CARM_PORTABLE 0
#endif

/* gcd by the binary method; gcd(0, b) = b. The ctz of the difference is taken
 * before the min/abs, which shortens the loop's dependency chain. */
static inline uint64_t carm_gcd(uint64_t u, uint64_t v)
{
    int shift, uz, vz;
    uint64_t diff;
    if (u == 0) return v;
    if (v == 0) return u;
    uz = carm_ctz64(u);
    vz = carm_ctz64(v);
    shift = uz < vz ? uz : vz;
    u >>= uz;
    for (;;) {
        v >>= vz;
        diff = v - u;
        if (diff == 0) break;
        vz = carm_ctz64(diff);
        if (v < u) { u = v; diff = 0 - diff; }
        v = diff;
    }
    return u << shift;
}

/* Inverse of a modulo m, for 0 < a < m and gcd(a, m) = 1. Extended Euclid on
 * magnitudes only (the Bezout coefficients alternate in sign), so it is exact
 * for every m < 2^64. */
static inline uint64_t carm_invmod(uint64_t a, uint64_t m)
{
    uint64_t r0 = m, r1 = a, t0 = 0, t1 = 1, q, r2, t2;
    int neg = 0;
    while (r1 > 1) {
        q = r0 / r1;
        r2 = r0 - q * r1;
        t2 = t0 + q * t1;
        r0 = r1; r1 = r2; t0 = t1; t1 = t2;
        neg ^= 1;
    }
    return neg ? m - t1 : t1;
}

static inline uint64_t carm_powmod32(uint64_t b, uint64_t e, uint64_t m)
{
    uint64_t r = 1;
    b %= m;
    while (e) {
        if (e & 1) r = r * b % m;
        b = b * b % m;
        e >>= 1;
    }
    return r;
}

/* Deterministic primality for n < 2^32 (Miller-Rabin to bases 2, 7, 61,
 * exact below 4,759,123,141). */
static inline int carm_is_prime32(uint64_t n)
{
    static const uint64_t bases[3] = {2, 7, 61};
    uint64_t d, x;
    int s, i, r;
    if (n < 2) return 0;
    if (n % 2 == 0) return n == 2;
    if (n % 3 == 0) return n == 3;
    if (n % 5 == 0) return n == 5;
    if (n < 49) return 1;
    d = n - 1;
    s = carm_ctz64(d);
    d >>= s;
    for (i = 0; i < 3; i++) {
        if (bases[i] % n == 0) continue;
        x = carm_powmod32(bases[i], d, n);
        if (x == 1 || x == n - 1) continue;
        for (r = 1; r < s; r++) {
            x = x * x % n;
            if (x == n - 1) break;
        }
        if (r == s) return 0;
    }
    return 1;
}

/* Divisibility by an odd f through its inverse modulo 2^32: for x < 2^32,
 * f | x exactly when x * inv(f) mod 2^32 <= (2^32 - 1) / f. */
static inline uint32_t carm_inv32(uint32_t f)
{
    uint32_t x = f;  /* correct to 3 bits for odd f */
    x *= 2 - f * x;
    x *= 2 - f * x;
    x *= 2 - f * x;
    x *= 2 - f * x;
    return x;
}

/* The same for 64 bits: for odd f, f | x exactly when x * inv(f) mod 2^64 <=
 * (2^64 - 1) / f, and then x / f = x * inv(f) mod 2^64. */
static inline uint64_t carm_inv64(uint64_t f)
{
    uint64_t x = f;
    x *= 2 - f * x;
    x *= 2 - f * x;
    x *= 2 - f * x;
    x *= 2 - f * x;
    x *= 2 - f * x;
    return x;
}

#endif
