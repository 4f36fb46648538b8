"""The Litestar application factory: everything comes from the Settings passed in."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from coordinator import web
from coordinator.api import (
    admin_routes,
    errors,
    heap,
    node_routes,
    object_routes,
    orchestrator_routes,
    ratelimit,
    release_routes,
    workflow_routes,
)
from coordinator.api.state import Services
from coordinator.db import migrate
from coordinator.db.database import Database
from coordinator.domain import expiry, nodes, projects, validator
from coordinator.orchestrator import live as orchestrator_live
from coordinator.settings import Settings
from coordinator.store import UrlSigner, load_or_create_secret, open_store
from coordinator.store.database_tier import DatabaseTier

log = logging.getLogger("newral.coordinator")

ADMIN_TOKEN_FILE = "admin-token"


def _services(state: State) -> Services:
    return state.services  # type: ignore[no-any-return]


@get("/health", include_in_schema=False)
async def health() -> dict[str, str]:
    return {"status": "ok"}


def write_secret_file(path: Path, text: str) -> None:
    """Creates a file only its owner can read, atomically."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


async def _bootstrap(settings: Settings, clock: Callable[[], float]) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    if settings.auto_migrate:
        await migrate.upgrade_async(url)
    db = Database(url)
    signer = UrlSigner(load_or_create_secret(settings.data_dir / "url-signing.key"))
    store = open_store(
        settings.object_store,
        data_dir=settings.data_dir,
        public_base_url=settings.resolved_public_url,
        signer=signer,
        s3_endpoint=settings.s3_endpoint or None,
        s3_region=settings.s3_region,
        s3_access_key=settings.s3_access_key or None,
        s3_secret_key=settings.s3_secret_key or None,
    )
    if settings.db_object_limit:
        store = DatabaseTier(store, db, limit=settings.db_object_limit,
                             public_base_url=settings.resolved_public_url, signer=signer)
    await projects.analyze_if_never(db)
    async with db.transaction() as session:
        token = await nodes.ensure_admin(session, "admin", clock())
    if token is not None:
        path = settings.data_dir / ADMIN_TOKEN_FILE
        write_secret_file(path, token)
        log.info("admin.created token_file=%s", path)
    log.info("coordinator.started database=%s store=%s", settings.redacted()["database_url"],
             store.description)
    return Services(settings=settings, db=db, store=store, signer=signer, clock=clock)


async def _reaper(services: Services) -> None:
    """Expires overdue leases so their work is reissued. Every replica may run one:
    row locks keep them from stepping on each other."""
    while True:
        try:
            async with services.db.transaction() as session:
                count = await expiry.expire_leases(session, services.clock())
            if count:
                log.info("leases.expired count=%d", count)
        except Exception as exc:  # keep reaping through a database restart
            log.warning("reaper.failed error=%s: %s", type(exc).__name__, exc)
        await asyncio.sleep(services.settings.reaper_interval)


async def _validator(services: Services) -> None:
    """Settles the reports queued for the validator (domain/validator.py): woken by this
    process's reports, after a short pause that lets a few requests' reports gather into
    one transaction, and every VALIDATOR_IDLE seconds for those another process accepted
    (or left when it stopped)."""
    wake = services.validator_wake
    while True:
        try:
            while len(await validator.settle_queued(services.db, services.clock())) >= validator.LIMIT:
                pass
        except Exception as exc:  # keep validating through a database restart
            log.warning("validator.failed error=%s: %s", type(exc).__name__, exc)
        with suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=VALIDATOR_IDLE)
            await asyncio.sleep(VALIDATOR_GATHER)
        wake.clear()


VALIDATOR_IDLE = 2.0  # seconds
VALIDATOR_GATHER = 0.05  # seconds


def create_app(settings: Settings, *, clock: Callable[[], float] = time.time) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        services = await _bootstrap(settings, clock)
        app.state.services = services
        heap.settle()
        reaper = asyncio.create_task(_reaper(services))
        validating = asyncio.create_task(_validator(services))
        orchestrator = asyncio.create_task(orchestrator_live.loop(services.db, services.clock))  # idle in AI Off
        try:
            yield
        finally:
            for task in (reaper, validating, orchestrator):
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await services.store.close()
            await services.db.dispose()
            heap.unsettle()

    return Litestar(
        route_handlers=[health, node_routes.router, object_routes.router, admin_routes.router, release_routes.router,
                        workflow_routes.router, orchestrator_routes.router,
                        *web.route_handlers()],
        dependencies={"services": Provide(_services, sync_to_thread=False)},
        exception_handlers=errors.HANDLERS,  # type: ignore[arg-type]
        lifespan=[lifespan],
        middleware=[ratelimit.middleware(settings)],
        openapi_config=OpenAPIConfig(title="Newral coordinator", version="1.0.0", path="/schema"),
        request_max_body_size=max(settings.max_output_bytes, 1 << 20) + 4096,
        debug=False,
    )
