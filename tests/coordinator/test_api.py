"""The HTTP API in-process (real database, real object store): every bad input
gets a clear 4xx and changes nothing."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from litestar.testing import AsyncTestClient

from coordinator.api import create_app
from coordinator.settings import load_settings
from cyext import bpsw_format
from tests.fixtures.s3 import S3Endpoint

CAPS = {"platform": "linux", "arch": "x86_64", "cores": 2, "memory_bytes": 1 << 33,
        "disk_free_bytes": 1 << 36, "client_version": "0.1.0", "benchmark": 1e8}
BASE = "http://testserver.local"


class Api:
    def __init__(self, client: AsyncTestClient, admin_token: str) -> None:
        self.client = client
        self.admin = {"Authorization": f"Bearer {admin_token}"}

    async def token(self) -> str:
        r = await self.client.post("/api/v1/admin/enrolment-tokens", json={}, headers=self.admin)
        assert r.status_code == 201, r.text
        return str(r.json()["token"])

    async def node(self, name: str = "n") -> dict[str, str]:
        r = await self.client.post("/api/v1/enrol", json={"token": await self.token(), "name": name,
                                                            "capabilities": CAPS})
        assert r.status_code == 201, r.text
        body = r.json()
        return {"Authorization": f"Bearer {body['node_id']}.{body['secret']}"}

    async def lease(self, node: dict[str, str], n: int = 1) -> list[dict]:
        r = await self.client.post("/api/v1/work/lease", json={"max_results": n}, headers=node)
        assert r.status_code == 200, r.text
        return list(r.json()["assignments"])

    async def upload(self, upload: dict, data: bytes) -> httpx.Response:
        url = upload["url"]
        if url.startswith(BASE):
            parts = urlsplit(url)
            return await self.client.put(f"{parts.path}?{parts.query}", content=data)
        async with httpx.AsyncClient() as http:  # S3: a real request to the S3 server
            return await http.put(url, content=data, headers=upload["headers"])

    async def report(self, node: dict[str, str], asg: dict, data: bytes) -> httpx.Response:
        return await self.client.post("/api/v1/work/report", headers=node, json={
            "result_id": asg["result_id"], "outcome": "success",
            "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})

    async def state(self) -> dict:
        r = await self.client.get("/api/v1/admin/projects/hunt", headers=self.admin)
        assert r.status_code == 200, r.text
        events = await self.client.get("/api/v1/admin/events?limit=1000", headers=self.admin)
        body = r.json()
        body["event_count"] = len(events.json())
        return body

    async def validated(self, count: int) -> dict:
        """The state once `count` workunits are validated: a report that validates its
        workunit alone is settled by the validator just after the request."""
        for _ in range(200):
            state = await self.state()
            if state["workunits"]["validated"] >= count:
                return state
            await asyncio.sleep(0.05)
        raise AssertionError(f"{count} workunits were not validated in 10 s: {state}")


def _settings(tmp_path: Path, database_url: str, store: str, s3: S3Endpoint | None = None):  # type: ignore[no-untyped-def]
    extra = {}
    if s3 is not None:
        extra = dict(object_store=f"s3://{s3.bucket}", s3_endpoint=s3.endpoint_url,
                     s3_access_key=s3.access_key, s3_secret_key=s3.secret_key, s3_region=s3.region)
    return load_settings(environ={}, data_dir=tmp_path / "coord", database_url=database_url,
                         public_url=BASE, reaper_interval=3600.0, max_output_bytes=4096,
                         **({"object_store": store} if s3 is None else extra))


@asynccontextmanager
async def _running(tmp_path: Path, database_url: str, s3: S3Endpoint | None, *, fresh: bool = True
                   ) -> AsyncIterator[Api]:
    """A coordinator with a project "hunt" of three workunits (`fresh`), or started again
    on the database and data folder an earlier one left (not fresh)."""
    app = create_app(_settings(tmp_path, database_url, "local", s3))
    async with AsyncTestClient(app, base_url=BASE) as client:
        token = (tmp_path / "coord" / "admin-token").read_text().strip()
        a = Api(client, token)
        if not fresh:
            yield a
            return
        r = await client.post("/api/v1/admin/projects", json={"name": "hunt", "app": "bpsw-hunter"},
                              headers=a.admin)
        assert r.status_code == 201, r.text
        r = await client.post("/api/v1/admin/projects/hunt/work",
                              json={"params": {"a": 0, "b": 30000, "chunk": 10000}}, headers=a.admin)
        assert r.status_code == 201 and r.json() == {"workunits": 3}
        yield a


@pytest.fixture(params=["local", "s3"])
async def api(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> AsyncIterator[Api]:
    s3 = request.getfixturevalue("s3_endpoint") if request.param == "s3" else None
    async with _running(tmp_path, database_url, s3) as a:
        yield a


@pytest.fixture
async def local_api(tmp_path: Path, database_url: str) -> AsyncIterator[Api]:
    async with _running(tmp_path, database_url, None) as a:
        yield a


def _output(asg: dict) -> bytes:
    return bpsw_format.encode(bpsw_format.run_sweep(int(asg["params"]["a"]), int(asg["params"]["b"])))


async def test_lease_upload_report_round_trip(api: Api) -> None:
    node = await api.node()
    (asg,) = await api.lease(node)
    data = _output(asg)
    assert (await api.upload(asg["upload"], data)).status_code == 200
    r = await api.report(node, asg, data)
    assert r.status_code == 200, r.text
    assert r.json()["verdict"] == "valid"
    again = await api.report(node, asg, data)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert (await api.state())["workunits"]["validated"] == 1


async def test_a_lease_whose_reply_was_lost_is_sent_again(api: Api) -> None:
    node = await api.node()
    (lost,) = await api.lease(node, 1)  # the reply never reached the agent
    (held,) = await api.lease(node, 1)  # without `held` (an older agent): nothing is sent again
    assert held["result_id"] != lost["result_id"]
    r = await api.client.post("/api/v1/work/lease", json={"max_results": 3, "held": [held["result_id"]]},
                              headers=node)
    assert r.status_code == 200, r.text
    again, new = r.json()["assignments"]  # the lost one first, as it was, then the last workunit
    assert (again["result_id"], again["deadline_at"]) == (lost["result_id"], lost["deadline_at"])
    assert new["result_id"] not in (lost["result_id"], held["result_id"])
    for asg in (again, held, new):  # each with a working upload URL
        data = _output(asg)
        assert (await api.upload(asg["upload"], data)).status_code == 200
        assert (await api.report(node, asg, data)).json()["verdict"] == "valid"
    assert (await api.state())["workunits"]["validated"] == 3


async def test_openapi_schema_is_served(api: Api) -> None:
    r = await api.client.get("/schema/openapi.json")
    assert r.status_code == 200
    assert "/api/v1/work/lease" in r.json()["paths"]


@pytest.mark.parametrize(
    "path, body, status",
    [
        ("/api/v1/work/lease", b"{not json", 400),
        ("/api/v1/work/lease", b'{"max_results": "many"}', 400),
        ("/api/v1/work/lease", b'{"max_results": 0}', 400),
        ("/api/v1/work/lease", b'{"max_results": 1, "surprise": true}', 400),
        ("/api/v1/work/lease", b'{"max_results": 1, "held": [0]}', 400),
        ("/api/v1/work/lease", b'{"max_results": 1, "held": [9223372036854775808]}', 400),
        ("/api/v1/work/lease", b'{"max_results": 1, "held": "all"}', 400),
        ("/api/v1/work/lease", b'{"max_results": 1, "held": [' + b",".join([b"1"] * 10001) + b']}', 400),
        ("/api/v1/work/report", b'{"result_id": 1}', 400),
        ("/api/v1/work/report", b'{"result_id": 1, "outcome": "maybe"}', 400),
        ("/api/v1/work/report", b'{"result_id": 99999, "outcome": "error"}', 404),
        ("/api/v1/work/report", b'{"result_id": 1, "outcome": "success", "sha256": "zz", "size": 1}', 422),
        ("/api/v1/work/upload-url", b'{"result_id": 424242}', 404),
        ("/api/v1/nodes/heartbeat", b'{"capabilities": {"cores": -1}}', 400),
    ],
)
async def test_bad_node_requests_are_refused_and_change_nothing(api: Api, path: str, body: bytes,
                                                               status: int) -> None:
    node = await api.node()
    before = await api.state()
    r = await api.client.post(path, content=body, headers={**node, "content-type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["detail"]
    assert await api.state() == before


@pytest.mark.parametrize("auth", [None, "Bearer ", "Bearer nodot", "Basic abc", "Bearer " + "a" * 32 + ".nope"])
async def test_missing_or_wrong_node_secret(api: Api, auth: str | None) -> None:
    real = await api.node()
    wrong = {"Authorization": real["Authorization"][:-3] + "xyz"} if auth is None else {"Authorization": auth}
    for headers in ({}, wrong):
        before = await api.state()
        r = await api.client.post("/api/v1/work/lease", json={"max_results": 1}, headers=headers)
        assert r.status_code == 401, r.text
        assert await api.state() == before


async def test_report_for_another_nodes_assignment(api: Api) -> None:
    owner, thief = await api.node("owner"), await api.node("thief")
    (asg,) = await api.lease(owner)
    data = _output(asg)
    await api.upload(asg["upload"], data)
    before = await api.state()
    r = await api.report(thief, asg, data)
    assert r.status_code == 403 and "not leased to you" in r.json()["detail"]
    r = await api.client.post("/api/v1/work/upload-url", json={"result_id": asg["result_id"]}, headers=thief)
    assert r.status_code == 403
    assert await api.state() == before


async def test_upload_with_wrong_hash_or_over_the_cap(api: Api) -> None:
    node = await api.node()
    (asg,) = await api.lease(node)
    data = _output(asg)
    await api.upload(asg["upload"], data)
    before = await api.state()
    r = await api.client.post("/api/v1/work/report", headers=node, json={
        "result_id": asg["result_id"], "outcome": "success", "sha256": "ab" * 32, "size": len(data)})
    assert r.status_code == 422 and "does not match" in r.json()["detail"]
    big = b"x" * 5000  # the cap in these tests is 4096 bytes
    r = await api.client.post("/api/v1/work/report", headers=node, json={
        "result_id": asg["result_id"], "outcome": "success", "sha256": hashlib.sha256(big).hexdigest(),
        "size": len(big)})
    assert r.status_code == 413
    if asg["upload"]["url"].startswith(BASE):
        assert (await api.upload(asg["upload"], big)).status_code == 413
    else:  # S3 accepts the bytes; the coordinator refuses them on report
        await api.upload(asg["upload"], big)
        r = await api.client.post("/api/v1/work/report", headers=node, json={
            "result_id": asg["result_id"], "outcome": "success", "sha256": hashlib.sha256(big).hexdigest(),
            "size": 4000})
        assert r.status_code in (413, 422)
    assert await api.state() == before


async def test_tampered_local_upload_url_is_refused(local_api: Api) -> None:
    api = local_api
    node = await api.node()
    (asg,) = await api.lease(node)
    parts = urlsplit(asg["upload"]["url"])
    r = await api.client.put(parts.path.replace("/r", "/x", 1) + "?" + parts.query, content=b"data")
    assert r.status_code == 403
    r = await api.client.put(parts.path + "?" + parts.query.replace("op=put", "op=get"), content=b"d")
    assert r.status_code == 422
    traversal = "/api/v1/objects/../../etc/passwd?" + parts.query
    r = await api.client.put(traversal, content=b"d")
    assert r.status_code in (400, 403, 404)


async def test_reused_enrolment_token(api: Api) -> None:
    token = await api.token()
    body = {"token": token, "name": "a", "capabilities": CAPS}
    assert (await api.client.post("/api/v1/enrol", json=body)).status_code == 201
    before = await api.state()
    r = await api.client.post("/api/v1/enrol", json=body)
    assert r.status_code == 409 and "already been used" in r.json()["detail"]
    r = await api.client.post("/api/v1/enrol", json={**body, "token": "nre_unknown"})
    assert r.status_code == 401
    assert await api.state() == before


async def test_admin_endpoints_need_the_admin_token(api: Api) -> None:
    node = await api.node()
    for headers in ({}, node, {"Authorization": "Bearer nra_wrong"}):
        r = await api.client.get("/api/v1/admin/projects", headers=headers)
        assert r.status_code == 401
        r = await api.client.post("/api/v1/admin/enrolment-tokens", json={}, headers=headers)
        assert r.status_code == 401


async def test_bad_work_requests(api: Api) -> None:
    before = await api.state()
    for params, fragment in (({"a": 5, "b": 1, "chunk": 1000}, "a < b"),
                             ({"a": 0, "b": 2**65, "chunk": 10**6}, "2^64"),
                             ({"a": "lots", "b": 10, "chunk": 1000}, "integer"),
                             ({"a": 0, "b": 10**12, "chunk": 1000}, "per request")):
        r = await api.client.post("/api/v1/admin/projects/hunt/work", json={"params": params},
                                  headers=api.admin)
        assert r.status_code == 422 and fragment in r.json()["detail"], r.text
    r = await api.client.post("/api/v1/admin/projects/nope/work", json={"params": {}}, headers=api.admin)
    assert r.status_code == 404
    r = await api.client.post("/api/v1/admin/projects", json={"name": "hunt", "app": "bpsw-hunter"},
                              headers=api.admin)
    assert r.status_code == 409
    r = await api.client.post("/api/v1/admin/projects", json={"name": "x", "app": "nope"}, headers=api.admin)
    assert r.status_code == 422 and "unknown app" in r.json()["detail"]
    assert await api.state() == before


async def test_workunit_detail_says_how_it_was_verified(local_api: Api) -> None:
    api = local_api
    node = await api.node()
    (asg,) = await api.lease(node)
    data = _output(asg)
    await api.upload(asg["upload"], data)
    await api.report(node, asg, data)
    r = await api.client.get(f"/api/v1/admin/workunits/{asg['workunit_id']}", headers=api.admin)
    body = r.json()
    assert r.status_code == 200 and body["state"] == "validated"
    assert body["accepted_mode"] == "single" and body["verification"]["valid"][0][0] == asg["result_id"]
    assert body["results"][0]["verdict"] == "valid"
    assert (await api.client.get("/api/v1/admin/workunits/99999", headers=api.admin)).status_code == 404
