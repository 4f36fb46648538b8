"""Signed, expiring object URLs for the local-folder store and for objects kept in
the database (S3 serves its own)."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, Router, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from coordinator.api.state import Services
from coordinator.errors import InvalidInput, NotFound, PayloadTooLarge
from coordinator.store import LocalStore, ObjectNotFound, ObjectStore, ObjectTooLarge
from coordinator.store.database_tier import DatabaseTier


def _local(services: NamedDependency[Services]) -> ObjectStore:
    """The store, if this coordinator signs URLs for it: a local folder, or small objects
    kept in the database (in front of S3, only download URLs of those are signed here)."""
    if not isinstance(services.store, (LocalStore, DatabaseTier)):
        raise NotFound("this coordinator keeps objects in S3; use the URL it gave you")
    return services.store


@put("/objects/{key:path}", status_code=200)
async def put_object(
    request: Request, key: FromPath[str], services: NamedDependency[Services],
    op: FromQuery[str], exp: FromQuery[str], sig: Annotated[str, QueryParameter(max_length=128)],
) -> dict[str, int]:
    store = _local(services)
    key = key.lstrip("/")
    if op != "put":
        raise InvalidInput("this URL is not for uploads")
    services.signer.verify("put", key, exp, sig, now=services.clock())
    cap = services.settings.max_output_bytes
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > cap):
        raise PayloadTooLarge(f"objects are limited to {cap} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise PayloadTooLarge(f"objects are limited to {cap} bytes")
    await store.put(key, bytes(body))
    return {"size": len(body)}


@get("/objects/{key:path}")
async def get_object(
    key: FromPath[str], services: NamedDependency[Services],
    op: FromQuery[str], exp: FromQuery[str], sig: Annotated[str, QueryParameter(max_length=128)],
) -> Response:
    store = _local(services)
    key = key.lstrip("/")
    if op != "get":
        raise InvalidInput("this URL is not for downloads")
    services.signer.verify("get", key, exp, sig, now=services.clock())
    try:
        data = await store.get(key, max_size=64 << 20)
    except ObjectNotFound:
        raise NotFound("no such object") from None
    except ObjectTooLarge:
        raise PayloadTooLarge("object too large to serve") from None
    return Response(data, media_type="application/octet-stream")


router = Router(path="/api/v1", route_handlers=[put_object, get_object], tags=["objects"],
                include_in_schema=True)
