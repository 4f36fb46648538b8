"""Submitting, retrying and cancelling workflows (admin actions), over a session."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.database import Database
from coordinator.db.models import Project
from coordinator.db.workflow_models import Workflow, WorkflowTask
from coordinator.domain import events
from coordinator.errors import Conflict, NotFound
from coordinator.workflows import document, engine


async def submit(session: AsyncSession, project: Project, doc: Any, now: float) -> Workflow:
    """Checks the document, stores the workflow and queues its first tasks."""
    spec = document.parse(doc)
    workflow = Workflow(project_id=project.id, name=spec.name, state="running", max_tasks=spec.max_tasks,
                        max_spawn=spec.max_spawn, tasks_total=0, tasks_complete=0, created_at=now)
    session.add(workflow)
    await session.flush()
    events.record(session, "workflow.submitted", now, project_id=project.id, level=logging.INFO,
                  workflow_id=workflow.id, name=spec.name, tasks=len(spec.tasks))
    await engine.add_tasks(session, workflow, list(spec.tasks), now)
    return workflow


def object_inputs(doc: Any) -> list[str]:
    """Object keys a (parsed) document reads, for the caller to check they exist."""
    return [ref["key"] for t in document.parse(doc).tasks for ref in t.inputs if "key" in ref]


async def get(session: AsyncSession, workflow_id: int) -> Workflow:
    workflow = await session.get(Workflow, workflow_id)
    if workflow is None:
        raise NotFound(f"no workflow with id {workflow_id}")
    return workflow


async def retry(session: AsyncSession, workflow_id: int, now: float) -> int:
    """Re-runs failed and cancelled tasks and unblocks what waited on them; returns how many
    tasks were requeued."""
    await get(session, workflow_id)
    workflow = await engine.lock_workflow(session, workflow_id)
    if workflow.state in ("running", "succeeded"):
        raise Conflict(f"workflow {workflow_id} is {workflow.state}; only a failed or cancelled one "
                       "can be retried")
    workflow.state = "running"
    workflow.failure_reason = None
    workflow.finished_at = None
    tasks = list(await session.scalars(
        select(WorkflowTask).where(WorkflowTask.workflow_id == workflow_id,
                                   WorkflowTask.state.in_(("failed", "blocked", "cancelled")))
        .order_by(WorkflowTask.id)))
    requeued = 0
    for t in tasks:
        if t.waiting_on == 0:
            await engine.queue_task(session, workflow, t, now)
            requeued += 1
        else:
            t.state = "waiting"
            t.failure_reason = None
    events.record(session, "workflow.retried", now, project_id=workflow.project_id, level=logging.INFO,
                  workflow_id=workflow_id, requeued=requeued, unblocked=len(tasks) - requeued)
    return requeued


async def cancel(session: AsyncSession, workflow_id: int, now: float) -> list[int]:
    """Marks the workflow and its unfinished tasks cancelled; returns the workunits still active,
    which the caller cancels in a second transaction (cancel_workunits) so that workunit locks
    are never taken while holding the workflow's."""
    await get(session, workflow_id)
    workflow = await engine.lock_workflow(session, workflow_id)
    if workflow.state in ("succeeded", "cancelled"):
        raise Conflict(f"workflow {workflow_id} is already {workflow.state}")
    workflow.state = "cancelled"
    workflow.finished_at = now
    tasks = list(await session.scalars(
        select(WorkflowTask).where(WorkflowTask.workflow_id == workflow_id,
                                   WorkflowTask.state.in_(("waiting", "queued", "blocked")))))
    workunits = []
    for t in tasks:
        if t.state == "queued" and t.workunit_id is not None:
            workunits.append(t.workunit_id)
        t.state = "cancelled"
        t.finished_at = now
    events.record(session, "workflow.cancelled", now, project_id=workflow.project_id, level=logging.INFO,
                  workflow_id=workflow_id, tasks=len(tasks))
    return workunits


async def cancel_workflow(db: Database, workflow_id: int, now: float) -> int:
    """Cancel in two short transactions (workflow first, then its workunits one by one);
    returns how many workunits stopped leasing."""
    async with db.transaction() as session:
        workunits = await cancel(session, workflow_id, now)
    async with db.transaction() as session:
        return await engine.cancel_workunits(session, workunits, now)
