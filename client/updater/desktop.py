"""First install on Linux, done by the frozen program itself
(`newral-client --newral-install [--autostart]`): copy it into a managed install,
add a menu entry, and optionally start it at login (XDG autostart)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from client.updater.install import Installation

APP_ID = "org.newral.Client"


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share")


def config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def desktop_entry(exec_path: Path, icon: Path | None, autostart: bool) -> str:
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Name=Newral",
        "Comment=Lend spare CPU to science",
        f'Exec="{exec_path}"',
        "Terminal=false",
        "Categories=Science;Network;",
        "StartupNotify=false",
    ]
    if icon is not None:
        lines.append(f"Icon={icon}")
    if autostart:
        lines.append("X-GNOME-Autostart-enabled=true")
    return "\n".join(lines) + "\n"


def install(executable: Path, version: str, *, autostart: bool, root: Path | None = None,
            icon: Path | None = None) -> dict[str, str]:
    """Install `executable` as `version`; returns what was written where."""
    root = root or data_home() / "newral-client"
    entry = "newral-client"
    inst = Installation(root, entry)
    if inst.state_path.exists():
        raise SystemExit(f"Newral is already installed in {root}; it updates itself")
    inst = Installation.create(root, version, {entry: executable}, entry)
    if icon is not None and icon.exists():
        shutil.copy2(icon, root / icon.name)
        icon = root / icon.name
    launcher = inst.link / entry
    written = {"install": str(root), "program": str(launcher)}
    apps = data_home() / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    (apps / f"{APP_ID}.desktop").write_text(desktop_entry(launcher, icon, autostart=False))
    written["menu_entry"] = str(apps / f"{APP_ID}.desktop")
    if autostart:
        auto = config_home() / "autostart"
        auto.mkdir(parents=True, exist_ok=True)
        (auto / f"{APP_ID}.desktop").write_text(desktop_entry(launcher, icon, autostart=True))
        written["autostart"] = str(auto / f"{APP_ID}.desktop")
    return written


def main(argv: list[str]) -> int:
    from client.agent import host

    bundled = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[2]))
    icon = bundled / "assets" / "icons" / "newral.svg"
    written = install(Path(sys.executable).resolve(), host.CLIENT_VERSION,
                      autostart="--autostart" in argv, icon=icon if icon.exists() else None)
    for what, where in written.items():
        print(f"{what}: {where}")
    return 0
