"""The agent's own disk as a fault: a corrupted spool, and its data folder full.
Both are detected and logged, the agent keeps running (no crash loop) and the
work gets done once the disk has room again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinator.cli import processes
from tests.e2e.cluster import Cluster
from tests.faults import invariants
from tests.fixtures.s3 import S3Endpoint

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.s3]

START = 10**12


@pytest.fixture
def cluster(tmp_path: Path, pg_url: str, s3_endpoint: S3Endpoint) -> Iterator[Cluster]:
    c = Cluster(tmp_path, database_url=pg_url, env=invariants.s3_env(s3_endpoint))
    try:
        c.start_coordinator()
        assert c.admin is not None
        c.admin.call("POST", "/projects", {"name": "hunt", "app": "bpsw-hunter"})
        yield c
    finally:
        c.close()


def _work(c: Cluster, workunits: int, chunk: int = 20_000, at: int = START) -> int:
    assert c.admin is not None
    return int(c.admin.call("POST", "/projects/hunt/work", {
        "params": {"a": at, "b": at + workunits * chunk, "chunk": chunk}})["workunits"])


def _wait_for(log: Path, text: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace") if log.exists() else ""
        if text in content:
            return content
        assert proc.poll() is None, f"the agent exited with {proc.returncode}:\n{content[-3000:]}"
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not in {log} after {timeout} s:\n{content[-3000:]}")


def test_corrupted_spool_is_set_aside_and_reported(cluster: Cluster, pg_url: str, tmp_path: Path) -> None:
    total = _work(cluster, 4)
    folder = tmp_path / "agent1"
    spool = folder / "spool"
    spool.mkdir(parents=True)
    (spool / "999.json").write_text('{"result_id": 999, "outcome": "succ')  # torn metadata
    (spool / "998.json").write_text(json.dumps({   # metadata fine, output bytes corrupted
        "result_id": 998, "outcome": "success", "sha256": "ab" * 32, "size": 5, "cpu_seconds": 1.0,
        "wall_seconds": 1.0, "error": "", "deadline_at": time.time() + 3600, "upload": None}))
    (spool / "998.out").write_bytes(b"rot!!")
    agent = cluster.start_agent("agent1")
    log = folder / "agent.log"
    _wait_for(log, "spool.corrupt file=999.json", agent)
    _wait_for(log, "spool.output_corrupt result=998", agent)
    _wait_for(log, "report.refused result=998", agent)  # not ours: the coordinator says so
    assert (spool / "999.corrupt").exists(), "the torn file is kept aside for a human, not retried"
    status = cluster.wait_done("hunt")
    assert status["workunits"]["validated"] == total
    invariants.check(pg_url)
    assert log.read_text().count("agent.started") == 1, "the agent restarted: a crash loop"


def _mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here to fill a disk ({r.stderr.strip()}); "
                    "this test needs root with CAP_SYS_ADMIN, as in CI")


def _fill(where: Path, stop: threading.Event) -> None:
    """Writes filler until not one more byte fits, and again whenever the agent frees
    some (it deletes finished work), until `stop` is set."""
    n = 0
    while not stop.is_set():
        for size in (1 << 16, 512, 1):
            n += 1
            fd = os.open(where / f"filler{n}", os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
            finally:
                os.close(fd)
        stop.wait(0.02)


def test_disk_full_in_the_agent_data_folder(cluster: Cluster, pg_url: str, tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "16m")
    agent = None
    stop = threading.Event()
    try:
        assert cluster.admin is not None
        token = cluster.admin.call("POST", "/enrolment-tokens", {"note": "full"})["token"]
        log = tmp_path / "agent-full.log"
        cmd = [sys.executable, "-m", "client.agent.cli", "--coordinator", cluster.url, "--token", token,
               "--data-dir", str(disk / "agent"), "--concurrency", "1", "--name", "full", "--no-keyring"]
        with open(log, "ab") as out:
            agent = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                     env=os.environ.copy())
        first = _work(cluster, 2)
        _wait_for(log, "report.accepted", agent)
        filler = threading.Thread(target=_fill, args=(disk, stop), daemon=True)
        filler.start()
        more = _work(cluster, 6, at=START + 10**9)
        time.sleep(8)  # the agent meets the full disk
        assert agent.poll() is None, "the agent died on a full disk"
        text = log.read_text(errors="replace")
        assert "task.disk_error" in text and "No space left on device" in text
        assert "Task exception was never retrieved" not in text
        leased_while_full = text.count("task.started")
        time.sleep(4)
        text = log.read_text(errors="replace")
        assert text.count("task.started") - leased_while_full <= 2, "leasing and failing in a loop"
        stop.set()
        filler.join(10)
        for f in disk.glob("filler*"):
            f.unlink()
        # The errored workunits are retried on another machine (never twice on one node).
        cluster.start_agent("helper")
        status = cluster.wait_done("hunt", timeout=240)
        assert status["workunits"]["validated"] == first + more
        invariants.check(pg_url)
    finally:
        stop.set()
        if agent is not None:
            processes.stop(agent)
        subprocess.run(["umount", "-l", str(disk)], check=False)
