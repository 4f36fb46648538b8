"""Rate limits on enrolment and leasing, per node credential and per client address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from coordinator.api import create_app, ratelimit
from tests.hostile.conftest import BASE, CAPS, Api, settings
from tests.hostile.snapshots import Fingerprint


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    clock = FakeClock()
    limiter = ratelimit.Limiter(ratelimit.Rate(per_second=2.0, burst=3.0), clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(0.5)
    assert limiter.take("b") == 0.0  # keys are independent
    clock.now += 0.5
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0
    clock.now += 100
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]  # refills only up to the burst


def test_bucket_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "MAX_KEYS", 100)
    clock = FakeClock()
    limiter = ratelimit.Limiter(ratelimit.Rate(per_second=1.0, burst=2.0), clock)
    for i in range(1000):
        limiter.take(f"k{i}")
        clock.now += 0.001
    assert len(limiter._buckets) <= 100


async def _app(tmp_path: Path, pg_url: str, **limits: Any) -> AsyncIterator[Api]:
    app = create_app(settings(tmp_path, pg_url, **limits))
    fp = Fingerprint(pg_url, tmp_path / "coord" / "objects")
    async with AsyncTestClient(app, base_url=BASE) as client:
        token = (tmp_path / "coord" / "admin-token").read_text().strip()
        api = Api(client, {"Authorization": f"Bearer {token}"}, fp)
        await client.post("/api/v1/admin/projects", json={"name": "hunt", "app": "bpsw-hunter"}, headers=api.admin)
        await client.post("/api/v1/admin/projects/hunt/work", json={"params": {"a": 0, "b": 30000, "chunk": 1000}},
                          headers=api.admin)
        try:
            yield api
        finally:
            await fp.close()


@pytest.fixture
async def strict(tmp_path: Path, pg_url: str) -> AsyncIterator[Api]:
    async for api in _app(tmp_path, pg_url, rate_enrol_per_address=0.01, rate_enrol_burst=3,
                          rate_lease_per_node=0.01, rate_lease_node_burst=3,
                          rate_lease_per_address=0.01, rate_lease_address_burst=8):
        yield api


def _is_limited(r: Any, fragment: str) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["error"] == "rate_limited"
    assert fragment in r.json()["detail"] and "retry in" in r.json()["detail"]
    assert int(r.headers["retry-after"]) >= 1


@pytest.mark.postgres
async def test_enrolment_is_limited_per_address(strict: Api) -> None:
    nodes = [await strict.enrol(f"n{i}") for i in range(3)]
    assert len(nodes) == 3
    token = await strict.token()  # admin calls are not limited
    before = await strict.fingerprint.take()
    r = await strict.client.post("/api/v1/enrol", json={"token": token, "name": "late", "capabilities": CAPS})
    _is_limited(r, "too many enrolment requests from this address")
    assert await strict.fingerprint.take() == before
    # Token guessing is limited the same way: unknown tokens use the allowance too.
    r = await strict.client.post("/api/v1/enrol", json={"token": "nre_guess", "name": "x", "capabilities": CAPS})
    assert r.status_code == 429


@pytest.mark.postgres
async def test_leasing_is_limited_per_node_then_per_address(strict: Api) -> None:
    (_, a), (_, b), (_, c) = [await strict.enrol(f"n{i}") for i in range(3)]
    for _ in range(3):
        assert len(await strict.lease(a)) == 1
    before = await strict.fingerprint.take()
    r = await strict.client.post("/api/v1/work/lease", json={"max_results": 1}, headers=a)
    _is_limited(r, "too many leasing requests from this node")
    assert await strict.fingerprint.take() == before, "a refused lease handed out work"
    # Another node is not held back by its neighbour's allowance...
    for _ in range(3):
        assert len(await strict.lease(b)) == 1
    # ...until the address as a whole has used its own (burst 8: a 3, b 3, c 2).
    for _ in range(2):
        assert len(await strict.lease(c)) == 1
    r = await strict.client.post("/api/v1/work/lease", json={"max_results": 1}, headers=c)
    _is_limited(r, "too many leasing requests from this address")
    # Garbage credentials cannot drain a real node's allowance: they are keyed apart.
    forged = {"Authorization": a["Authorization"][:-4] + "zzzz"}
    r = await strict.client.post("/api/v1/work/lease", json={"max_results": 1}, headers=forged)
    assert r.status_code in (401, 429)


@pytest.mark.postgres
async def test_limits_can_be_switched_off(tmp_path: Path, pg_url: str) -> None:
    async for api in _app(tmp_path, pg_url, rate_enrol_per_address=0, rate_lease_per_node=0,
                          rate_lease_per_address=0):
        _, node = await api.enrol()
        for _ in range(40):
            r = await api.client.post("/api/v1/work/lease", json={"max_results": 1}, headers=node)
            assert r.status_code == 200
