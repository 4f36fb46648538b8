"""Carmile: list and count the Carmichael numbers up to a bound X, as a workflow.

    plan ──output spawns──► enumerate × N ──► aggregate
    (slices)                (numbers with      (count below X, per decade,
                             certificates)      the sorted list as an object)

Every task runs on volunteers' nodes; the coordinator checks each output here.
A plan must tile the search space exactly once; an enumeration's every number
must carry a Korselt certificate that cyext.korselt verifies and lie in its
slice; an aggregate must be exactly the merge of the enumerations it was given.

Output formats (ASCII, one canonical encoding each, so replicas compare bit-exact):

    plan:       {"bound": "X", "slices": [[lo, hi|null, second_lo, second_hi|null, est_s], ...]}
    enumerate:  "carmile-enumerate 1\\n" "X lo hi second_lo second_hi\\n" then "n p1 p2 ...\\n" ascending
                (hi and second_hi are "-" for no limit)
    aggregate:  "carmile-list 1\\n" "X count\\n" then "n\\n" ascending
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from coordinator.apps.base import CheckedOutput, OutputInvalid, WorkunitPlan
from coordinator.apps.bpsw_hunter import parse_int
from coordinator.errors import InvalidInput
from cyext import carmichael_plan, korselt

MAX_BOUND = (1 << 64) - 1
MAX_SLICES = 20_000
STEPS = ("plan", "enumerate", "aggregate")


class Carmile:
    name = "carmile"
    version = "1.0"
    description = "Lists and counts the Carmichael numbers up to a bound, each with its Korselt certificate."

    # -- work requests and workflow tasks -------------------------------------------

    def plan(self, request: dict[str, Any]) -> list[WorkunitPlan]:
        """`newral work` without a workflow: the enumeration workunits for {bound, target_seconds}."""
        bound = _bound(request.get("bound"))
        target = _target(request.get("target_seconds", 30.0))
        return [WorkunitPlan(params=enumerate_params(bound, s), cost=s.est_cost)
                for s in carmichael_plan.plan(bound, target)]

    def check_task_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Checks a workflow task's params; returns them with the bound in plain decimal."""
        step = params.get("step")
        if step not in STEPS:
            raise InvalidInput(f"carmile params need 'step', one of {', '.join(STEPS)}")
        out = {**params, "bound": str(_bound(params.get("bound")))}
        if step == "plan":
            out["target_seconds"] = _target(params.get("target_seconds", 30.0))
        return out

    # -- checking outputs -----------------------------------------------------------

    def check(self, params: dict[str, Any], data: bytes) -> CheckedOutput:
        step = params.get("step", "enumerate")
        if step == "plan":
            return _check_plan(params, data)
        if step == "aggregate":
            return _check_aggregate(params, data)
        return _check_enumeration(params, data)

    def totals(self, summaries: Iterable[dict[str, Any]]) -> dict[str, Any]:
        numbers: list[int] = []
        aggregates = []
        bound = 1
        for s in summaries:
            if s.get("step") == "enumerate":
                numbers.extend(int(n) for n in s["numbers"])
                bound = max(bound, int(s["bound"]))
            elif s.get("step") == "aggregate":
                aggregates.append(s)
        out: dict[str, Any] = {"carmichael_numbers": len(set(numbers)),
                               "below": decade_counts(sorted(set(numbers)), bound)}
        if aggregates:
            out["aggregates"] = [{"bound": a["bound"], "count": a["count"], "below": a["below"]}
                                 for a in aggregates]
        return out

    # -- dynamic fan-out --------------------------------------------------------------

    def spawn(self, params: dict[str, Any], summary: dict[str, Any]) -> list[dict[str, Any]]:
        """A validated plan spawns one enumeration task per slice."""
        if params.get("step") != "plan":
            return []
        bound = int(summary["bound"])
        return [
            {"name": f"enumerate-{i:05d}", "app": self.name, "cost": est,
             "params": enumerate_params(bound, carmichael_plan.Slice(bound, lo, hi, est, lo2, hi2))}
            for i, (lo, hi, lo2, hi2, est) in enumerate(summary["slices"])
        ]


