/* Where glibc's malloc would hand each sweep's scratch arrays (a few 256 KB bit arrays) to
 * mmap and back, every short sweep (an audit block, a small workunit) pays page faults to
 * zero them again: half a millisecond per sweep of 40,000 numbers, which took 0.22 ms
 * without it. glibc raises its mmap threshold by itself once a large block is freed (the
 * sweep used to free an 8 MB array and never noticed); nw_keep_heap sets it outright, with
 * the trim threshold at twice it, which is what that adjustment does. Elsewhere a no-op.
 */
#ifndef NEWRAL_HEAP_TUNING_H
#define NEWRAL_HEAP_TUNING_H

#include <stddef.h>
#include <stdlib.h>

#if defined(__GLIBC__)
#include <malloc.h>
/* 1 if set (or nothing to set), 0 if glibc refused. */
static inline int nw_keep_heap(int mmap_threshold)
{
    return mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1
           && mallopt(M_TRIM_THRESHOLD, 2 * mmap_threshold) == 1;
}
#else
static inline int nw_keep_heap(int mmap_threshold)
{
    (void)mmap_threshold;
    return 1;
}
#endif

#endif /* NEWRAL_HEAP_TUNING_H */
