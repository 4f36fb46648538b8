"""Agent settings: defaults < agent.toml in the data folder < NEWRAL_AGENT_* env < flags.
The desktop client reads and writes the same file."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from client.agent.host import default_concurrency


class ConfigError(ValueError):
    pass


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local/share")
    return Path(base) / "newral-agent"


@dataclass(frozen=True)
class AgentConfig:
    coordinator: str = ""
    data_dir: Path = field(default_factory=default_data_dir)
    name: str = ""
    concurrency: int = field(default_factory=default_concurrency)
    projects: tuple[str, ...] = ()
    heartbeat_interval: float = 60.0
    idle_poll_max: float = 30.0  # longest wait between lease attempts when there is no work
    backoff_cap: float = 60.0  # longest wait after a failure
    max_task_seconds: float = 86400.0
    task_memory_bytes: int = 2 << 30


def _coerce(name: str, raw: Any, default: Any) -> Any:
    try:
        if isinstance(default, tuple):
            items = raw if isinstance(raw, list) else str(raw).split(",")
            return tuple(str(i).strip() for i in items if str(i).strip())
        if isinstance(default, Path):
            return Path(str(raw)).expanduser()
        if isinstance(default, bool):
            return str(raw).lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        return str(raw)
    except ValueError as exc:
        raise ConfigError(f"agent setting {name}: {exc}") from None


def load_config(environ: Mapping[str, str] | None = None, **overrides: Any) -> AgentConfig:
    environ = os.environ if environ is None else environ
    base = AgentConfig()
    values: dict[str, Any] = {}
    data_dir = overrides.get("data_dir") or environ.get("NEWRAL_AGENT_DATA_DIR") or base.data_dir
    path = Path(data_dir) / "agent.toml"
    if path.exists():
        try:
            section = tomllib.loads(path.read_text()).get("agent", {})
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        values.update(section)
    for f in fields(AgentConfig):
        env = "NEWRAL_AGENT_" + f.name.upper()
        if env in environ:
            values[f.name] = environ[env]
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(values) - {f.name for f in fields(AgentConfig)}
    if unknown:
        raise ConfigError(f"unknown agent settings: {', '.join(sorted(unknown))}")
    cfg = replace(base, **{k: _coerce(k, v, getattr(base, k)) for k, v in values.items()})
    if cfg.concurrency < 1:
        raise ConfigError("concurrency must be at least 1")
    return cfg
