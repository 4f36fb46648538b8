"""A fingerprint of everything a coordinator has stored (every table of its
PostgreSQL database, every file of its local object store), so a test can
check that a refused request changed nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import asyncpg

SKIP_TABLES = {"alembic_version"}


def libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


class Fingerprint:
    def __init__(self, database_url: str, objects: Path | None = None) -> None:
        self.dsn = libpq(database_url)
        self.objects = objects
        self._conn: asyncpg.Connection | None = None
        self._sql = ""

    async def _connect(self) -> asyncpg.Connection:
        if self._conn is None:
            self._conn = await asyncpg.connect(self.dsn)
            tables = [r["table_name"] for r in await self._conn.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name")
                if r["table_name"] not in SKIP_TABLES]
            parts = [f"SELECT '{t}' || ':' || coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), '') "
                     f"AS h FROM \"{t}\" x" for t in tables]
            self._sql = f"SELECT string_agg(h, ';' ORDER BY h) FROM ({' UNION ALL '.join(parts)}) s"
        return self._conn

    async def take(self) -> str:
        conn = await self._connect()
        digest = hashlib.sha256(str(await conn.fetchval(self._sql)).encode())
        if self.objects is not None and self.objects.exists():
            for p in sorted(self.objects.rglob("*")):
                if p.is_file():
                    digest.update(f"{p.relative_to(self.objects)}:{p.stat().st_size};".encode())
        return digest.hexdigest()

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
