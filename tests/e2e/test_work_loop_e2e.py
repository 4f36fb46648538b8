"""The whole loop with real processes: a coordinator server and two agents."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import gmpy2
import pytest

from coordinator.cli import processes
from tests.e2e.cluster import Cluster
from tests.fixtures.s3 import S3Endpoint

pytestmark = pytest.mark.e2e

TOP = 2**64


def expected(ranges: list[tuple[int, int]]) -> tuple[int, int]:
    primes = spsp = 0
    for a, b in ranges:
        for n in range(a, b):
            if gmpy2.is_prime(n):
                primes += 1
            elif n % 2 and n > 2 and gmpy2.is_strong_prp(n, 2):
                spsp += 1
    return primes, spsp


@pytest.fixture(params=["sqlite+local", "postgres+s3"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    if request.param == "postgres+s3":
        s3: S3Endpoint = request.getfixturevalue("s3_endpoint")
        c.database_url = request.getfixturevalue("pg_url")
        c.env = {"NEWRAL_OBJECT_STORE": f"s3://{s3.create_bucket()}",
                 "NEWRAL_S3_ENDPOINT": s3.endpoint_url, "NEWRAL_S3_ACCESS_KEY": s3.access_key,
                 "NEWRAL_S3_SECRET_KEY": s3.secret_key, "NEWRAL_S3_REGION": s3.region}
    try:
        yield c
    finally:
        c.close()


def _submit(c: Cluster, ranges: list[tuple[int, int]], chunk: int) -> int:
    assert c.admin is not None
    c.admin.call("POST", "/projects", {"name": "hunt", "app": "bpsw-hunter"})
    total = 0
    for a, b in ranges:
        total += c.admin.call("POST", "/projects/hunt/work",
                              {"params": {"a": str(a), "b": str(b), "chunk": chunk}})["workunits"]
    return total


def test_two_agents_sweep_and_totals_match_gmpy2(cluster: Cluster) -> None:
    ranges = [(0, 120_000), (TOP - 30_000, TOP)]
    cluster.start_coordinator()
    total = _submit(cluster, ranges, 10_000)
    a1, a2 = cluster.start_agent("agent1"), cluster.start_agent("agent2")
    status = cluster.wait_done("hunt")
    primes, spsp = expected(ranges)
    assert status["workunits"] == {"total": total, "validated": total, "active": 0, "failed": 0,
                                   "cancelled": 0, "running_results": 0}
    assert status["totals"]["primes"] == primes
    assert status["totals"]["spsp"] == spsp
    assert status["totals"]["bpsw_pseudoprimes"] == 0
    assert cluster.admin is not None
    nodes = cluster.admin.call("GET", "/nodes")
    assert len(nodes) == 2
    workers = {e["node_id"] for e in cluster.admin.call("GET", "/events?limit=1000")
               if e["kind"] == "result.reported"}
    assert len(workers) == 2, "both agents should have done work"

    # SIGTERM: each agent stops cleanly and leaves nothing half-written.
    for proc, name in ((a1, "agent1"), (a2, "agent2")):
        assert processes.stop(proc) == 0
        folder = cluster.root / name
        assert not list(folder.rglob("*.tmp"))
        assert not list((folder / "work").iterdir())
        assert "agent.stopped" in (folder / "agent.log").read_text()


def test_agents_ride_out_a_coordinator_crash(tmp_path: Path) -> None:
    c = Cluster(tmp_path)
    try:
        c.start_coordinator()
        total = _submit(c, [(10**12, 10**12 + 400_000)], 20_000)
        c.start_agent("agent1")
        c.start_agent("agent2")
        while c.status("hunt")["workunits"]["validated"] < 2:
            time.sleep(0.1)
        c.kill_coordinator(signal.SIGKILL)
        time.sleep(4)  # agents finish tasks, fail to report, back off
        c.start_coordinator()
        status = c.wait_done("hunt")
        assert status["workunits"]["validated"] == total and status["workunits"]["failed"] == 0
        primes, spsp = expected([(10**12, 10**12 + 400_000)])
        assert (status["totals"]["primes"], status["totals"]["spsp"]) == (primes, spsp)
        logs = (tmp_path / "agent1" / "agent.log").read_text() + (tmp_path / "agent2" / "agent.log").read_text()
        assert "unavailable" in logs  # they noticed, backed off and carried on
    finally:
        c.close()


def test_replicated_workunits_validate_by_quorum_on_postgres(tmp_path: Path, pg_url: str,
                                                              s3_endpoint: S3Endpoint) -> None:
    """Quorum 2 through real agents: new nodes are on probation, so every workunit
    runs on both and is accepted only when their outputs agree bit for bit."""
    c = Cluster(tmp_path, database_url=pg_url,
                env={"NEWRAL_OBJECT_STORE": f"s3://{s3_endpoint.create_bucket()}",
                     "NEWRAL_S3_ENDPOINT": s3_endpoint.endpoint_url,
                     "NEWRAL_S3_ACCESS_KEY": s3_endpoint.access_key,
                     "NEWRAL_S3_SECRET_KEY": s3_endpoint.secret_key, "NEWRAL_S3_REGION": s3_endpoint.region})
    try:
        c.start_coordinator()
        assert c.admin is not None
        c.admin.call("POST", "/projects", {"name": "hunt", "app": "bpsw-hunter"})
        made = c.admin.call("POST", "/projects/hunt/work", {"params": {"a": 0, "b": 60_000, "chunk": 10_000},
                                                          "min_quorum": 2, "target_results": 2})
        c.start_agent("agent1")
        c.start_agent("agent2")
        status = c.wait_done("hunt")
        assert status["workunits"]["validated"] == made["workunits"] == 6
        primes, spsp = expected([(0, 60_000)])
        assert (status["totals"]["primes"], status["totals"]["spsp"]) == (primes, spsp)
        events = c.admin.call("GET", "/events?limit=1000")
        validated = [e for e in events if e["kind"] == "workunit.validated"]
        assert len(validated) == 6 and all(e["data"]["quorum"] == 2 for e in validated)
        nodes = c.admin.call("GET", "/nodes")
        assert sorted(n["valid"] for n in nodes) == [6, 6]
        assert all(n["credit"] > 0 for n in nodes)
    finally:
        c.close()
