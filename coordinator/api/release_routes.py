"""Release endpoints: public reads for clients, admin writes for maintainers.

    GET    /api/v1/releases/{channel}/{platform}/latest                     the newest signed manifest, verbatim
    GET    /api/v1/releases/{channel}/{platform}/{version}/files/{name}     where to download a file
    GET    /api/v1/releases/{channel}/{platform}/{version}/files/{name}/content   (local store)
    GET    /api/v1/admin/release-keys       POST /api/v1/admin/release-keys     DELETE .../{keyid}
    POST   /api/v1/admin/releases                                           submit a signed manifest
    PUT    /api/v1/admin/releases/{channel}/{platform}/{version}/files/{name}
    POST   /api/v1/admin/releases/{channel}/{platform}/{version}/finalize
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from client.updater import manifest
from coordinator.api import auth
from coordinator.api.state import Services
from coordinator.domain import nodes
from coordinator.releases import ReleaseCatalog
from coordinator.store import LocalStore
from coordinator.store.database_tier import DatabaseTier

URL_LIFETIME = 3600


class KeyIn(msgspec.Struct, forbid_unknown_fields=True):
    public_key: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    note: Annotated[str, msgspec.Meta(max_length=200)] = ""


def _catalog(services: Services) -> ReleaseCatalog:
    return ReleaseCatalog(services.store, services.clock)


async def _admin(request: Request, services: Services) -> None:
    async with services.db.transaction() as session:
        await nodes.authenticate_admin(session, auth.bearer(request))


# -- public -------------------------------------------------------------------------


@get("/{channel:str}/{platform:str}/latest")
async def latest(channel: FromPath[str], platform: FromPath[str],
                 services: NamedDependency[Services]) -> Response[bytes]:
    """The newest signed manifest for a channel and platform, byte for byte as signed."""
    raw = await _catalog(services).latest(channel, platform)
    return Response(raw, media_type="application/json", headers={"Cache-Control": "no-cache"})


@get("/{channel:str}/{platform:str}/{version:str}/files/{name:str}")
async def file_location(channel: FromPath[str], platform: FromPath[str], version: FromPath[str],
                        name: FromPath[str], services: NamedDependency[Services]) -> dict[str, Any]:
    key, entry = await _catalog(services).file_entry(channel, platform, version, name)
    store = services.store.backend if isinstance(services.store, DatabaseTier) else services.store
    if isinstance(store, LocalStore):  # release files are public: served by the route below
        base = services.settings.resolved_public_url
        url = f"{base}/api/v1/releases/{channel}/{platform}/{version}/files/{name}/content"
        return {"method": "GET", "url": url, "headers": {}, "size": entry.size}
    req = await services.store.download_url(key, URL_LIFETIME)
    return {"method": req.method, "url": req.url, "headers": req.headers, "size": entry.size}


@get("/{channel:str}/{platform:str}/{version:str}/files/{name:str}/content")
async def file_content(channel: FromPath[str], platform: FromPath[str], version: FromPath[str],
                       name: FromPath[str], services: NamedDependency[Services]) -> Response[bytes]:
    """Release files are public; the client checks them against the signed manifest."""
    key, entry = await _catalog(services).file_entry(channel, platform, version, name)
    data = await services.store.get(key, entry.size)
    return Response(data, media_type="application/octet-stream")


public_router = Router(path="/api/v1/releases", route_handlers=[latest, file_location, file_content],
                       tags=["releases"])


# -- admin --------------------------------------------------------------------------


@get("/release-keys")
async def list_keys(request: Request, services: NamedDependency[Services]) -> list[dict[str, Any]]:
    await _admin(request, services)
    return await _catalog(services).list_keys()


@post("/release-keys", status_code=201)
async def add_key(request: Request, data: JSONBody[KeyIn], services: NamedDependency[Services]) -> dict[str, Any]:
    """Register a release PUBLIC key; manifests not signed by a registered key are refused."""
    await _admin(request, services)
    return await _catalog(services).add_key(data.public_key, data.note)


@delete("/release-keys/{keyid:str}", status_code=204)
async def remove_key(request: Request, keyid: FromPath[str], services: NamedDependency[Services]) -> None:
    await _admin(request, services)
    await _catalog(services).remove_key(keyid)


@post("/releases", status_code=201, request_max_body_size=manifest.MAX_MANIFEST_BYTES)
async def submit(request: Request, services: NamedDependency[Services]) -> dict[str, Any]:
    """Submit a signed manifest (the request body, exactly as signed)."""
    await _admin(request, services)
    m = await _catalog(services).submit(await request.body())
    return {"channel": m.channel, "platform": m.platform, "version": m.version,
            "files": [{"name": f.name, "size": f.size} for f in m.files]}


@put("/releases/{channel:str}/{platform:str}/{version:str}/files/{name:str}", status_code=200,
     request_max_body_size=manifest.MAX_FILE_SIZE)
async def upload_file(request: Request, channel: FromPath[str], platform: FromPath[str],
                      version: FromPath[str], name: FromPath[str],
                      services: NamedDependency[Services]) -> dict[str, Any]:
    await _admin(request, services)
    data = await request.body()
    await _catalog(services).put_file(channel, platform, version, name, data)
    return {"name": name, "size": len(data)}


@post("/releases/{channel:str}/{platform:str}/{version:str}/finalize", status_code=200)
async def finalize(request: Request, channel: FromPath[str], platform: FromPath[str],
                   version: FromPath[str], services: NamedDependency[Services]) -> dict[str, str]:
    await _admin(request, services)
    newest = await _catalog(services).finalize(channel, platform, version)
    return {"version": version, "latest": newest}


admin_router = Router(path="/api/v1/admin",
                      route_handlers=[list_keys, add_key, remove_key, submit, upload_file, finalize],
                      tags=["releases"])

router = Router(path="/", route_handlers=[public_router, admin_router])
