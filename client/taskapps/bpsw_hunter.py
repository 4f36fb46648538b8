"""BPSW-Hunter task: sweep [a, b) and return the canonical encoding."""

from __future__ import annotations

from typing import Any

from cyext import bpsw_format


def run(params: dict[str, Any]) -> bytes:
    a, b = int(params["a"]), int(params["b"])
    return bpsw_format.encode(bpsw_format.run_sweep(a, b))
