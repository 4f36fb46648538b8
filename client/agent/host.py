"""What this machine offers, as reported to the coordinator."""

from __future__ import annotations

import os
import platform
import shutil
from pathlib import Path

import psutil

CLIENT_VERSION = "0.1.0"


def default_concurrency() -> int:
    return max(1, (os.cpu_count() or 1) - 1)


def capabilities(data_dir: Path, benchmark: float = 0.0) -> dict[str, object]:
    data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "platform": platform.system().lower()[:32] or "unknown",
        "arch": platform.machine().lower()[:32] or "unknown",
        "cores": os.cpu_count() or 1,
        "memory_bytes": int(psutil.virtual_memory().total),
        "disk_free_bytes": int(shutil.disk_usage(data_dir).free),
        "client_version": CLIENT_VERSION,
        "benchmark": float(benchmark),
    }
