/* Count of trailing zero bits, on every compiler the kernels build with (MSVC has no
 * __builtin_ctz). The argument must not be 0. */
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
#else
static inline int nw_ctz32(uint32_t x)
{
    return __builtin_ctz(x);
}
static inline int nw_ctz64(uint64_t x)
{
    return __builtin_ctzll(x);
}
#endif

#endif /* NEWRAL_BITOPS_H */
