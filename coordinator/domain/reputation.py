"""Dr. Mann#n, the pure part: how evidence about a node becomes a trust score,
a trust level and a replication decision. No I/O; trust.py applies it.

The score is a decaying Beta posterior: `good` and `bad` are evidence counts that
shrink by `decay` on every new outcome, so recent behaviour weighs most. An
invalid result adds heavy evidence against (a sharp fall); valid results add
one each (a slow climb back)."""

from __future__ import annotations

import random
from dataclasses import dataclass

OUTCOMES = ("valid", "invalid", "error", "timeout")
LEVELS = ("probation", "trusted", "highly_trusted")


@dataclass(frozen=True)
class TrustConfig:
    decay: float = 0.99
    invalid_weight: float = 25.0
    error_weight: float = 0.5
    timeout_weight: float = 0.25
    trusted_score: float = 0.90
    trusted_min_valid: int = 10
    high_score: float = 0.97
    high_min_valid: int = 50
    quarantine_score: float = 0.5
    quarantine_min_invalid: int = 3
    anomaly_quarantine: int = 3  # anomaly flags before quarantine
    spot_max: float = 0.08  # spot-check probability for a just-trusted node
    spot_min: float = 0.02  # ... never below this, however trusted
    relapse_watch: float = 0.5  # spot-check probability for a node once caught wrong
    owner_bonus: float = 3.0  # starting evidence for a node whose owner has trusted nodes
    too_fast_factor: float = 4.0  # results this much faster than the node's benchmark allows
    # A trusted node whose result the coordinator itself proves wrong (its check or
    # audit, not a vote) is quarantined at once: it was trusted to work alone.
    quarantine_proven_lie: bool = True


@dataclass(frozen=True)
class TrustState:
    good: float = 0.0
    bad: float = 1.0
    valid: int = 0
    invalid: int = 0
    anomalies: int = 0

    @property
    def score(self) -> float:
        return self.good / (self.good + self.bad)


@dataclass(frozen=True)
class TrustChange:
    state: TrustState
    level: str
    quarantine: bool
    reason: str = ""


def level_of(state: TrustState, cfg: TrustConfig) -> str:
    if state.score >= cfg.high_score and state.valid >= cfg.high_min_valid:
        return "highly_trusted"
    if state.score >= cfg.trusted_score and state.valid >= cfg.trusted_min_valid:
        return "trusted"
    return "probation"


def apply(state: TrustState, outcome: str, cfg: TrustConfig, *, proven: bool = False) -> TrustChange:
    """The node's new trust after one more result. `proven`: an invalid result the
    coordinator proved wrong by itself (a failed check or audit), not outvoted."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    good, bad = state.good * cfg.decay, state.bad * cfg.decay
    valid, invalid = state.valid, state.invalid
    if outcome == "valid":
        good += 1.0
        valid += 1
    elif outcome == "invalid":
        bad += cfg.invalid_weight
        invalid += 1
    elif outcome == "error":
        bad += cfg.error_weight
    else:
        bad += cfg.timeout_weight
    new = TrustState(good, max(bad, 1e-9), valid, invalid, state.anomalies)
    quarantine, reason = False, ""
    if outcome == "invalid" and proven and cfg.quarantine_proven_lie and level_of(state, cfg) != "probation":
        quarantine, reason = True, "returned a result proven wrong by the coordinator's own check while trusted"
    elif invalid >= cfg.quarantine_min_invalid and new.score < cfg.quarantine_score:
        quarantine, reason = True, f"{invalid} invalid results, trust score {new.score:.2f}"
    return TrustChange(new, level_of(new, cfg), quarantine, reason)


def flag_anomaly(state: TrustState, what: str, cfg: TrustConfig) -> TrustChange:
    """An anomaly (too fast, say) counts as evidence against and drops the node to
    probation, so its work is replicated again; past a threshold it is quarantined."""
    new = TrustState(state.good * 0.5, state.bad + cfg.invalid_weight / 2, state.valid, state.invalid,
                     state.anomalies + 1)
    if new.anomalies >= cfg.anomaly_quarantine:
        return TrustChange(new, level_of(new, cfg), True, f"{new.anomalies} anomalies, latest: {what}")
    return TrustChange(new, level_of(new, cfg), False, what)


def spot_check_probability(state: TrustState, cfg: TrustConfig) -> float:
    """Falls as trust grows, never reaches zero. A node that was ever caught with a
    wrong result stays more closely watched: faulty hardware errs again."""
    if level_of(state, cfg) == "probation":
        return 1.0
    confidence = min(1.0, max(0.0, (state.score - cfg.trusted_score) / (1.0 - cfg.trusted_score)))
    volume = min(1.0, state.valid / (4.0 * cfg.high_min_valid))
    p = max(cfg.spot_min, cfg.spot_max * (1.0 - 0.5 * confidence - 0.5 * volume))
    return max(p, min(cfg.relapse_watch, cfg.relapse_watch * state.invalid / 2))


def too_fast(cost: float, wall_seconds: float, benchmark: float, cfg: TrustConfig) -> bool:
    """A result back much faster than the node's own benchmark allows."""
    if benchmark <= 0 or cost <= 0:
        return False
    return wall_seconds * cfg.too_fast_factor < cost / benchmark


@dataclass(frozen=True)
class ReplicationDecision:
    alone: bool  # True: this one replica suffices (plus audits)
    mode: str  # "quorum" | "alone" | "spot-check"


def decide_replication(policy: str, state: TrustState, consecutive_valid: int, cfg: TrustConfig,
                       rng: random.Random) -> ReplicationDecision:
    """At lease time, for the first replica of a workunit that asks for a quorum."""
    if policy == "fixed":
        return ReplicationDecision(False, "quorum")
    if policy == "boinc":
        # BOINC's adaptive replication: replicate until 10 consecutive valid results,
        # then replicate with probability 1/count.
        if consecutive_valid < 10 or rng.random() < 1.0 / consecutive_valid:
            return ReplicationDecision(False, "quorum")
        return ReplicationDecision(True, "alone")
    if policy == "newral":
        p = spot_check_probability(state, cfg)
        if p >= 1.0:
            return ReplicationDecision(False, "quorum")
        if rng.random() < p:
            return ReplicationDecision(False, "spot-check")
        return ReplicationDecision(True, "alone")
    raise ValueError(f"unknown replication policy {policy!r}")
