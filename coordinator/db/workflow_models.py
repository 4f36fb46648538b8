"""Tables of the workflow engine (coordinator.workflows owns their states).

A workflow is a DAG of tasks; each task, once ready, runs as one workunit at a
time (a retry makes a new one). The task states are drawn in
coordinator/workflows/engine.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db.models import Base, Id


class Workflow(Base):
    __tablename__ = "workflows"
    __table_args__ = (Index("ix_workflows_project_state", "project_id", "state"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16), default="running")  # running|succeeded|failed|cancelled
    max_tasks: Mapped[int]  # including tasks spawned by outputs
    max_spawn: Mapped[int]  # children one task's output may spawn
    tasks_total: Mapped[int] = mapped_column(default=0)
    tasks_complete: Mapped[int] = mapped_column(default=0)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float]
    finished_at: Mapped[float | None]


class WorkflowTask(Base):
    __tablename__ = "workflow_tasks"
    __table_args__ = (
        UniqueConstraint("workflow_id", "name"),
        Index("ix_workflow_tasks_workflow_state", "workflow_id", "state"),
        Index("ix_workflow_tasks_parent", "parent_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id"))
    name: Mapped[str] = mapped_column(String(200))
    app: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]]
    inputs: Mapped[list[Any]]  # [{"task": name} | {"key": object key, "sha256": hex}]
    replication: Mapped[dict[str, Any]]
    cost: Mapped[float]
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    # done, and every task its output spawned (transitively) complete as well
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_id: Mapped[int | None] = mapped_column(BigInteger)  # the task whose output spawned this one
    waiting_on: Mapped[int] = mapped_column(default=0)  # dependencies not complete yet
    open_children: Mapped[int] = mapped_column(default=0)  # spawned tasks not complete yet
    workunit_id: Mapped[int | None] = mapped_column(ForeignKey("workunits.id"))
    attempts: Mapped[int] = mapped_column(default=0)
    summary: Mapped[dict[str, Any] | None]
    output_key: Mapped[str | None] = mapped_column(String(512))
    output_sha256: Mapped[str | None] = mapped_column(String(64))
    output_size: Mapped[int | None] = mapped_column(BigInteger)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float]
    queued_at: Mapped[float | None]
    finished_at: Mapped[float | None]


class WorkflowEdge(Base):
    """task_id waits for depends_on_id (and everything depends_on_id spawns)."""

    __tablename__ = "workflow_edges"
    __table_args__ = (Index("ix_workflow_edges_depends_on", "depends_on_id"),)
    task_id: Mapped[int] = mapped_column(ForeignKey("workflow_tasks.id"), primary_key=True)
    depends_on_id: Mapped[int] = mapped_column(ForeignKey("workflow_tasks.id"), primary_key=True)
