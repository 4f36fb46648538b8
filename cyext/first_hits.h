/* First hits of the sieving primes in a pass of the BPSW sweep (see _Sweep.start_pass).
 *
 * Far from 0 every pass streams up to some hundred million sieving primes, most of them
 * larger than the pass: each hits it at most once, and most not at all. For those,
 * nw_stage_first_hits stages the hit (if any) and the hits in the later passes of a
 * pass-set, for _Sweep.file_staged to file, without a branch per prime and with its
 * counts in registers (through pointers they were reloaded after every store, which
 * might alias them).
 */
#ifndef NEWRAL_FIRST_HITS_H
#define NEWRAL_FIRST_HITS_H

#include <stdint.h>

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
    uint64_t i, ns = *nst, nl = *nls;
    for (i = 0; i < n; i++) {
        uint64_t p = ps[i], idx = nw_first_multiple(p, n0, n0d), hit = idx < plen, h;
        st_h[ns] = idx;
        st_p[ns] = (uint32_t)p;
        ns += hit;
        if (listing && p > list_above) {
            /* the first hit after this pass, kept the same way: with two passes a set
             * (the usual case far from 0) the only one, as p exceeds the pass length,
             * so that the loop below is not entered */
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
    *nst = ns;
    *nls = nl;
}

#endif /* NEWRAL_FIRST_HITS_H */
