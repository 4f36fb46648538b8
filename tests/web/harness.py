"""An in-process coordinator (real database, local object store) with web users
of each role, and helpers to act as one of them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from litestar.testing import AsyncTestClient

from coordinator.api import create_app
from coordinator.db.database import Database
from coordinator.domain import users
from coordinator.settings import load_settings
from coordinator.web.session import COOKIE
from cyext import bpsw_format

BASE = "http://testserver.local"
PASSWORD = "correct horse battery"
CAPS = {"platform": "linux", "arch": "x86_64", "cores": 2, "memory_bytes": 1 << 33,
        "disk_free_bytes": 1 << 36, "client_version": "0.1.0", "benchmark": 1e8}


@dataclass
class Web:
    client: AsyncTestClient  # type: ignore[type-arg]
    admin_token: str
    database_url: str
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (cookie, csrf)

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    async def log_in(self, name: str) -> tuple[str, str]:
        self.client.cookies.clear()
        page = await self.client.get("/ui/login")
        login_csrf = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = await self.client.post("/ui/login", data={"name": name, "password": PASSWORD,
                                                      "login_csrf": login_csrf, "next": "/ui/"})
        assert r.status_code == 303, r.text
        cookie = r.cookies[COOKIE]
        self.client.cookies.clear()
        self.client.cookies.set(COOKIE, cookie)
        home = await self.client.get("/ui/")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text).group(1)  # type: ignore[union-attr]
        self.sessions[name] = (cookie, csrf)
        return cookie, csrf

    def be(self, name: str | None) -> str:
        """Act as a logged-in user (or nobody); returns their CSRF token."""
        self.client.cookies.clear()
        if name is None:
            return ""
        cookie, csrf = self.sessions[name]
        self.client.cookies.set(COOKIE, cookie)
        return csrf

    async def api(self, method: str, path: str, body: Any = None) -> Any:
        r = await self.client.request(method, f"/api/v1/admin{path}", json=body, headers=self.admin)
        assert r.status_code < 300, r.text
        return r.json()

    async def node(self, name: str = "n1") -> dict[str, str]:
        token = (await self.api("POST", "/enrolment-tokens", {}))["token"]
        r = await self.client.post("/api/v1/enrol", json={"token": token, "name": name, "capabilities": CAPS})
        assert r.status_code == 201, r.text
        body = r.json()
        return {"Authorization": f"Bearer {body['node_id']}.{body['secret']}", "id": body["node_id"],
                "secret": body["secret"]}

    async def do_one(self, node: dict[str, str]) -> None:
        """Lease one workunit, compute it, upload and report it."""
        headers = {"Authorization": node["Authorization"]}
        r = await self.client.post("/api/v1/work/lease", json={"max_results": 1}, headers=headers)
        (asg,) = r.json()["assignments"]
        data = bpsw_format.encode(bpsw_format.run_sweep(int(asg["params"]["a"]), int(asg["params"]["b"])))
        parts = urlsplit(asg["upload"]["url"])
        assert (await self.client.put(f"{parts.path}?{parts.query}", content=data)).status_code == 200
        r = await self.client.post("/api/v1/work/report", headers=headers, json={
            "result_id": asg["result_id"], "outcome": "success",
            "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
        assert r.status_code == 200, r.text


@asynccontextmanager
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[Web]:
    settings = load_settings(environ={}, data_dir=tmp_path / "coord", database_url=database_url,
                             public_url=BASE, reaper_interval=3600.0)
    async with AsyncTestClient(create_app(settings), base_url=BASE) as client:
        client.follow_redirects = False
        db = Database(database_url)
        try:
            async with db.transaction() as s:
                for role in users.ROLES:
                    await users.create_user(s, role, PASSWORD, role, 0.0)
        finally:
            await db.dispose()
        web = Web(client, (tmp_path / "coord" / "admin-token").read_text().strip(), database_url)
        for role in users.ROLES:
            await web.log_in(role)
        yield web


def not_logged_in(r: httpx.Response) -> bool:
    return r.status_code == 401 or (r.status_code == 303 and r.headers["location"].startswith("/ui/login"))
