"""Builds the Linux client with PyInstaller (installers/build-linux.sh) and smoke-tests
the one executable with no Python of ours around it: it installs itself, runs a task
in its worker mode, and headless against a real coordinator process it enrols, runs
BPSW workunits and reports them. Takes minutes: `slow` and `e2e`."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import gmpy2
import pytest

from client.agent.host import CLIENT_VERSION
from coordinator.cli import processes
from cyext import bpsw_format
from tests.e2e.cluster import Cluster

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("coordinator", "litestar", "sqlalchemy", "alembic", "boto3", "botocore", "aioboto3",
             "uvicorn", "asyncpg", "aiosqlite", "msgspec")


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("frozen")
    started = time.monotonic()
    proc = subprocess.run(["bash", str(ROOT / "installers" / "build-linux.sh"), "--out", str(out / "dist"),
                           "--work", str(out / "work")], cwd=ROOT, capture_output=True, timeout=1200,
                          check=False)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    print(f"\nfrozen build took {time.monotonic() - started:.0f} s")
    return out / "dist" / "newral-client"


def _clean_env(home: Path) -> dict[str, str]:
    """No virtualenv, no PYTHONPATH: the program must carry everything it needs."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
            "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")}


def test_the_build_carries_no_coordinator_code(frozen: Path) -> None:
    listing = subprocess.run([str(ROOT / ".venv" / "bin" / "pyi-archive_viewer"), "-r", "-b", str(frozen)],
                             capture_output=True, check=True, timeout=300).stdout.decode()
    modules = {line.strip().split(".")[0] for line in listing.splitlines()}
    assert "client" in modules and "cyext" in modules and "gmpy2" in modules
    assert not modules & set(FORBIDDEN), modules & set(FORBIDDEN)


def test_installs_itself_and_runs_tasks_in_worker_mode(frozen: Path, tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    out = subprocess.run([str(frozen), "--newral-install", "--autostart"], env=env, capture_output=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr.decode()
    installed = tmp_path / "data" / "newral-client"
    launcher = installed / "current" / "newral-client"
    assert (tmp_path / "config" / "autostart" / "org.newral.Client.desktop").read_text().count(str(launcher)) == 1
    assert str(launcher) in (tmp_path / "data" / "applications" / "org.newral.Client.desktop").read_text()
    assert json.loads((installed / "update-state.json").read_text())["current"] == CLIENT_VERSION
    version = subprocess.run([str(launcher), "--newral-version"], env=env, capture_output=True, timeout=120,
                             check=True)
    assert version.stdout.decode().strip() == CLIENT_VERSION

    work = tmp_path / "task"
    work.mkdir()
    (work / "params.json").write_text(json.dumps({"a": 10**12, "b": 10**12 + 20000}))
    expected = bpsw_format.encode(bpsw_format.run_sweep(10**12, 10**12 + 20000))
    # Both forms a runner may use: client.frozen.task_command(), and `sys.executable -I -B -m ...`.
    for cmd in ([str(launcher), "--newral-task", "bpsw-hunter", "params.json", "output"],
                [str(launcher), "-I", "-B", "-m", "client.taskapps.run", "bpsw-hunter", "params.json", "output"]):
        (work / "output").unlink(missing_ok=True)
        proc = subprocess.run(cmd, cwd=work, env={**env, "TMPDIR": str(work)}, capture_output=True, timeout=300,
                              check=False)
        assert proc.returncode == 0, proc.stderr.decode()
        assert (work / "output").read_bytes() == expected


def test_headless_client_enrols_runs_bpsw_work_and_reports(frozen: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    cluster = Cluster(tmp_path / "cluster")
    try:
        cluster.start_coordinator()
        assert cluster.admin is not None
        cluster.admin.call("POST", "/projects", {"name": "hunt", "app": "bpsw-hunter"})
        a, b = 10**12, 10**12 + 60_000
        cluster.admin.call("POST", "/projects/hunt/work", {"params": {"a": str(a), "b": str(b), "chunk": 20_000}})
        token = cluster.admin.call("POST", "/enrolment-tokens", {"note": "frozen"})["token"]
        data = tmp_path / "agent"
        data.mkdir()
        with open(data / "agent.log", "wb") as log:
            agent = subprocess.Popen(
                [str(frozen), "--headless", "--coordinator", cluster.url, "--token", token, "--data-dir",
                 str(data), "--no-keyring", "--concurrency", "1", "--name", "frozen"],
                env=_clean_env(tmp_path), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        cluster.agents.append(agent)
        status = cluster.wait_done("hunt", timeout=240)
        primes = sum(1 for n in range(a, b) if gmpy2.is_prime(n))
        assert status["workunits"]["validated"] == 3 and status["workunits"]["failed"] == 0
        assert status["totals"]["primes"] == primes
        nodes = cluster.admin.call("GET", "/nodes")
        assert [n["name"] for n in nodes] == ["frozen"]
        assert processes.stop(agent) == 0
        logs = (data / "agent.log").read_text()
        assert "enrol.ok" in logs and "report.accepted" in logs and "agent.stopped" in logs
    finally:
        cluster.close()
    print(f"\nfrozen smoke run took {time.monotonic() - started:.0f} s")
    assert os.path.exists(frozen)
