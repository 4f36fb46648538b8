"""Coordinator settings: built once from defaults, an optional TOML file and the
environment, then passed to the app factory (nothing is read at import time)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "NEWRAL_"


class SettingsError(ValueError):
    """A configuration value is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path.home() / ".local/share/newral-coordinator")
    database_url: str = ""  # default: SQLite file in data_dir
    object_store: str = "local"  # "local", "file:///abs/path" or "s3://bucket"
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    bind: str = "127.0.0.1:8470"
    public_url: str = ""  # how agents reach us; default http://<bind>
    auto_migrate: bool = True
    lease_default_seconds: int = 3600
    max_output_bytes: int = 1 << 20
    # Objects up to this size (most outputs) live in the database, not the object store:
    # one transaction per batch instead of a file and fsync, or an S3 PUT, each. 0: none.
    db_object_limit: int = 16 << 10
    max_leases_per_request: int = 64
    reaper_interval: float = 2.0
    # Rate limits (token buckets per worker process; 0 turns one off): see api/ratelimit.py.
    rate_enrol_per_address: float = 0.2  # enrolments per second per client address
    rate_enrol_burst: float = 20.0
    rate_lease_per_node: float = 5.0  # lease requests per second per node credential
    rate_lease_node_burst: float = 20.0
    rate_lease_per_address: float = 500.0  # lease requests per second per client address
    rate_lease_address_burst: float = 1000.0
    log_level: str = "INFO"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'coordinator.sqlite3'}"

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.bind}").rstrip("/")

    def redacted(self) -> dict[str, Any]:
        """Settings safe to log: credentials and passwords in URLs are masked."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("s3_secret_key", "s3_access_key") and value:
                value = "***"
            elif f.name == "database_url":
                value = _mask_url_password(self.resolved_database_url)
            out[f.name] = str(value)
        return out


def _mask_url_password(url: str) -> str:
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    if ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}://{creds}@{host}"


def _coerce(name: str, raw: Any, kind: Any) -> Any:
    try:
        if kind in (bool, "bool"):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"expected true or false, got {raw!r}")
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
        if kind in (Path, "Path"):
            return Path(str(raw)).expanduser()
        return str(raw)
    except ValueError as exc:
        raise SettingsError(f"setting {name}: {exc}") from None


def load_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Defaults < TOML file < NEWRAL_* environment < explicit overrides (CLI flags)."""
    environ = os.environ if environ is None else environ
    known = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}

    path = config_file or (Path(environ["NEWRAL_CONFIG"]) if environ.get("NEWRAL_CONFIG") else None)
    if path is not None:
        try:
            data = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise SettingsError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
        section = data.get("coordinator", data)
        for key, raw in section.items():
            if key not in known:
                raise SettingsError(f"config file {path}: unknown setting {key!r}")
            values[key] = raw

    for key in known:
        env_name = ENV_PREFIX + key.upper()
        if env_name in environ:
            values[key] = environ[env_name]

    for key, raw in overrides.items():
        if raw is not None:
            values[key] = raw

    coerced = {k: _coerce(k, v, known[k]) for k, v in values.items()}
    settings = replace(Settings(), **coerced)
    if not settings.object_store.startswith(("local", "file://", "s3://")):
        raise SettingsError(
            f"object_store must be 'local', 'file:///path' or 's3://bucket', got {settings.object_store!r}"
        )
    if not 0 <= settings.db_object_limit <= 1 << 20:
        raise SettingsError(f"db_object_limit must be between 0 and 1048576 bytes, got {settings.db_object_limit}")
    if ":" not in settings.bind:
        raise SettingsError(f"bind must be HOST:PORT, got {settings.bind!r}")
    return settings
