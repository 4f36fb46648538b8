"""What the web UI shows of workflows, read through the workflow engine's own
views (coordinator.workflows.views) and acted on through its lifecycle module,
the same calls the JSON API (api/workflow_routes.py) makes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.web import dag
from coordinator.workflows import lifecycle, views


@dataclass(frozen=True)
class WorkflowView:
    status: dict[str, Any]  # views.status(): id, name, project, state, progress, failed_tasks, ...
    tasks: tuple[dag.Task, ...]

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.tasks:
            out[t.state] = out.get(t.state, 0) + 1
        return out


async def list_workflows(session: AsyncSession) -> list[dict[str, Any]]:
    return [await views.status(session, w) for w in await views.list_workflows(session)]


async def get_workflow(session: AsyncSession, workflow_id: int) -> WorkflowView:
    workflow = await lifecycle.get(session, workflow_id)
    graph = await views.graph(session, workflow)
    parents: dict[str, list[str]] = {}
    spawned: dict[str, str] = {}
    for e in graph["edges"]:
        if e["kind"] == "spawned":
            spawned[e["to"]] = e["from"]
        else:
            parents.setdefault(e["to"], []).append(e["from"])
    tasks = tuple(
        dag.Task(key=n["name"], state=n["state"], depends_on=tuple(parents.get(n["name"], ())),
                 detail=n["app"], spawned_by=spawned.get(n["name"]))
        for n in graph["nodes"]
    )
    return WorkflowView(status=await views.status(session, workflow), tasks=tasks)
