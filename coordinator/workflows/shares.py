"""Per-project shares of the nodes, as a pure decision the scheduler applies.

Each project has a share weight (projects.share). When several projects have
work waiting, the next slots go to the project furthest below its share of the
results now running: stride scheduling on (running + 1) / share, ties broken by
project id so the order is deterministic. A project with share 0 runs only when
no other project has work.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProjectLoad:
    project_id: int
    share: float  # weight, >= 0
    running: int  # results leased now
    waiting: int  # unsent results eligible for the asking node


def allocate(loads: list[ProjectLoad], slots: int) -> dict[int, int]:
    """How many of `slots` each project gets, one slot at a time to the most underserved."""
    running = {p.project_id: p.running for p in loads}
    left = {p.project_id: p.waiting for p in loads}
    shares = {p.project_id: p.share for p in loads}
    out: dict[int, int] = {}
    for _ in range(max(0, slots)):
        candidates = [pid for pid in left if left[pid] > 0]
        if not candidates:
            break
        pid = min(candidates, key=lambda p: (_pressure(running[p], shares[p]), p))
        out[pid] = out.get(pid, 0) + 1
        running[pid] += 1
        left[pid] -= 1
    return out


def _pressure(running: int, share: float) -> float:
    return (running + 1) / share if share > 0 else float("inf")


def order(loads: list[ProjectLoad]) -> list[int]:
    """Projects with waiting work, most underserved first (for an ORDER BY CASE in leasing)."""
    waiting = [p for p in loads if p.waiting > 0]
    return [p.project_id for p in sorted(waiting, key=lambda p: (_pressure(p.running, p.share), p.project_id))]
