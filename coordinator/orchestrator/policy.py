"""The orchestrator's decisions, pure: which workunit a node should take (Full),
whether a running lease is a straggler to re-issue early (Partial, Full), and which
recommendations Advisory makes. No I/O; the simulation and the coordinator apply them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UNRELIABLE = 0.5  # below this chance of finishing on time, a node gets no work in Full mode
STRAGGLER_SILENCE = 3600.0  # a node quiet this long with a lease out is suspect
LARGE_TO_FAST = 3.0  # recommend moving a large workunit whose runtime here is this many times a fast node's


@dataclass(frozen=True)
class Candidate:
    key: int  # the replica's id
    cost: float
    runtime: float  # predicted wall seconds on the asking node (compute / availability)
    on_time: float  # predicted chance it finishes before its deadline there


@dataclass(frozen=True)
class Advice:
    kind: str  # move-work | large-to-fast | reissue-straggler
    summary: str
    predicted_benefit: float  # node-seconds
    prediction: dict[str, Any] = field(default_factory=dict)


def pick_full(candidates: list[Candidate], horizon: float, fast: bool) -> Candidate | None:
    """Full mode: the first workunit in queue order this node is predicted to finish
    within the horizon (the time the whole network needs for what is left), so the
    end of the run lands on nodes that finish soon. Unreliable nodes get nothing; a
    slow node gets nothing rather than a workunit that would end the run late."""
    usable = [c for c in candidates if c.on_time >= UNRELIABLE]
    if not usable:
        return None
    fitting = [c for c in usable if c.runtime <= horizon]
    if fitting:
        return min(fitting, key=lambda c: c.key)
    if fast:
        return min(usable, key=lambda c: (c.runtime, c.key))
    return None


def worth_a_spare(theirs: float, mine: float) -> bool:
    """End game: a spare copy pays when this node would finish well before the holder."""
    return theirs > 1.5 * mine + STRAGGLER_SILENCE


def is_straggler(finish_in: float, deadline_in: float, silent_for: float, on_time: float) -> bool:
    """A lease whose unreliable node went quiet, or that is predicted to miss its deadline."""
    if silent_for >= STRAGGLER_SILENCE and on_time < UNRELIABLE:
        return True
    return finish_in > deadline_in


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
