"""Hostile input against the real app on PostgreSQL: every request here is
refused with a 4xx and a clear message, and leaves no trace in the database or
the object store."""

from __future__ import annotations

import json

import pytest

from tests.hostile.conftest import CAPS, Api, output

pytestmark = pytest.mark.postgres


async def _refused(api: Api, method: str, path: str, *, status: int | tuple[int, ...], fragment: str = "",
                   **kwargs: object) -> dict[str, str]:
    before = await api.fingerprint.take()
    r = await api.client.request(method, path, **kwargs)  # type: ignore[arg-type]
    wanted = status if isinstance(status, tuple) else (status,)
    assert r.status_code in wanted, (r.status_code, r.text[:500])
    body = r.json()
    assert body["detail"], body
    assert fragment.lower() in body["detail"].lower(), body
    assert await api.fingerprint.take() == before, "a refused request changed stored state"
    return body  # type: ignore[no-any-return]


async def test_oversized_bodies_are_refused_before_parsing(api: Api) -> None:
    _, node = await api.enrol()
    big = b'{"max_results": 1, "projects": ["' + b"x" * (3 << 20) + b'"]}'
    for path in ("/api/v1/work/lease", "/api/v1/enrol", "/api/v1/work/report", "/api/v1/nodes/heartbeat"):
        await _refused(api, "POST", path, status=413, content=big,
                       headers={**node, "content-type": "application/json"})
    await _refused(api, "POST", "/api/v1/admin/projects/hunt/work", status=413, content=big,
                   headers={**api.admin, "content-type": "application/json"})


@pytest.mark.parametrize("depth", [64, 5_000, 200_000])
async def test_deeply_nested_json(api: Api, depth: int) -> None:
    _, node = await api.enrol()
    nested = b"[" * depth + b"]" * depth
    for path, body in (("/api/v1/work/lease", b'{"max_results": ' + nested + b"}"),
                       ("/api/v1/nodes/heartbeat", b'{"capabilities": ' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"),
                       ("/api/v1/admin/projects/hunt/work", b'{"params": {"a": ' + nested + b"}}")):
        headers = api.admin if "admin" in path else node
        await _refused(api, "POST", path, status=(400, 413), content=body[: 3 << 20],
                       headers={**headers, "content-type": "application/json"})


@pytest.mark.parametrize("path, body", [
    ("/api/v1/work/lease", {"max_results": 10**400}),
    ("/api/v1/work/lease", {"max_results": 2**63}),
    ("/api/v1/work/lease", {"max_results": -(2**70)}),
    ("/api/v1/work/report", {"result_id": 2**64, "outcome": "error"}),
    ("/api/v1/work/report", {"result_id": 1, "outcome": "success", "sha256": "a" * 64, "size": 10**30}),
    ("/api/v1/work/report", {"result_id": 1, "outcome": "error", "cpu_seconds": 1e308}),
    ("/api/v1/work/report", {"result_id": 1, "outcome": "error", "wall_seconds": float("nan")}),
    ("/api/v1/work/upload-url", {"result_id": -1}),
    ("/api/v1/nodes/heartbeat", {"capabilities": {**CAPS, "cores": 10**20}}),
    ("/api/v1/nodes/heartbeat", {"capabilities": {**CAPS, "memory_bytes": 2**64}}),
])
async def test_huge_integers_and_odd_numbers(api: Api, path: str, body: dict[str, object]) -> None:
    _, node = await api.enrol()
    content = json.dumps(body).replace("NaN", "NaN").encode()
    await _refused(api, "POST", path, status=(400, 413, 422), content=content,
                   headers={**node, "content-type": "application/json"})


async def test_huge_integers_in_admin_work_params(api: Api) -> None:
    for params in ({"a": 10**300, "b": 10**301, "chunk": 1000}, {"a": "9" * 5000, "b": 1, "chunk": 1000},
                   {"a": 0, "b": 10**6, "chunk": -(2**80)}, {"a": "2^99999", "b": 1, "chunk": 1000}):
        await _refused(api, "POST", "/api/v1/admin/projects/hunt/work", status=(400, 422),
                       json={"params": params}, headers=api.admin)


@pytest.mark.parametrize("name", ["nul\x00byte", "bell\x07", "new\nline", "\ud800lone surrogate", "trailing\n",
                                  "\u202eevil rtl", "", " " * 101, "x" * 101])
async def test_odd_unicode_node_names_are_refused(api: Api, name: str) -> None:
    token = await api.token()
    body = json.dumps({"token": token, "name": name, "capabilities": CAPS})
    await _refused(api, "POST", "/api/v1/enrol", status=(400, 422), content=body.encode("utf-8", "surrogatepass"),
                   headers={"content-type": "application/json"})


async def test_ordinary_unicode_names_are_kept_verbatim(api: Api) -> None:
    name = "Zoë's 机器 🚀 ﷺ"
    r = await api.client.post("/api/v1/enrol", json={"token": await api.token(), "name": name,
                                                       "capabilities": CAPS})
    assert r.status_code == 201, r.text
    nodes = (await api.client.get("/api/v1/admin/nodes", headers=api.admin)).json()
    assert [n["name"] for n in nodes] == [name]


@pytest.mark.parametrize("name", ["nul\x00x", "../etc", "a/b", "\u202ertl", "x" * 64])
async def test_odd_project_names_are_refused(api: Api, name: str) -> None:
    await _refused(api, "POST", "/api/v1/admin/projects", status=(400, 422),
                   json={"name": name, "app": "bpsw-hunter"}, headers=api.admin)


async def test_odd_unicode_elsewhere_is_refused_or_stored_safely(api: Api) -> None:
    _, node = await api.enrol()
    (asg,) = await api.lease(node)
    # An error report's message is free text: control characters must not break the database.
    r = await api.client.post("/api/v1/work/report", headers=node, json={
        "result_id": asg["result_id"], "outcome": "error", "error": "boom\x00\ud7ff\u202e"})
    assert r.status_code == 200, r.text
    detail = (await api.client.get(f"/api/v1/admin/workunits/{asg['workunit_id']}", headers=api.admin)).text
    assert "boom" in detail
    await _refused(api, "POST", "/api/v1/admin/enrolment-tokens", status=(400, 422),
                   json={"note": "nul\x00"}, headers=api.admin)


@pytest.mark.parametrize("tail", [
    "../../../../etc/passwd", "results/../../url-signing.key", "%2e%2e/%2e%2e/url-signing.key",
    "..%2f..%2furl-signing.key", "results/p1/wu1/r1.out/../../../../admin-token", "/etc/passwd",
    "results//p1", "results/p1/wu1/r1.out%00.txt", "results/\u00e9/x",
])
async def test_path_traversal_in_object_keys(api: Api, tail: str) -> None:
    _, node = await api.enrol()
    (asg,) = await api.lease(node)
    query = asg["upload"]["url"].split("?", 1)[1]
    for method in ("PUT", "GET"):
        q = query if method == "PUT" else query.replace("op=put", "op=get")
        await _refused(api, method, f"/api/v1/objects/{tail}?{q}", status=(400, 403, 404, 422),
                       content=b"owned" if method == "PUT" else None)


async def test_release_file_names_cannot_escape(api: Api) -> None:
    for path in ("/api/v1/releases/stable/linux/1.0/files/..%2f..%2fadmin-token/content",
                 "/api/v1/releases/..%2f../linux/latest",
                 "/api/v1/releases/stable/linux/1.0/files/%00/content"):
        r = await api.client.get(path)
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text)


