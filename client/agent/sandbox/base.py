"""The sandbox boundary: a provider per OS with a small surface. A provider says
which protections it can give on this machine (stated at start, in the log and
the UI) and confines one task at a time. What a platform cannot enforce is
reported as inactive, never pretended.

    provider.protections()            -> [Protection, ...]   what is active here
    with provider.confine(workdir, policy) as c:
        proc = start(cmd, **c.popen_kwargs())
        c.started(proc.pid)
        ...
    # leaving the block stops every process of the task, gently then by force
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Policy:
    """Limits for one task."""

    cpu_seconds: int
    memory_bytes: int = 2 << 30
    file_bytes: int = 64 << 20
    open_files: int = 256
    processes: int = 32
    network: bool = False


@dataclass(frozen=True)
class Protection:
    name: str  # "network", "filesystem", "processes", "memory", "priority", ...
    active: bool
    detail: str

    def __str__(self) -> str:
        return f"{self.name}: {'on' if self.active else 'OFF'} ({self.detail})"


def summary(protections: list[Protection]) -> str:
    return "; ".join(str(p) for p in protections)


def clean_env(workdir: Path) -> dict[str, str]:
    """The only variables a task sees: nothing of the volunteer's leaks in."""
    return {"PATH": os.defpath, "LANG": "C.UTF-8", "HOME": str(workdir), "TMPDIR": str(workdir),
            "PYTHONDONTWRITEBYTECODE": "1"}


class Confinement(ABC):
    """One task's confinement; lives as long as the task."""

    @abstractmethod
    def popen_kwargs(self) -> dict[str, Any]:
        """Extra keyword arguments for asyncio.create_subprocess_exec / subprocess.Popen."""

    def command(self, cmd: list[str]) -> list[str]:
        """The command as it must be started (macOS wraps it in sandbox-exec)."""
        return cmd

    def started(self, pid: int) -> None:
        """The task process exists (Windows assigns it to its job object here)."""

    @abstractmethod
    def kill_all(self) -> None:
        """Kills every process of the task, including ones that left its process group."""

    def close(self) -> None:
        """Releases what confine() created (cgroup, job object)."""


class SandboxProvider(ABC):
    name: str = "base"

    @abstractmethod
    def protections(self) -> list[Protection]:
        """What this machine lets the provider enforce; probed once and cached."""

    @abstractmethod
    def confine(self, workdir: Path, policy: Policy) -> Confinement:
        ...


class SandboxUnavailable(RuntimeError):
    """The provider cannot run tasks on this machine at all."""
