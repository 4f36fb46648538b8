"""HTML rendering: one Jinja environment (autoescaped) and the filters the templates use."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Response
from litestar.enums import MediaType

from coordinator.domain.users import Viewer

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"

NAV = (("dashboard", "/ui/", "Dashboard"), ("nodes", "/ui/nodes", "Nodes"),
       ("projects", "/ui/projects", "Projects"), ("workflows", "/ui/workflows", "Workflows"),
       ("findings", "/ui/findings", "Findings"), ("apps", "/ui/apps", "Apps"),
       ("orchestrator", "/ui/orchestrator", "Orchestrator"))


def _utc(ts: float | None) -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(ts: float | None, now: float) -> str:
    if ts is None:
        return "never"
    s = max(0.0, now - ts)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s / size:.0f} {unit} ago"
    return f"{s:.0f} s ago"


def _bytes(n: int | None) -> str:
    if n is None:
        return "—"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(n)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 or float(x).is_integer() else f"{x:.2f}"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(utc=_utc, bytes=_bytes, pct=_pct, num=_num)
    env.globals.update(ago=ago, nav=NAV)
    return env


def html(name: str, *, viewer: Viewer | None = None, status: int = 200, now: float | None = None,
         headers: dict[str, str] | None = None, **context: Any) -> Response[str]:
    text = environment().get_template(name).render(
        viewer=viewer, now=now if now is not None else time.time(), **context)
    return Response(text, media_type=MediaType.HTML, status_code=status,
                    headers={"cache-control": "no-store", **(headers or {})})
