"""An agent offline for a day, on a simulated clock: a result it finished is
accepted while its lease's deadline holds, and refused cleanly (409, the lease
expired, nothing changed) after it; the workunit goes to someone else."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from coordinator.api import create_app
from tests.hostile.conftest import BASE, Api, output, settings
from tests.hostile.snapshots import Fingerprint

pytestmark = pytest.mark.postgres

DAY = 86400.0


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def world(tmp_path: Path, pg_url: str) -> AsyncIterator[tuple[Api, Clock]]:
    clock = Clock()
    app = create_app(settings(tmp_path, pg_url, reaper_interval=0.05), clock=clock)
    fp = Fingerprint(pg_url, tmp_path / "coord" / "objects")
    async with AsyncTestClient(app, base_url=BASE) as client:
        token = (tmp_path / "coord" / "admin-token").read_text().strip()
        api = Api(client, {"Authorization": f"Bearer {token}"}, fp)
        await client.post("/api/v1/admin/projects", json={"name": "hunt", "app": "bpsw-hunter"}, headers=api.admin)
        r = await client.post("/api/v1/admin/projects/hunt/work", headers=api.admin, json={
            "params": {"a": 0, "b": 20000, "chunk": 10000}, "delay_bound": 2 * DAY})
        assert r.status_code == 201, r.text
        try:
            yield api, clock
        finally:
            await fp.close()


async def _report(api: Api, node: dict[str, str], asg: dict, data: bytes):  # type: ignore[no-untyped-def,type-arg]
    return await api.client.post("/api/v1/work/report", headers=node, json={
        "result_id": asg["result_id"], "outcome": "success", "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data), "wall_seconds": 3600.0, "cpu_seconds": 3600.0})


async def test_a_day_offline_within_the_deadline_is_accepted_after_it_refused(world: tuple[Api, Clock]) -> None:
    api, clock = world
    _, laptop = await api.enrol("laptop")
    early, late = await api.lease(laptop, 2)
    for asg in (early, late):
        assert asg["deadline_at"] == clock.now + 2 * DAY
        assert (await api.put(asg["upload"], output(asg))).status_code == 200
    clock.now += DAY  # a day on a plane: the deadline still holds
    r = await _report(api, laptop, early, output(early))
    assert r.status_code == 200 and r.json()["verdict"] == "pending", r.text  # the validator settles it
    for _ in range(200):
        wu = (await api.client.get(f"/api/v1/admin/workunits/{early['workunit_id']}", headers=api.admin)).json()
        if wu["state"] == "validated":
            break
        await asyncio.sleep(0.05)
    assert wu["state"] == "validated" and wu["results"][0]["verdict"] == "valid", wu
    clock.now += 1.5 * DAY  # now past it
    await asyncio.sleep(0.3)  # the reaper notices and reissues the work
    before = await api.fingerprint.take()
    r = await _report(api, laptop, late, output(late))
    assert r.status_code == 409 and r.json()["error"] == "lease_expired", r.text
    assert "expired" in r.json()["detail"]
    assert await api.fingerprint.take() == before
    _, other = await api.enrol("other")
    (again,) = await api.lease(other)
    assert again["workunit_id"] == late["workunit_id"] and again["result_id"] != late["result_id"]
