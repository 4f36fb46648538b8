"""`newral demo carmile [--bound 1e12]`: an embedded coordinator and two agents on
loopback run the Carmile workflow (plan → enumerate → verify → aggregate), then
print the count of Carmichael numbers below each power of ten and the time."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from coordinator.apps.bpsw_hunter import parse_int
from coordinator.apps.carmile import workflow_document
from coordinator.cli import processes
from coordinator.cli.admin import AdminClient, CliError
from cyext import carmichael_plan

# Carmichael numbers below 10^k (Pinch; OEIS A055553), for the check printed at the end.
KNOWN = {1: 0, 2: 0, 3: 1, 4: 7, 5: 16, 6: 43, 7: 105, 8: 255, 9: 646, 10: 1547, 11: 3605, 12: 8241, 13: 19279,
         14: 44706, 15: 105212, 16: 246683, 17: 585355, 18: 1401644}
TASK_OVERHEAD_SECONDS = 0.5  # starting a task process, leasing and reporting


def target_seconds(bound: int, agents: int) -> float:
    """Slices big enough to dwarf the per-task overhead, small enough to keep every agent busy."""
    estimate = sum(s.est_cost for s in carmichael_plan.plan(bound, 1e9))
    return max(TASK_OVERHEAD_SECONDS, estimate / (3 * agents))


def run(bound: str = "1e12", agents: int = 2, keep: bool = False) -> int:
    try:
        x = parse_int(bound)
    except ValueError:
        raise CliError(f"--bound must be an integer like 1e12, got {bound!r}") from None
    if not 1000 <= x <= 10**16:
        raise CliError("--bound must be between 1000 and 10^16 for the demo")
    root = Path(tempfile.mkdtemp(prefix="newral-carmile-"))
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}"
    print(f"Newral demo: Carmile to {x:,} on a coordinator at {url} with {agents} agents, data in {root}")
    coordinator = processes.start_coordinator(root / "coordinator", port)
    agent_procs = []
    admin = None
    started = time.monotonic()
    try:
        processes.wait_healthy(url, coordinator)
        admin = AdminClient(url, (root / "coordinator" / "admin-token").read_text().strip())
        admin.call("POST", "/projects", {"name": "carmile", "app": "carmile"})
        target = target_seconds(x, agents)
        workflow = admin.call("POST", "/projects/carmile/workflows", workflow_document(x, target))
        for i in range(agents):
            token = admin.call("POST", "/enrolment-tokens", {"note": f"demo agent {i + 1}"})["token"]
            agent_procs.append(processes.start_agent(url, token, root / f"agent{i + 1}", concurrency=1,
                                                     name=f"demo-agent-{i + 1}",
                                                     extra_env={"NEWRAL_AGENT_IDLE_POLL_MAX": "0.5"}))
        status = _follow(admin, workflow["id"], agent_procs, started, root)
        elapsed = time.monotonic() - started
        if status["state"] != "succeeded":
            print(f"The workflow {status['state']}: {status['failure_reason']}")
            return 1
        graph = admin.call("GET", f"/workflows/{workflow['id']}/graph?summaries=true")
        (agg,) = [n for n in graph["nodes"] if n["name"] == "aggregate"]
        return _report(x, agg, status, elapsed)
    finally:
        if admin is not None:
            admin.close()
        for p in agent_procs:
            processes.stop(p)
        processes.stop(coordinator)
        if keep:
            print(f"data kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def _follow(admin: AdminClient, workflow_id: int, agent_procs: list[Any], started: float,
            root: Path) -> dict[str, Any]:
    while True:
        status = admin.call("GET", f"/workflows/{workflow_id}")
        p = status["progress"]
        print(f"\r{status['state']:<9} tasks {p['complete']}/{p['tasks']} complete, {p['queued']} queued, "
              f"{time.monotonic() - started:6.1f} s", end="", flush=True)
        if status["state"] != "running":
            print()
            return status  # type: ignore[no-any-return]
        for proc in agent_procs:
            if proc.poll() is not None:
                raise CliError(f"an agent exited early (code {proc.returncode}); see {root}")
        time.sleep(0.3)


def _report(x: int, agg: dict[str, Any], status: dict[str, Any], elapsed: float) -> int:
    summary = agg["summary"]
    print(f"\nCarmichael numbers up to {x:,}: {summary['count']:,} "
          f"({status['progress']['tasks']} tasks; sorted list stored as object {agg['output_key']})")
    print(f"{'below':>10} {'count':>10}   known")
    ok = True
    for label, count in summary["below"].items():
        k = int(label.split("^")[1])
        known = KNOWN.get(k)
        mark = "" if known is None else ("ok" if known == count else f"MISMATCH (known {known:,})")
        ok = ok and (known is None or known == count)
        print(f"{'10^' + str(k):>10} {count:>10,}   {mark}")
    print(f"Time: {elapsed:.1f} s")
    return 0 if ok else 1
