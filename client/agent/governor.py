"""Applies the limits to the running tasks: reads the probes, asks
limits.decide, then tells the throttle which task groups share the duty cycle
and which stay suspended. Also keeps the pause/snooze switches, the recent CPU
use for the chart and each task's CPU share. No Qt: the GUI reads `snapshot`."""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import psutil

from client.agent import limits, quota
from client.agent.preferences import Preferences
from client.agent.probes import HostProbes
from client.agent.throttle import Throttler

log = logging.getLogger("newral.agent.limits")

DISK_RESCAN_SECONDS = 30.0


class Governor:
    def __init__(self, prefs: Preferences, probes: HostProbes, data_dir: Path, max_cores: int, *,
                 clock: Callable[[], float] = time.time, now: Callable[[], datetime] = datetime.now,
                 throttle: Throttler | None = None) -> None:
        self.prefs = prefs
        self.probes = probes
        self.data_dir = data_dir
        self.max_cores = max_cores
        self.clock = clock
        self.now = now
        self.throttle = throttle or Throttler()
        self.meter = quota.NetworkMeter(data_dir / "network-today.json")
        self.user_paused = False
        self.snooze_until = 0.0
        self.decision: limits.Decision | None = None
        self.cpu_history: deque[float] = deque(maxlen=120)  # our tasks, % of the machine, one per tick
        self.task_cpu: dict[int, float] = {}  # pid -> % of one core
        self._procs: dict[int, psutil.Process] = {}
        self._disk_bytes, self._disk_at = 0, -1e9

    # -- switches the tray uses ------------------------------------------------

    def pause(self) -> None:
        self.user_paused, self.snooze_until = True, 0.0

    def resume(self) -> None:
        self.user_paused, self.snooze_until = False, 0.0

    def snooze(self, seconds: float) -> None:
        self.user_paused, self.snooze_until = False, self.clock() + seconds

    # -- evaluation ---------------------------------------------------------------

    def _data_dir_bytes(self) -> int:
        if not self.prefs.disk_cap_mb:
            return 0
        if time.monotonic() - self._disk_at > DISK_RESCAN_SECONDS:
            self._disk_bytes, self._disk_at = quota.folder_bytes(self.data_dir), time.monotonic()
        return self._disk_bytes

    def invalidate_disk(self) -> None:
        self._disk_at = -1e9

    def evaluate(self, task_pids: list[int]) -> limits.Decision:
        on_battery, percent = self.probes.battery()
        used, total = self.probes.memory(task_pids)
        r = limits.Readings(
            now=self.now(), on_battery=on_battery, battery_percent=percent,
            idle_seconds=self.probes.idle_seconds(),
            running_programs=self.probes.running_programs() if self.prefs.exclusive_programs else frozenset(),
            other_cpu_percent=self.probes.other_cpu_percent(task_pids) if self.prefs.other_cpu_percent else 0.0,
            tasks_memory_bytes=used, total_memory_bytes=total, data_dir_bytes=self._data_dir_bytes(),
            network_bytes_today=self.meter.used_today(), user_paused=self.user_paused,
            snooze_until=self.snooze_until, epoch=self.clock())
        d = limits.decide(self.prefs, r, self.max_cores, self.decision)
        if self.decision is None or d.status() != self.decision.status():
            log.info("limits.changed status=%r", d.status())
        self.decision = d
        self._sample_cpu(task_pids)
        return d

    def _sample_cpu(self, task_pids: list[int]) -> None:
        seen: dict[int, psutil.Process] = {}
        shares: dict[int, float] = {}
        for pid in task_pids:
            try:
                root = self._procs.get(pid) or psutil.Process(pid)
                members = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            value = 0.0
            for m in members:
                p = self._procs.get(m.pid, m)
                try:
                    value += p.cpu_percent(None)  # 0.0 the first time: that call primes the counter
                except psutil.Error:
                    continue
                seen[m.pid] = p
            shares[pid] = value
        self._procs, self.task_cpu = seen, shares
        self.cpu_history.append(sum(shares.values()) / (os.cpu_count() or 1))

    def plan(self, ordered_pids: list[int]) -> None:
        """Tasks in start order: the first `cores` share the duty cycle, the rest are held."""
        d = self.decision
        if d is None:
            return
        keep = d.cores if d.run else 0
        self.throttle.set_plan(ordered_pids[:keep], ordered_pids[keep:], d.cpu_percent)

    def state(self, offline: bool, error: bool) -> str:
        """running | paused | throttled | offline | error: what the tray icon shows."""
        d = self.decision
        if error:
            return "error"
        if d is not None and not d.run:
            return "paused"
        if offline:
            return "offline"
        if d is not None and d.throttled:
            return "throttled"
        return "running"
