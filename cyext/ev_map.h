/* The progression products of a BPSW sweep's segment (see _Sweep.prog_hit): for each
 * offset j that some prime hit in its progression, the product of those primes (0 once
 * it passes 32 bits). Few offsets of a segment have one (a few in a thousand), so they
 * live in a small open-addressing hash table, cleared with each segment, rather than in
 * four bytes for every odd number (8 MB for a segment of 2^21): the table stays in the
 * second-level cache, where the dense array was read and written at random.
 *
 * A slot is one 64-bit word, the key (j + 1; 0 for an empty slot) in its low half and
 * the product in its high half, found by linear probing from a multiplicative hash. The
 * table doubles when it would pass half full.
 */
#ifndef NEWRAL_EV_MAP_H
#define NEWRAL_EV_MAP_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bitops.h"

typedef struct {
    uint64_t *slot;
    uint32_t bits;   /* 2^bits slots */
    uint32_t n;      /* keys held */
} NwEvMap;

#define NW_EV_MIN_BITS 12

static inline uint64_t nw_ev_home(const NwEvMap *m, uint32_t j)
{
    return (uint64_t)(((j + 1u) * 0x9E3779B1u) >> (32 - m->bits));
}

/* An empty table of 2^bits slots; 0, or -1 when out of memory. */
static inline int nw_ev_init(NwEvMap *m, uint32_t bits)
{
    m->bits = bits < NW_EV_MIN_BITS ? NW_EV_MIN_BITS : bits;
    m->n = 0;
    m->slot = (uint64_t *)calloc((size_t)1 << m->bits, sizeof(uint64_t));
    return m->slot == NULL ? -1 : 0;
}

static inline void nw_ev_free(NwEvMap *m)
{
    free(m->slot);
    m->slot = NULL;
    m->n = 0;
}

/* Empties the table (keeps its size). */
static inline void nw_ev_clear(NwEvMap *m)
{
    if (m->n)
        memset(m->slot, 0, ((size_t)1 << m->bits) * sizeof(uint64_t));
    m->n = 0;
}

/* The slot of key j: where it is, else the empty slot where it would go. */
static inline uint64_t *nw_ev_find(const NwEvMap *m, uint32_t j)
{
    uint64_t mask = ((uint64_t)1 << m->bits) - 1, h = nw_ev_home(m, j);
    uint32_t key = j + 1u;
    for (;;) {
        uint32_t k = (uint32_t)m->slot[h];
        if (k == key || k == 0)
            return &m->slot[h];
        h = (h + 1) & mask;
    }
}

/* Asks for key j's home slot (for writing with write), ahead of the find. */
static inline void nw_ev_prefetch(const NwEvMap *m, uint32_t j, int write)
{
    const uint64_t *home = &m->slot[nw_ev_home(m, j)];
    if (write)
        nw_prefetch_w(home);
    else
        nw_prefetch(home);
}

/* The product of key j (0 if absent: which the sweep never asks). */
static inline uint32_t nw_ev_get(const NwEvMap *m, uint32_t j)
{
    return (uint32_t)(*nw_ev_find(m, j) >> 32);
}

/* Doubles the table; 0, or -1 when out of memory (the table is then unchanged). */
static inline int nw_ev_grow(NwEvMap *m)
{
    NwEvMap big;
    uint64_t i, count = (uint64_t)1 << m->bits;
    if (nw_ev_init(&big, m->bits + 1) != 0)
        return -1;
    for (i = 0; i < count; i++)
        if ((uint32_t)m->slot[i] != 0)
            *nw_ev_find(&big, (uint32_t)m->slot[i] - 1u) = m->slot[i];
    big.n = m->n;
    free(m->slot);
    *m = big;
    return 0;
}

/* Sets key j to product v (a new key); 0, or -1 when out of memory. */
static inline int nw_ev_put(NwEvMap *m, uint32_t j, uint32_t v)
{
    uint64_t *s;
    if (2 * ((uint64_t)m->n + 1) > ((uint64_t)1 << m->bits) && nw_ev_grow(m) != 0)
        return -1;
    s = nw_ev_find(m, j);
    if ((uint32_t)*s == 0)
        m->n++;
    *s = (uint64_t)v << 32 | (j + 1u);
    return 0;
}

/* Multiplies key j's product by p (0 once it passes 32 bits, and stays 0). */
static inline void nw_ev_times(NwEvMap *m, uint32_t j, uint64_t p)
{
    uint64_t *s = nw_ev_find(m, j);
    uint64_t prod = (*s >> 32) * p;
    *s = ((prod >> 32) == 0 ? prod << 32 : 0) | (uint32_t)*s;
}

#endif /* NEWRAL_EV_MAP_H */
