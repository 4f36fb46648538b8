"""Timings of the Carmichael kernels on one core.

    python benchmarks/bench_carmichael.py [--quick]

Prints the pre-product search to 10^10 ... 10^13 and the sieve to 10^9 and
10^10, with the counts found; --quick skips the search to 10^13 and the sieve
to 10^10. Figures only, no assertions.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from cyext import carmichael, carmichael_plan

# reference points from issue 3: a C prototype of the pre-product search on this machine
C_PROTOTYPE_SECONDS = {12: 3.8, 14: 142.0}


def _timed(fn: Callable[..., list], *args: int) -> tuple[float, int]:
    start = time.perf_counter()
    found = fn(*args)
    return time.perf_counter() - start, len(found)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    quick = "--quick" in args
    print(f"Carmichael kernels, one thread (portable build: {carmichael.PORTABLE_BUILD})")
    print(f"{'method':<22}{'bound':>8}{'count':>8}{'seconds':>10}{'est. s':>9}")
    for k in (10, 11, 12) if quick else (10, 11, 12, 13):
        bound = 10**k
        est = sum(s.est_cost for s in carmichael_plan.plan(bound, target_seconds=1e9))
        seconds, count = _timed(carmichael.search, bound)
        note = ""
        if k in C_PROTOTYPE_SECONDS:
            note = f"   (C prototype {C_PROTOTYPE_SECONDS[k]} s)"
        label = f"1e{k}"
        print(f"{'pre-product search':<22}{label:>8}{count:>8}{seconds:>10.2f}{est:>9.2f}{note}")
    for k in (9,) if quick else (9, 10):
        seconds, count = _timed(carmichael.sieve_range, 0, 10**k)
        note = "   (C prototype 74 s)" if k == 10 else ""
        label = f"1e{k}"
        print(f"{'sieve':<22}{label:>8}{count:>8}{seconds:>10.2f}{'':>9}{note}")


if __name__ == "__main__":
    main()
