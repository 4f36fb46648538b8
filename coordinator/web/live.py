"""The live parts of the pages: HTML fragments the browser re-fetches when
something happens, and a server-sent event stream fed by the events table.

The stream polls the table (every replica sees the same rows, so a browser may
be served by any of them) and ends after STREAM_SECONDS; EventSource reconnects
by itself with Last-Event-ID, which also keeps a shutting-down server from
waiting on open streams."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Response, ServerSentEvent, ServerSentEventMessage

from coordinator.api.state import Services
from coordinator.domain import dashboard, events
from coordinator.web import render
from coordinator.web.render import ago
from coordinator.web.session import SECURITY_HEADERS, reading

POLL_SECONDS = 1.0
STREAM_SECONDS = 20.0
BATCH = 100


def fragment(name: str, services: Services, **context: object) -> Response[str]:
    return render.html(name, now=services.clock(), headers=SECURITY_HEADERS, **context)


@get("/ui/fragments/overview", include_in_schema=False)
async def overview_fragment(request: Request, services: NamedDependency[Services]) -> Response[str]:
    now = services.clock()
    async with reading(request, services) as (_, session):
        overview = await dashboard.overview(session, now)
        chart = await dashboard.throughput(session, now)
    return fragment("_overview.html", services, overview=overview, chart=chart)


@get("/ui/fragments/nodes", include_in_schema=False)
async def nodes_fragment(request: Request, services: NamedDependency[Services]) -> Response[str]:
    async with reading(request, services) as (v, session):
        rows = await dashboard.node_rows(session, services.clock())
    return fragment("_nodes.html", services, nodes=rows, viewer=v)


@get("/ui/fragments/projects", include_in_schema=False)
async def projects_fragment(request: Request, services: NamedDependency[Services]) -> Response[str]:
    async with reading(request, services) as (v, session):
        rows = await dashboard.project_rows(session, services.clock())
    return fragment("_project_progress.html", services, projects=rows, viewer=v)


@get("/ui/fragments/findings", include_in_schema=False)
async def findings_fragment(request: Request, services: NamedDependency[Services]) -> Response[str]:
    async with reading(request, services) as (v, session):
        found = await dashboard.findings(session)
    return fragment("_findings.html", services, findings=found, viewer=v)


def _message(e: dashboard.EventRow, now: float) -> ServerSentEventMessage:
    body = {"id": e.id, "at": e.at, "ago": ago(e.at, now), "kind": e.kind, "node_id": e.node_id,
            "project_id": e.project_id, "workunit_id": e.workunit_id, "data": e.data}
    return ServerSentEventMessage(data=json.dumps(body, default=str), event="newral", id=str(e.id))


@get("/ui/events/stream", include_in_schema=False)
async def event_stream(
    request: Request, services: NamedDependency[Services],
    after: Annotated[int | None, QueryParameter(ge=0)] = None,
) -> ServerSentEvent:
    """Events after the Last-Event-ID a reconnecting browser sends, else after `after`,
    else from now on."""
    async with reading(request, services) as (_, session):
        header = request.headers.get("last-event-id", "")
        if header.isdigit():
            last = int(header)
        else:
            last = after if after is not None else await dashboard.last_event_id(session)

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        nonlocal last
        yield ServerSentEventMessage(retry=1000, comment="newral events")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STREAM_SECONDS
        while loop.time() < deadline:
            async with services.db.transaction() as session:
                rows = [dashboard.event_row(e) for e in await events.since(session, last, BATCH)]
            now = services.clock()
            for row in rows:
                last = row.id
                yield _message(row, now)
            if len(rows) < BATCH:
                await asyncio.sleep(POLL_SECONDS)

    return ServerSentEvent(stream(), headers={"cache-control": "no-store", "x-accel-buffering": "no"})


HANDLERS = [overview_fragment, nodes_fragment, projects_fragment, findings_fragment, event_stream]
