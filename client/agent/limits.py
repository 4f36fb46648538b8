"""When may tasks run, how many, at what CPU share, and may we lease more work?
Pure decision logic over a snapshot of readings: no I/O, so every rule is tested
with injected readings. The loop applies the Decision (suspend, throttle, lease).

Reasons are checked in a fixed order (as BOINC does) and all that apply are kept;
the first is what the tray shows ("paused: on battery"). Battery charge and
other programs' CPU use have hysteresis so the client does not flap."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from client.agent.preferences import WEEKDAYS, Preferences, UsageLimits, parse_hours

BATTERY_HYSTERESIS = 5  # percent above the threshold before work resumes
OTHER_CPU_HYSTERESIS = 10  # percent below the threshold before work resumes


class SuspendReason(enum.Enum):
    USER_PAUSED = "paused by you"
    SNOOZED = "snoozed"
    ON_BATTERY = "on battery"
    BATTERY_LOW = "battery low"
    USER_ACTIVE = "computer in use"
    IDLE_UNKNOWN = "idle detection unavailable"
    EXCLUSIVE_PROGRAM = "program running"
    OTHER_CPU = "other programs busy"
    OUTSIDE_SCHEDULE = "outside allowed hours"
    MEMORY = "tasks use too much memory"


class LeaseBlock(enum.Enum):
    DISK_FULL = "data folder at its size cap"
    NETWORK_QUOTA = "daily network quota used up"
    NO_PROJECTS = "no project opted in"


@dataclass(frozen=True)
class Reason:
    kind: SuspendReason | LeaseBlock
    detail: str

    def __str__(self) -> str:
        return self.detail


@dataclass(frozen=True)
class Readings:
    """One look at the machine. None where a probe cannot tell."""

    now: datetime
    on_battery: bool | None = None
    battery_percent: float | None = None
    idle_seconds: float | None = None  # None: idle detection unavailable
    running_programs: frozenset[str] = frozenset()
    other_cpu_percent: float = 0.0  # CPU use by everything except our tasks, 0..100 of the machine
    tasks_memory_bytes: int = 0
    total_memory_bytes: int = 0
    data_dir_bytes: int = 0
    network_bytes_today: int = 0
    user_paused: bool = False
    snooze_until: float = 0.0  # epoch seconds
    epoch: float = 0.0  # now as epoch seconds, for the snooze


@dataclass(frozen=True)
class Decision:
    run: bool
    cores: int  # tasks allowed to run at once
    cpu_percent: int  # duty cycle for each running task
    mode: str  # "in use" | "idle"
    suspend: tuple[Reason, ...] = ()
    lease_blocks: tuple[Reason, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def may_lease(self) -> bool:
        return self.run and not self.lease_blocks

    @property
    def throttled(self) -> bool:
        return self.run and self.cpu_percent < 100

    def status(self) -> str:
        """The line the tray shows."""
        if self.suspend:
            return f"paused: {self.suspend[0]}"
        if self.lease_blocks:
            return f"running, not fetching work: {self.lease_blocks[0]}"
        cap = f" at {self.cpu_percent}% CPU" if self.cpu_percent < 100 else ""
        return f"running ({self.mode}): up to {self.cores} task{'s' if self.cores != 1 else ''}{cap}"

    def has(self, kind: SuspendReason | LeaseBlock) -> bool:
        return any(r.kind is kind for r in (*self.suspend, *self.lease_blocks))


def in_schedule(prefs: Preferences, now: datetime) -> bool:
    if not prefs.schedule:
        return True
    day = WEEKDAYS[now.weekday()]
    minute = now.hour * 60 + now.minute
    for d, hours in prefs.schedule:
        span = parse_hours(hours)
        if d != day or span is None:
            continue
        start, end = span
        if start <= end and start <= minute < end:
            return True
        if start > end and (minute >= start or minute < end):  # across midnight
            return True
    return False


def _exclusive_hits(prefs: Preferences, running: frozenset[str]) -> list[str]:
    wanted = {p.lower().removesuffix(".exe") for p in prefs.exclusive_programs if p.strip()}
    have = {p.lower().removesuffix(".exe") for p in running}
    return sorted(wanted & have)


def decide(prefs: Preferences, r: Readings, max_cores: int, previous: Decision | None = None) -> Decision:
    """The rules, in order. `max_cores` is the agent's concurrency ceiling."""
    was = previous.has if previous is not None else (lambda _k: False)
    suspend: list[Reason] = []
    notes: list[str] = []

    if r.user_paused:
        suspend.append(Reason(SuspendReason.USER_PAUSED, "paused by you"))
    elif r.snooze_until > r.epoch:
        left = int((r.snooze_until - r.epoch + 59) // 60)
        suspend.append(Reason(SuspendReason.SNOOZED, f"snoozed for {left} more min"))

    if prefs.pause_on_battery and r.on_battery:
        suspend.append(Reason(SuspendReason.ON_BATTERY, "on battery"))
    if prefs.min_battery_percent and r.on_battery and r.battery_percent is not None:
        threshold = prefs.min_battery_percent + (BATTERY_HYSTERESIS if was(SuspendReason.BATTERY_LOW) else 0)
        if r.battery_percent < threshold:
            suspend.append(Reason(SuspendReason.BATTERY_LOW,
                                  f"battery at {r.battery_percent:.0f}%, below {prefs.min_battery_percent}%"))

    idle: bool
    if r.idle_seconds is None:
        idle = False
        notes.append("idle detection unavailable: in-use limits apply")
        if prefs.only_when_idle:
            suspend.append(Reason(SuspendReason.IDLE_UNKNOWN,
                                  "idle detection unavailable here, so 'only when idle' keeps work paused"))
    else:
        idle = r.idle_seconds >= prefs.idle_after_minutes * 60
        if prefs.only_when_idle and not idle:
            suspend.append(Reason(SuspendReason.USER_ACTIVE, "computer in use"))

    hits = _exclusive_hits(prefs, r.running_programs)
    if hits:
        suspend.append(Reason(SuspendReason.EXCLUSIVE_PROGRAM, f"{', '.join(hits)} running"))

    if prefs.other_cpu_percent:
        threshold = prefs.other_cpu_percent - (OTHER_CPU_HYSTERESIS if was(SuspendReason.OTHER_CPU) else 0)
        if r.other_cpu_percent > threshold:
            suspend.append(Reason(SuspendReason.OTHER_CPU,
                                  f"other programs use {r.other_cpu_percent:.0f}% CPU "
                                  f"(limit {prefs.other_cpu_percent}%)"))

    if not in_schedule(prefs, r.now):
        suspend.append(Reason(SuspendReason.OUTSIDE_SCHEDULE, "outside allowed hours"))

    mode_name = "idle" if idle else "in use"
    limits: UsageLimits = prefs.idle if idle else prefs.in_use
    if r.total_memory_bytes and r.tasks_memory_bytes > r.total_memory_bytes * limits.memory_percent / 100:
        suspend.append(Reason(SuspendReason.MEMORY,
                              f"tasks use {r.tasks_memory_bytes >> 20} MB, over {limits.memory_percent}% "
                              f"of memory ({mode_name})"))

    blocks: list[Reason] = []
    if prefs.disk_cap_mb and r.data_dir_bytes >= prefs.disk_cap_mb << 20:
        blocks.append(Reason(LeaseBlock.DISK_FULL,
                             f"data folder uses {r.data_dir_bytes >> 20} MB of {prefs.disk_cap_mb} MB"))
    if prefs.daily_network_mb and r.network_bytes_today >= prefs.daily_network_mb << 20:
        blocks.append(Reason(LeaseBlock.NETWORK_QUOTA,
                             f"{prefs.daily_network_mb} MB network quota used today"))
    if prefs.projects and prefs.opted_in() == []:
        blocks.append(Reason(LeaseBlock.NO_PROJECTS, "no project opted in"))

    cores = max_cores if limits.cores <= 0 else min(limits.cores, max_cores)
    return Decision(run=not suspend, cores=cores if not suspend else 0, cpu_percent=limits.cpu_percent,
                    mode=mode_name, suspend=tuple(suspend), lease_blocks=tuple(blocks), notes=tuple(notes))


def fits_disk_cap(prefs: Preferences, data_dir_bytes: int, needed_bytes: int) -> bool:
    """Would work needing `needed_bytes` more fit under the cap?"""
    return not prefs.disk_cap_mb or data_dir_bytes + needed_bytes <= prefs.disk_cap_mb << 20


def fits_network_quota(prefs: Preferences, used_today: int, needed_bytes: int) -> bool:
    """May a transfer of `needed_bytes` go today? Otherwise it waits for tomorrow."""
    return not prefs.daily_network_mb or used_today + needed_bytes <= prefs.daily_network_mb << 20
