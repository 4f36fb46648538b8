"""`newral-coordinator --workers 2` on PostgreSQL: one migration, one admin, and
both worker processes serve the same database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from coordinator.cli import processes

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

CAPS = {"platform": "linux", "arch": "x86_64", "cores": 1, "memory_bytes": 1 << 33,
        "disk_free_bytes": 1 << 36, "client_version": "0.1.0", "benchmark": 0.0}


def test_two_worker_processes(tmp_path: Path, pg_url: str) -> None:
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}"
    with open(tmp_path / "coordinator.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "coordinator.cli.serve", "--data-dir", str(tmp_path),
                                 "--bind", f"127.0.0.1:{port}", "--database-url", pg_url, "--workers", "2"],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=os.environ.copy())
    try:
        processes.wait_healthy(url, proc)
        assert len(_children(proc.pid)) == 2, "expected two worker processes"
        admin = {"Authorization": f"Bearer {(tmp_path / 'admin-token').read_text().strip()}"}
        with httpx.Client(base_url=url, timeout=30) as c:
            ids = set()
            for i in range(6):  # new connections: spread over both workers
                token = c.post("/api/v1/admin/enrolment-tokens", json={}, headers=admin).json()["token"]
                r = httpx.post(f"{url}/api/v1/enrol", json={"token": token, "name": f"n{i}", "capabilities": CAPS})
                assert r.status_code == 201, r.text
                ids.add(r.json()["node_id"])
            assert len(ids) == 6
            assert len(c.get("/api/v1/admin/nodes", headers=admin).json()) == 6
        # Each worker listens on its own socket (SO_REUSEPORT): held connections land on both.
        clients = [httpx.Client(base_url=url, timeout=30) for _ in range(24)]
        try:
            for client in clients:
                assert client.get("/health").status_code == 200
            held = {pid: _established(pid, port) for pid in _children(proc.pid)}
            assert sum(held.values()) >= 24 and min(held.values()) >= 3, held
        finally:
            for client in clients:
                client.close()
    finally:
        assert processes.stop(proc) == 0


def test_workers_die_with_their_supervisor(tmp_path: Path, pg_url: str) -> None:
    """SIGKILL to the supervisor leaves no worker serving the port."""
    port = processes.free_port()
    with open(tmp_path / "coordinator.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "coordinator.cli.serve", "--data-dir", str(tmp_path),
                                 "--bind", f"127.0.0.1:{port}", "--database-url", pg_url, "--workers", "2"],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=os.environ.copy())
    processes.wait_healthy(f"http://127.0.0.1:{port}", proc)
    kids = [psutil.Process(pid) for pid in _children(proc.pid)]
    assert len(kids) == 2
    proc.kill()
    proc.wait(10)
    gone, alive = psutil.wait_procs(kids, timeout=30)
    assert not alive, alive


def test_fresh_connections_spread_over_four_workers(tmp_path: Path, pg_url: str) -> None:
    """A listening socket per worker: the kernel hashes each connection to one of them.
    (uvicorn's shared socket put 128 connections as 44/5/37/42 on four workers.)"""
    port = processes.free_port()
    with open(tmp_path / "coordinator.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "coordinator.cli.serve", "--data-dir", str(tmp_path),
                                 "--bind", f"127.0.0.1:{port}", "--database-url", pg_url, "--workers", "4"],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=os.environ.copy())
    clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) for _ in range(128)]
    try:
        processes.wait_healthy(f"http://127.0.0.1:{port}", proc)
        deadline = time.monotonic() + 60
        while sum(_listening(pid, port) for pid in _children(proc.pid)) < 4:  # every worker is up
            assert time.monotonic() < deadline, "four workers did not all listen within a minute"
            time.sleep(0.2)
        for client in clients:
            assert client.get("/health").status_code == 200
        held = sorted(_established(pid, port) for pid in _children(proc.pid))
        assert sum(held) == 128 and held[0] >= 12, held  # 32 each on average
    finally:
        for client in clients:
            client.close()
        assert processes.stop(proc) == 0


def _listening(pid: int, port: int) -> int:
    return sum(1 for c in psutil.Process(pid).net_connections(kind="tcp")
               if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port)


def _children(pid: int) -> list[int]:
    return [p.pid for p in psutil.Process(pid).children() if "resource_tracker" not in " ".join(p.cmdline())]


def _established(pid: int, port: int) -> int:
    return sum(1 for c in psutil.Process(pid).net_connections(kind="tcp")
               if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port)


@pytest.mark.parametrize("parent, serves", [("os.getppid()", True), ("os.getppid() + 1", False)])
def test_a_worker_whose_supervisor_is_already_gone_does_not_serve(parent: str, serves: bool) -> None:
    """A supervisor killed while its worker was still starting sent it no signal (the
    worker had not yet asked for one): the worker must notice and stop by itself."""
    run = subprocess.run([sys.executable, "-c", "import os\nfrom coordinator.cli import workers\n"
                          f"workers._die_with_parent({parent})\nprint('serving')"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert ("serving" in run.stdout) == serves
