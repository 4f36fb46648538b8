/* Streaming generator of the primes below 2^32: a segmented sieve of Eratosthenes on
 * the mod-30 wheel, for the sieving primes of the BPSW sweep.
 *
 * Byte k of a block stands for the numbers base + 30 k + w, w in NW_WHEEL (the residues
 * prime to 30), one bit each. The primes 7, 11, 13 and 17 are not sieved but copied
 * from a pattern (period 7 * 11 * 13 * 17 bytes); each larger sieving prime p crosses
 * off p * q for q prime to 30, q >= p, stepping q around the wheel. Within one turn of
 * the wheel the eight byte offsets and bits of p's multiples are fixed, so a turn is
 * eight stores and then a jump of p bytes. A block is 32 KB (983,040 numbers), so that
 * it stays in L1 while every sieving prime crosses it (128 KB blocks, in L2, took about
 * 15% longer up to 3 * 10^9, although the work per sieving prime and block is less).
 *
 * nw_pgen_setup() builds the shared tables once (call it with no other thread inside);
 * then any number of generators may run at once, each on its own nw_pgen.
 */
#ifndef NEWRAL_PRIMEGEN_H
#define NEWRAL_PRIMEGEN_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bitops.h"

#define NW_PG_BLOCK 32768u                  /* bytes per block */
#define NW_PG_PERIOD 17017u                /* 7 * 11 * 13 * 17 */
#define NW_PG_MAX_SP 6542                  /* odd primes below 2^16, at most */

static const uint8_t NW_WHEEL[8] = {1, 7, 11, 13, 17, 19, 23, 29};
static const uint8_t NW_WHEEL_GAP[8] = {6, 4, 2, 4, 2, 4, 6, 2};

static uint8_t *nw_pg_pattern = NULL;      /* NW_PG_PERIOD + NW_PG_BLOCK bytes */
static uint32_t nw_pg_sp[NW_PG_MAX_SP];    /* the sieving primes 19 .. 65521 */
static int nw_pg_nsp = 0;
static int8_t nw_pg_bit_of[30];            /* residue mod 30 -> bit, -1 if not prime to 30 */
static uint8_t nw_pg_cls[NW_PG_MAX_SP];    /* per sieving prime p: the bit of p mod 30 */
/* For p = 30 a + W[c] and a multiple p q with q = W[w] (mod 30): the bit of p q, and the
 * byte step to the next multiple p (q + gap[w]) beyond a * gap[w]. */
static uint8_t nw_pg_mbit[8][8];
static uint8_t nw_pg_step[8][8];

typedef struct {
    uint64_t base;          /* number at bit 0 of byte 0 of the next block, = 0 mod 30 */
    uint64_t start, stop;   /* the primes wanted: odd, in [start, stop] */
    int nsp;                /* sieving primes used: those with p^2 <= stop */
    uint32_t *next;         /* per sieving prime: byte of its next multiple, from base */
    uint8_t *wi;            /* per sieving prime: wheel index of that multiple's cofactor */
    uint8_t *buf;
    uint32_t *out;          /* the primes of the last block */
    int small_done;
} nw_pgen;

