"""The orchestrator over HTTP and in the web UI: mode switch, kill switch,
recommendations applied or dismissed (real database, in-process app)."""

from __future__ import annotations

import re
from pathlib import Path

from litestar.testing import AsyncTestClient

from coordinator.api import create_app
from coordinator.db.database import Database
from coordinator.orchestrator import advice, policy
from coordinator.settings import load_settings
from tests.web.harness import BASE, running

API = "/api/v1/admin/orchestrator"


async def _recommend(database_url: str) -> list[int]:
    db = Database(database_url)
    try:
        async with db.transaction() as s:
            ids = []
            for i in range(2):
                rec = await advice.add(s, policy.Advice("move-work", f"node {i} predicted to miss", 3600.0 * (i + 1),
                                                        {"on_time": 0.2}), 5.0, node_id=None)
                ids.append(rec.id)
            return ids
    finally:
        await db.dispose()


async def test_api_mode_switch_and_kill_switch(tmp_path: Path, database_url: str) -> None:
    async with running(tmp_path, database_url) as web:
        assert (await web.api("GET", "/orchestrator/mode"))["mode"] == "off"
        r = await web.client.post(f"{API}/mode", json={"mode": "full"}, headers=web.admin)
        assert r.status_code == 200 and r.json()["mode"] == "full", r.text
        bad = await web.client.post(f"{API}/mode", json={"mode": "auto"}, headers=web.admin)
        assert bad.status_code == 422 and "unknown orchestrator mode" in bad.text
        anon = await web.client.post(f"{API}/off")
        assert anon.status_code == 401
        assert (await web.api("GET", "/orchestrator/mode"))["mode"] == "full"
        r = await web.client.post(f"{API}/off", headers=web.admin)
        assert r.status_code == 200 and r.json()["mode"] == "off"
        await web.api("POST", "/orchestrator/mode", {"mode": "partial"})
    settings = load_settings(environ={}, data_dir=tmp_path / "coord", database_url=database_url,
                             public_url=BASE, reaper_interval=3600.0)
    async with AsyncTestClient(create_app(settings), base_url=BASE) as client:  # restarted on the same database
        token = (tmp_path / "coord" / "admin-token").read_text().strip()
        r = await client.get(f"{API}/mode", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["mode"] == "partial"


async def test_api_recommendations_apply_and_dismiss(tmp_path: Path, database_url: str) -> None:
    async with running(tmp_path, database_url) as web:
        first, second = await _recommend(database_url)
        listed = await web.api("GET", "/orchestrator/recommendations?status=open")
        assert {r["id"] for r in listed} == {first, second}
        assert (await web.api("POST", f"/orchestrator/recommendations/{first}/apply"))["status"] == "applied"
        again = await web.client.post(f"{API}/recommendations/{first}/dismiss", headers=web.admin)
        assert again.status_code == 409
        assert (await web.api("POST", f"/orchestrator/recommendations/{second}/dismiss"))["status"] == "dismissed"
        missing = await web.client.post(f"{API}/recommendations/999/apply", headers=web.admin)
        assert missing.status_code == 404
        assert await web.api("GET", "/orchestrator/recommendations?status=open") == []
        trained = await web.api("POST", "/orchestrator/train")
        assert trained["rows"] == 0  # no history yet: nothing to learn, and it says so
        assert (await web.api("POST", "/orchestrator/pass"))["mode"] == "off"
        await web.api("POST", "/orchestrator/mode", {"mode": "advisory"})
        done = await web.api("POST", "/orchestrator/pass")
        assert done == {"mode": "advisory", "reissued": 0, "recommended": 0, "planned_nodes": 0}
        assert (await web.client.post(f"{API}/pass")).status_code == 401


async def test_web_page_switches_mode_and_only_admins_may(tmp_path: Path, database_url: str) -> None:
    async with running(tmp_path, database_url) as web:
        (rec,) = (await _recommend(database_url))[:1]
        csrf = web.be("admin")
        page = await web.client.get("/ui/orchestrator")
        assert page.status_code == 200 and 'id="orchestrator-mode-form"' in page.text
        assert re.search(r'id="orchestrator-mode">Off<', page.text)
        r = await web.client.post("/ui/orchestrator/mode", data={"csrf_token": csrf, "mode": "advisory"})
        assert r.status_code == 303
        page = await web.client.get("/ui/orchestrator")
        assert re.search(r'id="orchestrator-mode">Advisory<', page.text) and 'id="orchestrator-kill"' in page.text
        r = await web.client.post(f"/ui/orchestrator/recommendations/{rec}/apply", data={"csrf_token": csrf})
        assert r.status_code == 303
        r = await web.client.post("/ui/orchestrator/mode", data={"csrf_token": "wrong", "mode": "full"})
        assert r.status_code == 403
        manager_csrf = web.be("manager")
        r = await web.client.post("/ui/orchestrator/mode", data={"csrf_token": manager_csrf, "mode": "full"})
        assert r.status_code == 403
        web.be("admin")
        r = await web.client.post("/ui/orchestrator/mode", data={"csrf_token": csrf, "mode": "off"})
        assert r.status_code == 303
        assert (await web.api("GET", "/orchestrator/mode"))["mode"] == "off"
        assert (await web.api("GET", "/orchestrator/recommendations"))[-1]["status"] in ("applied", "open")
