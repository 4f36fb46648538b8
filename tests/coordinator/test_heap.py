"""The coordinator freezes its startup heap, so that full garbage collections under load
walk only the objects made since (see coordinator/api/heap.py), and thaws it on stop."""

from __future__ import annotations

import gc
from pathlib import Path

from litestar.testing import AsyncTestClient

from coordinator.api import create_app
from coordinator.settings import load_settings

BASE = "http://testserver.local"


async def test_started_coordinator_freezes_its_heap_and_thaws_it_on_stop(tmp_path: Path, sqlite_url: str) -> None:
    settings = load_settings(environ={}, data_dir=tmp_path / "coord", database_url=sqlite_url, public_url=BASE,
                             reaper_interval=3600.0)
    assert gc.get_freeze_count() == 0
    async with AsyncTestClient(create_app(settings), base_url=BASE) as client:
        assert (await client.get("/health")).status_code == 200
        frozen = gc.get_freeze_count()
        # Everything the started application holds is exempt from collection: a full
        # collection walks far fewer objects than there are.
        assert frozen > 50_000
        assert len(gc.get_objects()) < frozen / 2
    assert gc.get_freeze_count() == 0
