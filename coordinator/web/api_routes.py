"""The JSON side of what the web UI shows, for scripts (admin Bearer token), plus
Prometheus metrics. Same read services as the pages."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from coordinator import metrics
from coordinator.api import auth
from coordinator.api.state import Services
from coordinator.domain import dashboard, nodes


@get("/dashboard")
async def get_dashboard(request: Request, services: NamedDependency[Services]) -> dashboard.Overview:
    """Active nodes, workunits waiting, running and validated, pending validations, findings."""
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        return await dashboard.overview(session, services.clock())


@get("/throughput")
async def get_throughput(
    request: Request, services: NamedDependency[Services],
    window: Annotated[float, QueryParameter(ge=60, le=30 * 86400)] = 3600.0,
    buckets: Annotated[int, QueryParameter(ge=1, le=500)] = 30,
) -> dashboard.Throughput:
    """Workunits validated per time bucket over the last `window` seconds."""
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        return await dashboard.throughput(session, services.clock(), window=window, buckets=buckets)


@get("/nodes/{node_id:str}")
async def get_node(request: Request, node_id: FromPath[str], services: NamedDependency[Services]) -> dashboard.NodeDetail:
    """A node with its history (events, newest first) and its latest results."""
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        return await dashboard.node_detail(session, node_id, services.clock())


@get("/project-shares")
async def get_project_rows(request: Request, services: NamedDependency[Services]) -> list[dashboard.ProjectRow]:
    """Each project's progress and its share of the network."""
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        return await dashboard.project_rows(session, services.clock())


@get("/findings")
async def get_findings(request: Request, services: NamedDependency[Services]) -> dashboard.Findings:
    """BPSW claims, Carmichael numbers with certificates and counts per decade (by digits)."""
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        return await dashboard.findings(session)


@get("/app-versions")
async def get_app_versions(request: Request, services: NamedDependency[Services]) -> list[dashboard.AppVersionRow]:
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        return await dashboard.app_versions(session)


@get("/metrics", include_in_schema=False)
async def get_metrics(services: NamedDependency[Services]) -> Response[bytes]:
    """Prometheus text format, computed from the database (the same on every replica)."""
    async with services.db.transaction() as session:
        snap = await metrics.snapshot(session, services.clock())
    return Response(metrics.render(snap), media_type=metrics.CONTENT_TYPE)


router = Router(
    path="/api/v1/admin",
    route_handlers=[get_dashboard, get_throughput, get_node, get_project_rows, get_findings,
                    get_app_versions],
    tags=["admin: dashboard"],
)
