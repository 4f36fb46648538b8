"""The agent against a real coordinator process, with injected host readings:
going on battery suspends the running task and mains power resumes it; a task
whose app fails the signature check is refused and reported as an error."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from client.agent import appsign
from client.agent.api import CoordinatorClient
from client.agent.config import load_config
from client.agent.loop import Agent
from client.agent.preferences import Preferences, ProjectEntry, UsageLimits
from client.agent.probes import FixedProbes
from tests.client.conftest import long_work, token
from tests.e2e.cluster import Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "condition not reached in time"
        await asyncio.sleep(0.05)


async def start_agent(c: Cluster, data: Path, prefs: Preferences, probes: FixedProbes,
                      clock: Callable[[], float] = time.time) -> tuple[Agent, asyncio.Task]:
    enrol = CoordinatorClient(c.url)
    creds = await enrol.enrol(token(c), "laptop", {"platform": "linux", "arch": "x86_64", "cores": 2,
                                                    "memory_bytes": 8 << 30, "disk_free_bytes": 10 << 30,
                                                    "client_version": "0.1.0"})
    await enrol.close()
    cfg = load_config(environ={}, coordinator=c.url, data_dir=data, concurrency=1, heartbeat_interval=5.0)
    agent = Agent(cfg, CoordinatorClient(c.url, creds), prefs=prefs, probes=probes, limits_interval=0.2,
                  clock=clock)
    return agent, asyncio.create_task(agent.run())


async def stop(agent: Agent, task: asyncio.Task) -> None:
    agent.stop()
    await asyncio.wait_for(task, 30)
    await agent.client.close()


def stopped(pid: int) -> bool:
    return psutil.Process(pid).status() == psutil.STATUS_STOPPED


async def test_going_on_battery_suspends_the_running_task_and_mains_resumes_it(cluster: Cluster,
                                                                              tmp_path: Path) -> None:
    long_work(cluster)
    probes = FixedProbes(on_battery=False, battery_percent=80, idle=0.0)
    prefs = Preferences(in_use=UsageLimits(1, 100, 90), pause_on_battery=True)
    agent, running = await start_agent(cluster, tmp_path / "agent", prefs, probes)
    try:
        await until(lambda: bool(agent.runner.pids))
        pid = next(iter(agent.runner.pids.values()))
        await until(lambda: psutil.Process(pid).cpu_times().user > 0.3)
        assert not stopped(pid) and agent.snapshot().state == "running"

        probes.on_battery = True
        await until(lambda: stopped(pid))
        snap = agent.snapshot()
        assert snap.state == "paused" and snap.status == "paused: on battery"
        assert [t.state for t in snap.tasks] == ["suspended"]
        cpu = psutil.Process(pid).cpu_times().user
        await asyncio.sleep(1.0)
        assert psutil.Process(pid).cpu_times().user == cpu  # really not running

        probes.on_battery = False
        await until(lambda: not stopped(pid))
        await until(lambda: psutil.Process(pid).cpu_times().user > cpu + 0.2)
        assert agent.snapshot().state == "running"
    finally:
        await stop(agent, running)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


async def test_a_task_failing_the_signature_check_is_refused_and_reported(cluster: Cluster,
                                                                          tmp_path: Path) -> None:
    long_work(cluster, max_error_results=0, max_total_results=1)
    public = appsign.generate_keypair(tmp_path / "hunt.pem")
    prefs = Preferences().with_project("hunt", ProjectEntry(True, public))  # pinned: bundles required
    agent, running = await start_agent(cluster, tmp_path / "agent", prefs, FixedProbes(idle=0.0))
    try:
        await until(lambda: agent.stats.reported >= 1)
        assert agent.runner.pids == {} and agent.stats.finished == 0
        assert "refused a task of hunt" in agent.snapshot().last_error
        status = cluster.status("hunt")
        assert status["workunits"].get("failed") == 1, status
    finally:
        await stop(agent, running)


async def test_work_let_go_for_a_passed_deadline_is_not_sent_back_again_and_again(cluster: Cluster,
                                                                                  tmp_path: Path) -> None:
    # The agent's clock is two hours ahead of the coordinator's: it finds the lease's deadline
    # (an hour) already passed and lets the work go unreported. The coordinator still counts
    # it as leased; the agent lists it as held, so it is not sent back over and over.
    long_work(cluster, delay_bound=3600)
    agent, running = await start_agent(cluster, tmp_path / "agent", Preferences(), FixedProbes(idle=0.0),
                                       clock=lambda: time.time() + 7200)
    try:
        await until(lambda: agent.stats.leased >= 1)
        await asyncio.sleep(3.0)  # several lease rounds (the idle back-off starts at a second)
        assert agent.stats.leased == 1 and agent.runner.pids == {}
        assert cluster.status("hunt")["workunits"].get("active") == 1
        assert cluster.admin is not None
        kinds = [e["kind"] for e in cluster.admin.call("GET", "/events?limit=1000")]
        assert kinds.count("result.leased") == 1 and "result.resent" not in kinds
    finally:
        await stop(agent, running)
