"""The table `newral simulate --scenario network` prints: one column per
orchestrator mode, and the predictors' held-out errors above it."""

from __future__ import annotations

from coordinator.orchestrator import predictors
from coordinator.simulate.network import HOUR, ModeOutcome, NetworkScenario

TITLES = {"off": "AI Off", "advisory": "Advisory", "partial": "Partial", "full": "Full"}


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def models(trained: predictors.Trained) -> str:
    def num(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.3f}"

    return (f"Predictors trained on {trained.rows} past leases (held-out last 25%):\n"
            f"  runtime   median abs. % error {_pct(trained.runtime_mdape)} "
            f"(cost / benchmark alone: {_pct(trained.naive_mdape)})\n"
            f"  on time   AUC {num(trained.reliability_auc)}, Brier {num(trained.reliability_brier)} "
            f"(constant rate: {num(trained.base_brier)})")


def table(outcomes: list[ModeOutcome]) -> str:
    base = next((o for o in outcomes if o.mode == "off"), outcomes[0])

    def vs_off(o: ModeOutcome) -> str:
        return f"{100 * (o.makespan - base.makespan) / base.makespan:+.1f}%"

    def recs(o: ModeOutcome) -> str:
        total = sum(c + r for c, r in o.recommendations.values())
        return "-" if o.mode == "off" else f"{total}"

    def hits(o: ModeOutcome) -> str:
        return "-" if o.hit_rate is None else f"{100 * o.hit_rate:.0f}%"

    rows = [
        ("makespan (h)", lambda o: f"{o.makespan / HOUR:.1f}"),
        ("  vs AI Off", vs_off),
        ("node-hours wasted on abandoned leases", lambda o: f"{o.wasted_node_hours:.1f}"),
        ("replicas per accepted WU", lambda o: f"{o.replicas_per_accepted:.3f}"),
        ("accepted workunits", lambda o: f"{o.accepted}"),
        ("wrong results accepted", lambda o: f"{o.wrong_accepted}"),
        ("hard constraints broken", lambda o: f"{o.constraint_violations}"),
        ("actions applied by the AI (events)", lambda o: f"{o.actions}"),
        ("recommendations judged", recs),
        ("  confirmed by the outcome (hit rate)", hits),
    ]
    for kind in sorted({k for o in outcomes for k in o.recommendations}):
        rows.append((f"    {kind}", lambda o, k=kind: "-" if k not in o.recommendations else
                     f"{o.recommendations[k][0]}/{sum(o.recommendations[k])}"))
    rows.append(("same schedule as AI Off", lambda o: "yes" if o.schedule == base.schedule else "no"))
    width = max(len(r[0]) for r in rows) + 2
    lines = ["".ljust(width) + "".join(TITLES.get(o.mode, o.mode).rjust(11) for o in outcomes)]
    for label, fmt in rows:
        lines.append(label.ljust(width) + "".join(fmt(o).rjust(11) for o in outcomes))
    return "\n".join(lines)


def scenario(sc: NetworkScenario) -> str:
    return (f"Scenario: {sc.nodes} nodes, speeds up to {sc.speed_ratio:.0f}x apart, daily availability 45-100%, "
            f"{sc.offline_share:.0%} go offline mid-task ({sc.drop_chance:.0%} of their tasks), "
            f"{sc.faulty_share:.0%} faulty; {sc.workunits} workunits ({sc.large_share:.0%} 6x large), "
            f"deadline {sc.delay_bound / HOUR:.0f} h; seed {sc.seed}")
