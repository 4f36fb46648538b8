/* The first step of the BPSW sweep's order checks (see _Sweep.flush_checks): of the
 * pending hits (offset j, prime p) of primes whose order of 2 is not tabulated, keep
 * those on numbers still alive. A hit on a number already ruled out (its bit in seg is
 * set) is dropped; a hit on a number that p cannot leave a pseudoprime (its dead bit:
 * see _SmallPattern.kdeadbits) is dropped and rules the number out. Written without
 * branches: both outcomes are close to even odds, and a mispredicted branch per hit
 * cost more than the hit itself.
 */
#ifndef NEWRAL_LIVE_HITS_H
#define NEWRAL_LIVE_HITS_H

#include <stdint.h>

#include "bitops.h"

/* Hits looked up this far ahead of the one kept or dropped: their two bytes are random
 * reads in arrays larger than the first-level cache. */
#define NW_LIVE_AHEAD 16

/* Compacts the n pairs (pj[i], pp[i]) to the live ones, in order; returns their number.
 * deadbits holds four bit arrays of `period` bits, stride bytes apart, by p mod 8 (1,
 * 3, 5, 7), and offset j of the segment is at position t0 + j (mod period) of each.
 * The period is even, so that position is odd exactly when the number hit, m, is 3 mod
 * 4; then a prime p = 5 (mod 8) cannot leave m a pseudoprime either (2 is not a square
 * mod p, so the 2-adic valuation of ord_p(2) is that of p - 1, 2, and ord_p(2) does not
 * divide m - 1): 9% fewer order checks near 2^63. */
static uint64_t nw_keep_live_hits(uint8_t *seg, const uint8_t *deadbits, uint64_t stride,
                                  uint64_t t0, uint64_t period, uint32_t *pj, uint32_t *pp,
                                  uint64_t n)
{
    uint64_t i, k = 0;
    for (i = 0; i < n; i++) {
        uint64_t j = pj[i], p = pp[i], t = t0 + j, ruled, dead;
        if (i + NW_LIVE_AHEAD < n) {
            uint64_t ja = pj[i + NW_LIVE_AHEAD], ta = (t0 + ja) % period;
            nw_prefetch_w(seg + (ja >> 3));
            nw_prefetch(deadbits + ((pp[i + NW_LIVE_AHEAD] >> 1) & 3) * stride + (ta >> 3));
        }
        if (t >= period)
            t %= period;
        ruled = (uint64_t)(seg[j >> 3] >> (j & 7)) & 1;
        dead = (uint64_t)(deadbits[((p >> 1) & 3) * stride + (t >> 3)] >> (t & 7)) & 1;
        dead |= (uint64_t)((p & 7) == 5) & t;
        seg[j >> 3] |= (uint8_t)(dead << (j & 7));
        pj[k] = (uint32_t)j;
        pp[k] = (uint32_t)p;
        k += (ruled | dead) ^ 1;
    }
    return k;
}

/* The hits of one progression, offsets g, g + period, ... below end, that land on live
 * numbers (the pre-sieved primes' progressions: see _Sweep.presieved_progressions). A
 * hit on a number already ruled out (its bit in seg is set) is dropped; a hit whose dead
 * bit is set (bit t of deadbits, t = the hit's place in a pattern of kperiod bits, moving
 * on by period with each hit) is dropped and rules the number out. The live ones' offsets
 * go to out, in order; returns their number, and leaves *g and *t at the first hit at or
 * past end. Without branches, as nw_keep_live_hits: a hit finds its number alive about
 * one time in five, which no branch predictor guesses; and in two passes, the dead bits
 * read only for the hits that the first finds alive. */
static uint64_t nw_live_progression(uint8_t *seg, const uint8_t *deadbits, uint64_t *g,
                                    uint64_t *t, uint64_t period, uint64_t kperiod,
                                    uint64_t end, uint32_t *out)
{
    uint64_t j0 = *g, t0 = *t, j = j0, k = 0, n = 0, i;
    for (; j < end; j += period) {
        out[k] = (uint32_t)j;
        k += ((uint64_t)(seg[j >> 3] >> (j & 7)) & 1) ^ 1;
    }
    for (i = 0; i < k; i++) {
        uint64_t x = out[i], tx = (t0 + (x - j0)) % kperiod;
        uint64_t dead = (uint64_t)(deadbits[tx >> 3] >> (tx & 7)) & 1;
        seg[x >> 3] |= (uint8_t)(dead << (x & 7));
        out[n] = (uint32_t)x;
        n += dead ^ 1;
    }
    *g = j;
    *t = (t0 + (j - j0)) % kperiod;
    return n;
}

#endif /* NEWRAL_LIVE_HITS_H */
