"""BPSW-Large task: test candidates [start, start + count) of a seeded search past
2^64 and return the canonical encoding (cyext.bpsw_large)."""

from __future__ import annotations

from typing import Any

from cyext import bpsw_large


def run(params: dict[str, Any]) -> bytes:
    search = bpsw_large.Search(family=str(params["family"]), seed=str(params["seed"]), bits=int(params["bits"]),
                               factors=int(params["factors"]), pool=int(params["pool"]))
    return bpsw_large.encode(bpsw_large.run(search, int(params["start"]), int(params["count"])))
