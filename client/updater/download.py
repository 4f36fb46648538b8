"""Fetching release files: never more bytes than the manifest promises, never past the
day's network quota, at a background pace, and only kept if size and SHA-256 match."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx

from client.updater.errors import DownloadRejected
from client.updater.manifest import FileEntry

CHUNK = 64 << 10


class Budget(Protocol):
    """Network allowance; the agent's own daily quota can stand in for `DailyQuota`."""

    def remaining(self) -> int: ...

    def spend(self, nbytes: int) -> None: ...


class DailyQuota:
    """Bytes per UTC day, remembered across restarts in a small JSON file."""

    def __init__(self, path: Path, limit: int, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.limit = limit
        self.clock = clock

    def _today(self) -> int:
        return int(self.clock() // 86400)

    def _used(self) -> int:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return 0
        return int(data.get("used", 0)) if data.get("day") == self._today() else 0

    def remaining(self) -> int:
        if self.limit <= 0:
            return 1 << 62
        return max(0, self.limit - self._used())

    def spend(self, nbytes: int) -> None:
        used = self._used() + nbytes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"day": self._today(), "used": used}))
        os.replace(tmp, self.path)


class QuotaExhausted(Exception):
    """Not an attack: there is simply not enough allowance left today."""


async def fetch(http: httpx.AsyncClient, request: dict[str, Any], entry: FileEntry, dest: Path,
                budget: Budget, *, rate_limit: int = 0, max_seconds: float = 3600.0) -> Path:
    """Download one file to `dest` and check it; the partial file never survives a failure.

    Raises DownloadRejected (too long, cut short, wrong hash) and QuotaExhausted;
    httpx.TransportError passes through for the caller to retry later.
    """
    if budget.remaining() < entry.size:
        raise QuotaExhausted(f"{entry.name} needs {entry.size} bytes; {budget.remaining()} left today")
    part = dest.with_name(dest.name + ".part")
    digest, got = hashlib.sha256(), 0
    started = time.monotonic()
    try:
        async with asyncio.timeout(max_seconds):
            async with http.stream(request.get("method", "GET"), request["url"],
                                   headers=request.get("headers") or {}) as response:
                if response.status_code != 200:
                    raise DownloadRejected(f"{entry.name}: HTTP {response.status_code} from the store")
                # 64 KiB writes to local disk, paced by the network: not worth a thread.
                with open(part, "wb") as fh:  # noqa: ASYNC230
                    async for chunk in response.aiter_raw(CHUNK):
                        got += len(chunk)
                        if got > entry.size:
                            raise DownloadRejected(
                                f"{entry.name}: the server sent more than the {entry.size} bytes "
                                "the manifest promises (endless data)")
                        digest.update(chunk)
                        fh.write(chunk)
                        budget.spend(len(chunk))
                        if rate_limit > 0:
                            ahead = got / rate_limit - (time.monotonic() - started)
                            if ahead > 0:
                                await asyncio.sleep(ahead)
                    fh.flush()
                    os.fsync(fh.fileno())
        if got < entry.size:
            raise DownloadRejected(f"{entry.name}: truncated download, got {got} of {entry.size} bytes")
        if digest.hexdigest() != entry.sha256:
            raise DownloadRejected(
                f"{entry.name}: sha256 {digest.hexdigest()[:16]}... differs from the signed "
                f"{entry.sha256[:16]}...: the file was tampered with or corrupted")
        os.replace(part, dest)
        return dest
    except httpx.RemoteProtocolError as exc:
        raise DownloadRejected(f"{entry.name}: truncated download, the connection ended after {got} "
                               f"of {entry.size} bytes ({exc})") from None
    except TimeoutError:
        raise DownloadRejected(f"{entry.name}: not complete after {max_seconds:.0f} s (slow retrieval)") from None
    finally:
        part.unlink(missing_ok=True)
