"""Browser sessions at the HTTP edge: the cookie, who is asking, and how the web
pages answer a domain error (a login redirect or an error page, never JSON)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.api.state import Services
from coordinator.domain import users
from coordinator.errors import DomainError, Unauthorized
from coordinator.web import render

log = logging.getLogger("newral.web")

COOKIE = "newral_session"
LOGIN_CSRF_COOKIE = "newral_login_csrf"

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def session_cookie(services: Services, value: str, max_age: int | None) -> Cookie:
    secure = services.settings.resolved_public_url.startswith("https://")
    return Cookie(key=COOKIE, value=value, path="/", httponly=True, samesite="strict", secure=secure,
                  max_age=max_age)


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


async def viewer(request: Request, services: Services) -> users.Viewer:
    """The logged-in person behind this request; Unauthorized sends them to the login page."""
    async with services.db.transaction() as session:
        return await users.authenticate(session, request.cookies.get(COOKIE), services.clock())


def _wants_page(request: Request) -> bool:
    return request.method == "GET" and not request.url.path.startswith("/ui/fragments/") \
        and not request.url.path.startswith("/ui/events")


def domain_error(request: Request, exc: DomainError) -> Response:
    if isinstance(exc, Unauthorized) and _wants_page(request):
        return Redirect(f"/ui/login?next={quote(request.url.path)}", status_code=303)
    return render.html("error.html", status=exc.status, title="Not done", message=exc.message,
                       headers=SECURITY_HEADERS)


def http_error(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    message = "This page does not exist." if status == 404 else str(exc.detail)
    if status >= 500:
        log.warning("web.error status=%d detail=%s", status, exc.detail)
        message = "Something went wrong on the coordinator; try again shortly."
    return render.html("error.html", status=status, title="Not done", message=message,
                       headers=SECURITY_HEADERS)


def internal_error(request: Request, exc: Exception) -> Response:
    log.exception("web.failed path=%s error=%s", request.url.path, type(exc).__name__)
    return render.html("error.html", status=500, title="Not done",
                       message="Something went wrong on the coordinator; try again shortly.",
                       headers=SECURITY_HEADERS)


HANDLERS = {DomainError: domain_error, HTTPException: http_error, Exception: internal_error}


@asynccontextmanager
async def reading(request: Request, services: Services, action: str = "view") -> AsyncIterator[
        tuple[users.Viewer, AsyncSession]]:
    """One transaction for a page: who is asking (allowed to `action`), and a session to read with."""
    async with services.db.transaction() as session:
        v = await users.authenticate(session, request.cookies.get(COOKIE), services.clock())
        v.require(action)
        yield v, session


@asynccontextmanager
async def acting(request: Request, services: Services, action: str, csrf_token: str) -> AsyncIterator[
        tuple[users.Viewer, AsyncSession]]:
    """One transaction for a form: a logged-in person allowed to `action`, with the right CSRF token."""
    async with services.db.transaction() as session:
        v = await users.authenticate(session, request.cookies.get(COOKIE), services.clock())
        v.check_csrf(csrf_token)
        v.require(action)
        yield v, session
