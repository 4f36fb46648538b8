"""Reputation (Dr. Mann#n) applied to nodes: outcomes move a node's trust,
anomalies flag it, thresholds quarantine it, admins reinstate it with a reason.
Every change is an event, so a node's history explains itself. The arithmetic
is in reputation.py (pure)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db import bulk, database
from coordinator.db.models import CreditEntry, Node
from coordinator.domain import events, reputation
from coordinator.errors import Conflict, InvalidInput

STATUSES = ("active", "quarantined", "banned")
DEFAULT = reputation.TrustConfig()


async def lock_node(session: AsyncSession, node_id: str | None) -> Node | None:
    """The node's row, locked for this transaction: its counters, trust and credit are
    read-modify-write, and concurrent reports must not lose each other's updates. A node
    this transaction already locked is not read again: the lock holds until it ends."""
    if node_id is None:
        return None
    held = _locked_nodes(session)
    if node_id in held:
        node = await session.get(Node, node_id)  # from the identity map, no query
        if node is not None:
            return node
    node = await session.get(Node, node_id, with_for_update=True, populate_existing=True)
    if node is not None:
        held.add(node_id)
    return node


def _locked_nodes(session: AsyncSession) -> set[str]:
    """Ids of the nodes the session's current transaction has locked."""
    return database.per_transaction(session, "newral.locked_nodes", set)


def state_of(node: Node) -> reputation.TrustState:
    return reputation.TrustState(node.trust_good, node.trust_bad, node.valid_count, node.invalid_count,
                                 node.anomaly_flags)


def _store(node: Node, change: reputation.TrustChange) -> None:
    s = change.state
    node.trust_good, node.trust_bad = s.good, s.bad
    node.valid_count, node.invalid_count, node.anomaly_flags = s.valid, s.invalid, s.anomalies
    node.trust_score = s.score
    node.trust_level = change.level


def record_outcome(session: AsyncSession, node: Node, outcome: str, now: float,
                   cfg: reputation.TrustConfig = DEFAULT, *, result_id: int | None = None,
                   proven: bool = False) -> reputation.TrustChange:
    before = node.trust_level
    change = reputation.apply(state_of(node), outcome, cfg, proven=proven)
    _store(node, change)
    if outcome == "valid":
        node.consecutive_valid += 1
    else:
        node.consecutive_valid = 0
        if outcome == "error":
            node.error_count += 1
        elif outcome == "timeout":
            node.timeout_count += 1
    if change.level != before:
        events.record(session, "node.trust_level", now, node_id=node.id, result_id=result_id,
                      level=logging.INFO, before=before, after=change.level, score=round(change.state.score, 4))
    if change.quarantine and node.status == "active":
        _quarantine(session, node, change.reason, now)
    return change


@dataclass
class RunOfValid:
    """A node's trust through a run of valid outcomes (a batch of reports), kept off the
    mapped object: record_outcome reads and sets seven of its attributes per outcome,
    this once per run (`store`). The same events, in the same order, as record_outcome."""

    node: Node
    state: reputation.TrustState
    level: str
    consecutive_valid: int

    @classmethod
    def of(cls, node: Node) -> RunOfValid:
        return cls(node, state_of(node), node.trust_level, node.consecutive_valid)

    def valid(self, session: AsyncSession, now: float, cfg: reputation.TrustConfig = DEFAULT, *,
              result_id: int | None = None) -> None:
        change = reputation.apply(self.state, "valid", cfg)
        self.state, self.consecutive_valid = change.state, self.consecutive_valid + 1
        if change.level != self.level:
            events.record(session, "node.trust_level", now, node_id=self.node.id, result_id=result_id,
                          level=logging.INFO, before=self.level, after=change.level,
                          score=round(change.state.score, 4))
            self.level = change.level
        if change.quarantine and self.node.status == "active":
            self.store()
            _quarantine(session, self.node, change.reason, now)

    def store(self) -> None:
        """Sets the node's attributes to the run's trust (before anything else reads them)."""
        _store(self.node, reputation.TrustChange(self.state, self.level, False))
        self.node.consecutive_valid = self.consecutive_valid


def flag_anomaly(session: AsyncSession, node: Node, what: str, now: float,
                 cfg: reputation.TrustConfig = DEFAULT, *, result_id: int | None = None) -> None:
    change = reputation.flag_anomaly(state_of(node), what, cfg)
    _store(node, change)
    node.consecutive_valid = 0
    events.record(session, "node.anomaly", now, node_id=node.id, result_id=result_id,
                  level=logging.WARNING, what=what, flags=change.state.anomalies)
    if change.quarantine and node.status == "active":
        _quarantine(session, node, change.reason, now)


