"""The part every POSIX system gives: lowest priority, resource limits, a new
session (process group) that is stopped as a whole. Linux and macOS build on it."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from client.agent.sandbox.base import Confinement, Policy, Protection, SandboxProvider


def set_rlimits(policy: Policy, nproc: int | None) -> None:
    """In the child before exec. A lower hard limit already in place is kept."""
    import resource

    limits = [
        (resource.RLIMIT_CPU, policy.cpu_seconds),
        (resource.RLIMIT_FSIZE, policy.file_bytes),
        (resource.RLIMIT_NOFILE, policy.open_files),
        (resource.RLIMIT_CORE, 0),
    ]
    if policy.memory_bytes:
        limits.append((resource.RLIMIT_AS, policy.memory_bytes))
    if nproc is not None:
        limits.append((resource.RLIMIT_NPROC, nproc))
    for which, value in limits:
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def lowest_priority() -> None:
    os.nice(19)
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass  # nice 19 still applies


class PosixConfinement(Confinement):
    def __init__(self, child_setup: Callable[[], None]) -> None:
        self._child_setup = child_setup
        self.pid: int | None = None

    def popen_kwargs(self) -> dict[str, Any]:
        return {"start_new_session": True, "preexec_fn": self._child_setup}

    def started(self, pid: int) -> None:
        self.pid = pid

    def signal_all(self, sig: int) -> None:
        if self.pid is not None:
            try:
                os.killpg(self.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def kill_all(self) -> None:
        self.signal_all(signal.SIGKILL)


class PosixSandbox(SandboxProvider):
    """Fallback for POSIX systems without a dedicated provider."""

    name = "posix"

    def protections(self) -> list[Protection]:
        return [
            Protection("priority", True, "nice 19"),
            Protection("limits", True, "CPU time, address space, file size, open files"),
            Protection("processes", os.getuid() != 0, "RLIMIT_NPROC, user-wide" if os.getuid() else
                       "RLIMIT_NPROC does not bind root"),
            Protection("network", False, "no network isolation on this OS"),
            Protection("filesystem", False, "the task can write wherever this user can"),
        ]

    def confine(self, workdir: Path, policy: Policy) -> Confinement:
        nproc = _user_processes() + policy.processes if os.getuid() else None

        def setup() -> None:
            lowest_priority()
            set_rlimits(policy, nproc)

        return PosixConfinement(setup)


def _user_processes() -> int:
    """Processes of this user now: RLIMIT_NPROC outside a user namespace counts them all."""
    import psutil

    uid = os.getuid()
    n = 0
    for p in psutil.process_iter(["uids"]):
        uids = p.info.get("uids")
        if uids is not None and uids.real == uid:
            n += 1
    return n


def wait_gone(pids: list[int], timeout: float) -> None:
    end = time.monotonic() + timeout
    while pids and time.monotonic() < end:
        pids = [p for p in pids if _alive(p)]
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