static int nw_pgen_setup(void)
{
    uint8_t *comp;
    uint32_t i, j, t;
    static const uint32_t pre[4] = {7, 11, 13, 17};
    if (nw_pg_pattern != NULL)
        return 0;
    for (i = 0; i < 30; i++)
        nw_pg_bit_of[i] = -1;
    for (i = 0; i < 8; i++)
        nw_pg_bit_of[NW_WHEEL[i]] = (int8_t)i;
    comp = (uint8_t *)calloc(65536, 1);
    if (comp == NULL)
        return -1;
    nw_pg_nsp = 0;
    for (i = 3; i < 65536; i += 2) {
        if (comp[i])
            continue;
        if (i >= 19)
            nw_pg_sp[nw_pg_nsp++] = i;
        for (j = i * i; j < 65536; j += 2 * i)
            comp[j] = 1;
    }
    free(comp);
    for (i = 0; i < (uint32_t)nw_pg_nsp; i++)
        nw_pg_cls[i] = (uint8_t)nw_pg_bit_of[nw_pg_sp[i] % 30];
    for (i = 0; i < 8; i++) {
        for (j = 0; j < 8; j++) {
            uint32_t r = (uint32_t)NW_WHEEL[i] * NW_WHEEL[j] % 30;
            nw_pg_mbit[i][j] = (uint8_t)(1u << nw_pg_bit_of[r]);
            nw_pg_step[i][j] = (uint8_t)((r + (uint32_t)NW_WHEEL[i] * NW_WHEEL_GAP[j]) / 30);
        }
    }
    nw_pg_pattern = (uint8_t *)calloc(NW_PG_PERIOD + NW_PG_BLOCK, 1);
    if (nw_pg_pattern == NULL)
        return -1;
    for (t = 0; t < NW_PG_PERIOD + NW_PG_BLOCK; t++) {
        uint8_t m = 0;
        for (i = 0; i < 8; i++) {
            uint32_t n = (t % NW_PG_PERIOD) * 30 + NW_WHEEL[i];
            for (j = 0; j < 4; j++)
                if (n % pre[j] == 0)
                    m |= (uint8_t)(1u << i);
        }
        nw_pg_pattern[t] = m;
    }
    return 0;
}

static void nw_pgen_free(nw_pgen *g)
{
    free(g->next);
    free(g->wi);
    free(g->buf);
    free(g->out);
    g->next = NULL;
    g->wi = NULL;
    g->buf = NULL;
    g->out = NULL;
}

/* Streams the odd primes in [start, stop], stop < 2^32. Returns -1 when out of memory
 * or not set up (then nw_pgen_free is still safe to call). */
static int nw_pgen_init(nw_pgen *g, uint64_t start, uint64_t stop)
{
    int k;
    g->next = NULL;
    g->wi = NULL;
    g->buf = NULL;
    g->out = NULL;
    if (nw_pg_pattern == NULL || stop >= ((uint64_t)1 << 32))
        return -1;
    if (start < 3)
        start = 3;
    g->start = start;
    g->stop = stop;
    g->small_done = 0;
    g->base = (start < 19 ? 0 : start) / 30 * 30;
    g->nsp = 0;
    while (g->nsp < nw_pg_nsp && (uint64_t)nw_pg_sp[g->nsp] * nw_pg_sp[g->nsp] <= stop)
        g->nsp++;
    g->next = (uint32_t *)malloc((g->nsp + 1) * sizeof(uint32_t));
    g->wi = (uint8_t *)malloc(g->nsp + 1);
    g->buf = (uint8_t *)malloc(NW_PG_BLOCK + 8);
    g->out = (uint32_t *)malloc(8 * NW_PG_BLOCK * sizeof(uint32_t));
    if (g->next == NULL || g->wi == NULL || g->buf == NULL || g->out == NULL)
        return -1;
    for (k = 0; k < g->nsp; k++) {
        uint64_t p = nw_pg_sp[k], q = (g->base + p - 1) / p, r;
        if (q < p)
            q = p;
        while (nw_pg_bit_of[q % 30] < 0)
            q++;
        r = p * q - g->base;   /* >= 0, below 2^32 + 30 p: the byte fits 32 bits */
        g->next[k] = (uint32_t)(r / 30);
        g->wi[k] = (uint8_t)nw_pg_bit_of[q % 30];
    }
    return 0;
}

