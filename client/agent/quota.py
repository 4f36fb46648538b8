"""Bookkeeping behind the disk cap and the daily network quota: the data folder's
size, eviction of cached inputs oldest first, and a byte counter per day that
survives restarts (a small JSON file, replaced atomically)."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path


def folder_bytes(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass  # removed while we walked
    return total


def evict_oldest(cache: Path, bytes_to_free: int) -> int:
    """Deletes files under `cache`, least recently used first, until enough is freed."""
    if bytes_to_free <= 0 or not cache.is_dir():
        return 0
    files = []
    for p in cache.rglob("*"):
        try:
            if p.is_file():
                st = p.stat()
                files.append((st.st_atime, st.st_size, p))
        except OSError:
            continue
    freed = 0
    for _atime, size, path in sorted(files, key=lambda f: (f[0], str(f[2]))):
        if freed >= bytes_to_free:
            break
        path.unlink(missing_ok=True)
        freed += size
    return freed


class NetworkMeter:
    """Bytes moved today (uploads plus downloads), counted across restarts."""

    def __init__(self, path: Path, today: type[date] = date) -> None:
        self.path = path
        self._today = today
        self._day, self._bytes = self._load()

    def _load(self) -> tuple[str, int]:
        try:
            data = json.loads(self.path.read_text())
            return str(data["day"]), int(data["bytes"])
        except (OSError, ValueError, KeyError, TypeError):
            return self._today.today().isoformat(), 0

    def used_today(self) -> int:
        if self._day != self._today.today().isoformat():
            self._day, self._bytes = self._today.today().isoformat(), 0
        return self._bytes

    def add(self, n: int) -> None:
        self.used_today()
        self._bytes += max(0, int(n))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"day": self._day, "bytes": self._bytes}))
        os.replace(tmp, self.path)
