"""The workflow API over HTTP (in-process app, real database and object store), and
the agent's input fetching against it."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from client.agent.inputs import HttpInputSource, InputCache, InputError, fetch_inputs
from coordinator.api import create_app
from coordinator.settings import load_settings
from tests.workflows.test_document import task

BASE = "http://testserver.local"
CAPS = {"platform": "linux", "arch": "x86_64", "cores": 2, "memory_bytes": 1 << 33,
        "disk_free_bytes": 1 << 36, "client_version": "0.1.0", "benchmark": 1e8}


class Api:
    def __init__(self, client: AsyncTestClient, token: str) -> None:
        self.client = client
        self.admin = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        r = await self.client.request(method, f"/api/v1{path}", json=body, headers=self.admin)
        assert r.status_code == status, r.text
        return r.json()

    async def node(self) -> str:
        token = (await self.call("POST", "/admin/enrolment-tokens", {}, 201))["token"]
        r = await self.client.post("/api/v1/enrol", json={"token": token, "name": "n", "capabilities": CAPS})
        return f"{r.json()['node_id']}.{r.json()['secret']}"


@pytest.fixture
async def api(tmp_path: Path, database_url: str) -> AsyncIterator[Api]:
    settings = load_settings(environ={}, data_dir=tmp_path / "coord", database_url=database_url,
                             public_url=BASE, reaper_interval=3600.0, object_store="local")
    async with AsyncTestClient(create_app(settings), base_url=BASE) as client:
        a = Api(client, (tmp_path / "coord" / "admin-token").read_text().strip())
        await a.call("POST", "/admin/projects", {"name": "flows", "app": "bpsw-hunter"}, 201)
        yield a


async def test_submit_status_graph_cancel_retry(api: Api) -> None:
    doc = {"name": "w", "tasks": [task("a"), task("b", ["a"])]}
    made = await api.call("POST", "/admin/projects/flows/workflows", doc, 201)
    assert made["state"] == "running" and made["progress"]["queued"] == 1 and made["progress"]["waiting"] == 1
    wid = made["id"]
    assert (await api.call("GET", f"/admin/workflows/{wid}"))["progress"]["tasks"] == 2
    graph = await api.call("GET", f"/admin/workflows/{wid}/graph")
    assert [n["name"] for n in graph["nodes"]] == ["a", "b"]
    assert graph["edges"] == [{"from": "a", "to": "b", "kind": "after"}]
    assert [w["id"] for w in await api.call("GET", "/admin/workflows?project=flows")] == [wid]
    refused = await api.call("POST", f"/admin/workflows/{wid}/retry", status=409)
    assert "only a failed or cancelled one" in refused["detail"]
    cancelled = await api.call("POST", f"/admin/workflows/{wid}/cancel")
    assert cancelled["state"] == "cancelled" and cancelled["workunits_stopped"] == 1
    again = await api.call("POST", f"/admin/workflows/{wid}/retry")
    assert again["state"] == "running" and again["requeued"] == 1
    await api.call("GET", "/admin/workflows/999", status=404)


@pytest.mark.parametrize("doc, status, detail", [
    ({"name": "w", "tasks": [task("a", ["b"]), task("b", ["a"])]}, 422, "cycle: a → b → a"),
    ({"name": "w", "tasks": [{"name": "a", "app": "astrology"}]}, 422, "unknown app 'astrology'"),
    ({"name": "w", "tasks": [task("a", ["zz"])]}, 422, "'zz', which is not a task of this workflow"),
    ({"name": "w", "tasks": [task("a", inputs=[{"key": "data/missing.bin"}])]}, 422, "does not exist"),
    ({"name": "w", "tasks": [task(f"t{i}", params={"a": "0", "b": "1000", "pad": "x" * 300})
                             for i in range(900)]}, 413, "the limit is 262144"),
])
async def test_bad_documents_get_a_clear_refusal(api: Api, doc: dict, status: int, detail: str) -> None:
    body = await api.call("POST", "/admin/projects/flows/workflows", doc, status)
    assert detail in body["detail"]
    assert await api.call("GET", "/admin/workflows") == []  # nothing was stored


async def test_agent_fetches_inputs_once_with_hash_checks(api: Api, tmp_path: Path) -> None:
    store_root = tmp_path / "coord" / "objects"
    blob = b"input bytes " * 100
    sha = hashlib.sha256(blob).hexdigest()
    (store_root / "data").mkdir(parents=True, exist_ok=True)
    (store_root / "data" / "in.bin").write_bytes(blob)
    doc = {"name": "w", "tasks": [task("a", inputs=[{"key": "data/in.bin", "sha256": sha}])]}
    await api.call("POST", "/admin/projects/flows/workflows", doc, 201)
    bearer = await api.node()
    r = await api.client.post("/api/v1/work/lease", json={"max_results": 1},
                              headers={"Authorization": f"Bearer {bearer}"})
    (asg,) = r.json()["assignments"]
    assert asg["params"]["inputs"] == [{"name": "data/in.bin", "key": "data/in.bin", "sha256": sha}]

    class Counting(HttpInputSource):
        fetched = 0

        async def download(self, presigned: dict[str, Any], max_bytes: int) -> bytes:
            Counting.fetched += 1
            return await super().download(presigned, max_bytes)

    source = Counting(api.client, BASE, lambda: bearer)
    cache = InputCache(tmp_path / "cache", max_bytes=1 << 20)
    paths, downloaded = await fetch_inputs(source, asg["result_id"], asg["params"]["inputs"], cache, 1 << 20)
    assert paths["data/in.bin"].read_bytes() == blob and downloaded == len(blob)
    paths, downloaded = await fetch_inputs(source, asg["result_id"], asg["params"]["inputs"], cache, 1 << 20)
    assert downloaded == 0 and Counting.fetched == 1  # served from the cache

    wrong = [{"name": "x", "key": "data/in.bin", "sha256": "0" * 64}]
    with pytest.raises(InputError, match="does not match its sha256"):
        await fetch_inputs(source, asg["result_id"], wrong, cache, 1 << 20)
    assert not (tmp_path / "cache" / ("0" * 64)).exists()
    foreign = [{"name": "y", "key": "results/other", "sha256": "1" * 64}]
    with pytest.raises(InputError, match="403"):
        await fetch_inputs(source, asg["result_id"], foreign, cache, 1 << 20)
    with pytest.raises(InputError, match="quota"):
        await fetch_inputs(source, asg["result_id"], wrong, InputCache(tmp_path / "c2", 1 << 20), 0)


def test_the_cache_keeps_under_its_cap_evicting_the_least_recently_used(tmp_path: Path) -> None:
    import os

    cache = InputCache(tmp_path, max_bytes=250)
    first = cache.put("a" * 64, b"1" * 100)
    cache.put("b" * 64, b"2" * 100)
    os.utime(first, (1, 1))  # a is the oldest
    cache.put("c" * 64, b"3" * 100)
    assert cache.get("a" * 64) is None and cache.get("b" * 64) is not None and cache.used() == 200
    with pytest.raises(InputError, match="larger than the cache limit"):
        cache.put("d" * 64, b"4" * 300)
