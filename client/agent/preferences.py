"""The volunteer's preferences: every limit the agent enforces, and the projects
attached. They live in the per-user agent.toml (tables [preferences] and
[projects.NAME]) beside the [agent] settings that config.py reads, so the GUI
and the headless agent read one file. Saving keeps the file's other tables."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from client.agent.config import ConfigError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class UsageLimits:
    """How much of the machine to use in one mode (in use, or idle). cores=0: the agent's concurrency."""

    cores: int = 0
    cpu_percent: int = 100
    memory_percent: int = 50  # of physical memory, all tasks together


@dataclass(frozen=True)
class ProjectEntry:
    opted_in: bool = True
    public_key: str = ""  # the project's Ed25519 key, pinned when attaching (base64)


@dataclass(frozen=True)
class Preferences:
    in_use: UsageLimits = field(default_factory=UsageLimits)
    idle: UsageLimits = field(default_factory=lambda: UsageLimits(cores=0, cpu_percent=100, memory_percent=90))
    idle_after_minutes: float = 3.0
    only_when_idle: bool = False
    pause_on_battery: bool = True
    min_battery_percent: int = 20  # 0: no threshold
    exclusive_programs: tuple[str, ...] = ()  # process names, e.g. "steam", "zoom"
    other_cpu_percent: int = 0  # pause while other programs use more than this; 0: off
    disk_cap_mb: int = 0  # the data folder's size cap; 0: no cap
    daily_network_mb: int = 0  # uploads plus downloads per day; 0: unlimited
    task_memory_mb: int = 2048  # per task (address space)
    schedule: tuple[tuple[str, str], ...] = ()  # (weekday, "HH:MM-HH:MM"); empty: any time
    projects: tuple[tuple[str, ProjectEntry], ...] = ()

    def project(self, name: str) -> ProjectEntry | None:
        return dict(self.projects).get(name)

    def with_project(self, name: str, entry: ProjectEntry | None) -> Preferences:
        items = dict(self.projects)
        if entry is None:
            items.pop(name, None)
        else:
            items[name] = entry
        return replace(self, projects=tuple(sorted(items.items())))

    def opted_in(self) -> list[str] | None:
        """Projects to lease from: None means every project the coordinator offers."""
        if not self.projects or all(e.opted_in for _, e in self.projects):
            return None
        return [n for n, e in self.projects if e.opted_in]

    def validate(self) -> Preferences:
        for mode in (self.in_use, self.idle):
            if not 1 <= mode.cpu_percent <= 100:
                raise ConfigError("CPU use must be between 1 and 100 percent")
            if mode.cores < 0 or not 1 <= mode.memory_percent <= 100:
                raise ConfigError("cores must be 0 or more and memory between 1 and 100 percent")
        if not 0 <= self.min_battery_percent <= 100 or not 0 <= self.other_cpu_percent <= 100:
            raise ConfigError("percentages must be between 0 and 100")
        if min(self.idle_after_minutes, self.disk_cap_mb, self.daily_network_mb) < 0 or self.task_memory_mb < 64:
            raise ConfigError("sizes and times must not be negative; a task needs at least 64 MB")
        for day, hours in self.schedule:
            if day not in WEEKDAYS or parse_hours(hours) is None:
                raise ConfigError(f"schedule entry {day} = {hours!r}: use mon..sun = \"HH:MM-HH:MM\"")
        return self


def parse_hours(text: str) -> tuple[int, int] | None:
    """'08:00-18:30' -> (480, 1110) minutes; an end before the start spans midnight."""
    m = _HOURS.match(text.strip())
    if not m:
        return None
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
        return None
    return h1 * 60 + m1, h2 * 60 + m2


def preferences_path(data_dir: Path) -> Path:
    return data_dir / "agent.toml"


def _from_table(table: dict[str, Any], projects: dict[str, Any]) -> Preferences:
    base = Preferences()
    values: dict[str, Any] = {}
    known = {f.name: f for f in fields(Preferences)}
    for key, raw in table.items():
        if key not in known or key == "projects":
            raise ConfigError(f"unknown preference {key!r}")
        default = getattr(base, key)
        try:
            if isinstance(default, UsageLimits):
                values[key] = replace(default, **{k: int(v) for k, v in dict(raw).items()})
            elif key == "schedule":
                values[key] = tuple((str(d), str(h)) for d, h in dict(raw).items())
            elif isinstance(default, tuple):
                values[key] = tuple(str(x) for x in raw)
            elif isinstance(default, bool):
                if not isinstance(raw, bool):
                    raise TypeError(f"expected true or false, got {raw!r}")
                values[key] = raw
            else:
                values[key] = type(default)(raw)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"preference {key}: {exc}") from None
    entries = []
    for name, raw in projects.items():
        try:
            entries.append((str(name), ProjectEntry(**dict(raw))))
        except TypeError as exc:
            raise ConfigError(f"project {name}: {exc}") from None
    values["projects"] = tuple(sorted(entries))
    return replace(base, **values).validate()


def load_preferences(data_dir: Path) -> Preferences:
    path = preferences_path(data_dir)
    if not path.exists():
        return Preferences()
    try:
        doc = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return _from_table(doc.get("preferences", {}), doc.get("projects", {}))


def save_preferences(data_dir: Path, prefs: Preferences, agent: dict[str, Any] | None = None) -> Path:
    """Writes [preferences] and [projects.*]; merges `agent` into [agent]; keeps other tables."""
    prefs.validate()
    path = preferences_path(data_dir)
    doc: dict[str, Any] = {}
    if path.exists():
        try:
            doc = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError:
            doc = {}  # the user asked to save: a broken file is replaced, not kept
    if agent:
        doc.setdefault("agent", {}).update({k: v for k, v in agent.items() if v is not None})
    table: dict[str, Any] = {}
    for f in fields(Preferences):
        if f.name == "projects":
            continue
        value = getattr(prefs, f.name)
        table[f.name] = asdict(value) if isinstance(value, UsageLimits) else (
            dict(value) if f.name == "schedule" else value)
    doc["preferences"] = table
    doc["projects"] = {name: asdict(e) for name, e in prefs.projects}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dumps_toml(doc))
    os.replace(tmp, path)
    return path


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if isinstance(v, Path):
        v = str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _scalar(k)


def dumps_toml(doc: dict[str, Any], prefix: str = "") -> str:
    """Enough TOML for our files: scalars, lists of scalars, nested tables."""
    lines = [f"{_key(k)} = {_scalar(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    out = "\n".join(lines) + ("\n" if lines else "")
    for k, v in doc.items():
        if isinstance(v, dict):
            name = f"{prefix}.{_key(k)}" if prefix else _key(k)
            body = dumps_toml(v, name)
            has_scalars = any(not isinstance(x, dict) for x in v.values())
            out += f"\n[{name}]\n" + body if has_scalars or not v else body
    return out
