"""An embedded coordinator and agents on loopback, for the demos: started in a
temporary folder, stopped (and the folder removed unless kept) however the demo ends."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from coordinator.cli import processes
from coordinator.cli.admin import AdminClient, CliError


@dataclass
class LocalRun:
    root: Path
    url: str
    admin: AdminClient
    agents: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_agents(self, count: int, extra_env: dict[str, str] | None = None) -> None:
        """`count` agents, one task each, enrolled with fresh tokens."""
        for i in range(1, count + 1):
            token = self.admin.call("POST", "/enrolment-tokens", {"note": f"demo agent {i}"})["token"]
            self.agents.append(processes.start_agent(self.url, token, self.root / f"agent{i}", concurrency=1,
                                                     name=f"demo-agent-{i}", extra_env=extra_env))

    def check_agents(self) -> None:
        for proc in self.agents:
            if proc.poll() is not None:
                raise CliError(f"an agent exited early (code {proc.returncode}); see {self.root}")


@contextmanager
def local_run(prefix: str, keep: bool, describe: str) -> Iterator[LocalRun]:
    """Starts the coordinator; prints `describe` (with {url} and {root} filled in) first."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}"
    print(describe.format(url=url, root=root))
    coordinator = processes.start_coordinator(root / "coordinator", port)
    run: LocalRun | None = None
    try:
        processes.wait_healthy(url, coordinator)
        run = LocalRun(root, url, AdminClient(url, (root / "coordinator" / "admin-token").read_text().strip()))
        yield run
    finally:
        if run is not None:
            run.admin.close()
            for proc in run.agents:
                processes.stop(proc)
        processes.stop(coordinator)
        if keep:
            print(f"data kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
