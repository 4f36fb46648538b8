"""The pages (GET). Each reads through the domain's read services in one
transaction and renders a template; nothing here queries tables directly."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Response

from coordinator import apps
from coordinator.api.state import Services
from coordinator.domain import dashboard, projects, users
from coordinator.errors import InvalidInput
from coordinator.orchestrator import advice, modes
from coordinator.web import dag, forms, render, workflows
from coordinator.web.session import LOGIN_CSRF_COOKIE, SECURITY_HEADERS, acting, new_login_csrf, reading


def page(name: str, v: users.Viewer, services: Services, active: str, **context: object) -> Response[str]:
    return render.html(name, viewer=v, now=services.clock(), active=active, headers=SECURITY_HEADERS,
                       **context)


@get("/", include_in_schema=False)
async def root() -> Redirect:
    return Redirect("/ui/", status_code=303)


@get("/ui/login", include_in_schema=False)
async def login_page(
    services: NamedDependency[Services], next: Annotated[str, QueryParameter(max_length=200)] = "/ui/",
) -> Response[str]:
    token = new_login_csrf()
    response = render.html("login.html", now=services.clock(), next=forms.safe_next(next),
                           login_csrf=token, error=None, headers=SECURITY_HEADERS)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, path="/ui/login", httponly=True, samesite="strict",
                        max_age=3600)
    return response


@get("/ui/", include_in_schema=False)
async def dashboard_page(request: Request, services: NamedDependency[Services]) -> Response[str]:
    now = services.clock()
    async with reading(request, services) as (v, session):
        overview = await dashboard.overview(session, now)
        chart = await dashboard.throughput(session, now)
        recent = await dashboard.recent_events(session, 25)
    return page("dashboard.html", v, services, "dashboard", overview=overview, chart=chart,
                events=recent)


@get("/ui/nodes", include_in_schema=False)
async def nodes_page(request: Request, services: NamedDependency[Services]) -> Response[str]:
    async with reading(request, services) as (v, session):
        rows = await dashboard.node_rows(session, services.clock())
    return page("nodes.html", v, services, "nodes", nodes=rows)


@get("/ui/nodes/{node_id:str}", include_in_schema=False)
async def node_page(request: Request, node_id: FromPath[str], services: NamedDependency[Services]) -> Response[str]:
    async with reading(request, services) as (v, session):
        detail = await dashboard.node_detail(session, node_id, services.clock())
    return page("node.html", v, services, "nodes", detail=detail)


@get("/ui/projects", include_in_schema=False)
async def projects_page(request: Request, services: NamedDependency[Services]) -> Response[str]:
    async with reading(request, services) as (v, session):
        rows = await dashboard.project_rows(session, services.clock())
    return page("projects.html", v, services, "projects", projects=rows,
                app_names=sorted(apps.REGISTRY), app_fields=forms.APP_FIELDS)


@get("/ui/workflows", include_in_schema=False)
async def workflows_page(request: Request, services: NamedDependency[Services]) -> Response[str]:
    async with reading(request, services) as (v, session):
        rows = await workflows.list_workflows(session)
        names = [p.name for p in await projects.list_projects(session)]
    return page("workflows.html", v, services, "workflows", workflows=rows, projects=names, preview=None,
                document="", chosen="", error=None)


@get("/ui/workflows/{workflow_id:int}", include_in_schema=False)
async def workflow_page(request: Request, workflow_id: FromPath[int],
                        services: NamedDependency[Services]) -> Response[str]:
    async with reading(request, services) as (v, session):
        wf = await workflows.get_workflow(session, workflow_id)
    try:
        graph, too_big = dag.layout(list(wf.tasks)), None
    except InvalidInput as exc:
        graph, too_big = None, exc.message
    return page("workflow.html", v, services, "workflows", workflow=wf, graph=graph, too_big=too_big)


@get("/ui/findings", include_in_schema=False)
async def findings_page(request: Request, services: NamedDependency[Services]) -> Response[str]:
    async with reading(request, services) as (v, session):
        found = await dashboard.findings(session)
    return page("findings.html", v, services, "findings", findings=found)


@get("/ui/apps", include_in_schema=False)
async def apps_page(request: Request, services: NamedDependency[Services]) -> Response[str]:
    async with reading(request, services) as (v, session):
        versions = await dashboard.app_versions(session)
    return page("apps.html", v, services, "apps", versions=versions, releases=None)


@get("/ui/orchestrator", include_in_schema=False)
async def orchestrator_page(request: Request, services: NamedDependency[Services]) -> Response[str]:
    async with reading(request, services) as (v, session):
        state = await modes.current(session)
        recs = [advice.as_dict(r) for r in await advice.listing(session, limit=100)]
    return page("orchestrator.html", v, services, "orchestrator", mode=state.title, state=state,
                modes=modes.TITLES, recommendations=recs)


class OrchestratorForm(msgspec.Struct):
    csrf_token: forms.Short = ""
    mode: forms.Short = ""


@post("/ui/orchestrator/mode", include_in_schema=False)
async def set_orchestrator_mode(request: Request, data: URLEncodedBody[OrchestratorForm],
                                services: NamedDependency[Services]) -> Redirect:
    """The mode switch; the Off button posts mode=off (the kill switch)."""
    async with acting(request, services, "orchestrator.manage", data.csrf_token) as (v, session):
        await modes.set_mode(session, data.mode, f"web:{v.name}", services.clock())
    return Redirect("/ui/orchestrator", status_code=303)


@post("/ui/orchestrator/recommendations/{rec_id:int}/{verdict:str}", include_in_schema=False)
async def decide_recommendation(request: Request, rec_id: FromPath[int], verdict: FromPath[str],
                                data: URLEncodedBody[forms.Csrf], services: NamedDependency[Services]) -> Redirect:
    status = {"apply": "applied", "dismiss": "dismissed"}.get(verdict, verdict)
    async with acting(request, services, "orchestrator.manage", data.csrf_token) as (v, session):
        await advice.decide(session, rec_id, status, f"web:{v.name}", services.clock())
    return Redirect("/ui/orchestrator", status_code=303)


@get("/ui/users", include_in_schema=False)
async def users_page(request: Request, services: NamedDependency[Services]) -> Response[str]:
    async with reading(request, services, "users.manage") as (v, session):
        rows = await users.list_users(session)
    return page("users.html", v, services, "users", users=rows, roles=users.ROLES,
                role_titles=users.ROLE_TITLES)


HANDLERS = [root, login_page, dashboard_page, nodes_page, node_page, projects_page, workflows_page,
            workflow_page, findings_page, apps_page, orchestrator_page, users_page,
            set_orchestrator_mode, decide_recommendation]
