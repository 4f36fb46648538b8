"""put_many, on every backend (the contract suite's fixtures): each item stored as
`put` would, one outcome per item, a bad item never sinks the others."""

from __future__ import annotations

import os

from coordinator.store import InvalidKey, ObjectInfo, ObjectStore
from tests.store.test_store_contract import backend, backend_kind, store, tier_database_url  # noqa: F401  (fixtures)


async def test_put_many_stores_each_item(store: ObjectStore) -> None:  # noqa: F811
    items = [(f"results/p1/wu{i % 3}/r{i}.out", os.urandom(100 + i)) for i in range(7)]
    assert await store.put_many(items) == [None] * 7
    for key, data in items:
        assert await store.get(key, max_size=1000) == data


async def test_put_many_refuses_bad_items_alone(store: ObjectStore) -> None:  # noqa: F811
    outcomes = await store.put_many([("results/a.out", b"a"), ("../escape", b"b"), ("results/c.out", b"c")])
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], InvalidKey)
    assert await store.get("results/c.out", max_size=10) == b"c"


async def test_put_many_of_nothing(store: ObjectStore) -> None:  # noqa: F811
    assert await store.put_many([]) == []


async def test_put_many_mixes_small_and_big_objects(store: ObjectStore) -> None:  # noqa: F811
    # Behind the database tier the small ones become rows and the big ones files or S3
    # objects; either way each reads back as written, and a rewrite of either size wins.
    small, big = os.urandom(100), os.urandom(10_000)
    assert await store.put_many([("r/s.out", small), ("r/b.out", big)]) == [None, None]
    assert await store.get("r/s.out", max_size=20_000) == small
    assert await store.get("r/b.out", max_size=20_000) == big
    assert await store.put_many([("r/s.out", big), ("r/b.out", small)]) == [None, None]
    assert await store.get("r/s.out", max_size=20_000) == big
    assert await store.get("r/b.out", max_size=20_000) == small
    assert (await store.head("r/s.out"), await store.head("r/b.out")) == (
        ObjectInfo("r/s.out", 10_000), ObjectInfo("r/b.out", 100))
    await store.delete("r/s.out")
    await store.delete("r/b.out")
    assert await store.head("r/s.out") is None and await store.head("r/b.out") is None
