"""coordinator/db/bulk.py on both dialects: arrays unnested on PostgreSQL, executemany on
SQLite; the rows written must be the same either way."""

from __future__ import annotations

from sqlalchemy import select

from coordinator.db import bulk
from coordinator.db.database import Database
from coordinator.db.models import Admin, Event, SmallObject


async def test_inserted_rows_keep_their_order_values_and_json(db: Database) -> None:
    rows = [dict(at=float(i), kind=f"k{i}", node_id=None if i % 2 else f"n{i}", project_id=None,
                 workunit_id=i or None, result_id=None, data={"i": i, "nested": [i, {"x": None}], "s": "é\u2028"})
            for i in range(70)]
    async with db.transaction() as s:
        before = list(await s.scalars(select(Event.id)))
        await bulk.insert_rows(s, Event.__table__, rows)
    async with db.transaction() as s:
        got = (await s.execute(select(Event).where(Event.id.not_in(before or [-1])).order_by(Event.id))).scalars().all()
    assert [(e.at, e.kind, e.node_id, e.workunit_id, e.data) for e in got] == [
        (r["at"], r["kind"], r["node_id"], r["workunit_id"], r["data"]) for r in rows]


async def test_updated_rows_take_their_own_values_and_the_constants(db: Database) -> None:
    async with db.transaction() as s:
        await bulk.insert_rows(s, Event.__table__, [
            dict(at=0.0, kind="old", node_id=None, project_id=None, workunit_id=None, result_id=None, data={})
            for _ in range(5)])
    async with db.transaction() as s:
        ids = list(await s.scalars(select(Event.id).where(Event.kind == "old").order_by(Event.id)))
        await bulk.update_rows(s, Event.__table__, [dict(id=i, at=float(n), data=None if n == 2 else {"n": n})
                                                    for n, i in enumerate(ids[:4])], constants={"kind": "new"})
    async with db.transaction() as s:
        got = (await s.execute(select(Event.id, Event.kind, Event.at, Event.data).where(Event.id.in_(ids))
                               .order_by(Event.id))).all()
    assert [(k, at, data) for _, k, at, data in got] == [
        ("new", 0.0, {"n": 0}), ("new", 1.0, {"n": 1}), ("new", 2.0, None), ("new", 3.0, {"n": 3}), ("old", 0.0, {})]


async def test_no_rows_is_no_statement(db: Database) -> None:
    async with db.transaction() as s:
        await bulk.insert_rows(s, Event.__table__, [])
        await bulk.update_rows(s, Event.__table__, [])


async def test_insert_new_rows_skips_the_rows_a_unique_index_already_holds(db: Database) -> None:
    async with db.transaction() as s:
        assert await bulk.insert_new_rows(s, Admin.__table__, [
            dict(name="a", token_hash="h-a", created_at=1.0), dict(name="b", token_hash="h-b", created_at=2.0)],
            unique=("name",), returning="name") == ["a", "b"]
    async with db.transaction() as s:
        new = await bulk.insert_new_rows(s, Admin.__table__, [
            dict(name=n, token_hash=f"h2-{n}", created_at=3.0) for n in ("b", "c", "a", "d")],
            unique=("name",), returning="name")
        assert sorted(new) == ["c", "d"]
        assert await bulk.insert_new_rows(s, Admin.__table__, [], unique=("name",), returning="name") == []
    async with db.transaction() as s:
        got = (await s.execute(select(Admin.name, Admin.token_hash, Admin.created_at)
                               .where(Admin.name.in_(["a", "b", "c", "d"])).order_by(Admin.name))).all()
    assert [tuple(r) for r in got] == [("a", "h-a", 1.0), ("b", "h-b", 2.0), ("c", "h2-c", 3.0), ("d", "h2-d", 3.0)]


async def test_upsert_rows_replaces_the_other_columns_of_rows_it_matches(db: Database) -> None:
    table = SmallObject.__table__
    async with db.transaction() as s:
        await bulk.upsert_rows(s, table, [dict(key="k1", size=1, data=b"\x00"), dict(key="k2", size=2, data=b"ab")],
                               unique=("key",))
    async with db.transaction() as s:
        await bulk.upsert_rows(s, table, [dict(key="k2", size=3, data=b"xyz"), dict(key="k3", size=0, data=b"")],
                               unique=("key",))
        await bulk.upsert_rows(s, table, [], unique=("key",))
    async with db.transaction() as s:
        got = (await s.execute(select(SmallObject.key, SmallObject.size, SmallObject.data)
                               .where(SmallObject.key.in_(["k1", "k2", "k3"])).order_by(SmallObject.key))).all()
    assert [(k, n, bytes(d)) for k, n, d in got] == [("k1", 1, b"\x00"), ("k2", 3, b"xyz"), ("k3", 0, b"")]


async def test_one_of_matches_the_listed_values_of_a_text_or_integer_column(db: Database) -> None:
    async with db.transaction() as s:
        await bulk.insert_rows(s, Event.__table__, [
            dict(at=float(i), kind=f"one-of-{i}", node_id=None, project_id=None, workunit_id=None, result_id=None,
                 data={}) for i in range(6)])
    async with db.reading() as s:
        dialect = bulk.dialect(s)
        by_id = select(Event.kind).where(bulk.one_of(dialect, Event.id, "ids")).order_by(Event.id)
        by_kind = select(Event.at).where(bulk.one_of(dialect, Event.kind, "kinds")).order_by(Event.at)
        ids = list(await s.scalars(select(Event.id).where(Event.kind.startswith("one-of-")).order_by(Event.id)))
        assert list(await s.scalars(by_id, {"ids": [ids[4], -7, ids[1]]})) == ["one-of-1", "one-of-4"]
        assert list(await s.scalars(by_id, {"ids": [ids[0]]})) == ["one-of-0"]  # the same statement again
        assert list(await s.scalars(by_kind, {"kinds": ["one-of-5", "one-of-0", "x"]})) == [0.0, 5.0]
        assert list(await s.scalars(by_id, {"ids": []})) == []
