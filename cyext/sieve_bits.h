/* The bit-per-odd-number sieve of the BPSW sweep (see bpsw.pyx): marking the multiples
 * of a sieving prime, testing, setting and counting bits.
 *
 * Bit j of a segment stands for the odd number n_lo + 2 j; arrays of bits are arrays of
 * 64-bit words, bit j at word j / 64, bit j % 64, which is byte j / 8, bit j % 8 on a
 * little-endian machine: the marking writes bytes, the scan reads words.
 */
#ifndef NEWRAL_SIEVE_BITS_H
#define NEWRAL_SIEVE_BITS_H

#include <stdint.h>
#include <string.h>

#include "bitops.h"

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "sieve_bits.h reads bytes as little-endian 64-bit words"
#endif

/* Bits set in x; the builtin only where the compiler may use the instruction (else it
 * is a library call), the classic bit-slicing sum otherwise. */
static inline int nw_popcount64(uint64_t x)
{
#if defined(__POPCNT__) && (defined(__GNUC__) || defined(__clang__))
    return __builtin_popcountll(x);
#else
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (int)((x * 0x0101010101010101ull) >> 56);
#endif
}

/* One turn of eight marks at q for a bit offset jr = j % 8 and a stride p = 8 pq + pr:
 * mark k is bit (jr + k pr) % 8 of byte q + k pq + (jr + k pr) / 8, so that with jr and
 * pr constants (a case of nw_mark_bits' switch) the masks and the small offsets are
 * constants too, and the loop keeps only q, pq and its odd multiples in registers. */
#define NW_MARK1(JR, PR, K, OFF) q[(OFF) + (((JR) + (K) * (PR)) >> 3)] |= \
    (uint8_t)(1u << (((JR) + (K) * (PR)) & 7));
#define NW_MARK_CASE(JR, PR)                                                           \
    case (JR) * 4 + ((PR) >> 1):                                                       \
        for (; q < qend; q += p) {                                                     \
            NW_MARK1(JR, PR, 0, 0) NW_MARK1(JR, PR, 1, pq) NW_MARK1(JR, PR, 2, 2 * pq) \
            NW_MARK1(JR, PR, 3, p3) NW_MARK1(JR, PR, 4, 4 * pq)                        \
            NW_MARK1(JR, PR, 5, p5) NW_MARK1(JR, PR, 6, 2 * p3) NW_MARK1(JR, PR, 7, p7) \
        }                                                                              \
        break;
#define NW_MARK_CASES(JR) NW_MARK_CASE(JR, 1) NW_MARK_CASE(JR, 3) NW_MARK_CASE(JR, 5) \
    NW_MARK_CASE(JR, 7)

/* Sets bits j, j + p, j + 2p, ... below end of the bit array b (bytes); returns the
 * first position at or past end. Eight marks of one turn share fixed byte offsets and
 * bit masks (p is odd, so the eight positions cover every bit of a byte), and a turn
 * moves p bytes: the usual unrolling of a bit sieve, with a case for each of the 32
 * (j % 8, p % 8) pairs so that the masks are constants (primesieve's EratSmall does the
 * same for its wheel). The switch's jump is mispredicted about once a call, which a
 * plain loop saves: below 32 marks that loop is the faster (measured alone, primes from
 * 2^17 to 2^18 over 2^21 bits, 11 marks a call: 10.1 against 17.1 ns a call; from 2^15
 * to 2^16, 45 marks: 42.4 against 39.0 ns). */
static inline uint64_t nw_mark_bits(uint8_t *b, uint64_t j, uint64_t p, uint64_t end)
{
    if (j < end && end - j > 32 * p) {
        /* a turn at q is whole when its last mark, bit 8 (q - b) + jr + 7 p, is below
         * end: while q - b < ceil((end - jr - 7 p) / 8) */
        uint64_t jr = j & 7, pq = p >> 3, p3 = 3 * pq, p5 = 5 * pq, p7 = 7 * pq;
        uint8_t *q = b + (j >> 3);
        uint8_t *qend = b + ((end - jr - 7 * p + 7) >> 3);
        switch (jr * 4 + ((p & 7) >> 1)) {
            NW_MARK_CASES(0) NW_MARK_CASES(1) NW_MARK_CASES(2) NW_MARK_CASES(3)
            NW_MARK_CASES(4) NW_MARK_CASES(5) NW_MARK_CASES(6) NW_MARK_CASES(7)
        }
        j = 8 * (uint64_t)(q - b) + jr;
    }
    while (j < end) {
        b[j >> 3] |= (uint8_t)(1u << (j & 7));
        j += p;
    }
    return j;
}

#undef NW_MARK_CASES
#undef NW_MARK_CASE
#undef NW_MARK1

static inline int nw_bit_test(const uint8_t *b, uint64_t j)
{
    return (b[j >> 3] >> (j & 7)) & 1;
}

static inline void nw_bit_set(uint8_t *b, uint64_t j)
{
    b[j >> 3] |= (uint8_t)(1u << (j & 7));
}

static inline void nw_bit_clear(uint8_t *b, uint64_t j)
{
    b[j >> 3] &= (uint8_t)~(1u << (j & 7));
}

#endif /* NEWRAL_SIEVE_BITS_H */
