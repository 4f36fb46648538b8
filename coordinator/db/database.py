"""The database handle: one async engine, and write transactions that are safe on
both dialects (PostgreSQL row locks; SQLite serialized in-process)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import msgspec
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


_ENCODER = msgspec.json.Encoder()


def json_text(value: object) -> str:
    """The text a JSON column stores: msgspec's compact encoding, 0.66 µs for an event's
    details where json.dumps took 5.8 (events, summaries and verifications are written by
    the hundred per report batch). Every JSON write goes through it: the engine's
    serializer and bulk's arrays."""
    return _ENCODER.encode(value).decode()


_JSON_CODEC = {"json_serializer": json_text, "json_deserializer": msgspec.json.decode}


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine: AsyncEngine = create_async_engine(url, connect_args={"timeout": 30}, **_JSON_CODEC)
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, **_JSON_CODEC)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite allows one writer; serializing here avoids "database is locked".
        self._sqlite_lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on error.
        Writes deferred with `before_commit` are made just before the commit."""
        if self.is_sqlite:
            async with self._sqlite_lock:
                async with self._sessions() as session, session.begin():
                    yield session
                    await run_before_commit(session)
        else:
            async with self._sessions() as session, session.begin():
                yield session
                await run_before_commit(session)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads that need no transaction (each query sees committed data
        as of its start): on PostgreSQL no BEGIN and COMMIT round trips around them.
        Nothing written through it is kept (on SQLite, closing the session ends its
        transaction and keeps what it loaded)."""
        async with (self._sessions() if self.is_sqlite else self._autocommit()) as session:
            yield session

    @asynccontextmanager
    async def single_write(self) -> AsyncIterator[AsyncSession]:
        """A session for one write statement that is atomic by itself (an INSERT of many
        rows, say): on PostgreSQL it commits on its own, without BEGIN and COMMIT round
        trips, and no before_commit hooks run; on SQLite it is an ordinary transaction."""
        async with (self.transaction() if self.is_sqlite else self._autocommit()) as session:
            yield session

    @asynccontextmanager
    async def _autocommit(self) -> AsyncIterator[AsyncSession]:
        async with self.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            async with AsyncSession(bind=conn, expire_on_commit=False) as session:
                yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


T = TypeVar("T")
BeforeCommit = Callable[[AsyncSession], Awaitable[None]]
_HOOKS = "newral.before_commit"


def before_commit(session: AsyncSession, hook: BeforeCommit, *, last: bool = False) -> None:
    """Runs `hook(session)` once, just before this transaction commits (not if it rolls
    back): a domain module queues rows during a transaction and writes them all at once.
    `last`: after the other hooks (whose writes it may gather, as the event outbox does)."""
    hooks: list[tuple[bool, BeforeCommit]] = session.info.setdefault(_HOOKS, [])
    if (last, hook) not in hooks:
        hooks.append((last, hook))


def per_transaction(session: AsyncSession, key: str, empty: Callable[[], T]) -> T:
    """A value kept in session.info for the session's current transaction only."""
    transaction = session.sync_session.get_transaction()
    entry = session.info.get(key)
    if entry is None or entry[0] is not transaction:
        entry = (transaction, empty())
        session.info[key] = entry
    return entry[1]


async def run_before_commit(session: AsyncSession) -> None:
    """Runs the queued hooks, the `last` ones after the others, including any a hook queues."""
    hooks: list[tuple[bool, BeforeCommit]] = session.info.get(_HOOKS, [])
    while hooks:
        hooks.sort(key=lambda entry: entry[0])  # stable: registration order within each group
        _, hook = hooks.pop(0)
        await hook(session)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
