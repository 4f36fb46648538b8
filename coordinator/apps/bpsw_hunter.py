"""BPSW-Hunter: sweep [a, b) below 2^64 for primes, base-2 strong pseudoprimes and
Baillie-PSW pseudoprimes (composites that also pass the strong Lucas test)."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

import gmpy2

from coordinator.apps.base import AuditVerdict, CheckedOutput, FindingPlan, OutputInvalid, WorkunitPlan
from coordinator.errors import InvalidInput
from cyext import bpsw_format

LIMIT = 1 << 64
# Audit blocks recomputed per result: 2 of 256 is under 1% of the integers.
AUDIT_PICKS = 2
MAX_WORKUNITS_PER_REQUEST = 100_000


class BpswHunter:
    name = "bpsw-hunter"
    version = "2.0"  # 2.0: outputs carry per-block prime counts (newral-bpsw-sweep/2)
    description = "Sweeps ranges below 2^64 for base-2 strong pseudoprimes and BPSW counterexamples."
    # Credit is reference CPU-seconds: integers a reference core sweeps per second near 10^12.
    reference_rate = 1e8

    def plan(self, request: dict[str, Any]) -> list[WorkunitPlan]:
        a, b, chunk = (_int_field(request, key) for key in ("a", "b", "chunk"))
        if not 0 <= a < b <= LIMIT:
            raise InvalidInput(f"need 0 <= a < b <= 2^64, got a={a}, b={b}")
        if chunk < 1000:
            raise InvalidInput("chunk must be at least 1000 integers")
        count = -(-(b - a) // chunk)
        if count > MAX_WORKUNITS_PER_REQUEST:
            raise InvalidInput(
                f"that makes {count} workunits; at most {MAX_WORKUNITS_PER_REQUEST} per request"
            )
        return [
            WorkunitPlan(params={"a": str(lo), "b": str(min(lo + chunk, b))}, cost=min(chunk, b - lo))
            for lo in range(a, b, chunk)
        ]

    def check(self, params: dict[str, Any], data: bytes) -> CheckedOutput:
        try:
            out = bpsw_format.decode(data)
        except ValueError as exc:
            raise OutputInvalid(f"output is not a canonical sweep: {exc}") from None
        if (out.a, out.b) != (int(params["a"]), int(params["b"])):
            raise OutputInvalid(f"output covers [{out.a}, {out.b}), not the workunit's range")
        if out.prime_count > out.b - out.a:
            raise OutputInvalid("more primes than integers in the range")
        findings = []
        # Every listed pseudoprime is cheap to re-test, so each one is checked here.
        for n, lucas in out.pseudoprimes:
            if gmpy2.is_prime(n) or not gmpy2.is_strong_prp(n, 2):
                raise OutputInvalid(f"{n} is not a base-2 strong pseudoprime")
            if bool(gmpy2.is_strong_selfridge_prp(n)) != lucas:
                raise OutputInvalid(f"wrong strong Lucas verdict for {n}")
            if lucas:
                findings.append(
                    FindingPlan(kind="bpsw-claim", value=str(n), data={"a": str(out.a), "b": str(out.b)})
                )
        summary = {
            "primes": out.prime_count,
            "spsp": len(out.pseudoprimes),
            "bpsw_claims": [str(n) for n in out.bpsw_claims],
            "integers": out.b - out.a,
        }
        return CheckedOutput(summary=summary, findings=tuple(findings))

    def audit(self, params: dict[str, Any], data: bytes, rng: random.Random) -> AuditVerdict:
        """A cheap proof of work: recompute a few audit blocks, chosen only now, and
        compare their prime counts and pseudoprimes with the output's."""
        from cyext import bpsw

        out = bpsw_format.decode(data)
        bounds = out.blocks
        if not bounds:
            return AuditVerdict(ok=True, detail="empty range, nothing to recompute", cost_fraction=0.0)
        picks = sorted(rng.sample(range(len(bounds)), min(AUDIT_PICKS, len(bounds))))
        wrong = []
        for i in picks:
            lo, hi = bounds[i]
            count, found = bpsw.sweep(lo, hi)
            claimed = [item for item in out.pseudoprimes if lo <= item[0] < hi]
            if count != out.block_counts[i] or [tuple(x) for x in found] != claimed:
                wrong.append(f"block {i} [{lo}, {hi}): {out.block_counts[i]} primes and {len(claimed)} "
                             f"pseudoprimes claimed, {count} and {len(found)} recomputed")
        share = sum(bounds[i][1] - bounds[i][0] for i in picks) / (out.b - out.a)
        detail = f"recomputed blocks {picks}" + (f"; wrong: {'; '.join(wrong)}" if wrong else ", all match")
        return AuditVerdict(ok=not wrong, detail=detail, cost_fraction=share)

    def totals(self, summaries: Iterable[dict[str, Any]]) -> dict[str, Any]:
        primes = spsp = integers = 0
        claims: list[str] = []
        for s in summaries:
            primes += s["primes"]
            spsp += s["spsp"]
            integers += s["integers"]
            claims.extend(s["bpsw_claims"])
        return {"integers": integers, "primes": primes, "spsp": spsp, "bpsw_pseudoprimes": len(claims)}


def _int_field(request: dict[str, Any], key: str) -> int:
    raw = request.get(key)
    if isinstance(raw, bool) or raw is None:
        raise InvalidInput(f"{key} is required and must be an integer")
    if isinstance(raw, int):
        return raw
    try:
        return parse_int(str(raw))
    except ValueError:
        raise InvalidInput(f"{key} must be an integer (like 1000000, 1e9 or 2^63), got {raw!r}") from None


def parse_int(text: str) -> int:
    """Integers as people write them: 1000000, 1_000_000, 1e9, 2^63, 2^63+10^9."""
    text = text.strip().replace("_", "").replace(" ", "")
    if not text or len(text) > 60:
        raise ValueError(text)
    if "+" in text.lstrip("+"):
        return sum(parse_int(term) for term in text.split("+"))
    for sep, max_exp in (("e", 30), ("^", 80)):
        if sep in text.lower():
            base, exp = text.lower().split(sep, 1)
            if not base.isdigit() or not exp.isdigit() or int(exp) > max_exp:
                raise ValueError(text)
            return int(base) * 10 ** int(exp) if sep == "e" else int(base) ** int(exp)
    if not text.lstrip("-").isdigit():
        raise ValueError(text)
    return int(text)
