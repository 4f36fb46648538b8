"""Credentials from the Authorization header."""

from __future__ import annotations

from litestar import Request

from coordinator.api.state import Services
from coordinator.db.models import Admin, Node
from coordinator.domain import nodes


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


async def node(request: Request, services: Services) -> Node:
    """The calling node, checked in a read without a transaction (one round trip); the
    node is detached: routes that change it lock it again in their own transaction."""
    async with services.db.reading() as session:
        return await nodes.authenticate_node(session, bearer(request), services.clock())


async def admin(request: Request, services: Services) -> Admin:
    async with services.db.transaction() as session:
        return await nodes.authenticate_admin(session, bearer(request))
