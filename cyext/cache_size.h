/* The first-level data cache's size, where the system tells it (Linux with glibc; 0
 * elsewhere): the BPSW sweep marks its small sieving primes a cache-sized block at a time.
 */
#ifndef NEWRAL_CACHE_SIZE_H
#define NEWRAL_CACHE_SIZE_H

#include <stdint.h>

#if defined(__linux__) && defined(__GLIBC__)
#include <unistd.h>
#endif

static uint64_t nw_l1d_bytes(void)
{
#if defined(__linux__) && defined(__GLIBC__) && defined(_SC_LEVEL1_DCACHE_SIZE)
    long n = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    return n > 0 ? (uint64_t)n : 0;
#else
    return 0;
#endif
}

#endif /* NEWRAL_CACHE_SIZE_H */
