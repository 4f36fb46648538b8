"""Carmile task: one step of the Carmichael workflow, chosen by params["step"].

plan: cut the search up to the bound into slices; enumerate: run the Carmichael
kernel over one slice and write every number with its prime factors (its Korselt
certificate); aggregate: merge the enumerations handed over in params["inputs"]
into the sorted list. Encodings are described in coordinator/apps/carmile.py,
which checks them byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cyext import carmichael, carmichael_plan


def _opt(v: Any) -> int | None:
    return None if v is None else int(v)


def plan(params: dict[str, Any]) -> bytes:
    bound = int(params["bound"])
    slices = carmichael_plan.plan(bound, float(params.get("target_seconds", 30.0)))
    rows = [[s.lo, s.hi, s.second_lo, s.second_hi, round(s.est_cost, 6)] for s in slices]
    return json.dumps({"bound": str(bound), "slices": rows}, separators=(",", ":")).encode()


def enumerate_slice(params: dict[str, Any]) -> bytes:
    bound, lo, hi = int(params["bound"]), int(params["lo"]), _opt(params.get("hi"))
    lo2, hi2 = int(params.get("second_lo", 0)), _opt(params.get("second_hi"))
    found = carmichael.search(bound, lo, hi, lo2, hi2)
    head = " ".join("-" if v is None else str(v) for v in (bound, lo, hi, lo2, hi2))
    lines = ["carmile-enumerate 1", head, *(" ".join(map(str, (n, *fs))) for n, fs in found)]
    return ("\n".join(lines) + "\n").encode()


def aggregate(params: dict[str, Any]) -> bytes:
    numbers: set[int] = set()
    files = params.get("input_paths") or {}
    if files:
        # The enumerations' own outputs, downloaded and sha256-checked by the agent.
        for path in files.values():
            lines = Path(path).read_text().splitlines()
            if lines and lines[0] == "carmile-enumerate 1":
                numbers.update(int(line.split(" ", 1)[0]) for line in lines[2:] if line)
    else:
        for item in params.get("inputs", []):
            summary = item.get("summary") or {}
            if summary.get("step") == "enumerate":
                numbers.update(int(n) for n in summary["numbers"])
    ordered = sorted(numbers)
    lines = ["carmile-list 1", f"{int(params['bound'])} {len(ordered)}", *map(str, ordered)]
    return ("\n".join(lines) + "\n").encode()


STEPS = {"plan": plan, "enumerate": enumerate_slice, "aggregate": aggregate}


def run(params: dict[str, Any]) -> bytes:
    return STEPS[params.get("step", "enumerate")](params)
