"""Admins, enrolment tokens and nodes: who may talk to the coordinator."""

from __future__ import annotations

import logging
import secrets as _secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.models import Admin, EnrolmentToken, Node
from coordinator.domain import events, secrets, trust
from coordinator.errors import Conflict, Forbidden, InvalidInput, Unauthorized

log = logging.getLogger("newral.nodes")

MAX_TOKEN_TTL = 365 * 86400.0


@dataclass(frozen=True)
class Capabilities:
    platform: str
    arch: str
    cores: int
    memory_bytes: int
    disk_free_bytes: int
    client_version: str
    benchmark: float


async def ensure_admin(session: AsyncSession, name: str, now: float) -> str | None:
    """Creates the first admin; returns its token once, or None if one exists."""
    existing = await session.scalar(select(Admin.id).limit(1))
    if existing is not None:
        return None
    token = secrets.new_token("nra")
    session.add(Admin(name=name, token_hash=secrets.hash_token(token), created_at=now))
    events.record(session, "admin.created", now, level=logging.INFO, name=name)
    return token


async def authenticate_admin(session: AsyncSession, token: str | None) -> Admin:
    if not token:
        raise Unauthorized("an admin token is required (Authorization: Bearer <token>)")
    admin = await session.scalar(select(Admin).where(Admin.token_hash == secrets.hash_token(token)))
    if admin is None:
        raise Unauthorized("the admin token is not valid")
    return admin


async def create_enrolment_token(
    session: AsyncSession, admin: Admin, now: float, *, note: str = "", ttl_seconds: float = 7 * 86400,
    owner: str | None = None,
) -> str:
    if not 60 <= ttl_seconds <= MAX_TOKEN_TTL:
        raise InvalidInput("ttl_seconds must be between 60 seconds and one year")
    token = secrets.new_token("nre")
    row = EnrolmentToken(
        token_hash=secrets.hash_token(token),
        note=note,
        created_at=now,
        expires_at=now + ttl_seconds,
        created_by=admin.id,
        owner=owner or None,
    )
    session.add(row)
    await session.flush()
    events.record(session, "enrolment_token.created", now, token_id=row.id, note=note)
    return token


async def enrol(
    session: AsyncSession, token: str, name: str, caps: Capabilities, now: float
) -> tuple[str, str]:
    """Exchanges a one-time enrolment token for (node_id, secret). The secret is
    returned once; only its hash is stored."""
    token_hash = secrets.hash_token(token)
    row = await session.scalar(select(EnrolmentToken).where(EnrolmentToken.token_hash == token_hash))
    if row is None:
        raise Unauthorized("unknown enrolment token")
    if row.used_at is not None:
        raise Conflict("this enrolment token has already been used; ask the admin for a new one")
    if row.expires_at <= now:
        raise Conflict("this enrolment token has expired; ask the admin for a new one")

    node_id = _secrets.token_hex(16)
    secret = _secrets.token_urlsafe(32)
    bonus = await trust.owner_bonus(session, row.owner)
    session.add(
        Node(
            id=node_id,
            name=name,
            secret_hash=secrets.hash_token(secret),
            platform=caps.platform,
            arch=caps.arch,
            cores=caps.cores,
            memory_bytes=caps.memory_bytes,
            disk_free_bytes=caps.disk_free_bytes,
            client_version=caps.client_version,
            benchmark=caps.benchmark,
            created_at=now,
            last_seen_at=now,
            owner=row.owner,
            trust_good=bonus,
            trust_bad=1.0,
            trust_score=bonus / (bonus + 1.0),
        )
    )
    await session.flush()
    # The WHERE makes a concurrent second use of the same token lose the race.
    claimed = await session.execute(
        update(EnrolmentToken)
        .where(EnrolmentToken.id == row.id, EnrolmentToken.used_at.is_(None))
        .values(used_at=now, node_id=node_id)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this enrolment token has already been used; ask the admin for a new one")
    events.record(
        session, "node.enrolled", now, node_id=node_id, level=logging.INFO,
        name=name, platform=caps.platform, cores=caps.cores,
    )
    return node_id, secret


def parse_node_credential(credential: str | None) -> tuple[str, str]:
    if not credential or "." not in credential:
        raise Unauthorized("node credentials are required (Authorization: Bearer <node_id>.<secret>)")
    node_id, secret = credential.split(".", 1)
    return node_id, secret


async def authenticate_node(session: AsyncSession, credential: str | None, now: float) -> Node:
    node_id, secret = parse_node_credential(credential)
    if len(node_id) != 32:
        raise Unauthorized("node credentials are not valid")
    node = await session.get(Node, node_id)
    if node is None or not secrets.matches(secret, node.secret_hash):
        raise Unauthorized("node credentials are not valid")
    if node.status == "banned":
        raise Forbidden("this node is banned")
    return node


def heartbeat(node: Node, caps: Capabilities | None, now: float) -> None:
    node.last_seen_at = now
    if caps is not None:
        node.platform = caps.platform
        node.arch = caps.arch
        node.cores = caps.cores
        node.memory_bytes = caps.memory_bytes
        node.disk_free_bytes = caps.disk_free_bytes
        node.client_version = caps.client_version
        node.benchmark = caps.benchmark
