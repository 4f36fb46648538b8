"""Backends failing under a running coordinator with agents working, real processes:

- PostgreSQL restarted mid-run (a throwaway cluster of its own, stopped with
  `pg_ctl stop -m immediate`, i.e. like a crash, then started again);
- the S3 endpoint unreachable for a while: a TCP proxy in front of the moto server
  closes its port (connection refused) for a minute and listens again on the same
  port. The moto server keeps running behind it, as a real S3 keeps its data
  through a network outage.

While a backend is down, requests that need it fail with 503, a Retry-After and
a message naming the backend (never a 500 with a traceback); nothing is
half-written; afterwards the agents resume by themselves and the invariants in
invariants.py hold (every workunit validated exactly once, no credit twice)."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from cyext import bpsw_format
from tests.e2e.cluster import Cluster
from tests.faults import invariants
from tests.faults.backends import TcpProxy, ThrowawayPostgres
from tests.fixtures.s3 import S3Endpoint

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

START = 10**12
CHUNK = 20_000
CAPS = {"platform": "linux", "arch": "x86_64", "cores": 1, "memory_bytes": 1 << 33,
        "disk_free_bytes": 1 << 36, "client_version": "0.1.0", "benchmark": 0.0}


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    pg = ThrowawayPostgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.close()


def _submit(cluster: Cluster, workunits: int) -> int:
    assert cluster.admin is not None
    cluster.admin.call("POST", "/projects", {"name": "hunt", "app": "bpsw-hunter"})
    return int(cluster.admin.call("POST", "/projects/hunt/work", {
        "params": {"a": START, "b": START + workunits * CHUNK, "chunk": CHUNK}})["workunits"])


def _node(cluster: Cluster, name: str) -> dict[str, str]:
    assert cluster.admin is not None
    token = cluster.admin.call("POST", "/enrolment-tokens", {"note": name})["token"]
    body = httpx.post(f"{cluster.url}/api/v1/enrol", json={"token": token, "name": name, "capabilities": CAPS},
                      timeout=30).json()
    return {"Authorization": f"Bearer {body['node_id']}.{body['secret']}"}


def _wait_validated(cluster: Cluster, n: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while cluster.status("hunt")["workunits"]["validated"] < n:
        assert time.monotonic() < deadline, "the agents did not get going"
        time.sleep(0.1)


def _assert_unavailable(r: httpx.Response, backend: str) -> None:
    assert r.status_code == 503, r.text
    assert r.headers.get("retry-after", "").isdigit(), r.headers
    body = r.json()
    assert body["error"] == "unavailable" and backend in body["detail"], body
    assert "Traceback" not in r.text


def _output(a: dict) -> bytes:  # type: ignore[type-arg]
    return bpsw_format.encode(bpsw_format.run_sweep(int(a["params"]["a"]), int(a["params"]["b"])))


def _report(a: dict, data: bytes, inline: bool) -> dict:  # type: ignore[type-arg]
    body = {"result_id": a["result_id"], "outcome": "success", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), "wall_seconds": 1.0}
    if inline:
        body["output"] = base64.b64encode(data).decode()
    return body


def _healthy_logs(cluster: Cluster, agents: tuple[str, ...]) -> str:
    coordinator_log = (cluster.root / "coordinator" / "coordinator.log").read_text()
    assert "Traceback" not in coordinator_log, coordinator_log[-3000:]
    return "".join((cluster.root / a / "agent.log").read_text() for a in agents)


def _start_run(cluster: Cluster) -> tuple[int, dict[str, str]]:
    """A coordinator with 16 workunits, two agents working on them (three validated
    already), and a probe node's credentials: (workunits, probe headers)."""
    cluster.start_coordinator()
    total = _submit(cluster, 16)
    probe = _node(cluster, "probe")
    cluster.start_agent("agent1")
    cluster.start_agent("agent2")
    _wait_validated(cluster, 3)
    return total, probe


