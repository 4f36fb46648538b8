"""Starting and stopping a coordinator and agents as real processes on loopback:
used by `newral demo` and by the end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_coordinator(data_dir: Path, port: int, *, database_url: str | None = None,
                      extra_env: dict[str, str] | None = None, log_file: Path | None = None) -> subprocess.Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **(extra_env or {})}
    cmd = [sys.executable, "-m", "coordinator.cli.serve", "--data-dir", str(data_dir),
           "--bind", f"127.0.0.1:{port}"]
    if database_url:
        cmd += ["--database-url", database_url]
    return _spawn(cmd, env, log_file or data_dir / "coordinator.log")


def wait_healthy(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the coordinator exited with code {proc.returncode} while starting")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the coordinator at {url} did not answer within {timeout:.0f} s")


def start_agent(coordinator_url: str, token: str, data_dir: Path, *, concurrency: int = 1,
                name: str = "agent", extra_args: list[str] | None = None,
                extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **(extra_env or {})}
    cmd = [sys.executable, "-m", "client.agent.cli", "--coordinator", coordinator_url, "--token", token,
           "--data-dir", str(data_dir), "--concurrency", str(concurrency), "--name", name,
           "--no-keyring", *(extra_args or [])]
    return _spawn(cmd, env, data_dir / "agent.log")


def _spawn(cmd: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Starts cmd in its own session with output appended to log_path."""
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    """SIGTERM, then SIGKILL if it does not end in time. Returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
