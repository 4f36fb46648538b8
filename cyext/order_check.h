/* Batched order checks of the BPSW sweep: for n = n_lo + 2 j divisible by the prime p,
 * whether 2^(n-1) = 1 (mod p), i.e. whether n lies in p's progression (ord_p(2) | n-1).
 *
 * Most checks are settled by a gcd (see nw_order_checks); the others are a chain of 32
 * dependent Montgomery squarings, four independent chains interleaved so that the
 * multiplier is kept busy. Uses mulmod.h's 32-bit Montgomery arithmetic; the result
 * does not depend on the platform.
 */
#ifndef NEWRAL_ORDER_CHECK_H
#define NEWRAL_ORDER_CHECK_H

#include <stdint.h>

#include "bitops.h"
#include "mulmod.h"

/* One squaring, then a doubling when bit is set, of x in Montgomery form mod q;
 * written without branches (the bits of the exponent are unpredictable). */
static inline uint32_t nw_oc_step(uint32_t x, uint32_t q, uint32_t qinv, uint32_t bit)
{
    uint64_t t = (uint64_t)x * x;
    uint32_t m = (uint32_t)t * qinv;
    uint32_t th = (uint32_t)(t >> 32), mh = (uint32_t)(((uint64_t)m * q) >> 32);
    uint32_t y = th - mh + (q & (0u - (uint32_t)(th < mh)));
    uint64_t d = 2 * (uint64_t)y;
    d -= q & (0u - (uint32_t)(d >= q));
    return y ^ (((uint32_t)d ^ y) & (0u - bit));
}

/* x mod d for d >= 2: for d >= 2^16 from a floating-point quotient, which is then off
 * by at most one (x is rounded by at most 2^11, the quotient is below 2^48), so one
 * correction makes it exact; a 64-bit division is several times slower. */
static inline uint32_t nw_mod32(uint64_t x, uint32_t d)
{
    uint64_t q;
    int64_t r;
    if (d < 65536)
        return (uint32_t)(x % d);
    q = (uint64_t)((double)x / (double)d);
    r = (int64_t)(x - q * d);
    if (r < 0)
        r += d;
    else if (r >= (int64_t)d)
        r -= d;
    return (uint32_t)r;
}

/* gcd(u, v) for v > 0 (binary). */
static inline uint32_t nw_gcd32(uint32_t u, uint32_t v)
{
    int shift;
    if (u == 0)
        return v;
    shift = nw_ctz32(u | v);
    u >>= nw_ctz32(u);
    do {
        uint32_t t;
        v >>= nw_ctz32(v);
        t = u < v ? u : v;
        v = (u < v ? v : u) - t;
        u = t;
    } while (v);
    return u << shift;
}

/* Whether 2^g = 1 (mod q) for four (g, q) at once, q odd primes < 2^32. */
static inline void nw_pow2_is_one32_x4(const uint32_t *g, const uint32_t *q, int *res)
{
    uint32_t v0 = nw_inv32(q[0]), v1 = nw_inv32(q[1]), v2 = nw_inv32(q[2]), v3 = nw_inv32(q[3]);
    uint32_t o0 = (uint32_t)((((uint64_t)1) << 32) % q[0]);
    uint32_t o1 = (uint32_t)((((uint64_t)1) << 32) % q[1]);
    uint32_t o2 = (uint32_t)((((uint64_t)1) << 32) % q[2]);
    uint32_t o3 = (uint32_t)((((uint64_t)1) << 32) % q[3]);
    uint32_t x0 = o0, x1 = o1, x2 = o2, x3 = o3;
    int bit;
    for (bit = 31; bit >= 0; bit--) {
        x0 = nw_oc_step(x0, q[0], v0, (g[0] >> bit) & 1);
        x1 = nw_oc_step(x1, q[1], v1, (g[1] >> bit) & 1);
        x2 = nw_oc_step(x2, q[2], v2, (g[2] >> bit) & 1);
        x3 = nw_oc_step(x3, q[3], v3, (g[3] >> bit) & 1);
    }
    res[0] = x0 == o0;
    res[1] = x1 == o1;
    res[2] = x2 == o2;
    res[3] = x3 == o3;
}

/* in_prog[i] = whether 2^((n_i - 1) mod (p_i - 1)) = 1 (mod p_i), n_i = n_lo + 2 j[i],
 * for odd primes p_i < 2^32.
 *
 * As ord_p(2) | p - 1, 2^e = 1 exactly when 2^g = 1 for g = gcd(e, p - 1); and when
 * 2^g - 1 < p that is impossible. That settles almost every check with one gcd; the
 * rest get the exponentiation, four at a time. */
static void nw_order_checks(uint64_t n_lo, const uint32_t *j, const uint32_t *p,
                            uint64_t count, uint8_t *in_prog)
{
    uint32_t lane_p[4], lane_g[4];
    uint64_t lane_i[4], i;
    int res[4], nl = 0, k;
    for (i = 0; i < count; i++) {
        uint32_t q = p[i];
        uint32_t e = nw_mod32(n_lo + 2 * (uint64_t)j[i] - 1, q - 1);
        uint32_t g = nw_gcd32(e, q - 1);
        if (g < 32 && ((1u << g) - 1) < q) {
            in_prog[i] = 0;
            continue;
        }
        lane_p[nl] = q;
        lane_g[nl] = g;
        lane_i[nl] = i;
        if (++nl == 4) {
            nw_pow2_is_one32_x4(lane_g, lane_p, res);
            for (k = 0; k < 4; k++)
                in_prog[lane_i[k]] = (uint8_t)res[k];
            nl = 0;
        }
    }
    for (k = 0; k < nl; k++)
        in_prog[lane_i[k]] = (uint8_t)nw_pow2_is_one32(lane_g[k], lane_p[k]);
}

#endif /* NEWRAL_ORDER_CHECK_H */
