"""Workflow endpoints: admins submit, watch, retry and cancel DAG workflows; an agent
asks for download URLs of its task's inputs."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from coordinator.api import auth
from coordinator.api.state import Services
from coordinator.db.models import Result, Workunit
from coordinator.domain import nodes, projects
from coordinator.errors import Forbidden, InvalidInput, LeaseExpired, NotFound
from coordinator.store import InvalidKey
from coordinator.workflows import lifecycle, views


class InputUrlIn(msgspec.Struct, forbid_unknown_fields=True):
    result_id: Annotated[int, msgspec.Meta(ge=1, le=1 << 62)]
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


@post("/admin/projects/{name:str}/workflows", status_code=201)
async def submit_workflow(request: Request, name: FromPath[str], data: JSONBody[dict[str, Any]],
                          services: NamedDependency[Services]) -> dict[str, Any]:
    """Submit a workflow document (tasks with apps, params, inputs and dependencies)."""
    now = services.clock()
    await auth.admin(request, services)
    for key in lifecycle.object_inputs(data):
        if await services.store.head(key) is None:
            raise InvalidInput(f"input object {key!r} does not exist in the object store")
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        project = await projects.get_project(session, name)
        workflow = await lifecycle.submit(session, project, data, now)
        return await views.status(session, workflow)


@get("/admin/workflows")
async def list_workflows(request: Request, services: NamedDependency[Services],
                         project: Annotated[str | None, QueryParameter(max_length=64)] = None) -> list[dict[str, Any]]:
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        project_id = (await projects.get_project(session, project)).id if project else None
        return [await views.status(session, w) for w in await views.list_workflows(session, project_id)]


@get("/admin/workflows/{workflow_id:int}")
async def workflow_status(request: Request, workflow_id: FromPath[int],
                          services: NamedDependency[Services]) -> dict[str, Any]:
    """State, progress counts per task state, and the reason of a failure."""
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        return await views.status(session, await lifecycle.get(session, workflow_id))


@get("/admin/workflows/{workflow_id:int}/graph")
async def workflow_graph(request: Request, workflow_id: FromPath[int], services: NamedDependency[Services],
                         summaries: Annotated[bool, QueryParameter()] = False) -> dict[str, Any]:
    """Every task with its state, dependency edges and spawn edges (for drawing)."""
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        return await views.graph(session, await lifecycle.get(session, workflow_id), summaries)


@post("/admin/workflows/{workflow_id:int}/retry", status_code=200)
async def retry_workflow(request: Request, workflow_id: FromPath[int],
                         services: NamedDependency[Services]) -> dict[str, Any]:
    """Re-run the failed and cancelled tasks; blocked tasks wait again."""
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        requeued = await lifecycle.retry(session, workflow_id, services.clock())
        status = await views.status(session, await lifecycle.get(session, workflow_id))
    return {**status, "requeued": requeued}


@post("/admin/workflows/{workflow_id:int}/cancel", status_code=200)
async def cancel_workflow(request: Request, workflow_id: FromPath[int],
                          services: NamedDependency[Services]) -> dict[str, Any]:
    """Stop the workflow: its tasks are no longer leased."""
    await auth.admin(request, services)
    stopped = await lifecycle.cancel_workflow(services.db, workflow_id, services.clock())
    async with services.db.transaction() as session:
        status = await views.status(session, await lifecycle.get(session, workflow_id))
    return {**status, "workunits_stopped": stopped}


@post("/work/input-url", status_code=200)
async def input_url(request: Request, data: JSONBody[InputUrlIn],
                    services: NamedDependency[Services]) -> dict[str, Any]:
    """A download URL for one input of a result leased to this node."""
    now = services.clock()
    async with services.db.transaction() as session:
        node = await nodes.authenticate_node(session, auth.bearer(request), now)
        result = await session.get(Result, data.result_id)
        if result is None:
            raise NotFound("no such result")
        if result.node_id != node.id:
            raise Forbidden("this result is not leased to you")
        if result.state != "leased" or (result.deadline_at or 0) < now:
            raise LeaseExpired("this result is no longer leased to you")
        wu = await session.get(Workunit, result.workunit_id)
        assert wu is not None
        keys = {i.get("key") for i in (wu.params or {}).get("inputs", []) if isinstance(i, dict)}
        if data.key not in keys:
            raise Forbidden("that object is not an input of this result")
        deadline = result.deadline_at or now
    try:
        req = await services.store.download_url(data.key, max(60, int(deadline - now) + 60))
    except InvalidKey as exc:
        raise InvalidInput(str(exc)) from None
    return {"method": req.method, "url": req.url, "headers": req.headers, "expires_at": req.expires_at}


router = Router(path="/api/v1",
                route_handlers=[submit_workflow, list_workflows, workflow_status, workflow_graph,
                                retry_workflow, cancel_workflow, input_url],
                tags=["workflows"])
