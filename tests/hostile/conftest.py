"""An in-process coordinator on a fresh PostgreSQL database, with a project, work
and a helper for the requests the hostile-input tests make."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from coordinator.api import create_app
from coordinator.settings import load_settings
from cyext import bpsw_format
from tests.hostile.snapshots import Fingerprint

CAPS = {"platform": "linux", "arch": "x86_64", "cores": 2, "memory_bytes": 1 << 33,
        "disk_free_bytes": 1 << 36, "client_version": "0.1.0", "benchmark": 1e8}
BASE = "http://testserver.local"


@dataclass
class Api:
    client: AsyncTestClient  # type: ignore[type-arg]
    admin: dict[str, str]
    fingerprint: Fingerprint

    async def token(self, **body: Any) -> str:
        r = await self.client.post("/api/v1/admin/enrolment-tokens", json=body, headers=self.admin)
        assert r.status_code == 201, r.text
        return str(r.json()["token"])

    async def enrol(self, name: str = "n") -> tuple[str, dict[str, str]]:
        r = await self.client.post("/api/v1/enrol", json={"token": await self.token(), "name": name,
                                                            "capabilities": CAPS})
        assert r.status_code == 201, r.text
        body = r.json()
        return body["node_id"], {"Authorization": f"Bearer {body['node_id']}.{body['secret']}"}

    async def lease(self, node: dict[str, str], n: int = 1) -> list[dict[str, Any]]:
        r = await self.client.post("/api/v1/work/lease", json={"max_results": n}, headers=node)
        assert r.status_code == 200, r.text
        return list(r.json()["assignments"])

    async def put(self, upload: dict[str, Any], data: bytes) -> httpx.Response:
        url = httpx.URL(upload["url"])
        return await self.client.put(f"{url.raw_path.decode()}", content=data)

    async def report(self, node: dict[str, str], asg: dict[str, Any], data: bytes) -> httpx.Response:
        return await self.client.post("/api/v1/work/report", headers=node, json={
            "result_id": asg["result_id"], "outcome": "success",
            "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})


def output(asg: dict[str, Any]) -> bytes:
    return bpsw_format.encode(bpsw_format.run_sweep(int(asg["params"]["a"]), int(asg["params"]["b"])))


def settings(tmp_path: Path, database_url: str, **overrides: Any):  # type: ignore[no-untyped-def]
    values: dict[str, Any] = {"public_url": BASE, "reaper_interval": 3600.0, "max_output_bytes": 4096, **overrides}
    return load_settings(environ={}, data_dir=tmp_path / "coord", database_url=database_url, **values)


@pytest.fixture
async def api(tmp_path: Path, pg_url: str) -> AsyncIterator[Api]:
    app = create_app(settings(tmp_path, pg_url))
    fp = Fingerprint(pg_url, tmp_path / "coord" / "objects")
    async with AsyncTestClient(app, base_url=BASE) as client:
        token = (tmp_path / "coord" / "admin-token").read_text().strip()
        a = Api(client, {"Authorization": f"Bearer {token}"}, fp)
        r = await client.post("/api/v1/admin/projects", json={"name": "hunt", "app": "bpsw-hunter"},
                              headers=a.admin)
        assert r.status_code == 201, r.text
        r = await client.post("/api/v1/admin/projects/hunt/work",
                              json={"params": {"a": 0, "b": 30000, "chunk": 10000}}, headers=a.admin)
        assert r.status_code == 201, r.text
        try:
            yield a
        finally:
            await fp.close()
