"""A coordinator process and agent processes on loopback, for end-to-end tests."""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coordinator.cli import processes
from coordinator.cli.admin import AdminClient

AGENT_POLL_MAX = "2"


@dataclass
class Cluster:
    root: Path
    database_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=processes.free_port)
    coordinator: subprocess.Popen[bytes] | None = None
    agents: list[subprocess.Popen[bytes]] = field(default_factory=list)
    admin: AdminClient | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_coordinator(self) -> None:
        self.coordinator = processes.start_coordinator(
            self.root / "coordinator", self.port, database_url=self.database_url,
            extra_env={"NEWRAL_REAPER_INTERVAL": "0.5", **self.env})
        processes.wait_healthy(self.url, self.coordinator)
        if self.admin is None:
            token = (self.root / "coordinator" / "admin-token").read_text().strip()
            self.admin = AdminClient(self.url, token)

    def kill_coordinator(self, sig: int = signal.SIGKILL) -> None:
        assert self.coordinator is not None
        self.coordinator.send_signal(sig)
        self.coordinator.wait(30)

    def start_agent(self, name: str, **kwargs: Any) -> subprocess.Popen[bytes]:
        """Starts an agent that polls for work at least every AGENT_POLL_MAX s and retries a
        failing coordinator at least as often (the defaults, 30 s and 60 s, suit a volunteer's
        machine; a test hands out work in bursts and restarts its coordinator at will)."""
        assert self.admin is not None
        token = self.admin.call("POST", "/enrolment-tokens", {"note": name})["token"]
        kwargs["extra_env"] = {"NEWRAL_AGENT_IDLE_POLL_MAX": AGENT_POLL_MAX, "NEWRAL_AGENT_BACKOFF_CAP": AGENT_POLL_MAX,
                               **(kwargs.get("extra_env") or {})}
        proc = processes.start_agent(self.url, token, self.root / name, name=name, **kwargs)
        self.agents.append(proc)
        return proc

    def status(self, project: str) -> dict[str, Any]:
        assert self.admin is not None
        return self.admin.call("GET", f"/projects/{project}")  # type: ignore[no-any-return]

    def wait_done(self, project: str, timeout: float = 180.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                status = self.status(project)
            except Exception:  # the coordinator may be restarting
                status = {"done": False}
            if status["done"]:
                return status
            for a in self.agents:
                assert a.poll() is None, f"an agent exited with {a.returncode}; logs in {self.root}"
            time.sleep(0.3)
        raise AssertionError(f"{project} not done after {timeout} s: {status}; logs in {self.root}")

    def close(self) -> None:
        for a in self.agents:
            processes.stop(a)
        if self.coordinator is not None:
            processes.stop(self.coordinator)
        if self.admin is not None:
            self.admin.close()
