/* Batched cofactor refutations of the BPSW sweep.
 *
 * A candidate n = s * m whose prime m lies above every sieving prime can be a base-2
 * strong pseudoprime only if ord_m(2) | n - 1 = s (m - 1) + s - 1, that is only if
 * 2^(s-1) = 1 (mod m). nw_pow2_is_one_batch computes 2^e mod m for many (e, m) at once:
 * four independent Montgomery chains interleaved, without branches, so that the
 * multiplier stays busy instead of waiting on one chain; 32-bit chains where m and e fit
 * (order_check.h's steps), 64-bit ones otherwise. Uses mulmod.h; the result does not
 * depend on the platform.
 */
#ifndef NEWRAL_COFACTOR_H
#define NEWRAL_COFACTOR_H

#include <stdint.h>

#include "mulmod.h"
#include "order_check.h"

/* x^2 (times 2 when bit is 1) in Montgomery form mod odd m < 2^64, branch-free. */
static inline uint64_t nw_cf_step(uint64_t x, uint64_t m, uint64_t minv, uint64_t bit)
{
    uint64_t hi, lo, mh, y, d, over;
    lo = nw_mul128(x, x, &hi);
    mh = nw_mulhi(lo * minv, m);
    y = hi - mh + (m & (0 - (uint64_t)(hi < mh)));
    d = y + y;
    over = (uint64_t)(d < y) | (uint64_t)(d >= m);
    d -= m & (0 - over);
    return y ^ ((d ^ y) & (0 - bit));
}

/* The highest set bit of x below bit `from` + 1 (0 for x = 0): where a chain of
 * squarings for the exponents OR-ed into x starts. */
static inline int nw_cf_top_bit(uint64_t x, int from)
{
    while (from > 0 && !((x >> from) & 1))
        from--;
    return from;
}

/* is_one[idx[i]] for the n entries idx[0 .. n) whose m and e are below 2^32: four 32-bit
 * Montgomery chains at a time (order_check.h's steps), from the highest bit any of the
 * four exponents has: a 32-bit step needs less of the multiplier than a 64-bit one, and
 * near 10^12 most cofactors fit (n = p m with p an array prime above 233). */
static void nw_pow2_is_one_lanes32(const uint64_t *e, const uint64_t *m, const uint32_t *idx,
                                   uint64_t n, uint8_t *is_one)
{
    uint64_t i;
    int k, bit;
    for (i = 0; i < n; i += 4) {
        uint32_t q[4], inv[4], one[4], x[4], ee[4], all = 0;
        int lanes = n - i < 4 ? (int)(n - i) : 4;
        for (k = 0; k < 4; k++) {
            /* idle lanes repeat lane 0 */
            uint64_t src = idx[i + (k < lanes ? (uint64_t)k : 0)];
            q[k] = (uint32_t)m[src];
            ee[k] = (uint32_t)e[src];
            inv[k] = nw_inv32(q[k]);
            one[k] = (uint32_t)(((uint64_t)1 << 32) % q[k]);
            x[k] = one[k];
            all |= ee[k];
        }
        for (bit = nw_cf_top_bit(all, 31); bit >= 0; bit--) {
            x[0] = nw_oc_step(x[0], q[0], inv[0], (ee[0] >> bit) & 1);
            x[1] = nw_oc_step(x[1], q[1], inv[1], (ee[1] >> bit) & 1);
            x[2] = nw_oc_step(x[2], q[2], inv[2], (ee[2] >> bit) & 1);
            x[3] = nw_oc_step(x[3], q[3], inv[3], (ee[3] >> bit) & 1);
        }
        for (k = 0; k < lanes; k++)
            is_one[idx[i + k]] = x[k] == one[k];
    }
}

/* is_one[i] = whether 2^e[i] = 1 (mod m[i]), for odd m[i] > 1; idx (count entries) is
 * scratch. An exponent below 64 takes one division; the others are gathered in idx (from
 * the front those whose m and e fit 32 bits, from the back the rest) and raised four at
 * a time, so that a short exponent does not wait on a long one. */
static void nw_pow2_is_one_batch(const uint64_t *e, const uint64_t *m, uint64_t count,
                                 uint8_t *is_one, uint32_t *idx)
{
    uint64_t i = 0, n32 = 0, nlong = 0;
    uint32_t *idx64 = idx + count;
    int k, bit;
    for (i = 0; i < count; i++) {
        if (e[i] < 64)
            is_one[i] = ((uint64_t)1 << e[i]) % m[i] == 1;
        else if ((m[i] | e[i]) >> 32 == 0)
            idx[n32++] = (uint32_t)i;
        else
            *--idx64 = (uint32_t)i;
    }
    nw_pow2_is_one_lanes32(e, m, idx, n32, is_one);
    nlong = (uint64_t)(idx + count - idx64);
    idx = idx64;
    for (i = 0; i < nlong; i += 4) {
        uint64_t mm[4], inv[4], one[4], x[4], ee[4], all = 0;
        int lanes = nlong - i < 4 ? (int)(nlong - i) : 4;
        for (k = 0; k < 4; k++) {
            /* idle lanes repeat lane 0 */
            uint64_t src = idx[i + (k < lanes ? (uint64_t)k : 0)];
            mm[k] = m[src];
            ee[k] = e[src];
            inv[k] = nw_inv64(mm[k]);
            one[k] = nw_mont_one(mm[k]);
            x[k] = one[k];
            all |= ee[k];
        }
        for (bit = nw_cf_top_bit(all, 63); bit >= 0; bit--) {
            uint64_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
            x0 = nw_cf_step(x0, mm[0], inv[0], (ee[0] >> bit) & 1);
            x1 = nw_cf_step(x1, mm[1], inv[1], (ee[1] >> bit) & 1);
            x2 = nw_cf_step(x2, mm[2], inv[2], (ee[2] >> bit) & 1);
            x3 = nw_cf_step(x3, mm[3], inv[3], (ee[3] >> bit) & 1);
            x[0] = x0;
            x[1] = x1;
            x[2] = x2;
            x[3] = x3;
        }
        for (k = 0; k < lanes; k++)
            is_one[idx[i + k]] = x[k] == one[k];
    }
}

#endif /* NEWRAL_COFACTOR_H */
