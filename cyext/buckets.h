/* Bucket storage of the BPSW sweep: the pending hits of the large sieving primes, one
 * bucket per segment, each a chain of fixed-size blocks.
 *
 * A block is 8 KB, aligned to 8 KB: a link to the next (older, full) block of its
 * bucket, then NW_BLOCK_N entries of 4 bytes. A bucket is known by its write position
 * alone (one past its last entry): the block it lies in is that address rounded down, the head
 * block is full exactly when the position is 8 KB aligned, and a NULL position (an empty
 * bucket) passes the same test. So a push reads and writes one pointer.
 */
#ifndef NEWRAL_BUCKETS_H
#define NEWRAL_BUCKETS_H

#include <stdint.h>
#include <stdlib.h>
#if defined(_WIN32)
#include <malloc.h>
#endif

#define NW_BLOCK_BYTES 8192u
#define NW_BLOCK_N ((NW_BLOCK_BYTES - 16u) / 4u)

/* An entry is the sieving prime alone: its hit in the bucket's segment is the first odd
 * multiple of p at or past the segment's start (and p^2), recomputed when the segment
 * is sieved, and whether its order of 2 is tabulated follows from p. Four bytes an
 * entry: twice the entries of a memory budget, so far fewer passes far from 0. */
typedef uint32_t nw_entry;

typedef struct nw_block {
    struct nw_block *next;
    uint64_t unused;
    nw_entry e[NW_BLOCK_N];
} nw_block;

/* sizeof(nw_block) must be exactly NW_BLOCK_BYTES */
typedef char nw_block_size_check[sizeof(nw_block) == NW_BLOCK_BYTES ? 1 : -1];

static nw_block *nw_block_alloc(void)
{
#if defined(_WIN32)
    return (nw_block *)_aligned_malloc(NW_BLOCK_BYTES, NW_BLOCK_BYTES);
#else
    void *p = NULL;
    if (posix_memalign(&p, NW_BLOCK_BYTES, NW_BLOCK_BYTES) != 0)
        return NULL;
    return (nw_block *)p;
#endif
}

static void nw_block_release(nw_block *b)
{
#if defined(_WIN32)
    _aligned_free(b);
#else
    free(b);
#endif
}

/* Whether a bucket whose write position is t needs a new block (full, or empty). */
static inline int nw_tail_full(const nw_entry *t)
{
    return ((uintptr_t)t & (NW_BLOCK_BYTES - 1)) == 0;
}

/* The block holding the entry just before write position t (t not NULL). */
static inline nw_block *nw_block_of(const nw_entry *t)
{
    return (nw_block *)((uintptr_t)(t - 1) & ~(uintptr_t)(NW_BLOCK_BYTES - 1));
}

#endif /* NEWRAL_BUCKETS_H */
