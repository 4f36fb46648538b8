"""The orchestrator's decisions, pure: which workunit a node should take (Full),
whether a running lease is a straggler to re-issue early (Partial, Full), and which
recommendations Advisory makes. No I/O; the simulation and the coordinator apply them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

UNRELIABLE = 0.5  # below this chance of finishing on time, a node gets no work in Full mode
STRAGGLER_SILENCE = 3600.0  # a node quiet this long with a lease out is suspect
NEAR_BEST = 1.5  # Full: work no node finishes within the horizon goes to nodes this close to the best
SAFETY = 1.3  # runtimes vary around the prediction: plan with this much more ...
SAFETY_SLACK = 600.0  # ... plus this many seconds, so a lease does not straddle a window's end
LARGE_TO_FAST = 3.0  # recommend moving a large workunit whose runtime here is this many times a fast node's


@dataclass(frozen=True)
class Candidate:
    key: int  # the replica's id
    cost: float
    runtime: float  # predicted seconds until done on the asking node (its daily window, planned margin)
    on_time: float  # predicted chance it finishes before its deadline there
    best: float = 0.0  # planned compute seconds on the fastest reliable node of the network


@dataclass(frozen=True)
class Advice:
    kind: str  # move-work | large-to-fast | reissue-straggler | queue-dry | raise-replication
    summary: str
    predicted_benefit: float  # node-seconds
    prediction: dict[str, Any] = field(default_factory=dict)


def pick_full(candidates: list[Candidate], horizon: float, deadline: float) -> Candidate | None:
    """Full mode: the largest workunit this node is predicted to finish both within
    the horizon (the predicted time left in the run; or, for work no node can finish
    that soon, close to the fastest node's time) and before its deadline; ties go in
    queue order. Large work thus goes early and to nodes that finish it soon, and the
    end of the run is small work on nodes predicted to be done in time. An unreliable
    node, or a node that would finish nothing in time, gets nothing."""
    usable = [c for c in candidates if c.on_time >= UNRELIABLE
              and c.runtime <= min(max(horizon, NEAR_BEST * c.best), deadline)]
    if not usable:
        return None
    return max(usable, key=lambda c: (c.cost, -c.key))


def planned_runtime(predicted: float) -> float:
    """The runtime to plan a lease with: the prediction plus room for its error."""
    return SAFETY * predicted + SAFETY_SLACK


def is_straggler(finish_in: float, deadline_in: float, silent_for: float) -> bool:
    """A lease whose node went quiet when it should be up (`silent_for` counts only
    time inside the node's usual window, so a night away is not silence), or that
    is predicted to miss its deadline."""
    return silent_for >= STRAGGLER_SILENCE or finish_in > deadline_in


def advise_lease(cost: float, large_cost: float, runtime_here: float, runtime_fast: float, on_time: float,
                 delay_bound: float) -> list[Advice]:
    """What Advisory says about a lease the deterministic rules just made."""
    out = []
    if on_time < UNRELIABLE:
        out.append(Advice("move-work", f"node predicted to miss the deadline (p on time {on_time:.2f})",
                          (1.0 - on_time) * delay_bound, {"on_time": on_time, "delay_bound": delay_bound}))
    if cost >= large_cost and runtime_here > LARGE_TO_FAST * runtime_fast:
        out.append(Advice("large-to-fast", f"large workunit on a slow node: {runtime_here / 3600:.1f} h here, "
                          f"{runtime_fast / 3600:.1f} h on a fast node", runtime_here - runtime_fast,
                          {"runtime_here": runtime_here, "runtime_fast": runtime_fast, "cost": cost}))
    return out


def advise_straggler(deadline_in: float, elapsed: float, predicted_runtime: float, silent_for: float) -> Advice:
    return Advice("reissue-straggler", f"lease quiet for {silent_for / 3600:.1f} h, {elapsed / 3600:.1f} h out "
                  f"against {predicted_runtime / 3600:.1f} h predicted: re-issue now",
                  max(0.0, deadline_in), {"elapsed": elapsed, "predicted_runtime": predicted_runtime,
                                          "silent_for": silent_for})


def max_cost_for(unit: float, best_unit: float, exponent: float, horizon: float) -> float | None:
    """Full (or Partial with "large-to-fast"), live: the largest workunit cost a node
    should take, so the end of the run does not wait on it. `unit` is the node's
    predicted seconds for one unit of cost, `best_unit` the fastest node's, `horizon`
    the predicted seconds of work left in the queue. None: no limit (the node is
    close to the best, as `pick_full` lets such nodes take anything)."""
    if unit <= 0 or exponent <= 0 or unit <= NEAR_BEST * best_unit:
        return None
    budget = max(0.0, horizon - SAFETY_SLACK) / SAFETY  # planned_runtime(unit * cost**e) <= horizon
    return (budget / unit) ** (1.0 / exponent)


def straggler_odds(on_time: float, finish_in: float, deadline_in: float) -> bool:
    """Live: a lease is a straggler when the reliability predictor gives it less than
    even odds of coming back in time, or its predicted finish is past the deadline."""
    return on_time < UNRELIABLE or finish_in > deadline_in


QUEUE_DRY = 2 * 3600.0  # warn when a project's queue is predicted to empty within this
DRIFT_RUNTIME = 0.7  # |log(recent / usual runtime ratio)|: about 2x faster or slower than its own record
DRIFT_MISSES = 0.4  # recent share of missed deadlines above the node's usual share by this much
DRIFT_MIN_RECENT = 3


def queue_dry(project: str, unsent_cost: float, rate: float, busy_nodes: int) -> Advice | None:
    """Advisory: the project's unsent work lasts less than QUEUE_DRY at the predicted
    rate of the nodes working on it (cost units per second)."""
    if rate <= 0:
        return None
    dry_in = unsent_cost / rate
    if dry_in >= QUEUE_DRY:
        return None
    idle = (QUEUE_DRY - dry_in) * max(1, busy_nodes)
    return Advice("queue-dry", f"project {project}: queue predicted to run dry in {dry_in / 60:.0f} min "
                  f"({busy_nodes} nodes at work); add work", idle,
                  {"project": project, "dry_in": dry_in, "unsent_cost": unsent_cost, "rate": rate,
                   "nodes": busy_nodes})


def drift(node_id: str, usual_resid: float, recent_resid: float, usual_miss: float, recent_miss: float,
          recent_n: int, delay_bound: float) -> Advice | None:
    """Advisory: the node's recent leases differ from its own record (runtimes far off
    what its history predicts, or deadlines missed much more often). Its results are
    worth checking by replication until it settles."""
    if recent_n < DRIFT_MIN_RECENT:
        return None
    shift = recent_resid - usual_resid
    misses = recent_miss - usual_miss
    if abs(shift) < DRIFT_RUNTIME and misses < DRIFT_MISSES:
        return None
    what = (f"runtimes {math.exp(shift):.1f}x its usual" if abs(shift) >= DRIFT_RUNTIME
            else f"missed {recent_miss:.0%} of recent deadlines (usually {usual_miss:.0%})")
    return Advice("raise-replication", f"node {node_id} drifts: {what}; replicate its work",
                  max(misses, 0.0) * delay_bound + abs(shift) * 3600.0,
                  {"usual_resid": usual_resid, "recent_resid": recent_resid, "usual_miss": usual_miss,
                   "recent_miss": recent_miss, "recent": recent_n})
