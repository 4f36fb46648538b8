"""The coordinator's release endpoints in-process, over the real object store (a local
folder and S3 on moto's server): it keeps and serves what maintainers signed, serves
the newest manifest per platform, and refuses manifests its registered public key
does not verify. The coordinator never sees a private key."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from litestar.testing import AsyncTestClient

from coordinator.api import create_app
from coordinator.settings import load_settings
from tests.fixtures.s3 import S3Endpoint
from tests.updates.helpers import DAY, PLATFORM, Signer

BASE = "http://testserver.local"
ADMIN = "/api/v1/admin"


class Releases:
    def __init__(self, client: AsyncTestClient, token: str) -> None:
        self.client = client
        self.admin = {"Authorization": f"Bearer {token}"}

    async def add_key(self, signer: Signer) -> None:
        r = await self.client.post(f"{ADMIN}/release-keys", json={"public_key": signer.public},
                                   headers=self.admin)
        assert r.status_code == 201, r.text
        assert r.json()["keyid"] == signer.keyid

    async def publish(self, raw: bytes, files: dict[str, bytes]) -> httpx.Response:
        r = await self.client.post(f"{ADMIN}/releases", content=raw, headers=self.admin)
        if r.status_code != 201:
            return r
        b = r.json()
        path = f"{ADMIN}/releases/{b['channel']}/{b['platform']}/{b['version']}"
        for name, data in files.items():
            up = await self.client.put(f"{path}/files/{name}", content=data, headers=self.admin)
            assert up.status_code == 200, up.text
        return await self.client.post(f"{path}/finalize", headers=self.admin)

    async def latest(self, platform: str = PLATFORM) -> httpx.Response:
        return await self.client.get(f"/api/v1/releases/stable/{platform}/latest")

    async def download(self, version: str, name: str, platform: str = PLATFORM) -> bytes:
        r = await self.client.get(f"/api/v1/releases/stable/{platform}/{version}/files/{name}")
        assert r.status_code == 200, r.text
        loc = r.json()
        if loc["url"].startswith(BASE):
            parts = urlsplit(loc["url"])
            got = await self.client.get(parts.path)
        else:  # S3: a real request to the presigned URL
            async with httpx.AsyncClient() as http:
                got = await http.get(loc["url"], headers=loc["headers"])
        assert got.status_code == 200
        return got.content


@pytest.fixture(params=["local", "s3"])
async def releases(request: pytest.FixtureRequest, tmp_path: Path, sqlite_url: str) -> AsyncIterator[Releases]:
    extra: dict[str, str] = {"object_store": "local"}
    if request.param == "s3":
        s3: S3Endpoint = request.getfixturevalue("s3_endpoint")
        extra = {"object_store": f"s3://{s3.create_bucket()}", "s3_endpoint": s3.endpoint_url,
                 "s3_access_key": s3.access_key, "s3_secret_key": s3.secret_key, "s3_region": s3.region}
    settings = load_settings(environ={}, data_dir=tmp_path / "coord", database_url=sqlite_url,
                             public_url=BASE, reaper_interval=3600.0, **extra)
    async with AsyncTestClient(create_app(settings), base_url=BASE) as client:
        yield Releases(client, (tmp_path / "coord" / "admin-token").read_text().strip())


def _files(version: str) -> dict[str, bytes]:
    return {"newral-client": f"program {version}".encode() * 1000}


async def test_serves_the_newest_signed_manifest_per_platform(releases: Releases) -> None:
    s = Signer.new()
    await releases.add_key(s)
    now = int(time.time())
    assert (await releases.latest()).status_code == 404
    for version, platform in [("0.2.0", PLATFORM), ("0.3.0", "windows-amd64"), ("0.1.5", PLATFORM)]:
        raw = s.manifest(version, _files(version), platform=platform, issued_at=now, expires_at=now + DAY)
        r = await releases.publish(raw, _files(version))
        assert r.status_code == 200, r.text
    linux = await releases.latest()
    assert linux.status_code == 200
    assert linux.json()["signed"]["version"] == "0.2.0"  # 0.1.5 came later but is older
    assert linux.content == s.manifest("0.2.0", _files("0.2.0"), issued_at=now, expires_at=now + DAY)
    assert (await releases.latest("windows-amd64")).json()["signed"]["version"] == "0.3.0"
    assert await releases.download("0.2.0", "newral-client") == _files("0.2.0")["newral-client"]
    assert await releases.download("0.3.0", "newral-client", "windows-amd64") == _files("0.3.0")["newral-client"]


async def test_refuses_manifests_the_registered_key_does_not_verify(releases: Releases) -> None:
    maintainer, intruder = Signer.new(), Signer.new()
    now = int(time.time())
    raw = maintainer.manifest("0.2.0", _files("0.2.0"), issued_at=now, expires_at=now + DAY)
    r = await releases.publish(raw, _files("0.2.0"))
    assert r.status_code == 409 and "no release public key" in r.json()["detail"]
    await releases.add_key(maintainer)
    forged = intruder.manifest("9.0.0", _files("9.0.0"), issued_at=now, expires_at=now + DAY)
    r = await releases.publish(forged, _files("9.0.0"))
    assert r.status_code == 403 and "none of them trusted" in r.json()["detail"]
    tampered = raw.replace(b'"version": "0.2.0"', b'"version": "9.0.0"')
    assert tampered != raw
    r = await releases.publish(tampered, _files("0.2.0"))
    assert r.status_code == 403 and "does not verify" in r.json()["detail"]
    expired = maintainer.manifest("0.2.0", _files("0.2.0"), issued_at=now - 2 * DAY, expires_at=now - DAY)
    r = await releases.publish(expired, _files("0.2.0"))
    assert r.status_code == 403 and "expired" in r.json()["detail"]
    assert (await releases.latest()).status_code == 404  # nothing refused became visible


async def test_refuses_files_that_differ_from_the_signed_hashes(releases: Releases) -> None:
    s = Signer.new()
    await releases.add_key(s)
    now = int(time.time())
    files = _files("0.2.0")
    r = await releases.client.post(f"{ADMIN}/releases", content=s.manifest("0.2.0", files, issued_at=now,
                                                                           expires_at=now + DAY),
                                   headers=releases.admin)
    assert r.status_code == 201, r.text
    path = f"{ADMIN}/releases/stable/{PLATFORM}/0.2.0"
    good = files["newral-client"]
    bad = bytes([good[0] ^ 1]) + good[1:]
    r = await releases.client.put(f"{path}/files/newral-client", content=bad, headers=releases.admin)
    assert r.status_code == 422 and "sha256" in r.json()["detail"]
    r = await releases.client.put(f"{path}/files/newral-client", content=good[:-1], headers=releases.admin)
    assert r.status_code == 422 and "truncated" in r.json()["detail"]
    r = await releases.client.post(f"{path}/finalize", headers=releases.admin)
    assert r.status_code == 409 and "not uploaded" in r.json()["detail"]
    assert (await releases.latest()).status_code == 404
    r = await releases.client.put(f"{path}/files/newral-client", content=good, headers=releases.admin)
    assert r.status_code == 200
    assert hashlib.sha256(await releases.download("0.2.0", "newral-client")).hexdigest() == \
        hashlib.sha256(good).hexdigest()


async def test_release_writes_need_the_admin_token(releases: Releases) -> None:
    s = Signer.new()
    r = await releases.client.post(f"{ADMIN}/release-keys", json={"public_key": s.public})
    assert r.status_code == 401
    r = await releases.client.post(f"{ADMIN}/release-keys", json={"public_key": "ed25519:abc"},
                                   headers=releases.admin)
    assert r.status_code == 422
    await releases.add_key(s)
    r = await releases.client.get(f"{ADMIN}/release-keys", headers=releases.admin)
    assert [k["keyid"] for k in r.json()] == [s.keyid]
    r = await releases.client.delete(f"{ADMIN}/release-keys/{s.keyid}", headers=releases.admin)
    assert r.status_code == 204
    r = await releases.client.get(f"{ADMIN}/release-keys", headers=releases.admin)
    assert r.json() == []