def workflow_document(bound: int, target_seconds: float, name: str | None = None,
                      replication: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Carmile workflow for one bound: plan, then aggregate over what the plan spawned."""
    rep = replication or {}
    return {
        "name": name or f"carmile-{bound}",
        "tasks": [
            {"name": "plan", "app": "carmile", "replication": rep,
             "params": {"step": "plan", "bound": str(bound), "target_seconds": target_seconds}},
            {"name": "aggregate", "app": "carmile", "replication": rep, "inputs": [{"task": "plan"}],
             "params": {"step": "aggregate", "bound": str(bound)}},
        ],
    }


def enumerate_params(bound: int, s: carmichael_plan.Slice) -> dict[str, Any]:
    return {"step": "enumerate", "bound": str(bound), "lo": str(s.lo),
            "hi": None if s.hi is None else str(s.hi), "second_lo": str(s.second_lo),
            "second_hi": None if s.second_hi is None else str(s.second_hi)}


def decade_counts(numbers: list[int], bound: int) -> dict[str, int]:
    """How many of the sorted numbers lie below 10^k, for every 10^k up to the bound."""
    out: dict[str, int] = {}
    i, k = 0, 1
    while 10**k <= bound:
        while i < len(numbers) and numbers[i] < 10**k:
            i += 1
        out[f"10^{k}"] = i
        k += 1
    return out


# -- plan ------------------------------------------------------------------------------

def encode_plan(bound: int, slices: list[carmichael_plan.Slice]) -> bytes:
    rows = [[s.lo, s.hi, s.second_lo, s.second_hi, round(s.est_cost, 6)] for s in slices]
    return json.dumps({"bound": str(bound), "slices": rows}, separators=(",", ":")).encode()


def _check_plan(params: dict[str, Any], data: bytes) -> CheckedOutput:
    bound = _bound(params.get("bound"))
    try:
        doc = json.loads(data)
        rows = doc["slices"]
        if doc["bound"] != str(bound) or not isinstance(rows, list) or not 0 < len(rows) <= MAX_SLICES:
            raise ValueError("wrong bound or slice count")
        slices = [_slice_row(r) for r in rows]
    except (ValueError, KeyError, TypeError) as exc:
        raise OutputInvalid(f"not a Carmile plan: {exc}") from None
    if encode_plan(bound, [carmichael_plan.Slice(bound, lo, hi, est, lo2, hi2)
                           for lo, hi, lo2, hi2, est in slices]) != data:
        raise OutputInvalid("the plan is not in its canonical encoding")
    check_tiling(slices)
    return CheckedOutput(summary={"step": "plan", "bound": str(bound),
                                  "slices": [list(s) for s in slices]})


def _slice_row(row: Any) -> tuple[int, int | None, int, int | None, float]:
    lo, hi, lo2, hi2, est = row
    for v in (lo, lo2):
        if type(v) is not int or not 0 <= v <= MAX_BOUND:
            raise ValueError(f"bad slice bound {v!r}")
    for v in (hi, hi2):
        if v is not None and (type(v) is not int or not 0 <= v <= MAX_BOUND):
            raise ValueError(f"bad slice bound {v!r}")
    if isinstance(est, bool) or not isinstance(est, int | float) or not 0 <= est < 1e12:
        raise ValueError(f"bad cost {est!r}")
    return lo, hi, lo2, hi2, float(est)


def check_tiling(slices: list[tuple[int, int | None, int, int | None, float]]) -> None:
    """The slices cover every (smallest prime, second prime) pair exactly once: first-prime
    ranges run from 0 to no limit without gaps or overlaps, and a range cut by the second
    prime is cut from 0 to no limit the same way."""
    expect_lo = 0
    i = 0
    while i < len(slices):
        lo, hi = slices[i][0], slices[i][1]
        if lo != expect_lo:
            raise OutputInvalid(f"the plan's slices leave a gap or overlap at smallest prime {expect_lo}")
        if hi is not None and hi <= lo:
            raise OutputInvalid(f"an empty slice [{lo}, {hi})")
        expect_lo2 = 0
        while i < len(slices) and (slices[i][0], slices[i][1]) == (lo, hi):
            lo2, hi2 = slices[i][2], slices[i][3]
            if lo2 != expect_lo2 or expect_lo2 is None:
                raise OutputInvalid(f"the second-prime cuts of [{lo}, {hi}) leave a gap or overlap")
            if hi2 is not None and hi2 <= lo2:
                raise OutputInvalid(f"an empty second-prime cut [{lo2}, {hi2})")
            expect_lo2 = hi2  # type: ignore[assignment]
            i += 1
        if expect_lo2 is not None:
            raise OutputInvalid(f"the second-prime cuts of [{lo}, {hi}) stop at {expect_lo2}")
        if hi is None:
            if i != len(slices):
                raise OutputInvalid("slices follow the one without an upper limit")
            return
        expect_lo = hi
    raise OutputInvalid("the plan's last slice has an upper limit: large smallest primes are missing")


# -- enumerate ---------------------------------------------------------------------------

def _opt(v: Any) -> int | None:
    return None if v is None else int(v)


def encode_enumeration(params: dict[str, Any], found: list[tuple[int, tuple[int, ...]]]) -> bytes:
    head = " ".join("-" if params.get(k) is None else str(int(params[k]))
                    for k in ("bound", "lo", "hi", "second_lo", "second_hi"))
    lines = ["carmile-enumerate 1", head, *(" ".join(map(str, (n, *fs))) for n, fs in found)]
    return ("\n".join(lines) + "\n").encode()


def _check_enumeration(params: dict[str, Any], data: bytes) -> CheckedOutput:
    bound = _bound(params.get("bound"))
    lo, hi = int(params["lo"]), _opt(params.get("hi"))
    lo2, hi2 = int(params.get("second_lo", 0)), _opt(params.get("second_hi"))
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise OutputInvalid("the enumeration is not ASCII") from None
    lines = text.split("\n")
    if len(lines) < 3 or lines[0] != "carmile-enumerate 1" or lines[-1] != "":
        raise OutputInvalid("not a Carmile enumeration")
    found: list[tuple[int, tuple[int, ...]]] = []
    previous = 0
    for line in lines[2:-1]:
        try:
            n, *factors = (int(w) for w in line.split(" "))
        except ValueError:
            raise OutputInvalid(f"a malformed line: {line[:80]!r}") from None
        # The validator checks every certificate: n is a Carmichael number by Korselt.
        try:
            korselt.check(n, factors)
        except korselt.CertificateError as exc:
            raise OutputInvalid(f"{n} is not a proven Carmichael number: {exc}") from None
        if n <= previous or n > bound:
            raise OutputInvalid(f"{n} is out of order or above the bound {bound}")
        if list(factors) != sorted(factors):
            raise OutputInvalid(f"the factors of {n} are not sorted")
        p1, p2 = factors[0], factors[1]
        if p1 < lo or (hi is not None and p1 >= hi) or p2 < lo2 or (hi2 is not None and p2 >= hi2):
            raise OutputInvalid(f"{n} does not belong to this slice")
        found.append((n, tuple(factors)))
        previous = n
    if encode_enumeration(params, found) != data:
        raise OutputInvalid("the enumeration is not in its canonical encoding (or covers another slice)")
    return CheckedOutput(summary={"step": "enumerate", "bound": str(bound), "count": len(found),
                                  "numbers": [str(n) for n, _ in found]})


# -- aggregate ---------------------------------------------------------------------------

def aggregate_numbers(params: dict[str, Any]) -> list[int]:
    """The merged, sorted numbers of the enumerations among the task's inputs."""
    numbers: set[int] = set()
    for item in params.get("inputs", []):
        summary = item.get("summary") or {}
        if summary.get("step") == "enumerate":
            numbers.update(int(n) for n in summary["numbers"])
    return sorted(numbers)


def encode_list(bound: int, numbers: list[int]) -> bytes:
    return ("\n".join(["carmile-list 1", f"{bound} {len(numbers)}", *map(str, numbers)]) + "\n").encode()


def _check_aggregate(params: dict[str, Any], data: bytes) -> CheckedOutput:
    bound = _bound(params.get("bound"))
    numbers = aggregate_numbers(params)
    if encode_list(bound, numbers) != data:
        raise OutputInvalid("the list is not the sorted merge of the enumerations it was given")
    return CheckedOutput(summary={"step": "aggregate", "bound": str(bound), "count": len(numbers),
                                  "below": decade_counts(numbers, bound)})


# -- parameters ----------------------------------------------------------------------------

def _bound(raw: Any) -> int:
    try:
        bound = raw if type(raw) is int else parse_int(str(raw))
    except ValueError:
        raise InvalidInput(f"bound must be an integer like 1e12, got {raw!r}") from None
    if not 1 <= bound <= MAX_BOUND:
        raise InvalidInput("bound must be between 1 and 2^64 - 1")
    return bound


def _target(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) \
            or not 1e-4 <= raw <= 86400:
        raise InvalidInput("target_seconds must be a number of seconds between 0.0001 and 86400")
    return float(raw)
