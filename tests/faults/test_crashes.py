"""Faults with real processes on PostgreSQL and S3: a coordinator killed with
SIGKILL and restarted, two coordinators sharing one database, an agent killed
mid-task and brought back. After each, the invariants in invariants.py hold:
every workunit validated exactly once, no credit granted twice, no result leased
twice at once."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from coordinator.cli import processes
from coordinator.cli.admin import AdminClient
from tests.e2e.cluster import Cluster
from tests.faults import invariants
from tests.fixtures.s3 import S3Endpoint

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.s3]

START = 10**12
CAPS = {"platform": "linux", "arch": "x86_64", "cores": 1, "memory_bytes": 1 << 33,
        "disk_free_bytes": 1 << 36, "client_version": "0.1.0", "benchmark": 0.0}


@pytest.fixture
def cluster(tmp_path: Path, pg_url: str, s3_endpoint: S3Endpoint) -> Iterator[Cluster]:
    c = Cluster(tmp_path, database_url=pg_url, env=invariants.s3_env(s3_endpoint))
    try:
        yield c
    finally:
        c.close()


def _submit(admin: AdminClient, workunits: int, chunk: int = 20_000, delay_bound: float = 3600.0) -> int:
    admin.call("POST", "/projects", {"name": "hunt", "app": "bpsw-hunter"})
    return int(admin.call("POST", "/projects/hunt/work", {
        "params": {"a": START, "b": START + workunits * chunk, "chunk": chunk},
        "delay_bound": delay_bound})["workunits"])


def _events(admin: AdminClient, kind: str) -> list[dict]:  # type: ignore[type-arg]
    return [e for e in admin.call("GET", "/events?limit=1000") if e["kind"] == kind]


def test_coordinator_killed_mid_run_and_restarted(cluster: Cluster, pg_url: str) -> None:
    cluster.start_coordinator()
    assert cluster.admin is not None
    total = _submit(cluster.admin, 16)
    cluster.start_agent("agent1")
    cluster.start_agent("agent2")
    while cluster.status("hunt")["workunits"]["validated"] < 3:
        time.sleep(0.1)
    cluster.kill_coordinator(signal.SIGKILL)
    time.sleep(3)  # agents finish what they hold, fail to report, back off
    cluster.start_coordinator()
    status = cluster.wait_done("hunt")
    assert status["workunits"]["validated"] == total and status["workunits"]["failed"] == 0
    counts = invariants.check(pg_url)
    assert counts["validated"] == counts["validated_events"] == total
    logs = "".join((cluster.root / a / "agent.log").read_text() for a in ("agent1", "agent2"))
    assert "unavailable" in logs, "the agents should have noticed the coordinator was gone"
    # They reconnected by themselves: both reported after the restart.
    assert logs.count("report.accepted") >= total


def test_two_coordinators_share_one_database_and_store(cluster: Cluster, pg_url: str, tmp_path: Path) -> None:
    cluster.start_coordinator()
    assert cluster.admin is not None
    total = _submit(cluster.admin, 24, delay_bound=10.0)
    second_port = processes.free_port()
    second = processes.start_coordinator(tmp_path / "coordinator2", second_port, database_url=pg_url,
                                         extra_env={"NEWRAL_REAPER_INTERVAL": "0.5", **cluster.env})
    second_url = f"http://127.0.0.1:{second_port}"
    try:
        processes.wait_healthy(second_url, second)
        # A race first: 16 nodes lease at once, half through each coordinator; no slot twice.
        token = lambda: cluster.admin.call("POST", "/enrolment-tokens", {"note": "racer"})["token"]  # type: ignore[union-attr]  # noqa: E731
        racers = []
        with httpx.Client(timeout=30) as http:
            for i in range(16):
                url = cluster.url if i % 2 else second_url
                body = http.post(f"{url}/api/v1/enrol", json={"token": token(), "name": f"racer{i}",
                                                              "capabilities": CAPS}).json()
                racers.append((url, {"Authorization": f"Bearer {body['node_id']}.{body['secret']}"}))
        import concurrent.futures

        def grab(arg: tuple[str, dict[str, str]]) -> list[int]:
            url, auth = arg
            r = httpx.post(f"{url}/api/v1/work/lease", json={"max_results": 2}, headers=auth, timeout=30)
            assert r.status_code == 200, r.text
            return [a["result_id"] for a in r.json()["assignments"]]

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            leased = [rid for ids in pool.map(grab, racers) for rid in ids]
        assert leased and len(leased) == len(set(leased)), f"a result was leased twice: {sorted(leased)}"
        # The racers never report: their leases expire (10 s) and real agents, split between
        # the two coordinators, do all the work.
        for name, url in (("agent1", cluster.url), ("agent2", second_url)):
            tok = cluster.admin.call("POST", "/enrolment-tokens", {"note": name})["token"]
            # Polling at least every second, so the first agent to find work can't finish it
            # all while the other waits out a long idle back-off.
            cluster.agents.append(processes.start_agent(url, tok, tmp_path / name, name=name,
                                                        extra_env={"NEWRAL_AGENT_IDLE_POLL_MAX": "1"}))
        status = cluster.wait_done("hunt", timeout=240)
        assert status["workunits"]["validated"] == total
        counts = invariants.check(pg_url)
        assert counts["validated_events"] == total
        assert counts["expired"] >= len(leased)
        reporters = {e["node_id"] for e in _events(cluster.admin, "result.reported")}
        assert len(reporters) == 2, "both agents, one per coordinator, should have done work"
    finally:
        processes.stop(second)


def test_agent_killed_mid_task_its_lease_is_reissued_and_stale_work_refused(
        cluster: Cluster, pg_url: str, tmp_path: Path) -> None:
    cluster.start_coordinator()
    assert cluster.admin is not None
    # Big workunits so the kill lands mid-task; a short deadline so the lease comes back soon.
    total = _submit(cluster.admin, 3, chunk=3_000_000, delay_bound=12.0)
    victim = cluster.start_agent("victim")
    deadline = time.monotonic() + 60
    while not (leases := _events(cluster.admin, "result.leased")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert leases, "the victim never leased"
    while "task.started" not in (tmp_path / "victim" / "agent.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    cluster.agents.remove(victim)
    victim_node = leases[0]["node_id"]
    held = {e["result_id"] for e in leases if e["node_id"] == victim_node}
    cluster.start_agent("helper")
    status = cluster.wait_done("hunt", timeout=240)
    assert status["workunits"]["validated"] == total
    expired = {e["result_id"] for e in _events(cluster.admin, "result.expired")}
    assert held <= expired, "the killed agent's leases should have expired and been reissued"
    # The victim comes back with a result it finished just before dying (planted in its
    # spool): the coordinator refuses it as stale and the agent drops it, no crash loop.
    stale = min(held)
    spool = tmp_path / "victim" / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    (spool / f"{stale}.json").write_text(json.dumps({
        "result_id": stale, "outcome": "error", "sha256": "", "size": 0, "cpu_seconds": 1.0,
        "wall_seconds": 1.0, "error": "finished too late", "deadline_at": 0.0, "upload": None}))
    before = invariants.check(pg_url)
    back = processes.start_agent(cluster.url, "", tmp_path / "victim", name="victim")
    cluster.agents.append(back)
    log = tmp_path / "victim" / "agent.log"
    deadline = time.monotonic() + 60
    while f"report.refused result={stale}" not in log.read_text() and time.monotonic() < deadline:
        assert back.poll() is None, log.read_text()[-2000:]
        time.sleep(0.2)
    assert f"report.refused result={stale}" in log.read_text()
    assert "lease" in log.read_text().split(f"report.refused result={stale}", 1)[1][:300]
    assert not (spool / f"{stale}.json").exists()
    assert invariants.check(pg_url) == before, "a stale report changed the outcome"
    reported = [e for e in _events(cluster.admin, "result.reported") if e["result_id"] == stale]
    assert not reported


def test_agent_killed_and_restarted_at_once_gets_its_lost_leases_back(
        cluster: Cluster, pg_url: str, tmp_path: Path) -> None:
    cluster.start_coordinator()
    assert cluster.admin is not None
    # An hour's deadline: without the resend, the killed tasks' work would wait that long.
    total = _submit(cluster.admin, 2, chunk=3_000_000)
    victim = cluster.start_agent("victim")
    log = tmp_path / "victim" / "agent.log"
    deadline = time.monotonic() + 60
    while "task.started" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    cluster.agents.remove(victim)
    leased = {e["result_id"] for e in _events(cluster.admin, "result.leased")}
    cluster.agents.append(processes.start_agent(cluster.url, "", tmp_path / "victim", name="victim"))
    status = cluster.wait_done("hunt", timeout=120)
    assert status["workunits"]["validated"] == total and status["workunits"]["failed"] == 0
    resent = {e["result_id"] for e in _events(cluster.admin, "result.resent")}
    assert resent and resent <= leased, (resent, leased)
    assert not _events(cluster.admin, "result.expired"), "the lost work came back; nothing had to expire"
    counts = invariants.check(pg_url)
    assert counts["validated"] == counts["validated_events"] == total
