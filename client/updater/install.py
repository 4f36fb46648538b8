"""A managed installation: every version in its own folder, a `current` link naming
the one that runs, and a small state file that makes switching and rolling back safe.

    <root>/versions/0.1.0/newral-client
    <root>/versions/0.2.0/newral-client
    <root>/current -> versions/0.2.0          what shortcuts and autostart launch
    <root>/update-state.json                  {"current", "previous", "status", "boots", ...}

The state machine of one update (drawn here only):

    good(v1) ──activate(v2)──► trial(v2, previous=v1) ──self-test ok, restart, agent up──► good(v2)
                                   │ self-test fails ──────────────┐
                                   │ started MAX_TRIAL_BOOTS times │
                                   │ without confirming ───────────┴──rollback──► good(v1), v2 marked bad
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from client.updater import manifest as mf

log = logging.getLogger("newral.updater")

STATE_FILE = "update-state.json"
MAX_TRIAL_BOOTS = 2
SELFTEST_FLAG = "--newral-selftest"


@dataclass
class InstallState:
    current: str
    previous: str | None = None
    status: str = "good"  # "good" | "trial"
    boots: int = 0
    highest_seen: str = "0.0"
    bad: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SelfTest:
    ok: bool
    detail: str


class Installation:
    """One managed install folder. Every write is a temporary file and a rename."""

    def __init__(self, root: Path, entry: str = "newral-client") -> None:
        self.root = Path(root)
        self.entry = entry
        self.versions = self.root / "versions"
        self.link = self.root / "current"
        self.state_path = self.root / STATE_FILE

    @classmethod
    def detect(cls, executable: str | None = None) -> Installation | None:
        """The installation `executable` (default: this program) belongs to, if it is managed."""
        exe = Path(executable or sys.executable).resolve()
        if exe.parent.parent.name != "versions" or not (exe.parents[2] / STATE_FILE).exists():
            return None
        return cls(exe.parents[2], exe.name)

    @classmethod
    def create(cls, root: Path, version: str, files: dict[str, Path], entry: str) -> Installation:
        """A fresh install of `version` (what the installers do on first install)."""
        inst = cls(root, entry)
        target = inst.version_dir(version)
        target.mkdir(parents=True, exist_ok=True)
        for name, src in files.items():
            shutil.copy2(src, target / name)
        (target / entry).chmod(0o755)
        inst._write_state(InstallState(current=version, highest_seen=version))
        inst._point_to(version)
        return inst

    def version_dir(self, version: str) -> Path:
        mf.parse_version(version)
        return self.versions / version

    def executable(self, version: str | None = None) -> Path:
        return self.version_dir(version or self.state().current) / self.entry

    # -- state ------------------------------------------------------------------

    def state(self) -> InstallState:
        data = json.loads(self.state_path.read_text())
        return InstallState(**data)

    def _write_state(self, state: InstallState) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        with open(tmp, "w") as fh:
            json.dump(asdict(state), fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.state_path)

    def _point_to(self, version: str) -> None:
        """Switch `current` atomically (a new link renamed over the old one)."""
        tmp = self.root / "current.tmp"
        tmp.unlink(missing_ok=True)
        os.symlink(Path("versions") / version, tmp, target_is_directory=True)
        os.replace(tmp, self.link)

    def note_seen(self, version: str) -> None:
        st = self.state()
        if mf.version_key(version) > mf.version_key(st.highest_seen):
            st.highest_seen = version
            self._write_state(st)

    # -- an update's life -----------------------------------------------------

    def stage(self, version: str, downloaded: dict[str, Path], entry: str) -> Path:
        """Move verified files into versions/<version> (replacing a half-staged copy)."""
        final = self.version_dir(version)
        staging = self.versions / f".{version}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name, path in downloaded.items():
            os.replace(path, staging / name)
        (staging / entry).chmod(0o755)
        if final.exists():
            if final.resolve() == self.link.resolve():
                raise RuntimeError(f"{version} is the running version; not replacing it")
            shutil.rmtree(final)
        os.replace(staging, final)
        return final

    def activate(self, version: str) -> None:
        st = self.state()
        self._write_state(InstallState(current=version, previous=st.current, status="trial", boots=0,
                                       highest_seen=max(st.highest_seen, version, key=mf.version_key),
                                       bad=st.bad))
        self._point_to(version)
        log.info("update.activated version=%s previous=%s", version, st.current)

    def self_test(self, version: str, timeout: float) -> SelfTest:
        """Start the new version in its self-test mode: a real process that must exit 0."""
        exe = self.executable(version)
        try:
            proc = subprocess.run([str(exe), SELFTEST_FLAG], capture_output=True, timeout=timeout,
                                  cwd=self.root, stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired:
            return SelfTest(False, f"self-test did not finish within {timeout:.0f} s")
        except OSError as exc:
            return SelfTest(False, f"cannot start {exe}: {exc.strerror or exc}")
        tail = (proc.stdout + proc.stderr).decode(errors="replace").strip()[-500:]
        if proc.returncode != 0:
            return SelfTest(False, f"self-test exit code {proc.returncode}: {tail}")
        return SelfTest(True, tail)

    def rollback(self, reason: str) -> str:
        """Back to the previous version; the failed one is remembered as bad. Returns the version."""
        st = self.state()
        if st.previous is None:
            raise RuntimeError("no previous version to roll back to")
        failed = st.current
        self._write_state(InstallState(current=st.previous, previous=None, status="good", boots=0,
                                       highest_seen=st.highest_seen,
                                       bad=sorted({*st.bad, failed}, key=mf.version_key)))
        self._point_to(st.previous)
        log.error("update.rolled_back version=%s restored=%s reason=%s", failed, st.previous, reason)
        return st.previous

    def confirm(self) -> None:
        """The running version works: end the trial and drop versions older than `previous`."""
        st = self.state()
        if st.status != "trial":
            return
        st.status, st.boots = "good", 0
        self._write_state(st)
        log.info("update.confirmed version=%s", st.current)
        keep = {st.current, st.previous}
        for child in self.versions.iterdir():
            if child.name not in keep and not child.name.startswith("."):
                shutil.rmtree(child, ignore_errors=True)

    def boot(self, version: str) -> str | None:
        """Called as a managed program starts. Returns a version to restart into (after a
        rollback), or None to carry on."""
        st = self.state()
        if st.status != "trial" or st.current != version:
            return None
        st.boots += 1
        self._write_state(st)
        if st.boots > MAX_TRIAL_BOOTS:
            return self.rollback(f"started {st.boots - 1} times without confirming it works")
        return None
