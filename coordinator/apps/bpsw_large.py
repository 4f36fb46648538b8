"""BPSW-Large: BPSW-Hunter's targeted mode past 2^64. A request names a candidate
family, a seed and a size; workunits are consecutive index ranges of that search's
candidates (cyext.bpsw_large says how candidate i is built, tested and encoded).

check() is cheap and strict: it decodes canonically, regenerates and re-tests every
listed hit (a BPSW pass is a counterexample only with a proven factorisation), and
re-tests a few random candidates that must not have been left out. audit() is the
proof of work: it recomputes one random block's digest of base-2 residues.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from coordinator.apps.base import (
    AuditVerdict,
    CheckedOutput,
    FindingPlan,
    OutputInvalid,
    WorkunitPlan,
)
from coordinator.apps.bpsw_hunter import parse_int
from coordinator.errors import InvalidInput
from cyext import bpsw_large

MAX_WORKUNITS_PER_REQUEST = 100_000
MIN_CHUNK = 1000
SPOT_CHECKS = 3
FINDING_KIND = "bpsw-counterexample"


def cost_per_candidate(bits: int) -> float:
    """Work of one candidate relative to a 128-bit one (measured: 2.5x at 256 bits, 10x at 512)."""
    return (bits / 128) ** 1.6


class BpswLarge:
    name = "bpsw-large"
    version = "1.0"
    description = ("Tests seeded families of large candidates (Pomerance-style products of primes "
                   "with chosen p - 1 and p + 1) for BPSW counterexamples.")
    reference_rate = 100_000.0  # 128-bit candidates per reference-CPU-second

    def plan(self, request: dict[str, Any]) -> list[WorkunitPlan]:
        bits = _int_field(request, "bits", None)
        factors = _int_field(request, "factors", bpsw_large.default_factors(bits))
        pool = _int_field(request, "pool", 512)
        search = _search(request.get("family", "psw"), request.get("seed"), bits, factors, pool)
        count = _int_field(request, "count", None)
        chunk = _int_field(request, "chunk", None)
        start = _int_field(request, "start", 0)
        if count < 1 or start < 0 or start + count > 1 << 63:
            raise InvalidInput("need count >= 1 and 0 <= start < start + count <= 2^63")
        if not MIN_CHUNK <= chunk <= bpsw_large.MAX_COUNT:
            raise InvalidInput(f"chunk must be between {MIN_CHUNK} and {bpsw_large.MAX_COUNT} candidates")
        units = -(-count // chunk)
        if units > MAX_WORKUNITS_PER_REQUEST:
            raise InvalidInput(f"that makes {units} workunits; at most {MAX_WORKUNITS_PER_REQUEST} per request")
        weight = cost_per_candidate(bits)
        return [WorkunitPlan(params={**_search_params(search), "start": lo, "count": min(chunk, start + count - lo)},
                             cost=min(chunk, start + count - lo) * weight)
                for lo in range(start, start + count, chunk)]

    def check(self, params: dict[str, Any], data: bytes, rng: random.Random | None = None) -> CheckedOutput:
        search, start, count = _workunit(params)
        try:
            out = bpsw_large.decode(data)
        except bpsw_large.FormatError as exc:
            raise OutputInvalid(f"output is not a canonical bpsw-large result: {exc}") from None
        if (out.search, out.start, out.count) != (search, start, count):
            raise OutputInvalid("output is for another search or range than the workunit's")
        # Every hit is cheap to regenerate and re-test, so each one is checked here.
        for hit in out.hits:
            n, factors = bpsw_large.candidate(search, hit.index)
            if (hit.n, hit.factors) != (n, factors):
                raise OutputInvalid(f"hit {hit.index} is not that candidate (n or factors differ)")
            if not all(bpsw_large.is_proven_prime(p) for p in factors):
                raise OutputInvalid(f"hit {hit.index}: a factor is not prime")
            flags, residue = bpsw_large.verdict(n)
            if residue != 1 or flags != hit.flags:
                raise OutputInvalid(f"hit {hit.index}: wrong verdicts (re-test gives flags {flags}, "
                                    f"2^(n-1) mod n {'=' if residue == 1 else '!='} 1)")
        listed = {h.index for h in out.hits}
        rng = rng or random.SystemRandom()
        for i in rng.sample(range(start, start + count), min(SPOT_CHECKS, count)):
            if i not in listed and bpsw_large.verdict(bpsw_large.candidate(search, i)[0])[1] == 1:
                raise OutputInvalid(f"candidate {i} passes the base-2 Fermat test but is not listed")
        claims = out.claims
        summary = {
            "family": search.family, "bits": search.bits, "candidates": count,
            "fermat2": len(out.hits),
            "sprp2": sum(1 for h in out.hits if h.flags & bpsw_large.FLAG_SPRP2),
            "mr_all": sum(1 for h in out.hits if h.flags & bpsw_large.FLAG_MR),
            "bpsw_pseudoprimes": [{"n": str(h.n), "factors": [str(p) for p in h.factors]} for h in claims],
        }
        findings = tuple(FindingPlan(kind=FINDING_KIND, value=str(h.n),
                                     data={"factors": [str(p) for p in h.factors], "index": h.index,
                                           "strong_bpsw": bool(h.flags & bpsw_large.FLAG_STRONG_BPSW),
                                           **_search_params(search)})
                         for h in claims)
        return CheckedOutput(summary=summary, findings=findings)

    def audit(self, params: dict[str, Any], data: bytes, rng: random.Random) -> AuditVerdict:
        """Recomputes one random block: its residue digest and its hits."""
        search, start, count = _workunit(params)
        try:
            out = bpsw_large.decode(data)
        except bpsw_large.FormatError as exc:
            return AuditVerdict(ok=False, detail=f"undecodable: {exc}", cost_fraction=0.0)
        b = rng.randrange(len(out.blocks))
        lo = start + b * bpsw_large.BLOCK
        size = min(bpsw_large.BLOCK, start + count - lo)
        digest, hits = bpsw_large.run_block(search, lo, size)
        listed = [h for h in out.hits if lo <= h.index < lo + size]
        ok = digest == out.blocks[b] and hits == listed
        return AuditVerdict(ok=ok, detail=f"recomputed block {b} ({size} candidates): "
                            + ("matches" if ok else "differs"), cost_fraction=size / count)

    def totals(self, summaries: Iterable[dict[str, Any]]) -> dict[str, Any]:
        candidates = fermat2 = sprp2 = mr_all = 0
        found: list[dict[str, Any]] = []
        for s in summaries:
            candidates += s["candidates"]
            fermat2 += s["fermat2"]
            sprp2 += s["sprp2"]
            mr_all += s["mr_all"]
            found.extend(s["bpsw_pseudoprimes"])
        return {"candidates": candidates, "fermat2": fermat2, "sprp2": sprp2, "mr_all": mr_all,
                "bpsw_pseudoprimes": len(found)}


def _search(family: Any, seed: Any, bits: int, factors: int, pool: int) -> bpsw_large.Search:
    if isinstance(seed, int) and not isinstance(seed, bool):
        seed = str(seed)
    try:
        return bpsw_large.Search(family=family, seed=seed, bits=bits, factors=factors, pool=pool)
    except bpsw_large.FormatError as exc:
        raise InvalidInput(str(exc)) from None


def _search_params(search: bpsw_large.Search) -> dict[str, Any]:
    return {"family": search.family, "seed": search.seed, "bits": search.bits,
            "factors": search.factors, "pool": search.pool}


def _workunit(params: dict[str, Any]) -> tuple[bpsw_large.Search, int, int]:
    search = _search(params.get("family"), params.get("seed"), _int_field(params, "bits", None),
                     _int_field(params, "factors", None), _int_field(params, "pool", None))
    return search, _int_field(params, "start", None), _int_field(params, "count", None)


def _int_field(request: dict[str, Any], key: str, default: int | None) -> int:
    raw = request.get(key)
    if raw is None and default is not None:
        return default
    if isinstance(raw, bool) or raw is None:
        raise InvalidInput(f"{key} is required and must be an integer")
    if isinstance(raw, int):
        return raw
    try:
        return parse_int(str(raw))
    except ValueError:
        raise InvalidInput(f"{key} must be an integer (like 1000000, 1e9 or 2^20), got {raw!r}") from None
