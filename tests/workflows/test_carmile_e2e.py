"""Carmile through real processes: a coordinator server and two agents run the
plan → enumerate → aggregate workflow to 10^7 and list all 105 Carmichael numbers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinator.apps.carmile import workflow_document
from tests.e2e.cluster import Cluster

pytestmark = pytest.mark.e2e


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.close()


def test_two_agents_run_a_carmile_workflow(cluster: Cluster) -> None:
    cluster.start_coordinator()
    assert cluster.admin is not None
    cluster.admin.call("POST", "/projects", {"name": "carmile", "app": "carmile"})
    wid = cluster.admin.call("POST", "/projects/carmile/workflows", workflow_document(10**7, 0.0001))["id"]
    for name in ("a1", "a2"):
        cluster.start_agent(name, extra_env={"NEWRAL_AGENT_IDLE_POLL_MAX": "0.5"})
    deadline = time.monotonic() + 180
    while (status := cluster.admin.call("GET", f"/workflows/{wid}"))["state"] == "running":
        assert time.monotonic() < deadline, f"not done: {status}; logs in {cluster.root}"
        time.sleep(0.3)
    assert status["state"] == "succeeded", status
    graph = cluster.admin.call("GET", f"/workflows/{wid}/graph?summaries=true")
    (agg,) = [n for n in graph["nodes"] if n["name"] == "aggregate"]
    assert agg["summary"]["count"] == 105 and agg["summary"]["below"]["10^6"] == 43
    enumerations = [n for n in graph["nodes"] if n["parent"] == "plan"]
    assert len(enumerations) == status["progress"]["tasks"] - 2 > 1
    project = cluster.status("carmile")
    assert project["totals"]["carmichael_numbers"] == 105
    # The aggregate's agent fetched the enumerations' outputs as inputs (sha256-checked, cached).
    cached = {p.name for a in ("a1", "a2") for p in (cluster.root / a / "inputs").glob("*")
              if not p.name.startswith(".")}
    assert len(cached) >= len(enumerations)
