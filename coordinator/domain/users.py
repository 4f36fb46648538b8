"""People who use the web UI: roles, passwords, browser sessions and CSRF tokens.

Roles and what they may do (``PERMISSIONS``)::

    viewer    reads every page
    manager   (project manager) + creates projects, submits work, pauses and
              resumes, retries and cancels workflows
    admin     + quarantines and reinstates nodes, manages users, the orchestrator

Passwords are hashed with scrypt (hashlib, no extra dependency). A session is a
random token in an HttpOnly cookie; the database keeps its SHA-256 and a
per-session CSRF token that every form must echo back (synchronizer token).
Logging out deletes the row, so the cookie is dead from then on.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import re
import secrets as _secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.web_models import User, WebSession
from coordinator.domain import events, secrets
from coordinator.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized

ROLES = ("admin", "manager", "viewer")
ROLE_TITLES = {"admin": "admin", "manager": "project manager", "viewer": "viewer"}

PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset(ROLES),
    "projects.manage": frozenset({"admin", "manager"}),
    "workflows.manage": frozenset({"admin", "manager"}),
    "nodes.manage": frozenset({"admin"}),
    "users.manage": frozenset({"admin"}),
    "orchestrator.manage": frozenset({"admin"}),
}

SESSION_SECONDS = 12 * 3600.0
MIN_PASSWORD = 10
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

# scrypt at n=2^14, r=8 costs 16 MiB and tens of milliseconds: slow for a guesser.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 1 << 14, 8, 1
_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    salt = _secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P,
                            maxmem=_MAXMEM, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r),
                             p=int(p), maxmem=_MAXMEM, dklen=len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


# Compared against when the user does not exist, so both paths cost the same.
_DUMMY_HASH = hash_password("no such user, no such password")


def allowed(role: str, action: str) -> bool:
    return role in PERMISSIONS.get(action, frozenset())


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a page: the logged-in user and their session's CSRF token."""

    user_id: int
    name: str
    role: str
    csrf_token: str

    @property
    def role_title(self) -> str:
        return ROLE_TITLES.get(self.role, self.role)

    def can(self, action: str) -> bool:
        return allowed(self.role, action)

    def require(self, action: str) -> None:
        if not self.can(action):
            raise Forbidden(f"a {self.role_title} may not do this ({action})")

    def check_csrf(self, submitted: str | None) -> None:
        if not submitted or not hmac.compare_digest(submitted, self.csrf_token):
            raise Forbidden("the form's CSRF token is missing or wrong; reload the page and try again")


def _check_new_user(name: str, password: str, role: str) -> None:
    if not NAME_RE.match(name):
        raise InvalidInput("user names are 1-64 letters, digits and . _ @ -, starting with a letter or digit")
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"passwords need at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise InvalidInput("passwords may have at most 1024 characters")


async def create_user(session: AsyncSession, name: str, password: str, role: str, now: float,
                      *, created_by: str = "cli") -> User:
    _check_new_user(name, password, role)
    if await session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict(f"a user named {name!r} exists already")
    user = User(name=name, password_hash=await asyncio.to_thread(hash_password, password), role=role,
                created_at=now)
    session.add(user)
    await session.flush()
    events.record(session, "user.created", now, level=logging.INFO, name=name, role=role,
                  by=created_by)
    return user


async def list_users(session: AsyncSession) -> list[User]:
    return list(await session.scalars(select(User).order_by(User.name)))


async def set_role(session: AsyncSession, user_id: int, role: str, now: float, *, by: str) -> User:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    if user.role != role:
        user.role = role
        events.record(session, "user.role_changed", now, level=logging.INFO, name=user.name,
                      role=role, by=by)
    return user


async def log_in(session: AsyncSession, name: str, password: str, now: float) -> tuple[str, Viewer]:
    """Checks the password and opens a session; returns (session token, viewer). The token
    is returned once; only its hash is stored."""
    user = await session.scalar(select(User).where(User.name == name))
    ok = await asyncio.to_thread(verify_password, password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not ok or user.disabled:
        events.record(session, "user.login_failed", now, level=logging.WARNING, name=name[:64])
        raise Unauthorized("wrong user name or password")
    token = _secrets.token_urlsafe(32)
    csrf = _secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=secrets.hash_token(token), user_id=user.id, csrf_token=csrf,
                           created_at=now, expires_at=now + SESSION_SECONDS))
    # Expired sessions of this user are swept here, so the table does not grow forever.
    await session.execute(delete(WebSession).where(WebSession.user_id == user.id,
                                                   WebSession.expires_at <= now))
    events.record(session, "user.logged_in", now, level=logging.INFO, name=user.name)
    return token, Viewer(user.id, user.name, user.role, csrf)


async def authenticate(session: AsyncSession, token: str | None, now: float) -> Viewer:
    if not token:
        raise Unauthorized("please log in")
    row = await session.get(WebSession, secrets.hash_token(token))
    if row is None or row.expires_at <= now:
        raise Unauthorized("your session has ended; please log in again")
    user = await session.get(User, row.user_id)
    if user is None or user.disabled:
        raise Unauthorized("this account is disabled")
    return Viewer(user.id, user.name, user.role, row.csrf_token)


async def log_out(session: AsyncSession, token: str | None, now: float) -> None:
    if not token:
        return
    row = await session.get(WebSession, secrets.hash_token(token))
    if row is not None:
        user = await session.get(User, row.user_id)
        await session.delete(row)
        events.record(session, "user.logged_out", now, level=logging.INFO,
                      name=user.name if user else "?")
