"""The client's update round against a real coordinator process: the maintainer's real
commands publish, the updater fetches, verifies and installs into a managed install of
fake client versions (real executables). Each attack is refused with one clear log
line and the installed client keeps working."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from client.updater.config import UpdateConfig
from client.updater.download import DailyQuota
from client.updater.install import Installation
from client.updater.manifest import Manifest
from client.updater.updater import Updater
from coordinator.cli import processes
from tests.fixtures.s3 import S3Endpoint
from tests.updates.helpers import DAY, ENTRY, PLATFORM, Signer, fake_client, write_exe

pytestmark = pytest.mark.e2e

PASSPHRASE = "correct horse battery staple"


@dataclass
class Coordinator:
    url: str
    data_dir: Path
    token: str
    signer: Signer
    proc: subprocess.Popen[bytes]

    def newral(self, *args: str) -> dict:  # type: ignore[type-arg]
        """The maintainer's command line, as a real process."""
        out = subprocess.run(
            [sys.executable, "-m", "coordinator.cli.admin", "--coordinator", self.url,
             "--admin-token", self.token, *args],
            capture_output=True, timeout=120, check=False, env={**os.environ, "NEWRAL_RELEASE_KEY_PASSPHRASE": PASSPHRASE})
        assert out.returncode == 0, out.stderr.decode()
        assert PASSPHRASE not in (out.stdout + out.stderr).decode()
        return json.loads(out.stdout)  # type: ignore[no-any-return]

    def publish(self, channel: str, version: str, program: bytes, **kw: int) -> None:
        """Sign in-process with the registered key, publish over the admin API."""
        now = int(time.time())
        raw = self.signer.manifest(version, {ENTRY: program}, channel=channel,
                                   issued_at=kw.get("issued_at", now), expires_at=kw.get("expires_at", now + 30 * DAY))
        h = {"Authorization": f"Bearer {self.token}"}
        r = httpx.post(f"{self.url}/api/v1/admin/releases", content=raw, headers=h)
        assert r.status_code == 201, r.text
        base = f"{self.url}/api/v1/admin/releases/{channel}/{PLATFORM}/{version}"
        assert httpx.put(f"{base}/files/{ENTRY}", content=program, headers=h).status_code == 200
        assert httpx.post(f"{base}/finalize", headers=h).status_code == 200

    def stored(self, channel: str, version: str) -> Path:
        return self.data_dir / "objects" / "releases" / channel / PLATFORM / version / "files" / ENTRY


def _start(root: Path, env: dict[str, str]) -> Coordinator:
    port = processes.free_port()
    proc = processes.start_coordinator(root, port, extra_env=env)
    url = f"http://127.0.0.1:{port}"
    processes.wait_healthy(url, proc)
    signer = Signer.new()
    token = (root / "admin-token").read_text().strip()
    r = httpx.post(f"{url}/api/v1/admin/release-keys", json={"public_key": signer.public},
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    return Coordinator(url, root, token, signer, proc)


@pytest.fixture(scope="module")
def coordinator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Coordinator]:
    c = _start(tmp_path_factory.mktemp("coord"), {})
    try:
        yield c
    finally:
        processes.stop(c.proc)


@pytest.fixture(scope="module")
def s3_coordinator(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: S3Endpoint) -> Iterator[Coordinator]:
    env = {"NEWRAL_OBJECT_STORE": f"s3://{s3_endpoint.create_bucket()}",
           "NEWRAL_S3_ENDPOINT": s3_endpoint.endpoint_url, "NEWRAL_S3_ACCESS_KEY": s3_endpoint.access_key,
           "NEWRAL_S3_SECRET_KEY": s3_endpoint.secret_key, "NEWRAL_S3_REGION": s3_endpoint.region}
    c = _start(tmp_path_factory.mktemp("coord-s3"), env)
    try:
        yield c
    finally:
        processes.stop(c.proc)


@dataclass
class Client:
    inst: Installation
    updater: Updater

    def launch(self) -> str:
        out = subprocess.run([str(self.inst.link / ENTRY)], capture_output=True, check=True, timeout=30)
        return out.stdout.decode().strip()


