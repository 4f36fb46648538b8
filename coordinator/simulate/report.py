"""The side-by-side table `newral simulate` prints."""

from __future__ import annotations

from coordinator.simulate.runner import PolicyOutcome

NAMES = {"fixed": "plain quorum 2", "boinc": "BOINC adaptive", "newral": "Newral"}


def _quarantine(values: list[int | None]) -> str:
    if not values:
        return "-"
    caught = [v for v in values if v is not None]
    if not caught:
        return f"never (0/{len(values)})"
    return f"{len(caught)}/{len(values)}, max {max(caught)} results"


def table(outcomes: list[PolicyOutcome]) -> str:
    rows = [
        ("accepted workunits", lambda o: f"{o.accepted}"),
        ("replicas per accepted WU", lambda o: f"{o.replicas_per_accepted:.3f}"),
        ("  after warm-up", lambda o: f"{o.replicas_after_warmup:.3f}"),
        ("  + audit work (in WUs)", lambda o: f"{o.audit_cost_per_accepted:.3f}"),
        ("wrong accepted", lambda o: f"{o.wrong_accepted}"),
        ("wrong per 10,000 accepted", lambda o: f"{o.wrong_per_10k:.1f}"),
        ("  returned by", lambda o: ", ".join(f"{k} {v}" for k, v in sorted(o.wrong_by_kind.items())) or "-"),
        ("credit earned by wrong results", lambda o: f"{o.credit_for_wrong:.0f}"),
        ("liars quarantined", lambda o: _quarantine(o.before_quarantine.get("liar", []))),
        ("sleepers quarantined", lambda o: _quarantine(o.before_quarantine.get("sleeper", []))),
        ("colluders quarantined", lambda o: _quarantine(o.before_quarantine.get("colluder", []))),
    ]
    width = max(len(r[0]) for r in rows) + 2
    cols = [max(16, *(len(f(o)) + 2 for _, f in rows)) for o in outcomes]
    lines = ["".ljust(width) + "".join(NAMES.get(o.policy, o.policy).rjust(c) for o, c in zip(outcomes, cols))]
    for label, fmt in rows:
        lines.append(label.ljust(width) + "".join(fmt(o).rjust(c) for o, c in zip(outcomes, cols)))
    return "\n".join(lines)
