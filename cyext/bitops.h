/* Count of trailing zero bits, on every compiler the kernels build with (MSVC has no
 * __builtin_ctz). The argument must not be 0. And a prefetch hint for a coming random
 * read or write (none where the compiler has no builtin). */
#ifndef NEWRAL_BITOPS_H
#define NEWRAL_BITOPS_H

#include <stdint.h>

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
static inline int nw_ctz32(uint32_t x)
{
    unsigned long i;
    _BitScanForward(&i, x);
    return (int)i;
}
static inline int nw_ctz64(uint64_t x)
{
    unsigned long i;
    _BitScanForward64(&i, x);
    return (int)i;
}
#define nw_prefetch(addr) ((void)(addr))
#define nw_prefetch_w(addr) ((void)(addr))
#else
static inline int nw_ctz32(uint32_t x)
{
    return __builtin_ctz(x);
}
static inline int nw_ctz64(uint64_t x)
{
    return __builtin_ctzll(x);
}
#define nw_prefetch(addr) __builtin_prefetch((addr), 0)
#define nw_prefetch_w(addr) __builtin_prefetch((addr), 1)
#endif

#endif /* NEWRAL_BITOPS_H */
