"""Runs one task as a separate process inside the sandbox (client/agent/sandbox):
a fresh working folder removed afterwards, a clean environment, the lowest CPU
priority, resource limits, no network where the OS allows it and a wall-clock
timeout. Every process of the task is stopped in `finally`: gently, then by
force. What the task leaves behind (output, stats, stderr) is untrusted and
checked against limits before use."""

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

from client.agent import sandbox

log = logging.getLogger("newral.agent.runner")

MAX_OUTPUT = 1 << 20
STDERR_TAIL = 4000


@dataclass(frozen=True)
class TaskOutcome:
    output: bytes | None  # None: the task failed
    error: str
    cpu_seconds: float
    wall_seconds: float


@dataclass(frozen=True)
class TaskCode:
    """What to run: a built-in task app by name, or a script from a verified bundle."""

    builtin: str | None = None
    script: str | None = None
    files: tuple[tuple[str, bytes], ...] = ()

    def command(self) -> list[str]:
        if self.builtin is not None:
            return [sys.executable, "-I", "-B", "-m", "client.taskapps.run", self.builtin, "params.json", "output"]
        assert self.script is not None
        return [sys.executable, "-I", "-B", self.script, "params.json", "output"]


class TaskRunner:
    def __init__(self, work_root: Path, memory_bytes: int = 2 << 30, *,
                 provider: sandbox.SandboxProvider | None = None, processes: int = 32) -> None:
        self.work_root = work_root
        self.memory_bytes = memory_bytes
        self.processes = processes
        self.provider = provider or sandbox.default_provider()
        self.pids: dict[int, int] = {}  # result id -> task process (its own process group)
        work_root.mkdir(parents=True, exist_ok=True)

    def protections(self) -> list[sandbox.Protection]:
        return self.provider.protections()

    async def run(self, result_id: int, app: str | TaskCode, params: dict[str, Any],
                  timeout: float) -> TaskOutcome:
        code = app if isinstance(app, TaskCode) else TaskCode(builtin=app)
        workdir = self.work_root / f"task-{result_id}"
        stderr_path = self.work_root / f"task-{result_id}.stderr"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        (workdir / "params.json").write_text(json.dumps(params))
        for name, data in code.files:
            (workdir / name).write_bytes(data)
        policy = sandbox.Policy(cpu_seconds=max(10, int(timeout) + 10), memory_bytes=self.memory_bytes,
                                processes=self.processes)
        confinement = self.provider.confine(workdir, policy)
        started = time.monotonic()
        proc: asyncio.subprocess.Process | None = None
        try:
            with open(stderr_path, "wb") as err:  # noqa: ASYNC230 (a local file, opened once)
                proc = await asyncio.create_subprocess_exec(
                    *confinement.command(code.command()), cwd=workdir, env=sandbox.clean_env(workdir),
                    stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=err,
                    **confinement.popen_kwargs())
            confinement.started(proc.pid)
            self.pids[result_id] = proc.pid
            try:
                # Wait for the task process itself: children it left behind are killed below.
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                return TaskOutcome(None, f"timed out after {timeout:.0f} s", 0.0, time.monotonic() - started)
            wall = time.monotonic() - started
            cpu_used = min(_read_cpu(workdir), wall * (os.cpu_count() or 1))
            if proc.returncode != 0:
                tail = _tail(stderr_path)
                how = (f"killed by {signal.Signals(-proc.returncode).name}" if proc.returncode < 0
                       else f"exit code {proc.returncode}")
                return TaskOutcome(None, f"{how}: {tail}", cpu_used, wall)
            out = workdir / "output"
            if not out.is_file() or out.is_symlink():
                return TaskOutcome(None, "the task wrote no output", cpu_used, wall)
            if out.stat().st_size > MAX_OUTPUT:
                return TaskOutcome(None, f"output larger than {MAX_OUTPUT} bytes", cpu_used, wall)
            return TaskOutcome(out.read_bytes(), "", cpu_used, wall)
        except (OSError, ValueError) as exc:  # includes a sandbox setup that failed in the child
            return TaskOutcome(None, f"could not start the task: {exc}", 0.0, time.monotonic() - started)
        finally:
            self.pids.pop(result_id, None)
            if proc is not None:
                await _stop(proc, confinement)
            confinement.close()
            shutil.rmtree(workdir, ignore_errors=True)
            stderr_path.unlink(missing_ok=True)


def _tail(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - STDERR_TAIL))
            return fh.read().decode(errors="replace").strip()
    except OSError:
        return ""


def _read_cpu(workdir: Path) -> float:
    try:
        untrusted = float(json.loads((workdir / "stats.json").read_text())["cpu_seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0
    return untrusted if 0.0 <= untrusted < 1e9 else 0.0


async def _stop(proc: asyncio.subprocess.Process, confinement: sandbox.Confinement) -> None:
    """SIGTERM (and SIGCONT, in case the throttle had stopped it), then kill everything."""
    if proc.returncode is None:
        for sig in (signal.SIGTERM, signal.SIGCONT) if os.name == "posix" else (signal.SIGTERM,):
            try:
                os.killpg(proc.pid, sig) if os.name == "posix" else proc.terminate()
            except (ProcessLookupError, PermissionError):
                pass
        try:
            await asyncio.wait_for(proc.wait(), 3)
        except TimeoutError:
            pass
    confinement.kill_all()
    if proc.returncode is None:
        await proc.wait()
