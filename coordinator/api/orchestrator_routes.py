"""Admin endpoints for the AI orchestrator: the mode (and its kill switch), the
predictors' training and errors, and the recommendations to apply or dismiss."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from coordinator.api import auth
from coordinator.api.state import Services
from coordinator.domain import nodes
from coordinator.orchestrator import advice, live, modes


class ModeIn(msgspec.Struct):
    mode: Annotated[str, msgspec.Meta(max_length=16)]
    partial_actions: list[Annotated[str, msgspec.Meta(max_length=32)]] | None = None


def _mode_out(state: modes.ModeState) -> dict[str, Any]:
    return {"mode": state.mode, "title": state.title, "partial_actions": list(state.partial_actions),
            "changed_at": state.changed_at, "changed_by": state.changed_by,
            "models": {k: v for k, v in state.models.items() if k != "coefficients"}}


@get("/mode")
async def get_mode(request: Request, services: NamedDependency[Services]) -> dict[str, Any]:
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        return _mode_out(await modes.current(session))


@post("/mode", status_code=200)
async def set_mode(request: Request, data: JSONBody[ModeIn], services: NamedDependency[Services]) -> dict[str, Any]:
    async with services.db.transaction() as session:
        admin = await nodes.authenticate_admin(session, auth.bearer(request))
        state = await modes.set_mode(session, data.mode, f"api:{admin.name}", services.clock(), data.partial_actions)
        return _mode_out(state)


@post("/off", status_code=200)
async def kill_switch(request: Request, services: NamedDependency[Services]) -> dict[str, Any]:
    """The kill switch: back to AI Off (deterministic rules) at once."""
    async with services.db.transaction() as session:
        admin = await nodes.authenticate_admin(session, auth.bearer(request))
        return _mode_out(await modes.kill(session, f"api:{admin.name}", services.clock()))


@post("/train", status_code=200)
async def train(request: Request, services: NamedDependency[Services]) -> dict[str, Any]:
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        trained = await advice.train(session, services.clock())
        return {k: v for k, v in trained.summary().items() if k != "coefficients"}


@post("/pass", status_code=200)
async def run_pass(request: Request, services: NamedDependency[Services]) -> dict[str, Any]:
    """Run the orchestrator's periodic pass now (it also runs every minute by itself)."""
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        done = await live.run_pass(session, services.clock())
        return {"mode": done.mode, "reissued": done.reissued, "recommended": done.recommended,
                "planned_nodes": done.planned_nodes}


@get("/recommendations")
async def list_recommendations(request: Request, services: NamedDependency[Services],
                               status: Annotated[str | None, QueryParameter(max_length=16)] = None
                               ) -> list[dict[str, Any]]:
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))
        return [advice.as_dict(r) for r in await advice.listing(session, status)]


@post("/recommendations/{rec_id:int}/{verdict:str}", status_code=200)
async def decide(request: Request, rec_id: FromPath[int], verdict: FromPath[str],
                 services: NamedDependency[Services]) -> dict[str, Any]:
    """verdict: apply | dismiss."""
    status = {"apply": "applied", "dismiss": "dismissed"}.get(verdict, verdict)
    async with services.db.transaction() as session:
        admin = await nodes.authenticate_admin(session, auth.bearer(request))
        return advice.as_dict(await advice.decide(session, rec_id, status, f"api:{admin.name}", services.clock()))


router = Router(path="/api/v1/admin/orchestrator",
                route_handlers=[get_mode, set_mode, kill_switch, train, run_pass, list_recommendations, decide])
