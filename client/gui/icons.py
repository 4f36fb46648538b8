"""Icons from assets/icons: one per agent state, plus the application icon."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon

STATES = ("running", "paused", "throttled", "offline", "error")


def assets_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)  # PyInstaller unpacks data files here
    root = Path(frozen) if frozen else Path(__file__).resolve().parents[2]
    return root / "assets" / "icons"


def state_icon(state: str) -> QIcon:
    name = state if state in STATES else "error"
    return QIcon(str(assets_dir() / f"{name}.svg"))


def app_icon() -> QIcon:
    return QIcon(str(assets_dir() / "newral.svg"))
