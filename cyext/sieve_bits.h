/* The bit-per-odd-number sieve of the BPSW sweep (see bpsw.pyx): marking the multiples
 * of a sieving prime, testing and setting bits, reading a window of a periodic bit
 * pattern.
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

/* Sets bits j, j + p, j + 2p, ... below end of the bit array b (bytes); returns the
 * first position at or past end. Eight marks of one turn share fixed byte offsets and
 * bit masks (p is odd, so the eight positions cover every bit of a byte), and a turn
 * moves p bytes: the usual unrolling of a bit sieve. */
static inline uint64_t nw_mark_bits(uint8_t *b, uint64_t j, uint64_t p, uint64_t end)
{
    if (j < end && end - j > 8 * p) {
        uint64_t base = j >> 3;
        uint32_t o0, o1, o2, o3, o4, o5, o6, o7;
        uint8_t m0, m1, m2, m3, m4, m5, m6, m7;
        uint8_t *q = b + base;
        uint64_t x = j;
#define NW_OFF(k) o##k = (uint32_t)((x >> 3) - base); m##k = (uint8_t)(1u << (x & 7)); x += p;
        NW_OFF(0) NW_OFF(1) NW_OFF(2) NW_OFF(3) NW_OFF(4) NW_OFF(5) NW_OFF(6) NW_OFF(7)
#undef NW_OFF
        /* a turn at q is whole when its last mark, at bit j + 7p, is below end; x is
         * that mark (counting the turns so spares a division per prime and segment) */
        x -= p;
        while (x < end) {
            q[o0] |= m0;
            q[o1] |= m1;
            q[o2] |= m2;
            q[o3] |= m3;
            q[o4] |= m4;
            q[o5] |= m5;
            q[o6] |= m6;
            q[o7] |= m7;
            q += p;
            x += 8 * p;
        }
        j = x - 7 * p;
    }
    while (j < end) {
        b[j >> 3] |= (uint8_t)(1u << (j & 7));
        j += p;
    }
    return j;
}

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

/* The 64 bits of w from bit o on (w holds at least o + 128 bits). */
static inline uint64_t nw_window(const uint64_t *w, uint64_t o)
{
    uint64_t k = o >> 6;
    unsigned r = (unsigned)(o & 63);
    if (r == 0)
        return w[k];
    return (w[k] >> r) | (w[k + 1] << (64 - r));
}

#endif /* NEWRAL_SIEVE_BITS_H */
