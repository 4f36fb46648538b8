"""The workflow engine: moves tasks along as their workunits finish.

Task states::

    waiting ──every dependency complete──► queued ──workunit validated──► done
       │                                    │                            (complete once every
       │                                    └──workunit failed──► failed   task it spawned is)
       └──a dependency failed──► blocked
    waiting | queued ──workflow cancelled──► cancelled
    failed | blocked | cancelled ──admin retry──► queued | waiting

Workflow states::

    running ──every task complete──► succeeded
    running ──a task failed──► failed ──admin retry──► running
    running | failed ──admin cancel──► cancelled ──admin retry──► running

A queued task has a workunit with unsent results, created in the transaction
that made the task ready, so it is leasable the moment that transaction
commits: nothing polls. A dependant waits for the whole group of a task: the
task and, transitively, every task its output spawned (dynamic fan-out).
Concurrent finishes in one workflow serialize on the workflow's row lock
(taken after the workunit's lock: lock order workunit, then workflow).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator import apps
from coordinator.db.models import App, AppVersion, Result, Workunit
from coordinator.db.workflow_models import Workflow, WorkflowEdge, WorkflowTask
from coordinator.domain import events, projects
from coordinator.workflows import document, followups

log = logging.getLogger("newral.workflows")

MAX_RESOLVED_PARAMS_BYTES = 8 << 20
"""Params with their resolved inputs (keys and summaries) travel in every lease response."""


async def on_workunit_finished(session: AsyncSession, wu: Workunit, now: float) -> None:
    """Called in the transaction that validates or fails a workunit (its row lock held)."""
    if wu.workflow_task_id is None:
        return
    workflow = await session.scalar(
        select(Workflow).join(WorkflowTask, WorkflowTask.workflow_id == Workflow.id)
        .where(WorkflowTask.id == wu.workflow_task_id).with_for_update(of=Workflow)
        .execution_options(populate_existing=True))
    if workflow is None:
        return
    # read after the workflow's lock: another finish or a cancel may have changed it
    task = await session.scalar(select(WorkflowTask).where(WorkflowTask.id == wu.workflow_task_id)
                                .execution_options(populate_existing=True))
    assert task is not None
    if task.workunit_id != wu.id or task.state != "queued" or workflow.state == "cancelled":
        return  # a superseded attempt, or the workflow was cancelled meanwhile
    if wu.state == "validated":
        await _task_done(session, workflow, task, wu, now)
    else:
        await fail_task(session, workflow, task, wu.failure_reason or "its workunit failed", now)


async def lock_workflow(session: AsyncSession, workflow_id: int) -> Workflow:
    workflow = await session.scalar(
        select(Workflow).where(Workflow.id == workflow_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    assert workflow is not None
    return workflow


async def _task_done(session: AsyncSession, workflow: Workflow, task: WorkflowTask, wu: Workunit,
                     now: float) -> None:
    canonical = await session.get(Result, wu.canonical_result_id) if wu.canonical_result_id else None
    task.state = "done"
    task.finished_at = now
    task.summary = wu.summary
    if canonical is not None:
        task.output_key = canonical.output_key
        task.output_sha256 = canonical.output_sha256
        task.output_size = canonical.output_size
    events.record(session, "workflow.task_done", now, project_id=workflow.project_id,
                  workunit_id=wu.id, workflow_id=workflow.id, task=task.name)
    action = await followups.after_validation(session, workflow, task, wu, now)
    if action.children:
        total_after = workflow.tasks_total + len(action.children)
        if len(action.children) > workflow.max_spawn or total_after > workflow.max_tasks:
            reason = (f"its output would spawn {len(action.children)} tasks; this workflow allows "
                      f"{workflow.max_spawn} per task and {workflow.max_tasks} in all")
            await fail_task(session, workflow, task, reason, now)
            return
        await add_tasks(session, workflow, list(action.children), now, parent=task)
    await _maybe_complete(session, workflow, task, now)


async def _maybe_complete(session: AsyncSession, workflow: Workflow, task: WorkflowTask,
                          now: float) -> None:
    """Marks the task's group complete if it is, then walks up and out from it."""
    while task.state == "done" and task.open_children == 0 and not task.complete:
        task.complete = True
        workflow.tasks_complete += 1
        await _release_dependants(session, workflow, task, now)
        if task.parent_id is None:
            break
        parent = await session.get(WorkflowTask, task.parent_id)
        assert parent is not None
        parent.open_children -= 1
        task = parent
    if workflow.tasks_complete == workflow.tasks_total and workflow.state == "running":
        workflow.state = "succeeded"
        workflow.finished_at = now
        events.record(session, "workflow.succeeded", now, project_id=workflow.project_id,
                      level=logging.INFO, workflow_id=workflow.id, tasks=workflow.tasks_total)