def _quarantine(session: AsyncSession, node: Node, reason: str, now: float) -> None:
    node.status, node.status_reason = "quarantined", reason
    events.record(session, "node.quarantined", now, node_id=node.id, level=logging.WARNING,
                  reason=reason, admin="system")


async def owner_bonus(session: AsyncSession, owner: str | None, cfg: reputation.TrustConfig = DEFAULT) -> float:
    """Starting evidence for a new node: a little, only if the same owner already has a
    node that earned trust. It never reaches a trusted level on its own (a flood of
    fresh nodes cannot vouch for itself)."""
    if not owner:
        return 0.0
    trusted = await session.scalar(
        select(Node.id).where(Node.owner == owner, Node.status == "active",
                              Node.trust_level.in_(("trusted", "highly_trusted"))).limit(1)
    )
    return cfg.owner_bonus if trusted else 0.0


async def grant_credit(session: AsyncSession, node: Node, result_id: int, amount: float, now: float) -> None:
    """Once per result: the ledger's unique (result, reason) makes a second grant impossible.
    The grant is queued and written with the transaction's other grants in one statement
    just before it commits (`flush_credit`): a batch of reports costs one round trip for
    its credit, not one per result."""
    _queued_grants(session).setdefault(result_id, (node, amount, now))
    database.before_commit(session, flush_credit)


async def flush_credit(session: AsyncSession) -> None:
    """Writes the queued grants; a node's credit grows only by the rows actually inserted."""
    queued = _queued_grants(session)
    grants = list(queued.items())
    queued.clear()
    if not grants:
        return
    rows = [dict(node_id=node.id, result_id=result_id, amount=amount, reason="granted", at=at)
            for result_id, (node, amount, at) in grants]
    with session.no_autoflush:  # the rows need nothing pending; the rest flushes together later
        granted = set(await bulk.insert_new_rows(session, CreditEntry.__table__, rows,
                                                 unique=("result_id", "reason"), returning="result_id"))
    for result_id, (node, amount, at) in grants:
        if result_id in granted:
            node.credit += amount
            events.record(session, "credit.granted", at, node_id=node.id, result_id=result_id,
                          amount=round(amount, 6))


def _queued_grants(session: AsyncSession) -> dict[int, tuple[Node, float, float]]:
    """Grants not yet written in the session's current transaction, by result id."""
    return database.per_transaction(session, "newral.credit_grants", dict)


async def revoke_credit(session: AsyncSession, node: Node, result_id: int, now: float) -> None:
    await flush_credit(session)  # a grant queued in this transaction is revoked like any other
    granted = await session.scalar(select(CreditEntry).where(CreditEntry.result_id == result_id,
                                                             CreditEntry.reason == "granted"))
    revoked = await session.scalar(select(CreditEntry.id).where(CreditEntry.result_id == result_id,
                                                                CreditEntry.reason == "revoked"))
    if granted is None or revoked is not None:
        return
    session.add(CreditEntry(node_id=node.id, result_id=result_id, amount=-granted.amount, reason="revoked", at=now))
    node.credit -= granted.amount
    events.record(session, "credit.revoked", now, node_id=node.id, result_id=result_id,
                  amount=round(granted.amount, 6))


async def set_status(session: AsyncSession, node: Node, status: str, reason: str, actor: str,
                     now: float) -> None:
    """Quarantine (no more work), ban, or reinstate a node; the reason is kept."""
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("a reason is required; it is kept in the node's history")
    if node.status == status:
        raise Conflict(f"the node is already {status}")
    previous, node.status, node.status_reason = node.status, status, reason[:2000]
    if status == "active":
        node.anomaly_flags = 0  # a reinstated node starts its anomaly count afresh, not its trust
    kind = {"active": "node.reinstated", "quarantined": "node.quarantined", "banned": "node.banned"}[status]
    events.record(session, kind, now, node_id=node.id, level=logging.WARNING, previous=previous,
                  reason=reason[:500], admin=actor)


async def leaderboard(session: AsyncSession, limit: int = 20) -> dict[str, list[dict[str, object]]]:
    """Credit totals per node and per owner, highest first."""
    top_nodes = (await session.execute(
        select(Node.name, Node.owner, Node.credit, Node.trust_level).where(Node.credit > 0)
        .order_by(Node.credit.desc()).limit(limit))).all()
    top_owners = (await session.execute(
        select(Node.owner, func.sum(Node.credit).label("credit"), func.count(Node.id))
        .where(Node.owner.is_not(None), Node.credit > 0).group_by(Node.owner)
        .order_by(func.sum(Node.credit).desc()).limit(limit))).all()
    return {
        "nodes": [{"name": n, "owner": o, "credit": round(c, 3), "trust_level": lvl} for n, o, c, lvl in top_nodes],
        "owners": [{"owner": o, "credit": round(c, 3), "nodes": k} for o, c, k in top_owners],
    }
