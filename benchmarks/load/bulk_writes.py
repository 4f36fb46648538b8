"""What bulk.insert_new_rows and bulk.upsert_rows save over SQLAlchemy's multi-VALUES
executemany, for a report batch's credit grants (64 rows, ON CONFLICT DO NOTHING
RETURNING) and its small objects (64 outputs of 1,200 bytes, ON CONFLICT DO UPDATE):
CPU and wall time per transaction, the two forms taking turns, on a fresh PostgreSQL
database (dropped afterwards).

    .venv/bin/python -m benchmarks.load.bulk_writes [--rounds 40] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import time
from collections.abc import Awaitable, Callable

import asyncpg
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db import bulk, migrate
from coordinator.db.database import Database
from coordinator.db.models import CreditEntry, Node, SmallObject

BATCH = 64


async def main(pg: str, rounds: int, repeats: int) -> None:
    name = f"newral_bulk_writes_{os.getpid()}"
    conn = await asyncpg.connect(pg)
    await conn.execute(f"CREATE DATABASE {name}")
    await conn.close()
    url = pg.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"
    try:
        await migrate.upgrade_async(url)
        db = Database(url)
        try:
            await _measure(db, rounds, repeats)
        finally:
            await db.dispose()
    finally:
        conn = await asyncpg.connect(pg)
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.close()


async def _measure(db: Database, rounds: int, repeats: int) -> None:
    node = "n" * 32
    async with db.transaction() as s:
        s.add(Node(id=node, name="bench", secret_hash="x", platform="linux", arch="x86_64", cores=1,
                   memory_bytes=1, disk_free_bytes=1, client_version="bench", benchmark=0.0, created_at=0.0,
                   last_seen_at=0.0))
    ids = itertools.count(1)
    ledger, objects = CreditEntry.__table__, SmallObject.__table__

    def grants() -> list[dict]:
        return [dict(node_id=node, result_id=next(ids), amount=1.5, reason="granted", at=1.0) for _ in range(BATCH)]

    def outputs() -> list[dict]:
        return [dict(key=f"results/p1/k0/wu{next(ids)}-r1.out", data=os.urandom(1200), size=1200)
                for _ in range(BATCH)]

    async def grants_executemany(s: AsyncSession) -> None:
        statement = (postgresql.insert(ledger).on_conflict_do_nothing(index_elements=["result_id", "reason"])
                     .returning(ledger.c.result_id))
        assert len((await s.execute(statement, grants())).scalars().all()) == BATCH

    async def grants_bulk(s: AsyncSession) -> None:
        got = await bulk.insert_new_rows(s, ledger, grants(), unique=("result_id", "reason"), returning="result_id")
        assert len(got) == BATCH

    async def objects_executemany(s: AsyncSession) -> None:
        statement = postgresql.insert(objects)
        statement = statement.on_conflict_do_update(
            index_elements=["key"], set_={"data": statement.excluded.data, "size": statement.excluded.size})
        await s.execute(statement, outputs())

    async def objects_bulk(s: AsyncSession) -> None:
        await bulk.upsert_rows(s, objects, outputs(), unique=("key",))

    print(f"bulk writes, {BATCH} rows a transaction, {rounds} transactions a figure; "
          f"load average {os.getloadavg()[0]:.1f}")
    for label, old, new in (("credit grants", grants_executemany, grants_bulk),
                            ("small objects", objects_executemany, objects_bulk)):
        for _ in range(repeats):
            print(f"  {label:14s} executemany {await _time(db, old, rounds)}   bulk {await _time(db, new, rounds)}")


async def _time(db: Database, write: Callable[[AsyncSession], Awaitable[None]], rounds: int) -> str:
    cpu, wall = time.thread_time(), time.perf_counter()
    for _ in range(rounds):
        async with db.transaction() as s:
            await write(s)
    return (f"{(time.thread_time() - cpu) / rounds * 1000:5.2f} ms CPU, "
            f"{(time.perf_counter() - wall) / rounds * 1000:5.2f} ms wall")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=40)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--pg", default=os.environ.get("NEWRAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = p.parse_args()
    asyncio.run(main(args.pg, args.rounds, args.repeats))
