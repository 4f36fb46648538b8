"""Speed of the BPSW-Hunter sweep against its reference points, on one core.

    .venv/bin/python benchmarks/bench_kernels.py [--quick]

For a range near 10^12 and one near 2^63 it times the sweep, a Python loop over
gmpy2.is_strong_prp(n, 2), a loop over python-flint's fmpz(n).is_probable_prime()
(if flint imports) and the primesieve program counting the same primes with one
thread (if installed), and prints integers covered per second and the ratios.
The loops run on a sub-range of odd n (each test covers two integers) and are
extrapolated. The sweep and primesieve run --repeat times in turns (3 by default), and
the best time of each is kept, as timeit does: on a shared VM a run can take half again
as long as the next, and turns keep the two in the same conditions. The ratio of each
turn and their median are printed too: when the VM changes speed between the two runs of
one turn, the ratio of the best times mixes two speeds, the median of the turns does not. Rates only, no assertions. Then runs bench_carmichael.py if present.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cyext import bpsw  # noqa: E402

# (label, start, full length, quick length, loop sample in odd numbers: full, quick)
RANGES = (
    ("10^12", 10**12, 10**10, 10**8, 200_000, 50_000),
    ("2^63", 2**63, 10**9, 10**7, 100_000, 20_000),
)
# about 512 MB of buckets (4-byte entries; the default is 1 << 25 entries, 128 MB): one pass
# over 10^9 near 2^63
LARGE_MEMORY_ENTRIES = 1 << 27


@dataclass
class Row:
    method: str
    integers: int
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.integers / self.seconds if self.seconds > 0 else float("inf")


def time_sweep(a: int, b: int, **knobs) -> tuple[Row, int]:
    start = time.perf_counter()
    count, found, stats = bpsw._sweep_impl(a, b, **knobs)
    seconds = time.perf_counter() - start
    note = f"{stats['method']}, {len(found)} spsp"
    if "passes" in stats:
        note += (f", {stats['passes']} pass(es), buckets {stats['peak_bucket_bytes'] >> 20} MB"
                 f" ({stats.get('entry_bytes', 8)}-byte entries)")
        if stats.get("set_passes", 1) > 1:
            note += f" + pass lists {stats['peak_list_bytes'] >> 20} MB"
        note += f" + tables {stats['table_bytes'] >> 20} MB"
    return Row("sweep" + (" (512 MB budget)" if knobs else ""), b - a, seconds, note), count


def time_loop(name: str, test, a: int, odd_numbers: int) -> Row:
    first = a | 1
    start = time.perf_counter()
    for n in range(first, first + 2 * odd_numbers, 2):
        test(n)
    return Row(name, 2 * odd_numbers, time.perf_counter() - start, f"{odd_numbers:,} odd n")


def time_primesieve(a: int, b: int) -> tuple[Row | None, int | None]:
    exe = shutil.which("primesieve")
    if exe is None:
        return None, None
    start = time.perf_counter()
    out = subprocess.run(
        [exe, str(a), str(b - 1), "--count", "--threads=1", "--quiet"],
        capture_output=True, text=True, check=True,
    )
    seconds = time.perf_counter() - start
    count = int(out.stdout.split()[-1])
    return Row("primesieve -t1", b - a, seconds, "stop inclusive"), count


def best(rows: list[Row]) -> Row:
    row = min(rows, key=lambda r: r.seconds)
    if len(rows) > 1:
        row.note += f", best of {len(rows)}: " + ", ".join(f"{r.seconds:.2f}" for r in rows) + " s"
    return row


def bench_range(label: str, a: int, length: int, sample: int, repeat: int) -> list[Row]:
    import gmpy2

    b = a + length
    rows = []
    sweeps, large, primesieves, count, ps_count = [], [], [], None, None
    for _ in range(repeat):
        row, count = time_sweep(a, b)
        sweeps.append(row)
        if a >= 2**62 and length >= 10**8:
            large.append(time_sweep(a, b, max_entries=LARGE_MEMORY_ENTRIES)[0])
        ps_row, ps_count = time_primesieve(a, b)
        if ps_row is not None:
            primesieves.append(ps_row)
    turn_ratios = [s.seconds / p.seconds for s, p in zip(sweeps, primesieves)]
    rows.append(best(sweeps))
    if large:
        rows.append(best(large))
    rows.append(time_loop("gmpy2 is_strong_prp", lambda n: gmpy2.is_strong_prp(n, 2), a, sample))
    try:
        from flint import fmpz
    except ImportError:
        rows.append(Row("python-flint", 0, 0.0, "not installed"))
    else:
        rows.append(time_loop("flint is_probable_prime", lambda n: fmpz(n).is_probable_prime(),
                              a, sample))
    if not primesieves:
        rows.append(Row("primesieve -t1", 0, 0.0, "not installed"))
    else:
        ps_row = best(primesieves)
        ps_row.note += ", count " + ("agrees" if ps_count == count else f"DIFFERS ({ps_count})")
        rows.append(ps_row)
    print_table(label, a, b, rows)
    if turn_ratios:
        print("  sweep time / primesieve time in each turn: "
              + ", ".join(f"{r:.2f}" for r in turn_ratios)
              + f"; median {statistics.median(turn_ratios):.2f}")
    return rows


def print_table(label: str, a: int, b: int, rows: list[Row]) -> None:
    print(f"\n[{a}, {b})  (near {label}, {b - a:.0e} integers)")
    print(f"  {'method':<26}{'seconds':>10}{'integers/s':>14}  note")
    for row in rows:
        if row.integers == 0:
            print(f"  {row.method:<26}{'-':>10}{'-':>14}  {row.note}")
        else:
            print(f"  {row.method:<26}{row.seconds:>10.3f}{row.rate:>14.3e}  {row.note}")
    by_name = {row.method: row for row in rows if row.integers}
    sweep = by_name["sweep"]
    for name, row in by_name.items():
        if name.startswith("gmpy2") or name.startswith("flint"):
            print(f"  sweep speed-up over {name}: {sweep.rate / row.rate:,.0f}x")
    if "primesieve -t1" in by_name:
        ps = by_name["primesieve -t1"]
        for name, row in by_name.items():
            if name.startswith("sweep"):
                print(f"  {name} time / primesieve time (best times): "
                      f"{row.seconds / ps.seconds:.2f}")


def run_carmichael_bench() -> None:
    path = Path(__file__).with_name("bench_carmichael.py")
    if path.exists():
        spec = importlib.util.spec_from_file_location("bench_carmichael", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.main()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="ranges about 100x shorter")
    parser.add_argument("--repeat", type=int, default=3,
                        help="turns of the sweep and primesieve, the best of each kept (default 3)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    print(f"BPSW-Hunter sweep benchmark ({'quick' if args.quick else 'full'}), one thread;"
          f" portable mulhi: {bpsw.PORTABLE_MULHI}")
    for label, a, full, quick, sample_full, sample_quick in RANGES:
        bench_range(label, a, quick if args.quick else full,
                    sample_quick if args.quick else sample_full, args.repeat)
    run_carmichael_bench()


if __name__ == "__main__":
    main()
