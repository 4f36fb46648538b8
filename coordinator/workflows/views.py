"""What the API shows of a workflow: state and progress, and the graph to draw."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.models import Project
from coordinator.db.workflow_models import Workflow, WorkflowEdge, WorkflowTask

TASK_STATES = ("waiting", "queued", "done", "failed", "blocked", "cancelled")


async def status(session: AsyncSession, workflow: Workflow) -> dict[str, Any]:
    counts = dict((await session.execute(
        select(WorkflowTask.state, func.count()).where(WorkflowTask.workflow_id == workflow.id)
        .group_by(WorkflowTask.state))).all())
    project = await session.get(Project, workflow.project_id)
    failed = list(await session.execute(
        select(WorkflowTask.name, WorkflowTask.failure_reason)
        .where(WorkflowTask.workflow_id == workflow.id, WorkflowTask.state == "failed").limit(20)))
    return {
        "id": workflow.id,
        "name": workflow.name,
        "project": project.name if project else None,
        "state": workflow.state,
        "failure_reason": workflow.failure_reason,
        "progress": {"tasks": workflow.tasks_total, "complete": workflow.tasks_complete,
                     **{s: counts.get(s, 0) for s in TASK_STATES}},
        "failed_tasks": [{"name": n, "reason": r} for n, r in failed],
        "created_at": workflow.created_at,
        "finished_at": workflow.finished_at,
    }


async def graph(session: AsyncSession, workflow: Workflow, with_summaries: bool = False) -> dict[str, Any]:
    """Nodes and two kinds of edges: 'after' (a dependency) and 'spawned' (dynamic fan-out)."""
    tasks = list(await session.scalars(
        select(WorkflowTask).where(WorkflowTask.workflow_id == workflow.id).order_by(WorkflowTask.id)))
    names = {t.id: t.name for t in tasks}
    edges = (await session.execute(
        select(WorkflowEdge.depends_on_id, WorkflowEdge.task_id)
        .join(WorkflowTask, WorkflowTask.id == WorkflowEdge.task_id)
        .where(WorkflowTask.workflow_id == workflow.id))).all()
    nodes = []
    for t in tasks:
        node: dict[str, Any] = {
            "name": t.name, "app": t.app, "state": t.state, "complete": t.complete,
            "attempts": t.attempts, "workunit_id": t.workunit_id, "parent": names.get(t.parent_id or -1),
            "output_key": t.output_key, "output_sha256": t.output_sha256,
            "failure_reason": t.failure_reason, "queued_at": t.queued_at, "finished_at": t.finished_at,
        }
        if with_summaries:
            node["summary"] = t.summary
        nodes.append(node)
    return {
        "id": workflow.id,
        "state": workflow.state,
        "nodes": nodes,
        "edges": [{"from": names[a], "to": names[b], "kind": "after"} for a, b in edges]
        + [{"from": names[t.parent_id], "to": t.name, "kind": "spawned"} for t in tasks
           if t.parent_id is not None],
    }


async def task_by_name(session: AsyncSession, workflow: Workflow, name: str) -> WorkflowTask | None:
    return await session.scalar(select(WorkflowTask).where(
        WorkflowTask.workflow_id == workflow.id, WorkflowTask.name == name))


async def list_workflows(session: AsyncSession, project_id: int | None = None) -> list[Workflow]:
    q = select(Workflow).order_by(Workflow.id.desc()).limit(200)
    if project_id is not None:
        q = q.where(Workflow.project_id == project_id)
    return list(await session.scalars(q))
