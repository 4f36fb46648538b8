/* Lists of sieving primes for the later passes of a pass-set (see bpsw.pyx, _Sweep.run):
 * ascending odd primes, each stored as half its distance to the one before (the first
 * from 1) in 7-bit groups, low group first, the high bit of a byte saying another group
 * follows. Far from 0 a large prime hits a pass at most once; the first pass of a set
 * files each such prime under every later pass it hits, so those passes need not stream
 * the primes again. About two bytes a prime, against four in a bucket.
 */
#ifndef NEWRAL_PASSLIST_H
#define NEWRAL_PASSLIST_H

#include <stdint.h>
#include <stdlib.h>

typedef struct {
    uint8_t *buf;
    uint64_t len, cap;
    uint32_t last;   /* the last prime appended (1 when empty) */
} nw_plist;

static inline void nw_plist_init(nw_plist *l)
{
    l->buf = NULL;
    l->len = 0;
    l->cap = 0;
    l->last = 1;
}

static inline void nw_plist_free(nw_plist *l)
{
    free(l->buf);
    nw_plist_init(l);
}

/* Appends the odd prime p > l->last; returns -1 when out of memory. */
static inline int nw_plist_push(nw_plist *l, uint32_t p)
{
    uint32_t d = (p - l->last) >> 1;
    if (l->len + 5 > l->cap) {
        uint64_t cap = 2 * l->cap + 4096;
        uint8_t *b = (uint8_t *)realloc(l->buf, cap);
        if (b == NULL)
            return -1;
        l->buf = b;
        l->cap = cap;
    }
    while (d >= 128) {
        l->buf[l->len++] = (uint8_t)(d | 128);
        d >>= 7;
    }
    l->buf[l->len++] = (uint8_t)d;
    l->last = p;
    return 0;
}

/* The prime after last, read at *pos (which it advances). */
static inline uint32_t nw_plist_next(const uint8_t **pos, uint32_t last)
{
    const uint8_t *q = *pos;
    uint32_t d = 0;
    int shift = 0;
    while (*q & 128) {
        d |= (uint32_t)(*q++ & 127) << shift;
        shift += 7;
    }
    d |= (uint32_t)*q++ << shift;
    *pos = q;
    return last + 2 * d;
}

#endif /* NEWRAL_PASSLIST_H */
