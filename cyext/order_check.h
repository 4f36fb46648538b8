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
#include <string.h>

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

/* g[k] = gcd(u[k], v[k]) for four pairs, v[k] > 0 (binary gcd). The four chains run in
 * lockstep, so that their dependent steps overlap (one chain alone leaves the core idle
 * most of the time: a step is a shift count, a shift, a compare and a subtraction, each
 * waiting for the one before); a finished chain (v = 0) is left as it is. */
static inline void nw_gcd32_x4(const uint32_t *u0, const uint32_t *v0, uint32_t *g)
{
    uint64_t u[4], v[4];
    int shift[4], k;
    for (k = 0; k < 4; k++) {
        uint64_t x = u0[k], y = v0[k];
        shift[k] = nw_ctz64(x | y);
        /* gcd(0, y) = y: start finished, from (y, 0) */
        u[k] = x ? x >> nw_ctz64(x) : y >> shift[k];
        v[k] = x ? y : 0;
    }
    while ((v[0] | v[1] | v[2] | v[3]) != 0) {
        for (k = 0; k < 4; k++) {
            /* the top bit keeps the shift count defined when v = 0 */
            uint64_t y = v[k] >> nw_ctz64(v[k] | ((uint64_t)1 << 63)), x = u[k];
            uint64_t lo = x < y ? x : y, hi = x < y ? y : x;
            int live = v[k] != 0;
            u[k] = live ? lo : x;
            v[k] = live ? hi - lo : 0;
        }
    }
    for (k = 0; k < 4; k++)
        g[k] = (uint32_t)(u[k] << shift[k]);
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

/* Whether the gcd g of a check settles it: 2^g = 1 (mod q) is impossible when
 * 2^g - 1 < q (2^g - 1 is then a positive number below q). */
static inline int nw_gcd_rules_out(uint32_t g, uint32_t q)
{
    return g < 32 && ((1u << g) - 1) < q;
}

/* Queues check i (gcd g, prime q) for the exponentiation, four at a time. */
static inline void nw_oc_queue(uint64_t i, uint32_t g, uint32_t q, uint8_t *in_prog,
                               uint32_t *lane_g, uint32_t *lane_p, uint64_t *lane_i, int *nl)
{
    int res[4], c;
    lane_p[*nl] = q;
    lane_g[*nl] = g;
    lane_i[*nl] = i;
    if (++*nl == 4) {
        nw_pow2_is_one32_x4(lane_g, lane_p, res);
        for (c = 0; c < 4; c++)
            in_prog[lane_i[c]] = (uint8_t)res[c];
        *nl = 0;
    }
}

/* The exponent (n - 1) mod (p - 1) and the modulus p - 1 of check i. */
static inline void nw_oc_operands(uint64_t n_lo, const uint32_t *j, const uint32_t *p,
                                  uint64_t i, uint32_t *e, uint32_t *q1)
{
    *q1 = p[i] - 1;
    *e = nw_mod32(n_lo + 2 * (uint64_t)j[i] - 1, *q1);
}

/* nw_order_checks with the gcds `lanes` at a time (4 or 16) by gcd; a short last group
 * repeats its first check. Always inlined, so that lanes and gcd are constants in each
 * caller. */
#if defined(_MSC_VER) && !defined(__clang__)
#define NW_OC_INLINE static __forceinline
#else
#define NW_OC_INLINE static inline __attribute__((always_inline))
#endif
NW_OC_INLINE void nw_order_checks_by(uint64_t n_lo, const uint32_t *j, const uint32_t *p,
                                      uint64_t count, uint8_t *in_prog, int lanes,
                                      void (*gcd)(const uint32_t *, const uint32_t *, uint32_t *))
{
    uint32_t lane_p[4], lane_g[4], ge[16], gq[16], gg[16];
    uint64_t lane_i[4], i0;
    int nl = 0, k, m;
    for (i0 = 0; i0 < count; i0 += (uint64_t)lanes) {
        m = count - i0 < (uint64_t)lanes ? (int)(count - i0) : lanes;
        for (k = 0; k < lanes; k++)
            nw_oc_operands(n_lo, j, p, i0 + (k < m ? k : 0), &ge[k], &gq[k]);
        gcd(ge, gq, gg);
        for (k = 0; k < m; k++) {
            if (nw_gcd_rules_out(gg[k], gq[k] + 1))
                in_prog[i0 + k] = 0;
            else
                nw_oc_queue(i0 + k, gg[k], gq[k] + 1, in_prog, lane_g, lane_p, lane_i, &nl);
        }
    }
    for (k = 0; k < nl; k++)
        in_prog[lane_i[k]] = (uint8_t)nw_pow2_is_one32(lane_g[k], lane_p[k]);
}

#if NW_AVX2_LANES
/* The gcds sixteen at a time in the lanes of two AVX2 vectors (GCC and clang vector
 * extensions; chosen at run time where the processor has AVX2, see nw_order_checks):
 * the steps of nw_gcd32_x4, the count of trailing zeros of a lane taken from the
 * exponent of its lowest set bit converted to float (exact: a power of two). Batches of
 * random checks near 2^63 took 19.4-20.8 ns a check this way against 30.0-32.6 ns with
 * the four-lane scalar loop (operands and exponentiations included). */
typedef uint32_t nw_v8u __attribute__((vector_size(32)));
typedef int32_t nw_v8i __attribute__((vector_size(32)));
typedef float nw_v8f __attribute__((vector_size(32)));
typedef uint64_t nw_v4q __attribute__((vector_size(32)));

#define NW_V8_CTZ(x) \
    ((((nw_v8u)__builtin_convertvector((nw_v8i)((x) & -(x)), nw_v8f) >> 23) & 0xFF) - 127)

/* One binary gcd step in eight lanes (see nw_gcd32_x4); a finished lane (v = 0) is kept. */
#define NW_V8_GCD_STEP(u, v)                                                          \
    do {                                                                              \
        /* the top bit keeps the count defined when v = 0 (it is v's own at 2^31) */ \
        nw_v8u w_ = (v) >> NW_V8_CTZ((v) | top);                                      \
        nw_v8u lt_ = (nw_v8u)((u) < w_), live_ = (nw_v8u)((v) != 0);                  \
        nw_v8u lo_ = (lt_ & (u)) | (~lt_ & w_), hi_ = (lt_ & w_) | (~lt_ & (u));      \
        (u) = (live_ & lo_) | (~live_ & (u));                                         \
        (v) = live_ & (hi_ - lo_);                                                    \
    } while (0)

/* g[k] = gcd(u0[k], v0[k]) for sixteen pairs, v0[k] > 0: two vectors of eight lanes in
 * lockstep, so that one's dependent steps overlap the other's. */
__attribute__((target("avx2"))) static void nw_gcd32_x16(const uint32_t *u0, const uint32_t *v0,
                                                          uint32_t *g)
{
    const nw_v8u top = {0x80000000u, 0x80000000u, 0x80000000u, 0x80000000u,
                        0x80000000u, 0x80000000u, 0x80000000u, 0x80000000u};
    nw_v8u x[2], y[2], u[2], v[2], shift[2];
    nw_v4q any;
    int h;
    for (h = 0; h < 2; h++) {
        nw_v8u xz;
        memcpy(&x[h], u0 + 8 * h, sizeof x[h]);
        memcpy(&y[h], v0 + 8 * h, sizeof y[h]);
        shift[h] = NW_V8_CTZ(x[h] | y[h]);   /* y > 0 */
        /* gcd(0, y) = y: start finished, from (y, 0) */
        xz = (nw_v8u)(x[h] == 0);
        u[h] = (xz & (y[h] >> shift[h])) | (~xz & (x[h] >> NW_V8_CTZ(x[h] | top)));
        v[h] = ~xz & y[h];
    }
    for (;;) {
        any = (nw_v4q)(v[0] | v[1]);
        if ((any[0] | any[1] | any[2] | any[3]) == 0)
            break;
        NW_V8_GCD_STEP(u[0], v[0]);
        NW_V8_GCD_STEP(u[1], v[1]);
    }
    for (h = 0; h < 2; h++) {
        u[h] <<= shift[h];
        memcpy(g + 8 * h, &u[h], sizeof u[h]);
    }
}

__attribute__((target("avx2"))) static void nw_order_checks_x16(uint64_t n_lo, const uint32_t *j,
                                                                 const uint32_t *p, uint64_t count,
                                                                 uint8_t *in_prog)
{
    nw_order_checks_by(n_lo, j, p, count, in_prog, 16, nw_gcd32_x16);
}
#endif

/* in_prog[i] = whether 2^((n_i - 1) mod (p_i - 1)) = 1 (mod p_i), n_i = n_lo + 2 j[i],
 * for odd primes p_i < 2^32.
 *
 * As ord_p(2) | p - 1, 2^e = 1 exactly when 2^g = 1 for g = gcd(e, p - 1); and when
 * 2^g - 1 < p that is impossible. That settles almost every check with one gcd (four
 * at a time, see nw_gcd32_x4, or sixteen with AVX2, see nw_gcd32_x16); the rest get the
 * exponentiation, four at a time. */
static void nw_order_checks(uint64_t n_lo, const uint32_t *j, const uint32_t *p,
                            uint64_t count, uint8_t *in_prog)
{
#if NW_AVX2_LANES
    if (nw_has_avx2()) {
        nw_order_checks_x16(n_lo, j, p, count, in_prog);
        return;
    }
#endif
    nw_order_checks_by(n_lo, j, p, count, in_prog, 4, nw_gcd32_x4);
}

#endif /* NEWRAL_ORDER_CHECK_H */
