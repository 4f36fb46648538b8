"""`newral demo carmile [--bound 1e12]`: an embedded coordinator and two agents on
loopback run the Carmile workflow (plan → enumerate → verify → aggregate), then
print the count of Carmichael numbers below each power of ten and the time."""

from __future__ import annotations

import time
from typing import Any

from coordinator.apps.bpsw_hunter import parse_int
from coordinator.apps.carmile import workflow_document
from coordinator.cli import local_run
from coordinator.cli.admin import CliError
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
    started = time.monotonic()
    with local_run.local_run("newral-carmile-", keep, f"Newral demo: Carmile to {x:,} on a coordinator at "
                             f"{{url}} with {agents} agents, data in {{root}}") as run:
        run.admin.call("POST", "/projects", {"name": "carmile", "app": "carmile"})
        target = target_seconds(x, agents)
        workflow = run.admin.call("POST", "/projects/carmile/workflows", workflow_document(x, target))
        run.start_agents(agents, extra_env={"NEWRAL_AGENT_IDLE_POLL_MAX": "0.5"})
        status = _follow(run, workflow["id"], started)
        elapsed = time.monotonic() - started
        if status["state"] != "succeeded":
            print(f"The workflow {status['state']}: {status['failure_reason']}")
            return 1
        graph = run.admin.call("GET", f"/workflows/{workflow['id']}/graph?summaries=true")
        (agg,) = [n for n in graph["nodes"] if n["name"] == "aggregate"]
        return _report(x, agg, status, elapsed)


def _follow(run: local_run.LocalRun, workflow_id: int, started: float) -> dict[str, Any]:
    while True:
        status = run.admin.call("GET", f"/workflows/{workflow_id}")
        p = status["progress"]
        print(f"\r{status['state']:<9} tasks {p['complete']}/{p['tasks']} complete, {p['queued']} queued, "
              f"{time.monotonic() - started:6.1f} s", end="", flush=True)
        if status["state"] != "running":
            print()
            return status  # type: ignore[no-any-return]
        run.check_agents()
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
