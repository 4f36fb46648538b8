/* Classification of a sieved segment of the BPSW sweep (see bpsw.pyx): per odd number
 * a sieve byte (low nibble: primes that rule it out, high nibble: primes hitting it in
 * their progression) and a small-prime pattern byte (K_POISON 0x80, K_KILL 0x40, the
 * mask of small primes in their progression 0x3F).
 */
#ifndef NEWRAL_SEGMENT_SCAN_H
#define NEWRAL_SEGMENT_SCAN_H

/* Classifies a sieved segment: counts the primes (sieve byte and small-prime
 * pattern byte both 0) and lists the candidates (no prime rules n out, and n is
 * not a killable small cofactor times a prime). SSE2 where available. */
#include <stdint.h>
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define NW_SCAN_SSE2 1
#endif

#include "bitops.h"

static inline int nw_is_cand(uint8_t v, uint8_t k)
{
    if ((v & 0x0F) | (k & 0x80))
        return 0;
    return v != 0 || (k != 0 && k < 0x40);
}
static uint64_t nw_scan(const uint8_t *seg, const uint8_t *kp, uint64_t length,
                        uint32_t *cand, uint64_t *ncand_out)
{
    uint64_t count = 0, ncand = 0, i = 0;
#ifdef NW_SCAN_SSE2
    const __m128i zero = _mm_setzero_si128();
    const __m128i lo4 = _mm_set1_epi8(0x0F), hi1 = _mm_set1_epi8((char)0x80);
    const __m128i b6 = _mm_set1_epi8(0x40), lo6 = _mm_set1_epi8(0x3F);
    while (i + 16 <= length) {
        __m128i acc = zero;
        uint64_t stop = i + 16 * 255;
        if (stop > (length & ~(uint64_t)15))
            stop = length & ~(uint64_t)15;
        for (; i < stop; i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(seg + i));
            __m128i k = _mm_loadu_si128((const __m128i *)(kp + i));
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_or_si128(v, k), zero));
            __m128i y = _mm_or_si128(_mm_and_si128(v, lo4), _mm_and_si128(k, hi1));
            __m128i killed = _mm_cmpeq_epi8(_mm_and_si128(k, b6), b6);
            __m128i w = _mm_or_si128(v, _mm_andnot_si128(killed, _mm_and_si128(k, lo6)));
            __m128i c = _mm_andnot_si128(_mm_cmpeq_epi8(w, zero), _mm_cmpeq_epi8(y, zero));
            unsigned m = (unsigned)_mm_movemask_epi8(c);
            while (m) {
                cand[ncand++] = (uint32_t)(i + (uint64_t)nw_ctz32(m));
                m &= m - 1;
            }
        }
        __m128i sums = _mm_sad_epu8(acc, zero);
        count += (uint64_t)_mm_cvtsi128_si32(sums) + (uint64_t)_mm_extract_epi16(sums, 4);
    }
#endif
    for (; i < length; i++) {
        if ((seg[i] | kp[i]) == 0)
            count++;
        else if (nw_is_cand(seg[i], kp[i]))
            cand[ncand++] = (uint32_t)i;
    }
    *ncand_out = ncand;
    return count;
}

#endif /* NEWRAL_SEGMENT_SCAN_H */
