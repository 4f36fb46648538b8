"""The README's demo command, small: real coordinator and agent processes, right totals."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_demo_sweeps_and_checks_its_totals() -> None:
    done = subprocess.run([sys.executable, "-m", "coordinator.cli.admin", "demo", "--bound", "1e6",
                           "--chunk", "1e5"], capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Primes:                         78,498" in done.stdout
    assert "Prime count matches the known value 78,498" in done.stdout
    assert "Replicas computed per workunit:" in done.stdout
