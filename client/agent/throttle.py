"""The CPU cap, enforced the way BOINC does it: each task's process group is
stopped (SIGSTOP) and continued (SIGCONT) in a duty cycle. Tasks are staggered
across the period so the machine does not lurch between all-on and all-off:
with a 50% cap and two tasks, one of them runs at any moment.

`runs_now` is the pure schedule; `Throttler` applies it and also holds groups
that the limits suspend outright (on battery, over the core count...)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Callable

log = logging.getLogger("newral.agent.throttle")

SignalGroup = Callable[[int, int], None]


def runs_now(t: float, index: int, count: int, fraction: float, period: float = 1.0) -> bool:
    """Whether task `index` of `count` is in its running window at time t."""
    if fraction >= 1.0:
        return True
    if fraction <= 0.0 or count <= 0:
        return False
    phase = (t / period - index / count) % 1.0
    return phase < fraction


def _killpg(pgid: int, sig: int) -> None:
    if os.name != "posix":  # Windows: the job-object provider suspends instead (not wired yet)
        return
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the task ended between two ticks


class Throttler:
    def __init__(self, period: float = 1.0, tick: float = 0.05, *,
                 clock: Callable[[], float] = time.monotonic, signal_group: SignalGroup = _killpg) -> None:
        self.period = period
        self.tick = tick
        self.clock = clock
        self.signal_group = signal_group
        self.fraction = 1.0
        self._allowed: list[int] = []
        self._held: list[int] = []
        self._running: dict[int, bool] = {}  # pgid -> running (not stopped) as far as we sent

    def set_plan(self, allowed: list[int], held: list[int], cpu_percent: int) -> None:
        """`allowed` groups share the duty cycle in this order; `held` groups stay stopped."""
        self._allowed, self._held = list(allowed), list(held)
        self.fraction = max(0.0, min(1.0, cpu_percent / 100.0))
        self.apply()

    def forget(self, pgid: int) -> None:
        """A task ended: drop it from the plan (its group is gone)."""
        self._running.pop(pgid, None)
        self._allowed = [g for g in self._allowed if g != pgid]
        self._held = [g for g in self._held if g != pgid]

    def _set(self, pgid: int, run: bool) -> None:
        if self._running.get(pgid, True) != run:
            self.signal_group(pgid, signal.SIGCONT if run else signal.SIGSTOP)
            self._running[pgid] = run

    def apply(self) -> None:
        now = self.clock()
        n = len(self._allowed)
        for i, pgid in enumerate(self._allowed):
            self._set(pgid, runs_now(now, i, n, self.fraction, self.period))
        for pgid in self._held:
            self._set(pgid, False)

    def is_stopped(self, pgid: int) -> bool:
        return not self._running.get(pgid, True)

    def release_all(self) -> None:
        """Continues every group we stopped (before stopping a task, or at shutdown)."""
        for pgid, running in list(self._running.items()):
            if not running:
                self.signal_group(pgid, signal.SIGCONT)
                self._running[pgid] = True

    async def run(self) -> None:
        try:
            while True:
                self.apply()
                await asyncio.sleep(self.tick)
        finally:
            self.release_all()
