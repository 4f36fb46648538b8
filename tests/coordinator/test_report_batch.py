"""Batched reports (POST /work/report-batch, outputs inline or uploaded) and
bundle references in leases, in-process on a real database and object store:
each report in a batch gets its own outcome, refused ones change nothing."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from coordinator.api import app as app_module
from tests.coordinator.test_api import Api, _output, _running, api, local_api  # noqa: F401, F811  (fixtures, used by name)


def _item(asg: dict[str, Any], data: bytes, *, inline: bool = True, **overrides: Any) -> dict[str, Any]:
    item = {"result_id": asg["result_id"], "outcome": "success", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), "cpu_seconds": 0.5, "wall_seconds": 0.5}
    if inline:
        item["output"] = base64.b64encode(data).decode()
    item.update(overrides)
    return item


async def _batch(api: Api, node: dict[str, str], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = await api.client.post("/api/v1/work/report-batch", headers=node, json={"reports": items})
    assert r.status_code == 200, r.text
    receipts = r.json()["receipts"]
    assert [x["result_id"] for x in receipts] == [i["result_id"] for i in items]
    return list(receipts)


async def test_a_batch_with_inline_outputs_validates_each_and_is_idempotent(api: Api) -> None:
    node = await api.node()
    batch = await api.lease(node, 3)
    assert len(batch) == 3
    items = [_item(a, _output(a)) for a in batch]
    receipts = await _batch(api, node, items)
    assert all(x["ok"] and x["verdict"] == "pending" and not x["duplicate"] for x in receipts), receipts
    state = await api.validated(3)  # by the validator, just after the request
    assert state["workunits"]["validated"] == 3
    again = await _batch(api, node, items)
    assert all(x["ok"] and x["duplicate"] for x in again), again
    assert await api.state() == state, "a repeated batch must change nothing"


async def test_each_report_in_a_batch_is_judged_alone(api: Api) -> None:
    node, other = await api.node("a"), await api.node("b")
    mine, foreign = await api.lease(node, 2), await api.lease(other, 1)
    good, bad = mine
    data = _output(good)
    # The uploaded path still works inside a batch: upload first, then report without output.
    assert (await api.upload(good["upload"], data)).status_code == 200
    before = await api.state()
    receipts = await _batch(api, node, [
        _item(good, data, inline=False),
        _item(bad, _output(bad), sha256="0" * 64),                 # inline bytes do not match
        _item(foreign[0], _output(foreign[0])),                     # another node's result
        {"result_id": 10**9, "outcome": "error", "error": "x"},    # no such result
        _item(good, data),                                          # the same result twice
    ])
    assert [(x["ok"], x["status"]) for x in receipts] == [
        (True, 200), (False, 422), (False, 403), (False, 404), (False, 422)], receipts
    assert receipts[0]["verdict"] == "pending"  # settled by the validator just after the request
    assert "sha256" in receipts[1]["detail"] and receipts[2]["error"] == "forbidden"
    after = await api.validated(before["workunits"]["validated"] + 1)
    assert after["workunits"]["validated"] == before["workunits"]["validated"] + 1
    # The refused ones are still leased and can be reported properly.
    (ok,) = await _batch(api, node, [_item(bad, _output(bad))])
    assert ok["ok"] and ok["verdict"] == "pending"
    assert (await api.validated(after["workunits"]["validated"] + 1))["workunits"]["validated"] == (
        after["workunits"]["validated"] + 1)


async def test_inline_limits_and_error_reports(local_api: Api) -> None:
    node = await local_api.node()
    first, second = await local_api.lease(node, 2)
    big = b"x" * 5000  # the test coordinator caps outputs at 4096 bytes
    receipts = await _batch(local_api, node, [
        _item(first, big),
        {"result_id": second["result_id"], "outcome": "error", "error": "crashed\x00 hard",
         "output": base64.b64encode(b"no").decode()},
    ])
    assert [(x["ok"], x["status"]) for x in receipts] == [(False, 413), (False, 422)], receipts
    receipts = await _batch(local_api, node, [{"result_id": second["result_id"], "outcome": "error",
                                         "error": "crashed\x00 hard"}])
    assert receipts[0]["ok"] and receipts[0]["state"] == "errored"
    r = await local_api.client.post("/api/v1/work/report-batch", headers=node, json={"reports": []})
    assert r.status_code == 400
    r = await local_api.client.post("/api/v1/work/report-batch", json={"reports": [_item(first, b"1")]})
    assert r.status_code == 401


def _bundle_payload() -> dict[str, Any]:
    files = {"task.py": b"print('hello')\n"}
    manifest = json.dumps({"project": "hunt", "app": "bpsw-hunter", "version": "9.9", "entry": "python:task.py",
                           "files": {n: hashlib.sha256(d).hexdigest() for n, d in files.items()}})
    return {"manifest_sha256": hashlib.sha256(manifest.encode()).hexdigest(),
            "bundle": {"manifest": manifest, "signature": base64.b64encode(b"s" * 64).decode(),
                       "files": {n: base64.b64encode(d).decode() for n, d in files.items()}}}


async def test_leases_carry_bundles_by_reference_when_asked(local_api: Api) -> None:
    payload = _bundle_payload()
    r = await local_api.client.post("/api/v1/admin/projects/hunt/app-bundles", json=payload, headers=local_api.admin)
    assert r.status_code == 201, r.text
    node = await local_api.node()
    r = await local_api.client.post("/api/v1/work/lease", json={"max_results": 2, "bundle_refs": True}, headers=node)
    assert r.status_code == 200, r.text
    body = r.json()
    sha = payload["manifest_sha256"]
    assert len(body["assignments"]) == 2
    assert all(a["app_bundle"] is None and a["app_sha256"] == sha and a["app_version"] == "9.9"
               for a in body["assignments"])
    assert body["bundles"][sha]["manifest"] == payload["bundle"]["manifest"]
    (plain,) = await local_api.lease(node, 1)  # without bundle_refs: a copy in each assignment, as before
    assert plain["app_bundle"]["manifest"] == payload["bundle"]["manifest"] and plain["app_sha256"] == sha


@pytest.mark.parametrize("n", [1])
async def test_reporting_without_any_bundle_published_has_no_bundles(local_api: Api, n: int) -> None:
    node = await local_api.node()
    r = await local_api.client.post("/api/v1/work/lease", json={"max_results": n, "bundle_refs": True},
                                    headers=node)
    assert r.status_code == 200 and r.json()["bundles"] == {}
    assert r.json()["assignments"][0]["app_sha256"] is None


async def test_reports_queued_when_the_coordinator_stopped_are_settled_when_it_starts(
        tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async def stopped(*_: Any, **__: Any) -> dict[int, str | None]:
        return {}  # the coordinator is killed before its validator gets to them

    with monkeypatch.context() as m:
        m.setattr(app_module.validator, "settle_queued", stopped)
        async with _running(tmp_path, database_url, None) as first:
            node = await first.node()
            batch = await first.lease(node, 3)
            receipts = await _batch(first, node, [_item(a, _output(a)) for a in batch])
            assert [x["verdict"] for x in receipts] == ["pending"] * 3
            await asyncio.sleep(0.2)
            assert (await first.state())["workunits"]["validated"] == 0
    async with _running(tmp_path, database_url, None, fresh=False) as second:
        state = await second.validated(3)
        assert state["workunits"]["validated"] == 3
        again = await _batch(second, node, [_item(a, _output(a)) for a in batch])
        assert all(x["duplicate"] and x["verdict"] == "valid" for x in again), again
