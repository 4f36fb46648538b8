"""The coordinator's web UI for project admins (server-rendered pages under /ui,
a live event stream, vendored static assets) and /metrics.

    pages.py     GET pages            actions.py  POST forms (session + CSRF + role)
    live.py      fragments and SSE    api_routes  the same data as JSON, and /metrics
    session.py   cookie, who is asking, HTML error handling
    dag.py       workflow graph layout    workflows.py  the workflow engine's read interface
"""

from __future__ import annotations

from litestar import Router
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from coordinator.web import actions, api_routes, live, pages, render, session


def route_handlers() -> list[ControllerRouterHandler]:
    """Everything create_app registers for the web UI, the dashboard API and /metrics."""
    ui = Router(path="/", route_handlers=[*pages.HANDLERS, *actions.HANDLERS, *live.HANDLERS],
                exception_handlers=session.HANDLERS,  # type: ignore[arg-type]
                include_in_schema=False)
    static = create_static_files_router(path="/ui/static", directories=[render.STATIC],
                                        include_in_schema=False, send_as_attachment=False)
    return [ui, static, api_routes.router, api_routes.get_metrics]


__all__ = ["route_handlers"]
