"""The coordinator's tables. Timestamps are Unix seconds (float) so that SQLite and
PostgreSQL compare them the same way.

Result states (one replica of a workunit leased to one node)::

    unsent ──lease──► leased ──report ok──► reported ──validator──► verdict valid | invalid
                                              (a report that validates its workunit alone is
                                               queued, awaiting_validator, and settled just
                                               after the request: domain/validator.py)
                        │ ──report error──► errored
                        └──deadline passed──► expired   (a replacement unsent result is made)
    unsent | leased ──workunit finished or cancelled──► cancelled

Workunit states::

    active ──quorum of agreeing results──► validated
      └──too many errors / results──► failed        active ──admin──► cancelled
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    LargeBinary,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, float: Double}


class Admin(Base):
    __tablename__ = "admins"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float]


class EnrolmentToken(Base):
    __tablename__ = "enrolment_tokens"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[float]
    expires_at: Mapped[float]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("admins.id"))
    used_at: Mapped[float | None]
    node_id: Mapped[str | None] = mapped_column(ForeignKey("nodes.id"))
    owner: Mapped[str | None] = mapped_column(String(100))  # the volunteer account, if known


class Node(Base):
    __tablename__ = "nodes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|quarantined|banned
    platform: Mapped[str] = mapped_column(String(32))
    arch: Mapped[str] = mapped_column(String(32))
    cores: Mapped[int]
    memory_bytes: Mapped[int] = mapped_column(BigInteger)
    disk_free_bytes: Mapped[int] = mapped_column(BigInteger)
    client_version: Mapped[str] = mapped_column(String(32))
    benchmark: Mapped[float]  # integers swept per second on one core
    created_at: Mapped[float]
    last_seen_at: Mapped[float]
    # Reputation (Dr. Mann#n); coordinator.domain.trust owns these.
    owner: Mapped[str | None] = mapped_column(String(100))
    trust_score: Mapped[float] = mapped_column(default=0.0)
    trust_level: Mapped[str] = mapped_column(String(16), default="probation")
    valid_count: Mapped[int] = mapped_column(default=0)
    invalid_count: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    timeout_count: Mapped[int] = mapped_column(default=0)
    credit: Mapped[float] = mapped_column(default=0.0)
    status_reason: Mapped[str | None] = mapped_column(Text)
    trust_good: Mapped[float] = mapped_column(default=0.0)  # decayed evidence for
    trust_bad: Mapped[float] = mapped_column(default=1.0)  # and against (a prior of 1)
    consecutive_valid: Mapped[int] = mapped_column(default=0)  # BOINC's adaptive count
    anomaly_flags: Mapped[int] = mapped_column(default=0)


class App(Base):
    __tablename__ = "apps"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float]


class AppVersion(Base):
    __tablename__ = "app_versions"
    __table_args__ = (UniqueConstraint("app_id", "version", "platform"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id"))
    version: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str] = mapped_column(String(32), default="any")
    bundle_sha256: Mapped[str | None] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float]


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|paused
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float]
    # fixed (the workunit's quorum) | boinc (adaptive, BOINC's rule) | newral (trust + audits)
    replication_policy: Mapped[str] = mapped_column(String(16), default="newral")
    share: Mapped[float] = mapped_column(default=1.0)  # weight when projects compete for nodes


class Workunit(Base):
    __tablename__ = "workunits"
    __table_args__ = (Index("ix_workunits_project_state", "project_id", "state"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    app_version_id: Mapped[int] = mapped_column(ForeignKey("app_versions.id"))
    params: Mapped[dict[str, Any]]
    cost: Mapped[float]  # estimated work, in the app's unit (integers swept)
    state: Mapped[str] = mapped_column(String(16), default="active")
    min_quorum: Mapped[int] = mapped_column(default=1)
    target_results: Mapped[int] = mapped_column(default=1)
    max_error_results: Mapped[int] = mapped_column(default=3)
    max_total_results: Mapped[int] = mapped_column(default=8)
    delay_bound: Mapped[float]  # seconds a lease may last
    min_memory_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    min_disk_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    trusted_only: Mapped[bool] = mapped_column(default=False)  # e.g. re-verifying a discovery claim
    error_count: Mapped[int] = mapped_column(default=0)
    result_count: Mapped[int] = mapped_column(default=0)
    canonical_result_id: Mapped[int | None] = mapped_column(BigInteger)
    summary: Mapped[dict[str, Any] | None]
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float]
    finished_at: Mapped[float | None]
    # sha256 of (app version, params): a validated result is reused, not recomputed.
    params_key: Mapped[str | None] = mapped_column(String(64), index=True)
    # How the canonical result was accepted: quorum | alone | spot-check | certificate | cache
    accepted_mode: Mapped[str | None] = mapped_column(String(16))
    verification: Mapped[dict[str, Any] | None]  # who, quorum members, audit details
    workflow_task_id: Mapped[int | None] = mapped_column(BigInteger)  # coordinator.workflows


class Result(Base):
    __tablename__ = "results"
    __table_args__ = (
        # The lease query scans only this small partial index, never dead rows.
        Index(
            "ix_results_unsent",
            "id",
            postgresql_where=text("state = 'unsent'"),
            sqlite_where=text("state = 'unsent'"),
        ),
        Index(
            "ix_results_leased_deadline",
            "deadline_at",
            postgresql_where=text("state = 'leased'"),
            sqlite_where=text("state = 'leased'"),
        ),
        Index("ix_results_workunit_node", "workunit_id", "node_id"),
        Index("ix_results_node_state", "node_id", "state"),
        # The validator's queue: reports accepted, their solo validation not yet settled.
        Index(
            "ix_results_awaiting_validator",
            "id",
            postgresql_where=text("awaiting_validator"),
            sqlite_where=text("awaiting_validator"),
        ),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workunit_id: Mapped[int] = mapped_column(ForeignKey("workunits.id"))
    node_id: Mapped[str | None] = mapped_column(ForeignKey("nodes.id"))
    state: Mapped[str] = mapped_column(String(16), default="unsent")
    verdict: Mapped[str | None] = mapped_column(String(16))  # pending|valid|invalid
    leased_at: Mapped[float | None]
    deadline_at: Mapped[float | None]
    reported_at: Mapped[float | None]
    output_key: Mapped[str | None] = mapped_column(String(512))
    output_sha256: Mapped[str | None] = mapped_column(String(64))
    output_size: Mapped[int | None] = mapped_column(BigInteger)
    summary: Mapped[dict[str, Any] | None]
    cpu_seconds: Mapped[float | None]
    wall_seconds: Mapped[float | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float]
    awaiting_validator: Mapped[bool] = mapped_column(default=False, server_default=false())


class Finding(Base):
    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("project_id", "kind", "value"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    workunit_id: Mapped[int] = mapped_column(ForeignKey("workunits.id"))
    result_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))  # e.g. bpsw-claim
    value: Mapped[str] = mapped_column(String(400))  # the number, in decimal
    status: Mapped[str] = mapped_column(String(16), default="unverified")
    data: Mapped[dict[str, Any]]
    created_at: Mapped[float]


class CreditEntry(Base):
    """The credit ledger: one grant per validated result (unique), and a negative
    entry if a retroactive audit overturns it."""

    __tablename__ = "credit_ledger"
    __table_args__ = (UniqueConstraint("result_id", "reason"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    node_id: Mapped[str] = mapped_column(ForeignKey("nodes.id"), index=True)
    result_id: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[float]
    reason: Mapped[str] = mapped_column(String(16))  # granted | revoked
    at: Mapped[float]


class Event(Base):
    """Append-only: one row per state change, written in the same transaction."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[float]
    kind: Mapped[str] = mapped_column(String(48), index=True)
    node_id: Mapped[str | None] = mapped_column(String(32))
    project_id: Mapped[int | None] = mapped_column(BigInteger)
    workunit_id: Mapped[int | None] = mapped_column(BigInteger)
    result_id: Mapped[int | None] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]]


class SmallObject(Base):
    """An object-store object small enough to live in the database (store/database_tier.py)."""

    __tablename__ = "small_objects"
    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
