"""The managed install layout: switching, self-test, rollback, the boot guard. The
client versions are real executables started as real processes."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest

from client.updater.install import MAX_TRIAL_BOOTS, Installation
from tests.updates.helpers import ENTRY, fake_client, write_exe


def _installed(tmp_path: Path) -> Installation:
    exe = write_exe(tmp_path / "build" / ENTRY, fake_client("0.1.0"))
    return Installation.create(tmp_path / "app", "0.1.0", {ENTRY: exe}, ENTRY)


def _launch(inst: Installation) -> str:
    """What a desktop shortcut does: start <root>/current/newral-client."""
    out = subprocess.run([str(inst.link / ENTRY)], capture_output=True, check=True, timeout=30)
    return out.stdout.decode().strip()


def _stage(inst: Installation, tmp_path: Path, version: str, selftest_exit: int) -> None:
    exe = write_exe(tmp_path / "dl" / version / ENTRY, fake_client(version, selftest_exit))
    inst.stage(version, {ENTRY: exe}, ENTRY)


def test_fresh_install_runs_and_is_detected_from_its_executable(tmp_path: Path) -> None:
    inst = _installed(tmp_path)
    assert _launch(inst) == "newral-client 0.1.0"
    found = Installation.detect(str(inst.link / ENTRY))
    assert found is not None and found.root == inst.root
    assert Installation.detect(str(tmp_path / "build" / ENTRY)) is None


def test_a_working_new_version_is_switched_to_and_confirmed(tmp_path: Path) -> None:
    inst = _installed(tmp_path)
    _stage(inst, tmp_path, "0.2.0", selftest_exit=0)
    inst.activate("0.2.0")
    assert inst.self_test("0.2.0", timeout=30).ok
    assert _launch(inst) == "newral-client 0.2.0"
    assert inst.state().status == "trial"
    inst.confirm()
    st = inst.state()
    assert (st.current, st.previous, st.status) == ("0.2.0", "0.1.0", "good")
    # Another update later: the oldest version is pruned once the newer trial ends.
    _stage(inst, tmp_path, "0.3.0", selftest_exit=0)
    inst.activate("0.3.0")
    inst.confirm()
    assert sorted(p.name for p in inst.versions.iterdir()) == ["0.2.0", "0.3.0"]


def test_a_new_version_that_fails_to_start_is_rolled_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    inst = _installed(tmp_path)
    _stage(inst, tmp_path, "0.2.0", selftest_exit=3)
    inst.activate("0.2.0")
    result = inst.self_test("0.2.0", timeout=30)
    assert not result.ok and "exit code 3" in result.detail
    with caplog.at_level(logging.INFO, "newral.updater"):
        restored = inst.rollback(result.detail)
    assert restored == "0.1.0"
    assert "update.rolled_back version=0.2.0 restored=0.1.0 reason=self-test exit code 3" in caplog.text
    assert _launch(inst) == "newral-client 0.1.0"
    st = inst.state()
    assert (st.current, st.status, st.bad, st.highest_seen) == ("0.1.0", "good", ["0.2.0"], "0.2.0")


def test_a_self_test_that_hangs_counts_as_a_failed_start(tmp_path: Path) -> None:
    inst = _installed(tmp_path)
    exe = write_exe(tmp_path / "dl" / ENTRY, b"#!/bin/sh\nexec sleep 30\n")
    inst.stage("0.2.0", {ENTRY: exe}, ENTRY)
    result = inst.self_test("0.2.0", timeout=0.5)
    assert not result.ok and "did not finish" in result.detail


def test_boot_guard_rolls_back_a_version_that_never_confirms(tmp_path: Path) -> None:
    inst = _installed(tmp_path)
    _stage(inst, tmp_path, "0.2.0", selftest_exit=0)
    inst.activate("0.2.0")
    for _ in range(MAX_TRIAL_BOOTS):
        assert inst.boot("0.2.0") is None  # started, crashed before confirming
    assert inst.boot("0.2.0") == "0.1.0"
    assert _launch(inst) == "newral-client 0.1.0"
    assert inst.state().bad == ["0.2.0"]
    # A confirmed version is never rolled back by the guard.
    _stage(inst, tmp_path, "0.3.0", selftest_exit=0)
    inst.activate("0.3.0")
    inst.confirm()
    for _ in range(MAX_TRIAL_BOOTS + 2):
        assert inst.boot("0.3.0") is None
