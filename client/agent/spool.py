"""Finished results wait here until the coordinator has them: survives restarts,
crashes and a coordinator that is down. Every file is written to a temporary
name, fsynced and renamed, and the metadata file is written last, so an entry
either exists whole or not at all."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("newral.agent.spool")


@dataclass
class SpoolEntry:
    result_id: int
    outcome: str  # success | error
    sha256: str
    size: int
    cpu_seconds: float
    wall_seconds: float
    error: str
    deadline_at: float
    upload: dict[str, Any] | None
    uploaded: bool = False

    def report_body(self) -> dict[str, Any]:
        return {
            "result_id": self.result_id, "outcome": self.outcome, "sha256": self.sha256,
            "size": self.size, "cpu_seconds": round(self.cpu_seconds, 6),
            "wall_seconds": round(self.wall_seconds, 6), "error": self.error[:4000],
        }


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class Spool:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        for leftover in folder.glob("*.tmp"):
            leftover.unlink()  # a write that never finished

    def _meta(self, result_id: int) -> Path:
        return self.folder / f"{result_id}.json"

    def output_path(self, result_id: int) -> Path:
        return self.folder / f"{result_id}.out"

    def add(self, entry: SpoolEntry, output: bytes | None) -> None:
        if output is not None:
            write_atomic(self.output_path(entry.result_id), output)
        self.save(entry)

    def save(self, entry: SpoolEntry) -> None:
        write_atomic(self._meta(entry.result_id), json.dumps(asdict(entry)).encode())

    def entries(self) -> list[SpoolEntry]:
        found = []
        for meta in sorted(self.folder.glob("*.json")):
            try:
                entry = SpoolEntry(**json.loads(meta.read_text()))
            except (ValueError, TypeError) as exc:
                log.error("spool.corrupt file=%s error=%s", meta.name, exc)
                meta.rename(meta.with_suffix(".corrupt"))
                continue
            found.append(entry)
        return found

    def read_output(self, entry: SpoolEntry) -> bytes | None:
        """The output, or None if it is missing or does not match its hash."""
        path = self.output_path(entry.result_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
            return None
        return data

    def remove(self, result_id: int) -> None:
        for path in (self._meta(result_id), self.output_path(result_id)):
            path.unlink(missing_ok=True)

    def result_ids(self) -> set[int]:
        """The results waiting here to be reported (from the file names; nothing is read)."""
        return {int(meta.stem) for meta in self.folder.glob("*.json") if meta.stem.isdigit()}

    def __len__(self) -> int:
        return sum(1 for _ in self.folder.glob("*.json"))
