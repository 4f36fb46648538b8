/* First hits of the sieving primes in a pass of the BPSW sweep (see _Sweep.start_pass).
 *
 * Far from 0 every pass streams up to some hundred million sieving primes, most of them
 * larger than the pass: each hits it at most once, and most not at all. For those,
 * nw_stage_first_hits stages the hit (if any) and the hits in the later passes of a
 * pass-set, for _Sweep.file_staged to file, without a branch per prime and with its
 * counts in registers (through pointers they were reloaded after every store, which
 * might alias them); where the processor has AVX2, the first multiples four at a time
 * (the sweep near 2^63 took 4.72-4.82 s against 4.86-5.07 s with them one at a time).
 */
#ifndef NEWRAL_FIRST_HITS_H
#define NEWRAL_FIRST_HITS_H

#include <stdint.h>
#include <string.h>

#include "bitops.h"

/* Index (from odd n0, n0d = n0 as a double) of the first odd multiple of p that is
 * >= max(p^2, n0). Written without unpredictable branches. */
static inline uint64_t nw_first_multiple(uint64_t p, uint64_t n0, double n0d)
{
    uint64_t s = p * p, r, q;
    if (s >= n0)
        return (s - n0) >> 1;
    if (p > 65535) {
        /* n0 mod p from a floating-point quotient (< 2^49), exact up to one step either
         * way for p >= 2^16 (n0 < 2^64 is rounded by at most 2^11) */
        q = (uint64_t)(int64_t)(n0d / (double)(int64_t)p);
        r = n0 - q * p;
        r += p & (0 - (uint64_t)((int64_t)r < 0));
        r -= p & (0 - (uint64_t)(r >= p));
    } else {
        r = n0 % p;
    }
    r = (p - r) & (0 - (uint64_t)(r != 0)); /* distance to the next multiple */
    r += p & (0 - (r & 1));                 /* ... that is odd */
    return r >> 1;
}

#if NW_AVX2_LANES
typedef double nw_v4d __attribute__((vector_size(32)));
typedef uint64_t nw_v4u __attribute__((vector_size(32)));
typedef int64_t nw_v4i __attribute__((vector_size(32)));

/* nw_first_multiple for four primes p[k], 2^16 < p[k] < 2^32, at once in AVX2 lanes:
 * the quotient from a division of doubles rounded to the nearest integer by adding 2^52
 * (then Q or Q + 1 for the true quotient Q, the errors being below a half), so that one
 * correction makes the remainder exact. */
__attribute__((target("avx2"))) static inline void nw_first_multiple_x4(const uint32_t *p32,
                                                                      uint64_t n0, double n0d,
                                                                      uint64_t *idx)
{
    const nw_v4u big = {0x4330000000000000ull, 0x4330000000000000ull, 0x4330000000000000ull,
                        0x4330000000000000ull};                       /* 2^52 */
    const nw_v4d bigd = {4503599627370496.0, 4503599627370496.0, 4503599627370496.0,
                         4503599627370496.0};
    const nw_v4u one = {1, 1, 1, 1};
    nw_v4u p = {p32[0], p32[1], p32[2], p32[3]}, n = {n0, n0, n0, n0}, q, r, s, past;
    nw_v4d x, nd = {n0d, n0d, n0d, n0d};
    x = nd / ((nw_v4d)(p | big) - bigd);                     /* p < 2^32 converts exactly */
    q = (nw_v4u)(x + bigd) - big;                            /* round(x), x < 2^49 */
    r = n - q * p;
    r += p & (nw_v4u)((nw_v4i)r < 0);                        /* r in [-p, p) */
    r = (p - r) & (nw_v4u)(r != 0);                          /* distance to the next multiple */
    r += p & -(r & one);                                     /* ... that is odd */
    s = p * p;
    past = (nw_v4u)(s >= n);                                 /* p^2 at or past n0 */
    r = (((s - n) & past) | (r & ~past)) >> 1;
    memcpy(idx, &r, sizeof r);
}
#endif

/* out[k] = nw_first_multiple(ps[k], n0, n0d) for k < n (primes in any order), four at a
 * time in AVX2 lanes where the processor has them and the four are past 2^16. */
static void nw_first_multiples(const uint32_t *ps, uint64_t n, uint64_t n0, double n0d,
                               uint64_t *out)
{
    uint64_t i = 0;
#if NW_AVX2_LANES
    if (nw_has_avx2()) {
        for (; i + 4 <= n; i += 4) {
            uint32_t lo = ps[i] < ps[i + 1] ? ps[i] : ps[i + 1];
            lo = lo < ps[i + 2] ? lo : ps[i + 2];
            lo = lo < ps[i + 3] ? lo : ps[i + 3];
            if (lo > 65535) {
                nw_first_multiple_x4(ps + i, n0, n0d, out + i);
            } else {
                out[i] = nw_first_multiple(ps[i], n0, n0d);
                out[i + 1] = nw_first_multiple(ps[i + 1], n0, n0d);
                out[i + 2] = nw_first_multiple(ps[i + 2], n0, n0d);
                out[i + 3] = nw_first_multiple(ps[i + 3], n0, n0d);
            }
        }
    }
#endif
    for (; i < n; i++)
        out[i] = nw_first_multiple(ps[i], n0, n0d);
}

/* Stages the primes ps[0:n] (ascending, each above the pass length plen) for a pass
 * starting at odd n0: its hit (index from n0) and prime at st_h, st_p[*nst] when it
 * hits the pass; and, for the primes above list_above when listing, each hit in the
 * later passes of the set (index below set_len) at ls_h, ls_p[*nls]. The caller leaves
 * room for n more staged hits and set_len / list_above + 1 listed ones a prime. */
static void nw_stage_first_hits(const uint32_t *ps, uint64_t n, uint64_t n0, double n0d,
                                uint64_t plen, int listing, uint64_t list_above,
                                uint64_t set_len, uint64_t *st_h, uint32_t *st_p,
                                uint64_t *nst, uint64_t *ls_h, uint32_t *ls_p, uint64_t *nls)
{
    uint64_t i, k, m, ns = *nst, nl = *nls, lane[4];
    for (i = 0; i < n; i += 4) {
        m = n - i < 4 ? n - i : 4;
        nw_first_multiples(ps + i, m, n0, n0d, lane);
        for (k = 0; k < m; k++) {
            uint64_t p = ps[i + k], idx = lane[k], hit = idx < plen, h;
            st_h[ns] = idx;
            st_p[ns] = (uint32_t)p;
            ns += hit;
            if (listing && p > list_above) {
                /* the first hit after this pass, kept the same way: with two passes a
                 * set (the usual case far from 0) the only one, as p exceeds the pass
                 * length, so that the loop below is not entered */
                h = idx + (p & (0 - hit));
                ls_h[nl] = h;
                ls_p[nl] = (uint32_t)p;
                nl += h < set_len;
                h += p;
                while (h < set_len) {
                    ls_h[nl] = h;
                    ls_p[nl] = (uint32_t)p;
                    nl += 1;
                    h += p;
                }
            }
        }
    }
    *nst = ns;
    *nls = nl;
}

#endif /* NEWRAL_FIRST_HITS_H */
