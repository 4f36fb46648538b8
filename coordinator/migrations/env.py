"""Alembic environment: async engines for both dialects, URL passed by db.migrate."""

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

import coordinator.db.all_models  # noqa: F401  (registers every table)
from coordinator.db.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


asyncio.run(_main())
