"""Signed task apps end to end: a maintainer signs with `newral app`, the coordinator
stores the bundle and hands it out with leases, an agent that pinned the project's
key runs only what verifies."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from client.agent.preferences import Preferences, ProjectEntry, save_preferences
from tests.e2e.cluster import Cluster

pytestmark = pytest.mark.e2e


def newral(cluster: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWRAL_KEY_PASSPHRASE": "correct horse", "NEWRAL_COORDINATOR": cluster.url,
           "NEWRAL_DATA_DIR": str(cluster.root / "coordinator")}
    return subprocess.run([sys.executable, "-m", "coordinator.cli.admin", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def signed_bundle(cluster: Cluster, tmp: Path, key: Path, version: str) -> Path:
    folder = tmp / f"bundle-{version}"
    folder.mkdir()
    (folder / "README.txt").write_text("BPSW-Hunter, the sweep shipped with the client\n")
    done = newral(cluster, "app", "sign", str(folder), "--key", str(key), "--project", "hunt",
                  "--app", "bpsw-hunter", "--version", version, "--entry", "builtin:bpsw-hunter")
    assert done.returncode == 0, done.stderr
    return folder


def test_pinned_key_runs_signed_code_and_refuses_a_foreign_signature(tmp_path: Path) -> None:
    c = Cluster(tmp_path)
    try:
        c.start_coordinator()
        assert c.admin is not None
        c.admin.call("POST", "/projects", {"name": "hunt", "app": "bpsw-hunter"})
        keygen = newral(c, "app", "keygen", str(tmp_path / "hunt.pem"))
        assert keygen.returncode == 0, keygen.stderr
        public = keygen.stdout.split('"public_key": "')[1].split('"')[0]
        assert "PRIVATE" not in keygen.stdout and "PRIVATE" not in keygen.stderr

        good = signed_bundle(c, tmp_path, tmp_path / "hunt.pem", "1.0")
        assert newral(c, "app", "publish", str(good)).returncode == 0
        c.admin.call("POST", "/projects/hunt/work", {"params": {"a": 0, "b": 30_000, "chunk": 10_000}})
        save_preferences(tmp_path / "agent1", Preferences().with_project("hunt", ProjectEntry(True, public)))
        c.start_agent("agent1")
        status = c.wait_done("hunt")
        assert status["workunits"]["validated"] == 3 and status["workunits"]["failed"] == 0

        # A bundle signed with another key (a compromised coordinator, say) is refused.
        assert newral(c, "app", "keygen", str(tmp_path / "evil.pem")).returncode == 0
        evil = signed_bundle(c, tmp_path, tmp_path / "evil.pem", "2.0")
        assert newral(c, "app", "publish", str(evil)).returncode == 0
        c.admin.call("POST", "/projects/hunt/work",
                     {"params": {"a": 30_000, "b": 40_000, "chunk": 10_000}, "max_error_results": 0,
                      "max_total_results": 1})
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and c.status("hunt")["workunits"]["failed"] == 0:
            time.sleep(0.3)
        status = c.status("hunt")
        assert status["workunits"]["failed"] == 1 and status["workunits"]["validated"] == 3
        log = (tmp_path / "agent1" / "agent.log").read_text()
        assert "task.refused" in log and "not signed by the key pinned" in log
    finally:
        c.close()


def test_publish_rejects_a_bundle_whose_files_do_not_match(tmp_path: Path) -> None:
    c = Cluster(tmp_path)
    try:
        c.start_coordinator()
        assert c.admin is not None
        c.admin.call("POST", "/projects", {"name": "hunt", "app": "bpsw-hunter"})
        assert newral(c, "app", "keygen", str(tmp_path / "k.pem")).returncode == 0
        folder = signed_bundle(c, tmp_path, tmp_path / "k.pem", "1.0")
        (folder / "README.txt").write_text("changed after signing\n")
        done = newral(c, "app", "publish", str(folder))
        assert done.returncode == 1 and "does not match" in done.stderr
    finally:
        c.close()
