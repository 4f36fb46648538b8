"""Update settings: built-in defaults < defaults.json baked into a release build <
`update.toml` in the agent's data folder < NEWRAL_UPDATE_* environment.

Updates are off until a channel is set. The release public keys are pinned: the
build bakes them in (defaults.json); `release_keys` in update.toml adds keys for a
self-hosted channel and is exactly as trusted as the program files beside it.
"""

from __future__ import annotations

import json
import os
import platform
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

DEFAULTS_FILE = Path(__file__).with_name("defaults.json")


class UpdateConfigError(ValueError):
    pass


@dataclass(frozen=True)
class UpdateConfig:
    channel: str = ""  # "" = updates off
    coordinator: str = ""  # default: the agent's coordinator
    auto_install: bool = False  # the volunteer opted in to installing without being asked
    check_interval: float = 86400.0
    daily_quota_bytes: int = 256 << 20
    rate_limit_bytes: int = 1 << 20  # bytes per second while downloading in the background
    confirm_after: float = 60.0  # seconds a new version runs before its trial ends
    selftest_timeout: float = 120.0
    release_keys: tuple[str, ...] = ()
    platform: str = ""  # default: this machine's, e.g. linux-x86_64

    @property
    def enabled(self) -> bool:
        return bool(self.channel)


def current_platform() -> str:
    system = platform.system().lower()
    system = {"darwin": "macos"}.get(system, system)
    machine = platform.machine().lower().replace("aarch64", "arm64")
    return f"{system}-{machine or 'unknown'}"


def _coerce(name: str, raw: Any, default: Any) -> Any:
    try:
        if isinstance(default, tuple):
            items = raw if isinstance(raw, list) else str(raw).split(",")
            return tuple(str(i).strip() for i in items if str(i).strip())
        if isinstance(default, bool):
            return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        return str(raw)
    except ValueError as exc:
        raise UpdateConfigError(f"update setting {name}: {exc}") from None


def load_update_config(data_dir: Path, environ: Mapping[str, str] | None = None,
                       defaults_file: Path = DEFAULTS_FILE) -> UpdateConfig:
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if defaults_file.exists():
        values.update(json.loads(defaults_file.read_text()))
    path = data_dir / "update.toml"
    if path.exists():
        try:
            section = tomllib.loads(path.read_text()).get("update", {})
        except tomllib.TOMLDecodeError as exc:
            raise UpdateConfigError(f"{path} is not valid TOML: {exc}") from None
        keys = list(values.get("release_keys", ())) + list(section.pop("release_keys", ()))
        values.update(section)
        if keys:
            values["release_keys"] = keys
    for f in fields(UpdateConfig):
        env = "NEWRAL_UPDATE_" + f.name.upper()
        if env in environ:
            values[f.name] = environ[env]
    unknown = set(values) - {f.name for f in fields(UpdateConfig)}
    if unknown:
        raise UpdateConfigError(f"unknown update settings: {', '.join(sorted(unknown))}")
    base = UpdateConfig()
    cfg = replace(base, **{k: _coerce(k, v, getattr(base, k)) for k, v in values.items()})
    return replace(cfg, platform=cfg.platform or current_platform())
