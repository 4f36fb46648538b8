"""Admin endpoints: tokens, projects, work, status, nodes, events."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import select

from coordinator.api import auth, schemas
from coordinator.api.state import Services
from coordinator.db.models import Node, Result, Workunit
from coordinator.domain import bundles, events, nodes, projects, trust
from coordinator.errors import NotFound


@post("/enrolment-tokens", status_code=201)
async def create_token(request: Request, data: JSONBody[schemas.TokenIn], services: NamedDependency[Services]) -> schemas.TokenOut:
    """A one-time token a volunteer's agent exchanges for node credentials."""
    now = services.clock()
    async with services.db.transaction() as session:
        admin = await nodes.authenticate_admin(session, auth.bearer(request))
        token = await nodes.create_enrolment_token(session, admin, now, note=data.note,
                                                   ttl_seconds=data.ttl_seconds, owner=data.owner)
    return schemas.TokenOut(token=token)


@post("/projects", status_code=201)
async def create_project(request: Request, data: JSONBody[schemas.ProjectIn], services: NamedDependency[Services]) -> dict[str, Any]:
    now = services.clock()
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        project = await projects.create_project(session, data.name, data.app, now, data.description,
                                                data.replication_policy)
    await projects.after_creation(services.db)
    return {"name": project.name, "app": data.app, "status": project.status,
            "replication_policy": project.replication_policy}


@get("/projects")
async def list_projects(request: Request, services: NamedDependency[Services]) -> list[dict[str, Any]]:
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        return [await projects.status(session, p) for p in await projects.list_projects(session)]


@get("/projects/{name:str}")
async def project_status(request: Request, name: FromPath[str], services: NamedDependency[Services]) -> dict[str, Any]:
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        return await projects.status(session, await projects.get_project(session, name))


@post("/projects/{name:str}/work", status_code=201)
async def submit_work(request: Request, name: FromPath[str], data: JSONBody[schemas.WorkIn], services: NamedDependency[Services]) -> schemas.WorkOut:
    """Cut a work request (for bpsw-hunter: a, b, chunk) into workunits."""
    now = services.clock()
    replication = projects.Replication(
        min_quorum=data.min_quorum, target_results=data.target_results,
        max_error_results=data.max_error_results, max_total_results=data.max_total_results,
        delay_bound=data.delay_bound,
    )
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        project = await projects.get_project(session, name)
        count = await projects.submit_work(session, project, dict(data.params), replication, now)
    await projects.after_submission(services.db, count)
    return schemas.WorkOut(workunits=count)


@post("/projects/{name:str}/app-bundles", status_code=201, request_max_body_size=2 * bundles.MAX_BUNDLE_BYTES)
async def publish_bundle(request: Request, name: FromPath[str], data: JSONBody[dict[str, Any]],
                         services: NamedDependency[Services]) -> dict[str, str]:
    """Store a maintainer-signed app bundle (from `newral app publish`); leases then carry it."""
    now = services.clock()
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        await projects.get_project(session, name)
    app, version, sha, body = bundles.check_payload(name, data)
    key = bundles.object_key(name, app, version, sha)
    await services.store.put(key, body)
    async with services.db.transaction() as session:
        project = await projects.get_project(session, name)
        await bundles.record(session, project, app, version, sha, key, now)
    return {"project": name, "app": app, "version": version, "manifest_sha256": sha}


@post("/projects/{name:str}/status", status_code=200)
async def set_project_status(request: Request, name: FromPath[str], data: JSONBody[schemas.ProjectStateIn],
                             services: NamedDependency[Services]) -> dict[str, str]:
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        project = await projects.get_project(session, name)
        await projects.set_status(session, project, data.status, services.clock())
        return {"name": project.name, "status": project.status}


@get("/workunits/{workunit_id:int}")
async def workunit_detail(request: Request, workunit_id: FromPath[int],
                          services: NamedDependency[Services]) -> dict[str, Any]:
    """A workunit with its replicas and how its canonical result was verified."""
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        wu = await session.get(Workunit, workunit_id)
        if wu is None:
            raise NotFound("no such workunit")
        results = await session.scalars(select(Result).where(Result.workunit_id == wu.id).order_by(Result.id))
        return {
            "id": wu.id, "state": wu.state, "params": wu.params, "min_quorum": wu.min_quorum,
            "accepted_mode": wu.accepted_mode, "verification": wu.verification,
            "canonical_result_id": wu.canonical_result_id, "summary": wu.summary,
            "failure_reason": wu.failure_reason,
            "results": [{"id": r.id, "node_id": r.node_id, "state": r.state, "verdict": r.verdict,
                         "sha256": r.output_sha256, "reported_at": r.reported_at,
                         "wall_seconds": r.wall_seconds, "error": r.error_message} for r in results],
        }


@get("/nodes")
async def list_nodes(request: Request, services: NamedDependency[Services]) -> list[dict[str, Any]]:
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        rows = await session.scalars(select(Node).order_by(Node.created_at))
        return [
            {"id": n.id, "name": n.name, "status": n.status, "platform": n.platform, "arch": n.arch,
             "cores": n.cores, "memory_bytes": n.memory_bytes, "client_version": n.client_version,
             "last_seen_at": n.last_seen_at, "trust_level": n.trust_level, "trust_score": n.trust_score,
             "valid": n.valid_count, "invalid": n.invalid_count, "errors": n.error_count,
             "timeouts": n.timeout_count, "credit": n.credit, "status_reason": n.status_reason}
            for n in rows
        ]


@post("/nodes/{node_id:str}/status", status_code=200)
async def set_node_status(request: Request, node_id: FromPath[str], data: JSONBody[schemas.NodeStatusIn],
                          services: NamedDependency[Services]) -> dict[str, str]:
    """Quarantine, ban or reinstate a node; the reason is kept as an event."""
    async with services.db.transaction() as session:
        admin = await nodes.authenticate_admin(session, auth.bearer(request))
        node = await session.get(Node, node_id)
        if node is None:
            raise NotFound("no such node")
        await trust.set_status(session, node, data.status, data.reason, f"api:{admin.name}", services.clock())
        return {"id": node.id, "status": node.status}


@get("/events")
async def list_events(
    request: Request, services: NamedDependency[Services],
    after: Annotated[int, QueryParameter(ge=0)] = 0,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        return [
            {"id": e.id, "at": e.at, "kind": e.kind, "node_id": e.node_id, "project_id": e.project_id,
             "workunit_id": e.workunit_id, "result_id": e.result_id, "data": e.data}
            for e in await events.since(session, after, limit)
        ]


router = Router(
    path="/api/v1/admin",
    route_handlers=[create_token, create_project, list_projects, project_status, submit_work, publish_bundle,
                    set_project_status, workunit_detail, list_nodes, set_node_status, list_events],
    tags=["admin"],
)
