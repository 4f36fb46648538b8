/* Classification of a sieved segment of the BPSW sweep (see bpsw.pyx): a bit per odd
 * number for "some sieving prime hit it outside its progression" and one for "in its
 * progression", and three periodic bit patterns from the small primes 3..17.
 */
#ifndef NEWRAL_SEGMENT_SCAN_H
#define NEWRAL_SEGMENT_SCAN_H

#include <stdint.h>

#include "bitops.h"
#include "sieve_bits.h"

/* The scan counts bits with the popcnt instruction where the processor has it: a second
 * build, chosen at load time (see NW_VECTOR_CLONES), in which the compiler turns
 * nw_popcount64's portable sum into the instruction. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) \
    && !defined(NEWRAL_PORTABLE_MULHI)
#define NW_SCAN_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define NW_SCAN_CLONES
#endif

/* Classifies bits [j0, j1) of a sieved segment: seg (some prime hit n outside its
 * progression), prog (some prime hit n in its progression), weak (a pre-sieved prime p
 * hit n = p m in its progression, but n is no pseudoprime if m is prime: see
 * _Sweep.plan_weak_hits; other known factors of such an n set prog), and three periodic
 * patterns read from bit t0 + j: small (a small prime divides n), poison (a small prime
 * rules n out), scand (small primes in their progression divide n, and their product
 * is not too small to be a cofactor). Returns the number of primes (no bit set at all)
 * and appends the candidates (not ruled out, and prog, scand, or weak with small) to
 * cand. */
NW_SCAN_CLONES
static uint64_t nw_scan_bits(const uint64_t *seg, const uint64_t *prog, const uint64_t *weak,
                             const uint64_t *small,
                             const uint64_t *poison, const uint64_t *scand, uint64_t t0,
                             uint64_t j0, uint64_t j1, uint32_t *cand, uint64_t *ncand_out)
{
    uint64_t count = 0, ncand = *ncand_out, w, w0, w1;
    /* the patterns' windows: word w of the segment reads bits t0 + 64 w on, that is words
     * (t0 >> 6) + w and the next, shifted by r (the high part in two steps, so that r = 0
     * needs no case of its own) */
    const uint64_t *sp = small + (t0 >> 6), *pp = poison + (t0 >> 6), *cp = scand + (t0 >> 6);
    unsigned r = (unsigned)(t0 & 63);
    if (j0 >= j1)
        return 0;
    w0 = j0 >> 6;
    w1 = (j1 - 1) >> 6;
    for (w = w0; w <= w1; w++) {
        uint64_t valid = ~(uint64_t)0, s = seg[w], g = prog[w], wk = weak[w], c, sm, po, sc;
        if (w == w0)
            valid &= ~(uint64_t)0 << (j0 & 63);
        if (w == w1 && (j1 & 63))
            valid &= ~(uint64_t)0 >> (64 - (j1 & 63));
        sm = (sp[w] >> r) | ((sp[w + 1] << 1) << (63 - r));
        po = (pp[w] >> r) | ((pp[w + 1] << 1) << (63 - r));
        sc = (cp[w] >> r) | ((cp[w + 1] << 1) << (63 - r));
        count += (uint64_t)nw_popcount64(~(s | g | wk | sm) & valid);
        /* a weak hit makes a candidate with a small prime factor (or with prog) */
        c = ~(s | po) & (g | sc | (wk & sm)) & valid;
        /* most words hold no candidate or one: the first is written without a branch
         * (kept only if there is one), a loop takes the rest */
        cand[ncand] = (uint32_t)(64 * w + (uint64_t)nw_ctz64(c | ((uint64_t)1 << 63)));
        ncand += c != 0;
        c &= c - 1;
        while (c) {
            cand[ncand++] = (uint32_t)(64 * w + (uint64_t)nw_ctz64(c));
            c &= c - 1;
        }
    }
    *ncand_out = ncand;
    return count;
}

#endif /* NEWRAL_SEGMENT_SCAN_H */
