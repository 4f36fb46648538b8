"""Signed client releases in the object store. The coordinator keeps what maintainers
published and serves the newest manifest per (channel, platform); it holds release
PUBLIC keys only, so it can refuse a forged manifest early but never make one. The
client's pinned key is the real gate; this check catches mistakes and stray uploads.

Object keys (the store has no listing, so two small index objects stand in for one):

    releases/keys.json                                   registered public keys
    releases/<channel>/<platform>/<version>/manifest.json
    releases/<channel>/<platform>/<version>/files/<name>   uploaded through the coordinator,
                                                         which checks size and sha256
    releases/<channel>/<platform>/latest.json            newest finalized manifest, verbatim
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from client.updater import keys, manifest
from client.updater.errors import UpdateError
from coordinator.errors import Conflict, Forbidden, InvalidInput, NotFound
from coordinator.store import ObjectNotFound, ObjectStore

log = logging.getLogger("newral.releases")

KEYS_OBJECT = "releases/keys.json"


def _prefix(channel: str, platform: str, version: str | None = None) -> str:
    try:
        manifest.check_channel(channel)
        manifest.check_platform(platform)
        if version is not None:
            manifest.parse_version(version)
    except manifest.ManifestInvalid as exc:  # names from the URL: the caller's mistake, not ours
        raise InvalidInput(str(exc)) from None
    base = f"releases/{channel}/{platform}"
    return base if version is None else f"{base}/{version}"


class ReleaseCatalog:
    def __init__(self, store: ObjectStore, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock

    # -- keys ------------------------------------------------------------------

    async def list_keys(self) -> list[dict[str, Any]]:
        try:
            data = await self.store.get(KEYS_OBJECT, 1 << 20)
        except ObjectNotFound:
            return []
        return list(json.loads(data))

    async def add_key(self, public_key: str, note: str) -> dict[str, Any]:
        try:
            key = keys.decode_public(public_key)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        entry = {"keyid": keys.key_id(key), "public_key": keys.encode_public(key),
                 "note": note[:200], "added_at": int(self.clock())}
        current = [k for k in await self.list_keys() if k["keyid"] != entry["keyid"]]
        await self.store.put(KEYS_OBJECT, json.dumps([*current, entry], indent=1).encode())
        log.info("release_key.added keyid=%s", entry["keyid"])
        return entry

    async def remove_key(self, keyid: str) -> None:
        current = await self.list_keys()
        kept = [k for k in current if k["keyid"] != keyid]
        if len(kept) == len(current):
            raise NotFound(f"no release key {keyid}")
        await self.store.put(KEYS_OBJECT, json.dumps(kept, indent=1).encode())
        log.info("release_key.removed keyid=%s", keyid)

    async def _trusted(self) -> dict[str, Any]:
        return keys.trusted_set([k["public_key"] for k in await self.list_keys()])

    # -- publishing ---------------------------------------------------------------

    async def submit(self, raw: bytes) -> manifest.Manifest:
        """Check and store a signed manifest; its files are uploaded next with `put_file`."""
        trusted = await self._trusted()
        if not trusted:
            raise Conflict("no release public key is registered: run `newral key add` first")
        try:
            m = manifest.verify(raw, trusted, self.clock())
        except manifest.ManifestInvalid as exc:
            raise InvalidInput(f"not a valid release manifest: {exc}") from None
        except UpdateError as exc:
            log.warning("release.refused reason=%s detail=%s", exc.reason, exc)
            raise Forbidden(f"manifest refused: {exc}") from None
        base = _prefix(m.channel, m.platform, m.version)
        try:
            existing = await self.store.get(f"{base}/manifest.json", manifest.MAX_MANIFEST_BYTES)
        except ObjectNotFound:
            existing = None
        if existing is not None and existing != m.raw:
            old = manifest.verify_signature(existing, trusted)
            if old["files"] != [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in m.files]:
                raise Conflict(f"release {m.version} for {m.channel}/{m.platform} is already published "
                               "with other files; publish a new version instead")
        await self.store.put(f"{base}/manifest.json", m.raw)
        log.info("release.submitted channel=%s platform=%s version=%s", m.channel, m.platform, m.version)
        return m

    async def _submitted(self, channel: str, platform: str, version: str) -> manifest.Manifest:
        base = _prefix(channel, platform, version)
        try:
            raw = await self.store.get(f"{base}/manifest.json", manifest.MAX_MANIFEST_BYTES)
        except ObjectNotFound:
            raise NotFound(f"no manifest submitted for {channel}/{platform} {version}") from None
        try:
            return manifest.verify(raw, await self._trusted(), self.clock())
        except UpdateError as exc:
            raise Forbidden(f"the submitted manifest no longer verifies: {exc}") from None

    async def put_file(self, channel: str, platform: str, version: str, name: str, data: bytes) -> None:
        """Store one file of a submitted release, if its size and sha256 are the signed ones."""
        m = await self._submitted(channel, platform, version)
        try:
            f = m.file(name)
        except KeyError:
            raise NotFound(f"release {version} has no file {name!r}") from None
        if len(data) != f.size:
            raise InvalidInput(f"{name} is {len(data)} bytes; the signed manifest says {f.size} "
                               "(a truncated or wrong file)")
        if hashlib.sha256(data).hexdigest() != f.sha256:
            raise InvalidInput(f"{name} does not match the signed sha256 (a wrong or altered file)")
        await self.store.put(f"{_prefix(channel, platform, version)}/files/{name}", data)

    async def finalize(self, channel: str, platform: str, version: str) -> str:
        """Once every file is uploaded, make the release the newest if it is.
        Returns the channel's newest version afterwards."""
        m = await self._submitted(channel, platform, version)
        base = _prefix(channel, platform, version)
        for f in m.files:
            info = await self.store.head(f"{base}/files/{f.name}")
            if info is None or info.size != f.size:
                raise Conflict(f"{f.name} is not uploaded yet")
        latest_key = f"{_prefix(channel, platform)}/latest.json"
        current = await self._latest_version(latest_key)
        if current is None or manifest.version_key(version) > manifest.version_key(current):
            await self.store.put(latest_key, m.raw)
            log.info("release.published channel=%s platform=%s version=%s", channel, platform, version)
            return version
        log.info("release.finalized channel=%s platform=%s version=%s newest=%s", channel, platform,
                 version, current)
        return current

    async def _latest_version(self, key: str) -> str | None:
        try:
            raw = await self.store.get(key, manifest.MAX_MANIFEST_BYTES)
        except ObjectNotFound:
            return None
        version = json.loads(raw)["signed"]["version"]
        return str(version)

    # -- serving ------------------------------------------------------------------

    async def latest(self, channel: str, platform: str) -> bytes:
        try:
            return await self.store.get(f"{_prefix(channel, platform)}/latest.json",
                                        manifest.MAX_MANIFEST_BYTES)
        except ObjectNotFound:
            raise NotFound(f"no release published for {channel}/{platform}") from None

    async def file_entry(self, channel: str, platform: str, version: str,
                         name: str) -> tuple[str, manifest.FileEntry]:
        """The store key and signed entry of a published file."""
        m = await self._submitted(channel, platform, version)
        try:
            entry = m.file(name)
        except KeyError:
            raise NotFound(f"release {version} has no file {name!r}") from None
        key = f"{_prefix(channel, platform, version)}/files/{name}"
        if await self.store.head(key) is None:
            raise NotFound(f"file {name} of release {version} is not uploaded")
        return key, entry
