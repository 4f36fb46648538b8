"""One update round: fetch the newest manifest for our channel and platform, verify it,
decide, download within the quota, ask (or not), stage, switch, self-test, and either
hand back the program to restart into or roll back. Every refusal is one log line
`update.refused reason=<kind> ...` and leaves the installed version untouched."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from client.updater import keys, manifest
from client.updater.config import UpdateConfig
from client.updater.download import Budget, DailyQuota, QuotaExhausted, fetch
from client.updater.errors import RollbackRefused, UpdateError, WrongTarget
from client.updater.install import Installation

log = logging.getLogger("newral.updater")

Ask = Callable[[manifest.Manifest], Awaitable[bool]]


@dataclass(frozen=True)
class Decision:
    action: str  # "install" | "none" | "skip"
    reason: str


def decide(m: manifest.Manifest, *, channel: str, platform: str, installed: str,
           highest_seen: str, bad: list[str]) -> Decision:
    """Pure policy over a manifest whose signature and expiry already verified.
    Raises WrongTarget and RollbackRefused; otherwise says what to do."""
    if m.platform != platform or m.channel != channel:
        raise WrongTarget(f"the manifest is for {m.channel}/{m.platform}, this client is "
                          f"{channel}/{platform}")
    floor = max(installed, highest_seen, key=manifest.version_key)
    if manifest.version_key(m.version) < manifest.version_key(floor):
        raise RollbackRefused(f"manifest version {m.version} is older than {floor}, "
                              "which this client has installed or seen (a downgrade)")
    if manifest.version_key(m.version) == manifest.version_key(installed):
        return Decision("none", f"{installed} is the newest")
    if m.version in bad:
        return Decision("skip", f"{m.version} failed to start here before")
    return Decision("install", f"{installed} -> {m.version}")


@dataclass(frozen=True)
class Outcome:
    status: str  # none | skipped | refused | deferred | unavailable | available | ready | applied | rolled_back
    version: str | None = None
    detail: str = ""
    restart: Path | None = None


class Updater:
    def __init__(self, config: UpdateConfig, *, installed_version: str, state_dir: Path,
                 installation: Installation | None = None, http: httpx.AsyncClient | None = None,
                 clock: Callable[[], float] = time.time, ask: Ask | None = None,
                 budget: Budget | None = None) -> None:
        self.config = config
        self.installation = installation
        self.installed_version = installed_version
        self.state_dir = state_dir
        self.clock = clock
        self.ask = ask
        self.trusted = keys.trusted_set(config.release_keys)
        self.budget = budget or DailyQuota(state_dir / "update-quota.json", config.daily_quota_bytes, clock)
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0))
        self._owns_http = http is None

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    @property
    def base(self) -> str:
        c = self.config
        return f"{c.coordinator.rstrip('/')}/api/v1/releases/{c.channel}/{c.platform}"

    async def run_once(self) -> Outcome:
        if not self.trusted:
            log.warning("update.disabled reason=no pinned release key")
            return Outcome("refused", detail="no pinned release key")
        try:
            return await self._round()
        except UpdateError as exc:
            log.error("update.refused reason=%s detail=%s (installed %s stays)", exc.reason, exc,
                      self._installed())
            return Outcome("refused", detail=str(exc))
        except QuotaExhausted as exc:
            log.info("update.deferred reason=network quota detail=%s", exc)
            return Outcome("deferred", detail=str(exc))
        except (httpx.TransportError, TimeoutError) as exc:
            log.warning("update.unavailable error=%s: %s", type(exc).__name__, exc)
            return Outcome("unavailable", detail=str(exc))

    def _installed(self) -> str:
        return self.installation.state().current if self.installation else self.installed_version

    async def _round(self) -> Outcome:
        raw = await self._get_manifest()
        if raw is None:
            log.info("update.none reason=no release published for %s/%s", self.config.channel,
                     self.config.platform)
            return Outcome("none")
        m = manifest.verify(raw, self.trusted, self.clock())
        st = self.installation.state() if self.installation else None
        decision = decide(m, channel=self.config.channel, platform=self.config.platform,
                          installed=self._installed(),
                          highest_seen=st.highest_seen if st else "0.0", bad=st.bad if st else [])
        if decision.action == "none":
            log.info("update.none version=%s", m.version)
            return Outcome("none", m.version)
        if decision.action == "skip":
            log.warning("update.skipped version=%s reason=%s", m.version, decision.reason)
            return Outcome("skipped", m.version, decision.reason)
        if self.installation:
            self.installation.note_seen(m.version)
        log.info("update.found version=%s size=%d", m.version, m.total_size)
        files = await self._download(m)
        if self.installation is None:
            log.warning("update.available version=%s: this copy is not a managed install; "
                        "install the new version by hand", m.version)
            return Outcome("available", m.version)
        if not self.config.auto_install:
            approved = await self.ask(m) if self.ask is not None else False
            if not approved:
                log.info("update.ready version=%s waiting for the volunteer's consent "
                         "(auto_install = true in update.toml installs by itself)", m.version)
                return Outcome("ready", m.version)
        return await self._apply(m, files)

    async def _apply(self, m: manifest.Manifest, files: dict[str, Path]) -> Outcome:
        inst = self.installation
        assert inst is not None
        inst.stage(m.version, files, m.entry)
        inst.activate(m.version)
        result = await asyncio.to_thread(inst.self_test, m.version, self.config.selftest_timeout)
        if not result.ok:
            restored = inst.rollback(result.detail)
            return Outcome("rolled_back", m.version, result.detail, inst.executable(restored))
        log.info("update.applied version=%s restarting", m.version)
        return Outcome("applied", m.version, result.detail, inst.executable(m.version))

    async def _get_manifest(self) -> bytes | None:
        async with self._http.stream("GET", f"{self.base}/latest") as r:
            if r.status_code == 404:
                return None
            if r.status_code >= 500:
                raise httpx.TransportError(f"HTTP {r.status_code} from the coordinator")
            if r.status_code != 200:
                raise manifest.ManifestInvalid(f"HTTP {r.status_code} asking for the manifest")
            body = b""
            async for chunk in r.aiter_raw():
                body += chunk
                if len(body) > manifest.MAX_MANIFEST_BYTES:
                    raise manifest.ManifestInvalid("the manifest is larger than "
                                                   f"{manifest.MAX_MANIFEST_BYTES} bytes")
            return body

    async def _download(self, m: manifest.Manifest) -> dict[str, Path]:
        folder = self.state_dir / "downloads" / m.version
        folder.mkdir(parents=True, exist_ok=True)
        out = {}
        for entry in m.files:
            dest = folder / entry.name
            if not _matches(dest, entry):
                request = await self._file_request(m.version, entry.name)
                await fetch(self._http, request, entry, dest, self.budget,
                            rate_limit=self.config.rate_limit_bytes)
                log.info("update.downloaded version=%s file=%s size=%d", m.version, entry.name, entry.size)
            out[entry.name] = dest
        return out

    async def _file_request(self, version: str, name: str) -> dict[str, Any]:
        r = await self._http.get(f"{self.base}/{version}/files/{name}")
        if r.status_code >= 500:
            raise httpx.TransportError(f"HTTP {r.status_code} from the coordinator")
        if r.status_code != 200:
            raise manifest.ManifestInvalid(f"the coordinator has no file {name} for {version}")
        body = r.json()
        if not isinstance(body, dict) or not isinstance(body.get("url"), str):
            raise manifest.ManifestInvalid("the coordinator's file answer has no url")
        return body


def _matches(path: Path, entry: manifest.FileEntry) -> bool:
    """A file already downloaded (while waiting for consent) need not be fetched again."""
    try:
        if path.stat().st_size != entry.size:
            return False
    except OSError:
        return False
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest() == entry.sha256


__all__ = ["Decision", "Outcome", "RollbackRefused", "Updater", "WrongTarget", "decide"]
