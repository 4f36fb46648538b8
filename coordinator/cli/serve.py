"""`newral-coordinator`: serve the coordinator (and `migrate` to upgrade the schema only)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import uvicorn

from coordinator.api import create_app
from coordinator.db import migrate
from coordinator.settings import SettingsError, load_settings


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
    uvicorn.run(create_app(settings), host=host, port=int(port), log_level="warning",
                access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