async def _dependants(session: AsyncSession, task_id: int) -> list[WorkflowTask]:
    return list(await session.scalars(
        select(WorkflowTask).join(WorkflowEdge, WorkflowEdge.task_id == WorkflowTask.id)
        .where(WorkflowEdge.depends_on_id == task_id)
    ))


async def _release_dependants(session: AsyncSession, workflow: Workflow, task: WorkflowTask,
                              now: float) -> None:
    for dep in await _dependants(session, task.id):
        dep.waiting_on -= 1
        if dep.waiting_on == 0 and dep.state == "waiting":
            await queue_task(session, workflow, dep, now)


async def add_tasks(session: AsyncSession, workflow: Workflow, specs: list[document.TaskSpec],
                    now: float, parent: WorkflowTask | None = None) -> list[WorkflowTask]:
    """Stores tasks and their edges; queues those with nothing to wait for.
    Dependencies name tasks of the same batch or, failing that, existing tasks."""
    prefix = f"{parent.name}/" if parent is not None else ""
    rows = {
        s.name: WorkflowTask(workflow_id=workflow.id, name=prefix + s.name, app=s.app, params=s.params,
                             inputs=[_qualify(ref, prefix) for ref in s.inputs],
                             replication=s.replication, cost=s.cost, state="waiting", complete=False,
                             parent_id=parent.id if parent else None, waiting_on=len(s.after),
                             open_children=0, attempts=0, created_at=now)
        for s in specs
    }
    session.add_all(rows.values())
    await session.flush()
    session.add_all(
        WorkflowEdge(task_id=rows[s.name].id, depends_on_id=rows[d].id) for s in specs for d in s.after
    )
    workflow.tasks_total += len(rows)
    if parent is not None:
        parent.open_children += len(rows)
    for s in specs:
        if not s.after:
            await queue_task(session, workflow, rows[s.name], now)
    return list(rows.values())


