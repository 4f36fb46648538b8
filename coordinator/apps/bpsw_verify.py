"""BPSW claim follow-up: a node factors a claimed BPSW pseudoprime n < 2^64 and
re-runs both halves of the test; the coordinator checks the factorisation and
re-tests independently. The claim is confirmed only if n is composite (proven by
its factors) and passes both the base-2 strong test and the strong Lucas test.

Output (canonical JSON): {"n": "N", "factors": ["p", ...], "strong_base2": bool, "strong_lucas": bool}
with the prime factors ascending, repeated by multiplicity.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import gmpy2

from coordinator.apps.base import CheckedOutput, OutputInvalid, WorkunitPlan
from coordinator.apps.bpsw_hunter import parse_int
from coordinator.errors import InvalidInput

LIMIT = 1 << 64
# Miller-Rabin with these bases is a proof of primality below 3.3 * 10^24 (Sorenson and
# Webster), so the check never leans on the BPSW test that the claim is about.
PROOF_BASES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)


def is_proven_prime(n: int) -> bool:
    if n < 2:
        return False
    if n in PROOF_BASES:
        return True
    return all(n % b and gmpy2.is_strong_prp(n, b) for b in PROOF_BASES)


class BpswVerify:
    name = "bpsw-verify"
    trusted_only = True  # a discovery claim is re-checked by a node that earned trust
    version = "1.0"
    description = "Factors a claimed BPSW pseudoprime and re-tests it."

    def plan(self, request: dict[str, Any]) -> list[WorkunitPlan]:
        self.check_task_params(request)
        return [WorkunitPlan(params={"n": str(_n(request))}, cost=1.0)]

    def check_task_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "n": str(_n(params))}

    def check(self, params: dict[str, Any], data: bytes) -> CheckedOutput:
        n = _n(params)
        try:
            out = json.loads(data)
            factors = [int(f) for f in out["factors"]]
            claimed = (bool(out["strong_base2"]), bool(out["strong_lucas"]))
            canonical = encode(n, factors, *claimed)
        except (ValueError, KeyError, TypeError) as exc:
            raise OutputInvalid(f"not a follow-up report: {exc}") from None
        if canonical != data or out["n"] != str(n):
            raise OutputInvalid("the report is not in its canonical form for this n")
        if len(factors) > 64 or factors != sorted(factors) or _product(factors) != n:
            raise OutputInvalid(f"the factors do not multiply to {n}")
        for p in factors:
            if not is_proven_prime(p):
                raise OutputInvalid(f"factor {p} is not prime")
        retest = (bool(gmpy2.is_strong_prp(n, 2)), bool(gmpy2.is_strong_selfridge_prp(n)))
        if retest != claimed:
            raise OutputInvalid(f"wrong test verdicts for {n}: the coordinator's re-test says {retest}")
        composite = len(factors) > 1
        confirmed = composite and all(retest)
        return CheckedOutput(summary={"n": str(n), "factors": [str(p) for p in factors], "composite": composite,
                                      "strong_base2": retest[0], "strong_lucas": retest[1],
                                      "confirmed": confirmed})

    def totals(self, summaries: Iterable[dict[str, Any]]) -> dict[str, Any]:
        rows = list(summaries)
        return {"checked": len(rows), "confirmed": sum(1 for s in rows if s["confirmed"])}


def encode(n: int, factors: list[int], strong_base2: bool, strong_lucas: bool) -> bytes:
    return json.dumps({"n": str(n), "factors": [str(p) for p in factors], "strong_base2": strong_base2,
                       "strong_lucas": strong_lucas}, separators=(",", ":")).encode()


def _product(factors: list[int]) -> int:
    out = 1
    for p in factors:
        out *= p
    return out


def _n(params: dict[str, Any]) -> int:
    raw = params.get("n")
    try:
        n = raw if type(raw) is int else parse_int(str(raw))
    except ValueError:
        raise InvalidInput(f"n must be an integer, got {raw!r}") from None
    if not 2 <= n < LIMIT:
        raise InvalidInput("n must be between 2 and 2^64 - 1")
    return n
