"""The forms (POST): log in and out, and every change a person can make. Each one
checks the session, the CSRF token and the role, calls the same domain service
as the JSON API, and redirects back (post/redirect/get)."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Response

from coordinator.api.state import Services
from coordinator.domain import dashboard, projects, trust, users
from coordinator.errors import DomainError, Forbidden, InvalidInput, Unauthorized
from coordinator.web import dag, forms, render, workflows
from coordinator.web.session import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    SECURITY_HEADERS,
    acting,
    new_login_csrf,
    reading,
    session_cookie,
)
from coordinator.workflows import lifecycle


def back(path: str) -> Redirect:
    return Redirect(path, status_code=303)


@post("/ui/login", include_in_schema=False)
async def log_in(request: Request, data: URLEncodedBody[forms.Login],
                 services: NamedDependency[Services]) -> Response[str]:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    target = forms.safe_next(data.next)
    try:
        if not expected or not hmac.compare_digest(expected, data.login_csrf):
            raise Forbidden("the login form expired; please try again")
        async with services.db.transaction() as session:
            token, _ = await users.log_in(session, data.name, data.password, services.clock())
    except DomainError as exc:
        fresh = new_login_csrf()
        response = render.html("login.html", status=exc.status, now=services.clock(), next=target,
                               login_csrf=fresh, error=exc.message, headers=SECURITY_HEADERS)
        response.set_cookie(LOGIN_CSRF_COOKIE, fresh, path="/ui/login", httponly=True,
                            samesite="strict", max_age=3600)
        return response
    response = back(target)
    response.set_cookie(session_cookie(services, token, int(users.SESSION_SECONDS)))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui/login")
    return response


@post("/ui/logout", include_in_schema=False)
async def log_out(request: Request, data: URLEncodedBody[forms.Csrf],
                  services: NamedDependency[Services]) -> Redirect:
    async with acting(request, services, "view", data.csrf_token) as (_, session):
        await users.log_out(session, request.cookies.get(COOKIE), services.clock())
    response = back("/ui/login")
    response.set_cookie(session_cookie(services, "", 0))
    return response


@post("/ui/projects", include_in_schema=False)
async def create_project(request: Request, data: URLEncodedBody[forms.NewProject],
                         services: NamedDependency[Services]) -> Redirect:
    now = services.clock()
    count = 0
    async with acting(request, services, "projects.manage", data.csrf_token) as (_, session):
        project = await projects.create_project(session, data.name.strip(), data.app, now,
                                                data.description.strip())
        if forms.has_work(data):
            params, replication = forms.work_request(data.app, data)
            count = await projects.submit_work(session, project, dict(params), replication, now)
    await projects.after_creation(services.db, count)
    return back("/ui/projects")


@post("/ui/projects/{name:str}/work", include_in_schema=False)
async def submit_work(request: Request, name: FromPath[str], data: URLEncodedBody[forms.Work],
                      services: NamedDependency[Services]) -> Redirect:
    now = services.clock()
    async with acting(request, services, "projects.manage", data.csrf_token) as (_, session):
        project = await projects.get_project(session, name)
        params, replication = forms.work_request((await projects.app_of(session, project)).name, data)
        count = await projects.submit_work(session, project, dict(params), replication, now)
    await projects.after_submission(services.db, count)
    return back("/ui/projects")


@post("/ui/projects/{name:str}/status", include_in_schema=False)
async def set_project_status(request: Request, name: FromPath[str], data: URLEncodedBody[forms.ProjectState],
                             services: NamedDependency[Services]) -> Redirect:
    async with acting(request, services, "projects.manage", data.csrf_token) as (_, session):
        project = await projects.get_project(session, name)
        await projects.set_status(session, project, data.status, services.clock())
    return back("/ui/projects")


@post("/ui/nodes/{node_id:str}/status", include_in_schema=False)
async def set_node_status(request: Request, node_id: FromPath[str], data: URLEncodedBody[forms.NodeState],
                          services: NamedDependency[Services]) -> Redirect:
    async with acting(request, services, "nodes.manage", data.csrf_token) as (v, session):
        node = await dashboard.get_node(session, node_id)
        await trust.set_status(session, node, data.status, data.reason, f"web:{v.name}", services.clock())
    return back(f"/ui/nodes/{node_id}")


@post("/ui/workflows/{workflow_id:int}/cancel", include_in_schema=False)
async def cancel_workflow(request: Request, workflow_id: FromPath[int], data: URLEncodedBody[forms.Csrf],
                          services: NamedDependency[Services]) -> Redirect:
    async with acting(request, services, "workflows.manage", data.csrf_token):
        pass
    # The engine cancels in two short transactions of its own (workflow, then workunits).
    await lifecycle.cancel_workflow(services.db, workflow_id, services.clock())
    return back(f"/ui/workflows/{workflow_id}")


@post("/ui/workflows/{workflow_id:int}/retry", include_in_schema=False)
async def retry_workflow(request: Request, workflow_id: FromPath[int], data: URLEncodedBody[forms.Csrf],
                         services: NamedDependency[Services]) -> Redirect:
    async with acting(request, services, "workflows.manage", data.csrf_token) as (_, session):
        await lifecycle.retry(session, workflow_id, services.clock())
    return back(f"/ui/workflows/{workflow_id}")


@post("/ui/workflows", include_in_schema=False)
async def submit_workflow(request: Request, data: URLEncodedBody[forms.WorkflowDoc],
                          services: NamedDependency[Services]) -> Response[Any]:
    """Draws the document (action=preview, which stores nothing) or submits it to a project."""
    now = services.clock()
    preview, error = None, None
    try:
        name, tasks, doc = dag.parse_document(data.document)
        preview = (name, dag.layout(tasks))
        if data.action == "submit":
            async with acting(request, services, "workflows.manage", data.csrf_token):
                pass
            for key in lifecycle.object_inputs(doc):
                if await services.store.head(key) is None:
                    raise InvalidInput(f"input object {key!r} does not exist in the object store")
            async with acting(request, services, "workflows.manage", data.csrf_token) as (_, session):
                project = await projects.get_project(session, data.project)
                workflow = await lifecycle.submit(session, project, doc, now)
            return back(f"/ui/workflows/{workflow.id}")
    except (Forbidden, Unauthorized):
        raise
    except DomainError as exc:
        error = exc.message
    async with reading(request, services) as (v, session):
        v.check_csrf(data.csrf_token)
        rows = await workflows.list_workflows(session)
        names = [p.name for p in await projects.list_projects(session)]
    return render.html("workflows.html", viewer=v, now=now, active="workflows", workflows=rows,
                       projects=names, preview=preview, document=data.document, chosen=data.project,
                       error=error, status=200 if error is None else 422, headers=SECURITY_HEADERS)


@post("/ui/users", include_in_schema=False)
async def create_user(request: Request, data: URLEncodedBody[forms.NewUser],
                      services: NamedDependency[Services]) -> Redirect:
    async with acting(request, services, "users.manage", data.csrf_token) as (v, session):
        await users.create_user(session, data.name.strip(), data.password, data.role, services.clock(),
                                created_by=f"web:{v.name}")
    return back("/ui/users")


HANDLERS = [log_in, log_out, create_project, submit_work, set_project_status, set_node_status,
            cancel_workflow, retry_workflow, submit_workflow, create_user]
