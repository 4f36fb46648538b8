/* Pre-sieving of the BPSW sweep (see bpsw.pyx, _Presieve): the multiples of the
 * smallest sieving primes (19 up to a limit near 127) that lie outside their progression
 * repeat with a short period, so a segment starts as a copy of their periodic bit
 * patterns, OR-ed together, instead of being cleared and then marked prime by prime.
 *
 * Bit t of a pattern stands for the odd number 2 t + 1 (mod the pattern's period), as
 * bit j of a segment stands for n_lo + 2 j. A prime p divides 2 t + 1 when
 * t = (p - 1) / 2 (mod p), and 2 t + 1 lies in p's progression (2 t + 1 = p mod p M,
 * M = ord_p(2) made even) when t = (p - 1) / 2 (mod p M / 2): that one multiple of each
 * period is left out, and recorded as a progression hit by the sweep.
 *
 * A pattern holds the primes of a group whose periods have a small common multiple L,
 * repeated up to rep >= NW_PRESIEVE_MIN_BITS bits (so that a segment wraps around it
 * rarely), plus 128 bits that continue it (so that a 64-bit window never reads past it).
 */
#ifndef NEWRAL_PRESIEVE_H
#define NEWRAL_PRESIEVE_H

#include <stdint.h>

#include "bitops.h"

#define NW_PRESIEVE_MIN_BITS 8192u

/* Sets, in the pattern buf of nbits bits (zeroed by the caller), the multiples of the
 * odd prime p outside its progression of period half_pm = p M / 2 (a multiple of p). */
static void nw_presieve_add(uint64_t *buf, uint64_t nbits, uint32_t p, uint64_t half_pm)
{
    uint64_t t = (p - 1) >> 1, k = 0, skip = half_pm / p;
    for (; t < nbits; t += p, k++) {
        if (k == skip)
            k = 0;
        if (k != 0)
            buf[t >> 6] |= (uint64_t)1 << (t & 63);
    }
}

/* seg[0 .. nwords) = (or_into ? seg | : ) the pattern buf of period rep (bits) read from
 * bit o < rep on, wrapping around at rep. Within a run the shift r is fixed; the high
 * part is shifted in two steps so that r = 0 needs no case of its own. */
NW_VECTOR_CLONES
static void nw_presieve_fill(uint64_t *seg, uint64_t nwords, const uint64_t *buf,
                             uint64_t rep, uint64_t o, int or_into)
{
    uint64_t w = 0, keep = or_into ? ~(uint64_t)0 : 0;
    while (w < nwords) {
        const uint64_t *b = buf + (o >> 6);
        unsigned r = (unsigned)(o & 63);
        /* windows that start before rep: the last reads bits below rep + 128 */
        uint64_t run = (rep - o + 63) >> 6, i;
        if (run > nwords - w)
            run = nwords - w;
        for (i = 0; i < run; i++)
            seg[w + i] = (seg[w + i] & keep) | (b[i] >> r) | ((b[i + 1] << 1) << (63 - r));
        w += run;
        o += 64 * run;
        if (o >= rep)
            o -= rep;
    }
}

#endif /* NEWRAL_PRESIEVE_H */
