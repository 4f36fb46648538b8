/* Count of trailing zero bits, on every compiler the kernels build with (MSVC has no
 * __builtin_ctz). The argument must not be 0. A prefetch hint for a coming random read
 * or write (none where the compiler has no builtin). */
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

/* A loop over words that the compiler vectorizes gets a second build for AVX2, chosen at
 * load time where the processor has it (GCC on x86-64 Linux with glibc, through an
 * ifunc); elsewhere, and in the portable build (NEWRAL_PORTABLE_MULHI, which the tests
 * use to run the baseline code too), the one build for the baseline instruction set. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) \
    && !defined(NEWRAL_PORTABLE_MULHI)
#define NW_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NW_VECTOR_CLONES
#endif

/* Code written with GCC/clang vector extensions for AVX2 lanes, called only where the
 * processor has AVX2 (nw_has_avx2, a run-time test): x86-64 with GCC or clang, not in the
 * portable build, which keeps the scalar code (order_check.h, first_hits.h). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(NEWRAL_PORTABLE_MULHI)
#define NW_AVX2_LANES 1
#define nw_has_avx2() __builtin_cpu_supports("avx2")
#else
#define NW_AVX2_LANES 0
#endif

#endif /* NEWRAL_BITOPS_H */