def _client(tmp_path: Path, c: Coordinator, channel: str, *, installed: str = "0.1.0",
            pinned: str | None = None, clock=time.time, **cfg: object) -> Client:  # type: ignore[no-untyped-def]
    exe = write_exe(tmp_path / "build" / ENTRY, fake_client(installed))
    inst = Installation.create(tmp_path / "app", installed, {ENTRY: exe}, ENTRY)
    config = replace(UpdateConfig(channel=channel, coordinator=c.url, platform=PLATFORM,
                                  release_keys=(pinned or c.signer.public,), auto_install=True,
                                  rate_limit_bytes=0, selftest_timeout=30), **cfg)
    return Client(inst, Updater(config, installed_version=installed, state_dir=tmp_path / "state",
                                installation=inst, clock=clock))


def _kept_working(client: Client, version: str = "0.1.0") -> None:
    assert client.launch() == f"newral-client {version}"
    assert client.inst.state().current == version
    assert not list((client.updater.state_dir / "downloads").rglob("*.part"))


async def test_valid_update_is_applied_end_to_end(coordinator: Coordinator, tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    # The maintainer's whole path with the real commands: offline key, sign, publish.
    keydir = tmp_path / "offline"
    made = coordinator.newral("release", "keygen", "--out", str(keydir / "release.key"))
    assert (keydir / "release.key").stat().st_mode & 0o777 == 0o600
    coordinator.newral("key", "add", made["public_key_file"], "--note", "test maintainer")
    program = write_exe(tmp_path / "dist" / ENTRY, fake_client("0.2.0"))
    coordinator.newral("release", "sign", str(program), "--key", str(keydir / "release.key"),
                       "--version", "0.2.0", "--platform", PLATFORM, "--channel", "cli",
                       "-o", str(tmp_path / "manifest.json"))
    published = coordinator.newral("release", "publish", str(tmp_path / "manifest.json"), str(program))
    assert published == {"version": "0.2.0", "latest": "0.2.0"}
    assert coordinator.newral("release", "show", "--channel", "cli", "--platform", PLATFORM)["signed"]["version"] == "0.2.0"

    client = _client(tmp_path, coordinator, "cli", pinned=made["public_key"])
    with caplog.at_level(logging.INFO, "newral.updater"):
        outcome = await client.updater.run_once()
    await client.updater.close()
    assert outcome.status == "applied", outcome
    assert outcome.restart == client.inst.versions / "0.2.0" / ENTRY
    assert client.launch() == "newral-client 0.2.0"
    assert client.inst.state().status == "trial"  # confirmed once the new version has run a while
    for line in ("update.found version=0.2.0", "update.downloaded version=0.2.0",
                 "update.activated version=0.2.0 previous=0.1.0", "update.applied version=0.2.0"):
        assert line in caplog.text
    # The next round finds nothing newer.
    again = Updater(client.updater.config, installed_version="0.2.0", state_dir=tmp_path / "state",
                    installation=client.inst)
    assert (await again.run_once()).status == "none"
    await again.close()


async def test_valid_update_from_an_s3_backed_coordinator(s3_coordinator: Coordinator, tmp_path: Path) -> None:
    s3_coordinator.publish("stable", "0.2.0", fake_client("0.2.0"))
    client = _client(tmp_path, s3_coordinator, "stable")
    outcome = await client.updater.run_once()
    await client.updater.close()
    assert outcome.status == "applied", outcome
    assert client.launch() == "newral-client 0.2.0"


async def _refused(client: Client, caplog: pytest.LogCaptureFixture, line: str) -> None:
    with caplog.at_level(logging.INFO, "newral.updater"):
        outcome = await client.updater.run_once()
    await client.updater.close()
    assert outcome.status == "refused", outcome
    assert line in caplog.text, caplog.text
    assert "(installed 0.1.0 stays)" in caplog.text
    _kept_working(client)


async def test_tampered_file_is_refused(coordinator: Coordinator, tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    coordinator.publish("tampered", "0.2.0", fake_client("0.2.0"))
    stored = coordinator.stored("tampered", "0.2.0")
    evil = stored.read_bytes().replace(b"echo", b"eval")  # same size, other program
    stored.write_bytes(evil)
    await _refused(_client(tmp_path, coordinator, "tampered"), caplog,
                   "update.refused reason=download detail=newral-client: sha256")
    assert "tampered with or corrupted" in caplog.text


async def test_manifest_signed_by_another_key_is_refused(coordinator: Coordinator, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    coordinator.publish("wrongkey", "0.2.0", fake_client("0.2.0"))
    await _refused(_client(tmp_path, coordinator, "wrongkey", pinned=Signer.new().public), caplog,
                   "update.refused reason=signature detail=the manifest is signed by key(s)")


async def test_downgrade_is_refused(coordinator: Coordinator, tmp_path: Path,
                                    caplog: pytest.LogCaptureFixture) -> None:
    coordinator.publish("downgrade", "0.1.0", fake_client("0.1.0"))
    client = _client(tmp_path, coordinator, "downgrade", installed="0.3.0")
    with caplog.at_level(logging.INFO, "newral.updater"):
        outcome = await client.updater.run_once()
    await client.updater.close()
    assert outcome.status == "refused"
    assert ("update.refused reason=rollback detail=manifest version 0.1.0 is older than 0.3.0"
            in caplog.text)
    _kept_working(client, "0.3.0")


async def test_expired_manifest_is_refused(coordinator: Coordinator, tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    now = int(time.time())
    coordinator.publish("expired", "0.2.0", fake_client("0.2.0"), issued_at=now, expires_at=now + DAY)
    # Two days on, the coordinator (or whoever sits in its place) still serves it: a freeze.
    client = _client(tmp_path, coordinator, "expired", clock=lambda: time.time() + 2 * DAY)
    await _refused(client, caplog, "update.refused reason=expired detail=the manifest for 0.2.0 expired")


async def test_truncated_download_is_refused(coordinator: Coordinator, tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    coordinator.publish("truncated", "0.2.0", fake_client("0.2.0"))
    stored = coordinator.stored("truncated", "0.2.0")
    full = stored.read_bytes()
    stored.write_bytes(full[: len(full) // 2])
    await _refused(_client(tmp_path, coordinator, "truncated"), caplog,
                   f"update.refused reason=download detail=newral-client: truncated download, got "
                   f"{len(full) // 2} of {len(full)} bytes")


async def test_new_version_that_fails_to_start_is_rolled_back(coordinator: Coordinator, tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    coordinator.publish("broken", "0.2.0", fake_client("0.2.0", selftest_exit=3))
    client = _client(tmp_path, coordinator, "broken")
    with caplog.at_level(logging.INFO, "newral.updater"):
        outcome = await client.updater.run_once()
        assert outcome.status == "rolled_back"
        assert "update.rolled_back version=0.2.0 restored=0.1.0 reason=self-test exit code 3" in caplog.text
        _kept_working(client)
        # It is not tried again on the next check.
        assert (await client.updater.run_once()).status == "skipped"
    await client.updater.close()
    assert "update.skipped version=0.2.0 reason=0.2.0 failed to start here before" in caplog.text


async def test_asks_the_volunteer_unless_they_opted_in(coordinator: Coordinator, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    coordinator.publish("consent", "0.2.0", fake_client("0.2.0"))
    client = _client(tmp_path, coordinator, "consent", auto_install=False)
    asked: list[str] = []
    answer = False

    async def ask(m: Manifest) -> bool:
        asked.append(m.version)
        return answer

    client.updater.ask = ask
    with caplog.at_level(logging.INFO, "newral.updater"):
        assert (await client.updater.run_once()).status == "ready"
    _kept_working(client)
    spent = client.updater.budget.remaining()
    answer = True
    assert (await client.updater.run_once()).status == "applied"
    await client.updater.close()
    assert asked == ["0.2.0", "0.2.0"]
    assert client.updater.budget.remaining() == spent  # downloaded once, not twice
    assert client.launch() == "newral-client 0.2.0"


async def test_downloads_wait_for_the_network_quota(coordinator: Coordinator, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    program = fake_client("0.2.0")
    coordinator.publish("quota", "0.2.0", program)
    day = [time.time()]
    client = _client(tmp_path, coordinator, "quota", clock=lambda: day[0], daily_quota_bytes=len(program) + 10)
    DailyQuota(tmp_path / "state" / "update-quota.json", len(program) + 10, lambda: day[0]).spend(20)
    with caplog.at_level(logging.INFO, "newral.updater"):
        assert (await client.updater.run_once()).status == "deferred"
    assert "update.deferred reason=network quota" in caplog.text
    _kept_working(client)
    day[0] += DAY
    assert (await client.updater.run_once()).status == "applied"
    await client.updater.close()
    assert client.updater.budget.remaining() == 10