async def test_replayed_requests_change_nothing(api: Api) -> None:
    _, node = await api.enrol()
    (asg,) = await api.lease(node)
    data = output(asg)
    assert (await api.put(asg["upload"], data)).status_code == 200
    first = await api.report(node, asg, data)
    assert first.status_code == 200 and first.json()["verdict"] == "valid", first.text
    before = await api.fingerprint.take()
    again = await api.report(node, asg, data)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert await api.fingerprint.take() == before, "a replayed report changed state (credit twice?)"
    # The same result replayed as an error, or with other bytes: refused.
    await _refused(api, "POST", "/api/v1/work/report", status=409, fragment="already reported",
                   json={"result_id": asg["result_id"], "outcome": "error", "error": "x"}, headers=node)
    # The lease after the report: the result is no longer leased.
    await _refused(api, "POST", "/api/v1/work/upload-url", status=409,
                   json={"result_id": asg["result_id"]}, headers=node)


async def test_another_nodes_ids_are_refused(api: Api) -> None:
    owner_id, owner = await api.enrol("owner")
    thief_id, thief = await api.enrol("thief")
    (asg,) = await api.lease(owner)
    data = output(asg)
    await api.put(asg["upload"], data)
    thief_secret = thief["Authorization"].split(".", 1)[1]
    forged = {"Authorization": f"Bearer {owner_id}.{thief_secret}"}
    await _refused(api, "POST", "/api/v1/work/report", status=401, fragment="not valid", headers=forged,
                   json={"result_id": asg["result_id"], "outcome": "success",
                         "sha256": __import__("hashlib").sha256(data).hexdigest(), "size": len(data)})
    await _refused(api, "POST", "/api/v1/work/report", status=403, fragment="not leased to you", headers=thief,
                   json={"result_id": asg["result_id"], "outcome": "error", "error": "sabotage"})
    await _refused(api, "POST", "/api/v1/work/upload-url", status=403, fragment="not leased to you",
                   headers=thief, json={"result_id": asg["result_id"]})
    await _refused(api, "POST", f"/api/v1/admin/nodes/{owner_id}/status", status=401, headers=thief,
                   json={"status": "banned", "reason": "because"})
    await _refused(api, "GET", f"/api/v1/admin/nodes/{owner_id}", status=401, headers=thief)
