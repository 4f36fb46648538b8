"""Task inputs: objects a task reads (another task's output, or a stored object),
fetched before the task runs, checked against their sha256, and kept in a local
cache capped in bytes, so an object already held is never fetched again.

The coordinator lists a task's inputs in params["inputs"] as {"name", "key",
"sha256", "size"}; the agent asks it for a short-lived download URL per input
(POST /api/v1/work/input-url) and downloads without credentials. Everything from
the network is untrusted until its hash matches.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class InputError(Exception):
    """An input could not be fetched or failed its check; the task cannot run."""


class InputSource(Protocol):
    async def input_url(self, result_id: int, key: str) -> dict[str, Any]: ...

    async def download(self, presigned: dict[str, Any], max_bytes: int) -> bytes: ...


class HttpInputSource:
    """The coordinator's input-url endpoint and plain GETs of the URLs it returns."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, bearer: Callable[[], str]) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.bearer = bearer

    async def input_url(self, result_id: int, key: str) -> dict[str, Any]:
        try:
            r = await self.http.post(f"{self.base_url}/api/v1/work/input-url",
                                     json={"result_id": result_id, "key": key},
                                     headers={"Authorization": f"Bearer {self.bearer()}"})
        except httpx.TransportError as exc:
            raise InputError(f"cannot reach the coordinator for input {key}: {exc}") from None
        if r.status_code != 200:
            raise InputError(f"no download URL for input {key}: HTTP {r.status_code} {r.text[:200]}")
        return r.json()  # type: ignore[no-any-return]

    async def download(self, presigned: dict[str, Any], max_bytes: int) -> bytes:
        body = bytearray()
        try:
            async with self.http.stream(presigned.get("method", "GET"), presigned["url"],
                                        headers=presigned.get("headers") or {}) as r:
                if r.status_code != 200:
                    raise InputError(f"download failed with HTTP {r.status_code}")
                async for chunk in r.aiter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise InputError(f"input larger than {max_bytes} bytes")
        except httpx.TransportError as exc:
            raise InputError(f"download failed: {exc}") from None
        return bytes(body)


class InputCache:
    """Objects by sha256 in one folder, least recently used evicted past max_bytes."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256

    def get(self, sha256: str) -> Path | None:
        p = self.path(sha256)
        if not p.is_file():
            return None
        os.utime(p)  # recently used
        return p

    def put(self, sha256: str, data: bytes) -> Path:
        if len(data) > self.max_bytes:
            raise InputError(f"an input of {len(data)} bytes is larger than the cache limit {self.max_bytes}")
        self._evict(self.max_bytes - len(data))
        tmp = self.root / f".{sha256}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path(sha256))
        return self.path(sha256)

    def used(self) -> int:
        return sum(p.stat().st_size for p in self.root.iterdir() if not p.name.startswith("."))

    def _evict(self, room: int) -> None:
        files = sorted((p for p in self.root.iterdir() if not p.name.startswith(".")),
                       key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in files)
        for p in files:
            if total <= room:
                return
            total -= p.stat().st_size
            p.unlink(missing_ok=True)


async def fetch_inputs(source: InputSource, result_id: int, inputs: list[dict[str, Any]], cache: InputCache,
                       max_download_bytes: int) -> tuple[dict[str, Path], int]:
    """Local paths of the inputs by name, and the bytes downloaded (for the network quota).
    Raises InputError if one cannot be had, fails its hash, or the downloads would pass
    max_download_bytes."""
    paths: dict[str, Path] = {}
    downloaded = 0
    for item in inputs:
        key, sha = str(item.get("key", "")), item.get("sha256")
        name = str(item.get("name") or key)
        if not isinstance(sha, str) or not SHA256_RE.match(sha):
            raise InputError(f"input {name} has no valid sha256; refusing to use it unchecked")
        held = cache.get(sha)
        if held is not None:
            paths[name] = held
            continue
        budget = max_download_bytes - downloaded
        if budget <= 0:
            raise InputError("the inputs would exceed the download quota")
        data = await source.download(await source.input_url(result_id, key), budget)
        if hashlib.sha256(data).hexdigest() != sha:
            raise InputError(f"input {name} does not match its sha256; discarded")
        downloaded += len(data)
        paths[name] = cache.put(sha, data)
    return paths, downloaded
