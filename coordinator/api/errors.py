"""One place that maps domain and store errors to HTTP responses."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from sqlalchemy.exc import DBAPIError, OperationalError

from coordinator.errors import DomainError
from coordinator.store import InvalidKey, SignatureError, StoreUnavailable

log = logging.getLogger("newral.api")

RETRY_AFTER_SECONDS = 5  # a backend outage: clients back off at least this long


def _error(status: int, code: str, detail: str) -> Response:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return Response({"error": code, "detail": detail}, status_code=status, headers=headers)


def domain_error(_: Request, exc: DomainError) -> Response:
    return _error(exc.status, exc.code, exc.message)


def http_error(_: Request, exc: HTTPException) -> Response:
    detail = exc.detail
    if isinstance(exc, ValidationException) and exc.extra:
        detail = f"{exc.detail}: {exc.extra}"
    return _error(exc.status_code, "invalid_request" if exc.status_code < 500 else "error", str(detail))


def store_error(_: Request, exc: Exception) -> Response:
    if isinstance(exc, InvalidKey):
        return _error(400, "invalid_key", str(exc))
    if isinstance(exc, SignatureError):
        return _error(403, "bad_signature", str(exc))
    return _error(503, "unavailable", f"the object store is unavailable: {exc}")


def database_error(_: Request, exc: Exception) -> Response:
    state = str(getattr(getattr(exc, "orig", None), "sqlstate", "") or "")
    if state.startswith("22"):  # a data exception: the value, not the database, is at fault
        return _error(422, "invalid_input", "a value in the request cannot be stored (e.g. a NUL character)")
    log.warning("database.unavailable error=%s", type(exc).__name__)
    return _error(503, "unavailable", "a backend (the database) is unavailable; try again shortly")


def too_deep(_: Request, exc: RecursionError) -> Response:
    return _error(400, "invalid_request", "the request body is nested too deeply")


HANDLERS = {
    DomainError: domain_error,
    HTTPException: http_error,
    InvalidKey: store_error,
    SignatureError: store_error,
    StoreUnavailable: store_error,
    OperationalError: database_error,
    DBAPIError: database_error,
    OSError: database_error,
    RecursionError: too_deep,
}
