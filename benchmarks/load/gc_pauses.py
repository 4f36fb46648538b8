"""Garbage-collection pauses of the coordinator under the lease → report loop, with the
startup heap frozen (as served, coordinator/api/heap.py) and without, each in a fresh
process: how many collections of each generation, and how long they held the process.

    .venv/bin/python -m benchmarks.load.gc_pauses [--rounds 150] [--batch 64]

The loop is benchmarks/load/statements.py's (in-process, one node, fresh PostgreSQL
database). Pauses are timed with gc.callbacks, from the coordinator's start (when its heap
is frozen, or would be) to its stop; the full collections while it starts are listed apart."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import subprocess
import sys
import time
from typing import Any

from benchmarks.load import statements


def _measure(freeze: bool, rounds: int, batch: int, pg: str) -> dict[str, Any]:
    from coordinator.api import heap

    window = {"start": 0.0, "stop": 0.0, "frozen": 0}
    if not freeze:
        heap.settle = lambda: None  # as before the freeze: the startup heap stays collectable
    settle, unsettle = heap.settle, heap.unsettle

    def settled() -> None:
        settle()
        window["start"], window["frozen"] = time.perf_counter(), gc.get_freeze_count()

    def unsettled() -> None:
        window["stop"] = time.perf_counter()
        unsettle()

    heap.settle, heap.unsettle = settled, unsettled
    pauses: list[tuple[float, int, float]] = []
    began = {"t": 0.0}

    def timer(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            began["t"] = time.perf_counter()
        else:
            pauses.append((began["t"], info["generation"], time.perf_counter() - began["t"]))

    gc.callbacks.append(timer)
    logging.disable(logging.INFO)
    asyncio.run(statements.measure(pg, batch, rounds))
    return {"serving": [(g, d) for t, g, d in pauses if window["start"] <= t < window["stop"]],
            "startup": [d for t, g, d in pauses if g == 2 and t < window["start"]], "frozen": window["frozen"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=150)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--pg", default=os.environ.get("NEWRAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--one", choices=("frozen", "not-frozen"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(_measure(args.one == "frozen", args.rounds, args.batch, args.pg)))
        return
    print(f"GC pauses, {args.rounds} rounds of lease {args.batch} → report {args.batch}, in-process; "
          f"load average {os.getloadavg()[0]:.1f}")
    for variant in ("not-frozen", "frozen"):
        out = subprocess.run([sys.executable, "-m", "benchmarks.load.gc_pauses", "--one", variant,
                              "--rounds", str(args.rounds), "--batch", str(args.batch), "--pg", args.pg],
                             capture_output=True, text=True, check=True)
        lines = out.stdout.strip().splitlines()
        for line in lines[:-1]:
            print("    " + line)
        r = json.loads(lines[-1])
        print(f"  startup heap {variant} ({r['frozen']} objects frozen); full collections while starting: "
              + ", ".join(f"{d * 1000:.0f} ms" for d in r["startup"]))
        for g in (0, 1, 2):
            d = sorted(x for gen, x in r["serving"] if gen == g)
            if d:
                print(f"    generation {g}: {len(d):5d} collections while serving, {sum(d) * 1000:7.1f} ms in all, "
                      f"longest {d[-1] * 1000:6.2f} ms")
            else:
                print(f"    generation {g}:     0 collections while serving")


if __name__ == "__main__":
    main()
