"""Task apps: the code that runs inside the task process, one module per app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Runner = Callable[[dict[str, Any]], bytes]


def registry() -> dict[str, Runner]:
    from client.taskapps import bpsw_hunter, bpsw_large, bpsw_verify, carmile

    return {"bpsw-hunter": bpsw_hunter.run, "carmile": carmile.run, "bpsw-verify": bpsw_verify.run,
            "bpsw-large": bpsw_large.run}
