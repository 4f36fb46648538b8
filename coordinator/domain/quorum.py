"""Pure quorum decision: which reported results agree, and which one is canonical.
No I/O; the validator applies the decision."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    result_id: int
    digest: str


@dataclass(frozen=True)
class QuorumDecision:
    canonical_id: int | None  # None: no quorum yet
    valid_ids: tuple[int, ...] = ()
    invalid_ids: tuple[int, ...] = ()
    largest_group: int = 0


def decide(candidates: list[Candidate], min_quorum: int) -> QuorumDecision:
    """Bit-exact comparison: results agree when their output digests are equal.
    The first group (by earliest result) to reach min_quorum wins."""
    groups: dict[str, list[int]] = defaultdict(list)
    for c in sorted(candidates, key=lambda c: c.result_id):
        groups[c.digest].append(c.result_id)
    if not groups:
        return QuorumDecision(canonical_id=None)
    best = max(groups.values(), key=lambda ids: (len(ids), -ids[0]))
    if len(best) < min_quorum:
        return QuorumDecision(canonical_id=None, largest_group=len(best))
    invalid = tuple(sorted(i for ids in groups.values() if ids is not best for i in ids))
    return QuorumDecision(canonical_id=best[0], valid_ids=tuple(best), invalid_ids=invalid,
                          largest_group=len(best))


def replicas_needed(largest_group: int, min_quorum: int, outstanding: int) -> int:
    """How many new replicas to issue so that a quorum can still be reached."""
    return max(0, min_quorum - largest_group - outstanding)
