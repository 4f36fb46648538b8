"""Runs one task as a separate process: its own fresh working folder, a clean
environment, the lowest CPU priority, resource limits and a wall-clock timeout.
The process group is always stopped in `finally`: gently first, then by force.
(The hardened sandbox with namespaces and seccomp is the desktop-client issue's.)"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("newral.agent.runner")

MAX_OUTPUT = 1 << 20
STDERR_TAIL = 4000


@dataclass(frozen=True)
class TaskOutcome:
    output: bytes | None  # None: the task failed
    error: str
    cpu_seconds: float
    wall_seconds: float


def _limit_child(cpu_seconds: int, memory_bytes: int) -> None:
    """Runs in the child between fork and exec (POSIX)."""
    import resource

    os.nice(19)
    limits = [
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_FSIZE, 64 << 20),
        (resource.RLIMIT_NOFILE, 256),
    ]
    if memory_bytes:
        limits.append((resource.RLIMIT_AS, memory_bytes))
    for which, value in limits:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass  # a lower hard limit already applies


class TaskRunner:
    def __init__(self, work_root: Path, memory_bytes: int = 2 << 30) -> None:
        self.work_root = work_root
        self.memory_bytes = memory_bytes
        work_root.mkdir(parents=True, exist_ok=True)

    async def run(self, result_id: int, app: str, params: dict[str, Any], timeout: float) -> TaskOutcome:
        workdir = self.work_root / f"task-{result_id}"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        (workdir / "params.json").write_text(json.dumps(params))
        env = {"PATH": os.defpath, "LANG": "C.UTF-8", "HOME": str(workdir), "TMPDIR": str(workdir)}
        cmd = [sys.executable, "-I", "-m", "client.taskapps.run", app, "params.json", "output"]
        kwargs: dict[str, Any] = {"cwd": workdir, "env": env}
        if os.name == "posix":
            cpu = max(10, int(timeout) + 10)
            kwargs["start_new_session"] = True
            kwargs["preexec_fn"] = lambda: _limit_child(cpu, self.memory_bytes)
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, **kwargs
        )
        try:
            try:
                _, stderr = await asyncio.wait_for(proc.communicate(), timeout)
            except asyncio.TimeoutError:
                return TaskOutcome(None, f"timed out after {timeout:.0f} s", 0.0, time.monotonic() - started)
            wall = time.monotonic() - started
            cpu_used = _read_cpu(workdir)
            if proc.returncode != 0:
                tail = stderr.decode(errors="replace")[-STDERR_TAIL:].strip()
                return TaskOutcome(None, f"exit code {proc.returncode}: {tail}", cpu_used, wall)
            out = workdir / "output"
            if not out.is_file():
                return TaskOutcome(None, "the task wrote no output", cpu_used, wall)
            if out.stat().st_size > MAX_OUTPUT:
                return TaskOutcome(None, f"output larger than {MAX_OUTPUT} bytes", cpu_used, wall)
            return TaskOutcome(out.read_bytes(), "", cpu_used, wall)
        finally:
            await _stop(proc)
            shutil.rmtree(workdir, ignore_errors=True)


def _read_cpu(workdir: Path) -> float:
    try:
        return float(json.loads((workdir / "stats.json").read_text())["cpu_seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    _signal_group(proc, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 3)
    except asyncio.TimeoutError:
        _signal_group(proc, signal.SIGKILL)
        await proc.wait()


def _signal_group(proc: asyncio.subprocess.Process, sig: int) -> None:
    try:
        if os.name == "posix":
            os.killpg(proc.pid, sig)
        else:
            proc.kill()
    except ProcessLookupError:
        pass
