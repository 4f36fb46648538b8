"""BPSW claim follow-up task: factor n < 2^64 (trial division, then Pollard's rho
with Brent's cycle finding) and re-run the base-2 strong test and the strong
Lucas test. Pure Python plus gmpy2 for the two tests; no BPSW primality call is
trusted for the factors: they are proven prime by deterministic Miller-Rabin."""

from __future__ import annotations

import json
from typing import Any

import gmpy2

from cyext.factoring import factor


def run(params: dict[str, Any]) -> bytes:
    n = int(params["n"])
    factors = factor(n)
    report = {"n": str(n), "factors": [str(p) for p in factors],
              "strong_base2": bool(gmpy2.is_strong_prp(n, 2)),
              "strong_lucas": bool(gmpy2.is_strong_selfridge_prp(n))}
    return json.dumps(report, separators=(",", ":")).encode()
