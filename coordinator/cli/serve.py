"""`newral-coordinator`: serve the coordinator (and `migrate` to upgrade the schema only)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import sys
import time
from pathlib import Path

import uvicorn
from litestar import Litestar

from coordinator.api import app as app_module
from coordinator.api import create_app
from coordinator.cli import workers
from coordinator.db import migrate
from coordinator.settings import ENV_PREFIX, Settings, SettingsError, load_settings


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newral-coordinator", description=__doc__)
    p.add_argument("command", nargs="?", choices=["serve", "migrate"], default="serve")
    p.add_argument("--config", type=Path, help="TOML file ([coordinator] table)")
    p.add_argument("--data-dir", type=Path, help="data folder (SQLite file, local objects, keys)")
    p.add_argument("--database-url", help="e.g. postgresql+asyncpg://user@host/db")
    p.add_argument("--object-store", help="'local', 'file:///path' or 's3://bucket'")
    p.add_argument("--bind", help="HOST:PORT to listen on (default 127.0.0.1:8470)")
    p.add_argument("--public-url", help="URL agents use to reach this coordinator")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(
            args.config, data_dir=args.data_dir, database_url=args.database_url,
            object_store=args.object_store, bind=args.bind, public_url=args.public_url,
        )
    except SettingsError as exc:
        print(f"newral-coordinator: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.command == "migrate":
        migrate.upgrade(settings.resolved_database_url)
        print("schema is up to date")
        return 0
    host, port = settings.bind.rsplit(":", 1)
    if args.workers <= 1:
        uvicorn.run(create_app(settings), host=host, port=int(port), log_level="warning",
                    access_log=False)
        return 0
    # Several worker processes: uvicorn imports the app in each, so it needs a factory
    # by name; the settings travel as NEWRAL_* variables. Migrate and create the admin
    # once here, so the workers do not race each other doing it.
    asyncio.run(_prepare(settings))
    for key, value in dataclasses.asdict(settings).items():
        os.environ[ENV_PREFIX + key.upper()] = str(value)
    os.environ[ENV_PREFIX + "AUTO_MIGRATE"] = "false"
    os.environ.pop("NEWRAL_CONFIG", None)
    if workers.supported():  # a listening socket per process: connections spread evenly
        return workers.serve(host, int(port), args.workers)
    uvicorn.run(workers.APP, factory=True, host=host, port=int(port),
                workers=args.workers, log_level="warning", access_log=False)
    return 0


async def _prepare(settings: Settings) -> None:
    services = await app_module._bootstrap(settings, time.time)
    await services.store.close()
    await services.db.dispose()


def app_from_environment() -> Litestar:
    """The app of one worker process (settings from NEWRAL_* variables)."""
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return create_app(settings)


if __name__ == "__main__":
    sys.exit(main())
