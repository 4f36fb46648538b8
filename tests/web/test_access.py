"""Who may do what through the web UI: a viewer changes nothing, forms need the
session's CSRF token, a logged-out session is dead, and a node's credentials open
no admin endpoint (JSON or web)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.harness import Web, not_logged_in, running


@pytest.fixture
async def web(tmp_path: Path, database_url: str) -> AsyncIterator[Web]:
    async with running(tmp_path, database_url) as w:
        await w.api("POST", "/projects", {"name": "hunt", "app": "bpsw-hunter"})
        await w.api("POST", "/projects/hunt/work", {"params": {"a": 0, "b": 30000, "chunk": 10000}})
        yield w


def forms(node_id: str) -> list[tuple[str, dict[str, str]]]:
    """Every form that changes something, with a body that would succeed for an admin."""
    doc = ('{"name": "w", "tasks": [{"name": "t", "app": "bpsw-hunter", '
           '"params": {"a": "0", "b": "10000"}}]}')
    return [
        ("/ui/projects", {"name": "other", "app": "bpsw-hunter", "a": "0", "b": "20000", "chunk": "10000"}),
        ("/ui/projects/hunt/work", {"a": "30000", "b": "40000", "chunk": "10000"}),
        ("/ui/projects/hunt/status", {"status": "paused"}),
        (f"/ui/nodes/{node_id}/status", {"status": "quarantined", "reason": "looks odd"}),
        ("/ui/workflows", {"document": doc, "project": "hunt", "action": "submit"}),
        ("/ui/workflows/1/cancel", {}),
        ("/ui/workflows/1/retry", {}),
        ("/ui/users", {"name": "mallory", "password": "a long password", "role": "admin"}),
    ]


async def snapshot(web: Web) -> Any:
    return {"projects": await web.api("GET", "/projects"), "nodes": await web.api("GET", "/nodes"),
            "workflows": await web.api("GET", "/workflows")}


async def test_a_viewer_can_change_nothing(web: Web) -> None:
    node = await web.node()
    before = await snapshot(web)
    csrf = web.be("viewer")
    for path, body in forms(node["id"]):
        r = await web.client.post(path, data={**body, "csrf_token": csrf})
        assert r.status_code == 403, (path, r.status_code, r.text[:300])
        assert "may not" in r.text
    assert await snapshot(web) == before
    web.be("admin")
    users_page = await web.client.get("/ui/users")
    assert "mallory" not in users_page.text
    # ... and sees no buttons that would try.
    web.be("viewer")
    for page in ("/ui/projects", f"/ui/nodes/{node['id']}", "/ui/workflows"):
        html = (await web.client.get(page)).text
        assert "Quarantine" not in html and "Add work" not in html and "Pause" not in html
        assert 'value="submit"' not in html
    assert (await web.client.get("/ui/users")).status_code == 403


async def test_a_project_manager_manages_projects_but_not_nodes(web: Web) -> None:
    node = await web.node()
    csrf = web.be("manager")
    r = await web.client.post("/ui/projects/hunt/status", data={"status": "paused", "csrf_token": csrf})
    assert r.status_code == 303
    r = await web.client.post(f"/ui/nodes/{node['id']}/status",
                              data={"status": "quarantined", "reason": "x", "csrf_token": csrf})
    assert r.status_code == 403
    assert (await web.api("GET", "/projects/hunt"))["status"] == "paused"
    assert (await web.api("GET", "/nodes"))[0]["status"] == "active"


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
async def test_forms_reject_a_missing_or_wrong_csrf_token(web: Web, token: str | None) -> None:
    node = await web.node()
    before = await snapshot(web)
    web.be("admin")
    for path, body in [*forms(node["id"]), ("/ui/logout", {})]:
        data = dict(body) if token is None else {**body, "csrf_token": token}
        r = await web.client.post(path, data=data)
        assert r.status_code == 403, (path, r.status_code)
        assert "CSRF" in r.text
    assert await snapshot(web) == before
    assert (await web.client.get("/ui/")).status_code == 200  # the logout did not happen either


async def test_the_same_forms_work_with_the_token(web: Web) -> None:
    node = await web.node()
    csrf = web.be("admin")
    for path, body in forms(node["id"]):
        if "/workflows/1/" in path:
            continue  # needs a workflow in the right state; covered by the browser test
        r = await web.client.post(path, data={**body, "csrf_token": csrf})
        assert r.status_code == 303, (path, r.status_code, r.text[:500])
    state = await snapshot(web)
    assert {p["name"]: p["status"] for p in state["projects"]} == {"hunt": "paused", "other": "active"}
    assert state["nodes"][0]["status"] == "quarantined"
    assert [w["name"] for w in state["workflows"]] == ["w"]


async def test_a_session_is_dead_after_logout(web: Web) -> None:
    cookie, csrf = web.sessions["admin"]
    web.be("admin")
    assert (await web.client.get("/ui/")).status_code == 200
    r = await web.client.post("/ui/logout", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    web.client.cookies.clear()
    web.client.cookies.set("newral_session", cookie)  # a copy of the old cookie
    for path in ("/ui/", "/ui/nodes", "/ui/fragments/overview", "/ui/events/stream"):
        assert not_logged_in(await web.client.get(path)), path
    r = await web.client.post("/ui/projects/hunt/status", data={"status": "paused", "csrf_token": csrf})
    assert r.status_code == 401
    assert (await web.api("GET", "/projects/hunt"))["status"] == "active"


def refused(r: httpx.Response) -> bool:
    """Not let in: sent to log in, or the body refused before anyone is asked who they are."""
    return not_logged_in(r) or (r.status_code == 400 and "invalid_request" in r.text)


async def test_a_node_secret_reaches_no_admin_endpoint(web: Web) -> None:
    node = await web.node()
    app = web.client.app
    checked = 0
    for route in app.routes:
        path = route.path
        if not path.startswith(("/api/v1/admin", "/ui")) \
                or path.startswith(("/ui/login", "/ui/static")):
            continue
        url = re.sub(r"\{(\w+):int\}", "1", path)
        url = re.sub(r"\{(\w+):\w+\}", node["id"] if "node" in path else "hunt", url)
        for method in sorted(getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}):
            for attempt in ({"headers": {"Authorization": node["Authorization"]}},
                            {"headers": {"Authorization": f"Bearer {node['secret']}"}}):
                web.client.cookies.clear()
                r = await web.client.request(method, url, json={} if method != "GET" else None, **attempt)
                assert refused(r), (method, url, r.status_code)
                checked += 1
            web.client.cookies.set("newral_session", node["secret"])  # the secret as a cookie
            r = await web.client.request(method, url)
            assert refused(r), (method, url, r.status_code)
    assert checked > 40
    assert (await web.api("GET", "/nodes"))[0]["status"] == "active"


async def test_login_refuses_bad_passwords_and_foreign_redirects(web: Web) -> None:
    web.client.cookies.clear()
    page = await web.client.get("/ui/login?next=//evil.example/")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert 'name="next" value="/ui/"' in page.text
    r = await web.client.post("/ui/login", data={"name": "admin", "password": "nope", "login_csrf": token})
    assert r.status_code == 401 and "wrong user name or password" in r.text
    assert "newral_session" not in r.cookies
    r = await web.client.post("/ui/login", data={"name": "admin", "password": "correct horse battery",
                                                 "login_csrf": "forged"})
    assert r.status_code == 403
