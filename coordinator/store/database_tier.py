"""Small objects in the coordinator's database, the rest in a backend store.

Most outputs are a few KB (a sweep's counts, a list of Carmichael numbers). A file
per output costs an fsync on the local disk, and a PUT on S3; a row costs a share
of the transaction's one WAL flush. `DatabaseTier` sits in front of any backend:

Only keys under `prefix` ("results/", the outputs) may become rows; release files,
bundles and workflow data stay in the backend, where their tools expect them.

- `put` and `put_many` keep an object of at most `limit` bytes as a row of
  `small_objects` (all of a batch in one transaction), and a bigger one in the
  backend, removing any row of the same key so the new object wins;
- `get` and `head` read the row first, then the backend: a row shadows a backend
  object of the same key (a node that uploaded an output and then reported it
  inline is judged on what it reported, and that is what readers get);
- upload URLs are the backend's (uploads are the big outputs); download URLs are
  the backend's unless the object is a row, when the coordinator signs its own
  URL to the objects route, which reads through this tier.

`limit` 0 turns the tier off: everything goes to the backend.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError, OperationalError

from coordinator.db import bulk
from coordinator.db.database import Database
from coordinator.db.models import SmallObject
from coordinator.store import base, signing

DEFAULT_LIMIT = 16 << 10


class DatabaseTier(base.ObjectStore):
    """Objects up to `limit` bytes in the database, bigger ones in `backend`."""

    def __init__(self, backend: base.ObjectStore, db: Database, *, limit: int, public_base_url: str,
                 signer: signing.UrlSigner, prefix: str = "results/") -> None:
        if limit < 0:
            raise ValueError("the database tier's limit cannot be negative")
        self.backend = backend
        self.db = db
        self.limit = limit
        self.prefix = prefix  # only keys under it (the results' outputs) may become rows
        self.public_base_url = public_base_url.rstrip("/")
        self._signer = signer
        self.description = f"{backend.description}, objects up to {limit} bytes in the database"

    async def close(self) -> None:
        await self.backend.close()

    async def _put(self, key: str, data: bytes) -> None:
        (err,) = await self._put_many([(key, data)])
        if err is not None:
            raise err

    async def _put_many(self, items: list[tuple[str, bytes]]) -> list[base.StoreError | None]:
        errors: list[base.StoreError | None] = [None] * len(items)
        small = {key: data for key, data in items if self._row_worthy(key, data)}  # the last of a key wins
        big = [(i, key, data) for i, (key, data) in enumerate(items) if not self._row_worthy(key, data)]
        if small:
            try:
                await self._write_rows(small)
            except base.StoreUnavailable as exc:
                for i, (key, _) in enumerate(items):
                    if key in small:
                        errors[i] = exc
        if big:
            stored = await self.backend._put_many([(key, data) for _, key, data in big])
            for (i, _, _), err in zip(big, stored, strict=True):
                errors[i] = err
            done = [key for (_, key, _), err in zip(big, stored, strict=True)
                    if err is None and key.startswith(self.prefix)]
            if done and self.limit:
                try:
                    await self._delete_rows(done)
                except base.StoreUnavailable as exc:
                    for i, key, _ in big:
                        if key in done:
                            errors[i] = exc
        return errors

    async def _get(self, key: str, max_size: int) -> bytes:
        row = await self._row(key, select(SmallObject.data, SmallObject.size))
        if row is None:
            return await self.backend._get(key, max_size)
        data, size = row
        if size > max_size:
            raise base.ObjectTooLarge(key, size, max_size)
        return bytes(data)

    async def _head(self, key: str) -> base.ObjectInfo | None:
        row = await self._row(key, select(SmallObject.size))
        if row is None:
            return await self.backend._head(key)
        return base.ObjectInfo(key=key, size=row[0])

    def _row_worthy(self, key: str, data: bytes) -> bool:
        return len(data) <= self.limit and key.startswith(self.prefix)

    async def _delete(self, key: str) -> None:
        if self.limit and key.startswith(self.prefix):
            await self._delete_rows([key])
        await self.backend._delete(key)

    async def _presign(self, method: str, key: str, expires_in: int) -> base.PresignedRequest:
        if method == "GET" and await self._row(key, select(SmallObject.size)) is not None:
            return self._signer.object_request(method, self.public_base_url, key, expires_in)
        return await self.backend._presign(method, key, expires_in)

    # The database side; its failures are the store's StoreUnavailable.

    async def _row(self, key: str, query):  # type: ignore[no-untyped-def]
        if not self.limit or not key.startswith(self.prefix):
            return None
        try:
            async with self.db.reading() as session:
                return (await session.execute(query.where(SmallObject.key == key))).first()
        except (OperationalError, DBAPIError, OSError) as exc:
            raise base.StoreUnavailable(f"the database tier cannot read {key!r}: {exc}") from exc

    async def _write_rows(self, rows: dict[str, bytes]) -> None:
        try:
            async with self.db.single_write() as session:  # one statement: all rows or none
                await bulk.upsert_rows(session, SmallObject.__table__, unique=("key",),
                                       rows=[{"key": k, "data": d, "size": len(d)} for k, d in rows.items()])
        except (OperationalError, DBAPIError, OSError) as exc:
            raise base.StoreUnavailable(f"the database tier cannot store {len(rows)} object(s): {exc}") from exc

    async def _delete_rows(self, keys: list[str]) -> None:
        try:
            async with self.db.transaction() as session:
                await session.execute(delete(SmallObject).where(SmallObject.key.in_(keys)))
        except (OperationalError, DBAPIError, OSError) as exc:
            raise base.StoreUnavailable(f"the database tier cannot remove {len(keys)} object(s): {exc}") from exc

