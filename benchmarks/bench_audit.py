"""What the BPSW-Hunter audit (the cheap proof of work) costs against the work itself.

    python benchmarks/bench_audit.py [--repeat 5]

For workunits of the sizes the projects use, times the node's sweep of the whole
workunit (with its 256 audit-block counts) and the coordinator's audit of the
output (two blocks chosen at random and recomputed), in the same run on the same
core, and prints the ratio. Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from coordinator.apps.bpsw_hunter import AUDIT_PICKS, BpswHunter
from cyext import bpsw_format

WORKUNITS = [
    ("demo workunit near 10^9", 10**9 - 10**7, 10**9),
    ("near 10^12", 10**12, 10**12 + 10**9),
    ("near 2^62", 2**62, 2**62 + 10**8),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="audits timed per workunit (different blocks)")
    args = parser.parse_args()
    app = BpswHunter()
    print(f"audit: {AUDIT_PICKS} of {bpsw_format.AUDIT_BLOCKS} blocks recomputed per result")
    print(f"{'workunit':26} {'integers':>15} {'sweep s':>9} {'audit s':>9} {'audit/sweep':>12}")
    for label, a, b in WORKUNITS:
        start = time.perf_counter()
        data = bpsw_format.encode(bpsw_format.run_sweep(a, b))
        sweep = time.perf_counter() - start
        params = {"a": str(a), "b": str(b)}
        times = []
        for seed in range(args.repeat):
            start = time.perf_counter()
            verdict = app.audit(params, data, random.Random(seed))
            times.append(time.perf_counter() - start)
            if not verdict.ok:
                raise SystemExit(f"an honest output failed its audit: {verdict.detail}")
        audit = statistics.median(times)
        print(f"{label:26} {b - a:>15,} {sweep:>9.3f} {audit:>9.4f} {audit / sweep:>11.2%}")


if __name__ == "__main__":
    main()