def _qualify(ref: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {"task": prefix + ref["task"]} if "task" in ref else dict(ref)


async def queue_task(session: AsyncSession, workflow: Workflow, task: WorkflowTask, now: float) -> None:
    """Creates the task's workunit and its unsent results: leasable at commit."""
    params = dict(task.params)
    if task.inputs:
        params["inputs"] = await _resolve_inputs(session, task)
        size = len(json.dumps(params))
        if size > MAX_RESOLVED_PARAMS_BYTES:
            await fail_task(session, workflow, task, f"its inputs make {size} bytes of parameters; the "
                            f"limit is {MAX_RESOLVED_PARAMS_BYTES}", now)
            return
    spec = apps.get(task.app)
    version_id = await _app_version_id(session, spec, now)
    rep = projects.Replication(**task.replication)
    wu = Workunit(project_id=workflow.project_id, app_version_id=version_id, params=params, cost=task.cost,
                  trusted_only=bool(getattr(spec, "trusted_only", False)),
                  min_quorum=rep.min_quorum, target_results=rep.target_results,
                  max_error_results=rep.max_error_results, max_total_results=rep.max_total_results,
                  delay_bound=rep.delay_bound, result_count=rep.target_results, created_at=now,
                  workflow_task_id=task.id)
    session.add(wu)
    await session.flush()
    session.add_all(Result(workunit_id=wu.id, state="unsent", created_at=now)
                    for _ in range(rep.target_results))
    task.state = "queued"
    task.workunit_id = wu.id
    task.attempts += 1
    task.queued_at = now
    task.failure_reason = None
    events.record(session, "workflow.task_queued", now, project_id=workflow.project_id, workunit_id=wu.id,
                  workflow_id=workflow.id, task=task.name, attempt=task.attempts)


async def _app_version_id(session: AsyncSession, spec: apps.AppSpec, now: float) -> int:
    found = await session.scalar(
        select(AppVersion.id).join(App, App.id == AppVersion.app_id)
        .where(App.name == spec.name, AppVersion.version == spec.version))
    if found is not None:
        return int(found)
    return (await projects.ensure_app_version(session, spec, now)).id


async def _resolve_inputs(session: AsyncSession, task: WorkflowTask) -> list[dict[str, Any]]:
    """A task reference becomes the outputs of that task and of everything it spawned."""
    out: list[dict[str, Any]] = []
    for ref in task.inputs:
        if "key" in ref:
            out.append({"name": ref["key"], "key": ref["key"], "sha256": ref.get("sha256")})
            continue
        source = await session.scalar(select(WorkflowTask).where(
            WorkflowTask.workflow_id == task.workflow_id, WorkflowTask.name == ref["task"]))
        assert source is not None
        for t in [source, *await descendants(session, source)]:
            if t.output_key is not None:
                out.append({"name": t.name, "task": t.name, "key": t.output_key, "sha256": t.output_sha256,
                            "size": t.output_size, "summary": t.summary})
    return out


async def descendants(session: AsyncSession, task: WorkflowTask) -> list[WorkflowTask]:
    """Every task spawned by this one, transitively, in creation order."""
    found: list[WorkflowTask] = []
    frontier = [task.id]
    while frontier:
        children = list(await session.scalars(
            select(WorkflowTask).where(WorkflowTask.parent_id.in_(frontier)).order_by(WorkflowTask.id)))
        found.extend(children)
        frontier = [c.id for c in children]
    found.sort(key=lambda t: t.id)
    return found


async def fail_task(session: AsyncSession, workflow: Workflow, task: WorkflowTask, reason: str,
                    now: float) -> None:
    """The task failed past its limits: whatever waits for it is blocked, the workflow failed."""
    task.state = "failed"
    task.failure_reason = reason
    task.finished_at = now
    blocked = await _block_downstream(session, task)
    if workflow.state == "running":
        workflow.state = "failed"
        workflow.failure_reason = f"task {task.name!r} failed: {reason}"
        workflow.finished_at = now
    events.record(session, "workflow.task_failed", now, project_id=workflow.project_id,
                  workunit_id=task.workunit_id, level=logging.WARNING, workflow_id=workflow.id,
                  task=task.name, reason=reason[:300], blocked=blocked)


async def _block_downstream(session: AsyncSession, task: WorkflowTask) -> int:
    """Blocks every waiting task that depends, directly or not, on this task's group
    or on the group of any task that spawned it."""
    roots = [task]
    up = task
    while up.parent_id is not None:
        parent = await session.get(WorkflowTask, up.parent_id)
        assert parent is not None
        roots.append(parent)
        up = parent
    seen = {t.id for t in roots}
    frontier = [t.id for t in roots]
    count = 0
    while frontier:
        nxt = []
        for tid in frontier:
            for dep in await _dependants(session, tid):
                if dep.id in seen:
                    continue
                seen.add(dep.id)
                nxt.append(dep.id)
                if dep.state == "waiting":
                    dep.state = "blocked"
                    count += 1
        frontier = nxt
    return count


async def cancel_workunits(session: AsyncSession, workunit_ids: list[int], now: float) -> int:
    """Stops leasing the workunits still active (each locked in turn: workunit lock first)."""
    from coordinator.domain import transitions

    count = 0
    for wid in sorted(workunit_ids):
        wu = await transitions.lock_workunit(session, wid)
        if wu.state != "active":
            continue
        wu.state = "cancelled"
        wu.finished_at = now
        await session.execute(
            update(Result).where(Result.workunit_id == wid, Result.state.in_(("unsent", "leased")))
            .values(state="cancelled"))
        events.record(session, "workunit.cancelled", now, project_id=wu.project_id, workunit_id=wid)
        count += 1
    return count
