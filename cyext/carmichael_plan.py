"""Splitting a Carmichael search up to a bound into workunits of similar cost.

Every Carmichael number has exactly one smallest prime factor, so slices by the
smallest prime, [lo, hi), that tile [0, infinity) find every number exactly
once. The cost per smallest prime is very uneven (at 10^12 the primes 5 to 100
hold most of it), so cheap primes are grouped and a prime whose cost alone is
well above the target is cut again by the second smallest prime, whose ranges
tile [0, infinity) in the same way. Costs come from cyext.carmichael's cost
model and are deterministic: the same bound and target always give the same plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cyext import carmichael

__all__ = ["SECONDS_PER_UNIT", "Slice", "plan"]

SECONDS_PER_UNIT = 8.0e-8
"""Seconds per cost-model unit on the reference core (a 2-core AMD EPYC VM, one
thread): measured 73-78 ns per unit for whole searches to 10^11-10^13, 65-92 ns
for single smallest-prime slices."""

SPLIT_FACTOR = 1.25
"""A smallest prime whose cost exceeds this many targets is split by its second prime."""


@dataclass(frozen=True)
class Slice:
    """One workunit: the Carmichael numbers <= bound whose smallest prime is in
    [lo, hi) and whose second smallest prime is in [second_lo, second_hi)
    (None = no upper limit). est_cost is in seconds on the reference core."""

    bound: int
    lo: int
    hi: int | None
    est_cost: float
    second_lo: int = 0
    second_hi: int | None = None

    def run(self) -> list[tuple[int, tuple[int, ...]]]:
        """Search this slice (the work a volunteer's machine does)."""
        return carmichael.search(self.bound, self.lo, self.hi, self.second_lo, self.second_hi)


def plan(bound: int, target_seconds: float = 30.0) -> list[Slice]:
    """Slices covering the search up to bound exactly once, each near target_seconds."""
    if type(bound) is not int:
        raise TypeError(f"bound must be an int, not {type(bound).__name__}")
    if bound < 1 or bound > carmichael.MAX_BOUND:
        raise ValueError(f"bound must be in [1, 2**64 - 1], got {bound}")
    if not (isinstance(target_seconds, int | float) and math.isfinite(target_seconds)):
        raise ValueError(f"target_seconds must be a finite number, got {target_seconds!r}")
    if target_seconds <= 0:
        raise ValueError(f"target_seconds must be positive, got {target_seconds}")
    target = target_seconds / SECONDS_PER_UNIT
    slices: list[Slice] = []
    profile = carmichael.cost_profile(bound)
    lo, acc = 0, 0.0
    for i, (p, units) in enumerate(profile):
        if units > SPLIT_FACTOR * target:
            if acc > 0 or not slices:
                slices.append(Slice(bound, lo, p, acc * SECONDS_PER_UNIT))
            # no prime lies strictly between p and the next profiled prime
            hi = profile[i + 1][0] if i + 1 < len(profile) else None
            slices.extend(_split_by_second(bound, p, hi, units, target))
            if hi is None:
                return slices
            lo, acc = hi, 0.0
        elif acc > 0 and abs(acc + units - target) > abs(acc - target):
            slices.append(Slice(bound, lo, p, acc * SECONDS_PER_UNIT))
            lo, acc = p, units
        else:
            acc += units
    slices.append(Slice(bound, lo, None, acc * SECONDS_PER_UNIT))
    return slices


def _split_by_second(
    bound: int, p: int, hi: int | None, units: float, target: float
) -> list[Slice]:
    """Slices [p, hi), where p is the only prime, cut by the second prime into
    about units/target pieces."""
    pieces = max(1, math.ceil(units / target))
    share = units / pieces
    out: list[Slice] = []
    lo, acc = 0, 0.0
    for q, u in carmichael.cost_profile(bound, p):
        if acc > 0 and len(out) < pieces - 1 and abs(acc + u - share) > abs(acc - share):
            out.append(Slice(bound, p, hi, acc * SECONDS_PER_UNIT, lo, q))
            lo, acc = q, 0.0
        acc += u
    out.append(Slice(bound, p, hi, acc * SECONDS_PER_UNIT, lo, None))
    return out