/* Crosses off the multiples of sieving prime k in buf[0, size). */
static inline void nw_pg_cross(nw_pgen *g, int k, uint8_t *buf, uint32_t size)
{
    uint32_t p = nw_pg_sp[k], a = p / 30, c = nw_pg_cls[k];
    uint32_t byte = g->next[k], w = g->wi[k];
    uint32_t off[8];
    uint8_t bit[8];
    uint32_t i, acc = 0;
    if (byte >= size) {
        g->next[k] = byte - size;
        return;
    }
    /* the eight multiples of one turn from the current one: byte offsets and bits */
    for (i = 0; i < 8; i++) {
        uint32_t wq = (w + i) & 7;
        off[i] = acc;
        bit[i] = nw_pg_mbit[c][wq];
        /* next multiple: p (q + gap) = p q + 30 a gap + (p mod 30) gap */
        acc += a * NW_WHEEL_GAP[wq] + nw_pg_step[c][wq];
    }
    /* acc == p: a whole turn moves p bytes */
    if (size > p) {
        /* the offsets in registers and the eight bits packed in one (eight of each do
         * not fit the registers, and reloading them each turn cost about 4%) */
        uint32_t end = size - off[7];
        uint32_t o1 = off[1], o2 = off[2], o3 = off[3], o4 = off[4], o5 = off[5];
        uint32_t o6 = off[6], o7 = off[7];
        uint64_t bits = 0;
        for (i = 0; i < 8; i++)
            bits |= (uint64_t)bit[i] << (8 * i);
        while (byte < end) {
            uint8_t *q = buf + byte;
            q[0] |= (uint8_t)bits;
            q[o1] |= (uint8_t)(bits >> 8);
            q[o2] |= (uint8_t)(bits >> 16);
            q[o3] |= (uint8_t)(bits >> 24);
            q[o4] |= (uint8_t)(bits >> 32);
            q[o5] |= (uint8_t)(bits >> 40);
            q[o6] |= (uint8_t)(bits >> 48);
            q[o7] |= (uint8_t)(bits >> 56);
            byte += p;
        }
    }
    i = 0;
    while (byte + off[i] < size) {
        buf[byte + off[i]] |= bit[i];
        if (++i == 8) {
            i = 0;
            byte += p;
        }
    }
    g->next[k] = byte + off[i] - size;
    g->wi[k] = (uint8_t)((w + i) & 7);
}

/* Sieves the next block; returns how many primes it put in g->out (0: done). */
static uint32_t nw_pgen_next(nw_pgen *g)
{
    static const uint8_t small[6] = {3, 5, 7, 11, 13, 17};
    uint32_t cnt = 0, size, w, nwords;
    uint64_t lo_keep;
    int k;
    if (!g->small_done) {
        g->small_done = 1;
        for (k = 0; k < 6; k++)
            if (small[k] >= g->start && small[k] <= g->stop)
                g->out[cnt++] = small[k];
        if (cnt)
            return cnt;
    }
    lo_keep = g->start < 19 ? 19 : g->start;
    while (g->base <= g->stop) {
        uint64_t span = (g->stop - g->base) / 30 + 1;
        uint8_t *buf = g->buf;
        size = span < NW_PG_BLOCK ? (uint32_t)span : NW_PG_BLOCK;
        memcpy(buf, nw_pg_pattern + (g->base / 30) % NW_PG_PERIOD, size);
        memset(buf + size, 0xFF, 8);
        for (k = 0; k < g->nsp; k++)
            nw_pg_cross(g, k, buf, size);
        /* the primes: zero bits, in order */
        nwords = (size + 7) / 8;
        for (w = 0; w < nwords; w++) {
            uint64_t x;
            memcpy(&x, buf + 8 * w, 8);
            x = ~x;
            if (w == nwords - 1 && (size & 7))
                x &= (((uint64_t)1) << (8 * (size & 7))) - 1;
            while (x) {
                int t = nw_ctz64(x);
                uint64_t n = g->base + 30 * (uint64_t)(8 * w + (t >> 3)) + NW_WHEEL[t & 7];
                x &= x - 1;
                if (n >= lo_keep && n <= g->stop)
                    g->out[cnt++] = (uint32_t)n;
            }
        }
        g->base += 30 * (uint64_t)size;
        if (cnt)
            return cnt;
    }
    return 0;
}

#endif /* NEWRAL_PRIMEGEN_H */