def test_postgres_restarted_mid_run(tmp_path: Path, own_postgres: ThrowawayPostgres) -> None:
    url = own_postgres.create_database("newral")
    cluster = Cluster(tmp_path, database_url=url)
    try:
        total, probe = _start_run(cluster)

        own_postgres.stop("immediate")  # like a crash: no clean shutdown, recovery on start
        with httpx.Client(base_url=cluster.url, timeout=30) as http:
            assert http.get("/health").status_code == 200  # the process itself is fine
            for _ in range(3):  # the pool's connections are dead, then new ones are refused
                _assert_unavailable(http.post("/api/v1/work/lease", json={"max_results": 1}, headers=probe),
                                    "database")
            admin = {"Authorization": "Bearer " + (tmp_path / "coordinator" / "admin-token").read_text().strip()}
            _assert_unavailable(http.get("/api/v1/admin/projects/hunt", headers=admin), "database")
        time.sleep(4)  # the agents hit the outage too, and back off
        own_postgres.start()

        status = cluster.wait_done("hunt", timeout=240)
        assert status["workunits"]["validated"] == total and status["workunits"]["failed"] == 0
        counts = invariants.check(url)
        assert counts["validated"] == counts["validated_events"] == total
        logs = _healthy_logs(cluster, ("agent1", "agent2"))
        assert "unavailable" in logs, "the agents should have noticed the database was gone"
        half = invariants.query(url, "SELECT id FROM results WHERE state = 'reported' AND verdict IS NULL")
        assert not half, f"results reported without a verdict: {half}"
    finally:
        cluster.close()


OUTAGE_SECONDS = 60  # the "down for a minute"


@pytest.mark.s3
def test_s3_endpoint_down_for_a_while(tmp_path: Path, pg_url: str, s3_endpoint: S3Endpoint) -> None:
    target = urlsplit(s3_endpoint.endpoint_url)
    proxy = TcpProxy(str(target.hostname), int(target.port or 80))
    proxy.up()
    # Outputs all go to S3 here (no database tier), so that reports depend on it; with the
    # tier, small inline outputs never touch S3 and would be accepted through the outage.
    env = {**invariants.s3_env(s3_endpoint), "NEWRAL_S3_ENDPOINT": proxy.url, "NEWRAL_DB_OBJECT_LIMIT": "0"}
    cluster = Cluster(tmp_path, database_url=pg_url, env=env)
    try:
        total, probe = _start_run(cluster)

        with httpx.Client(base_url=cluster.url, timeout=60) as http:
            r = http.post("/api/v1/work/lease", json={"max_results": 2}, headers=probe)
            assert r.status_code == 200, r.text
            mine = r.json()["assignments"]
            assert len(mine) == 2
            proxy.down()
            began = time.monotonic()
            # An inline output cannot be stored, an uploaded one cannot be fetched: 503 both.
            _assert_unavailable(http.post("/api/v1/work/report", json=_report(mine[0], _output(mine[0]), True),
                                          headers=probe), "object store")
            _assert_unavailable(http.post("/api/v1/work/report", json=_report(mine[1], _output(mine[1]), False),
                                          headers=probe), "object store")
            r = http.post("/api/v1/work/report-batch", headers=probe,
                          json={"reports": [_report(a, _output(a), True) for a in mine]})
            assert r.status_code == 200, r.text
            assert [x["status"] for x in r.json()["receipts"]] == [503, 503], r.text
            # Nothing of those reports was written: both results are still simply leased.
            ids = ",".join(str(a["result_id"]) for a in mine)
            rows = invariants.query(pg_url, f"SELECT state, verdict FROM results WHERE id IN ({ids})")
            assert rows == [{"state": "leased", "verdict": None}] * 2, rows
            time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - began)))
            proxy.up()
            r = http.post("/api/v1/work/report-batch", headers=probe,
                          json={"reports": [_report(a, _output(a), True) for a in mine]})
            assert r.status_code == 200 and all(x["ok"] for x in r.json()["receipts"]), r.text

        status = cluster.wait_done("hunt", timeout=240)
        assert status["workunits"]["validated"] == total and status["workunits"]["failed"] == 0
        counts = invariants.check(pg_url)
        assert counts["validated"] == counts["validated_events"] == total
        logs = _healthy_logs(cluster, ("agent1", "agent2"))
        assert "upload failed" in logs or "unavailable" in logs, "the agents should have noticed S3 was gone"
    finally:
        cluster.close()
        proxy.down()
