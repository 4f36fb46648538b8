"""Linux provider. On top of the POSIX part (SCHED_IDLE and nice 19, rlimits):
- network: a new unprivileged user and network namespace (no interfaces but a
  downed loopback); where namespaces are off, Landlock's TCP rules if the kernel
  has them (UDP stays open, and the protections line says so);
- filesystem: Landlock, so the task may write only beneath its own folder;
- processes: RLIMIT_NPROC inside the user namespace (it counts only the task's
  processes there), plus a pids cgroup where this user may create one; the
  cgroup also finds processes that left the task's process group.
Everything is probed once, by starting a throwaway child, and reported."""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import signal
import subprocess
import uuid
from functools import cached_property
from pathlib import Path

from client.agent.sandbox.base import Confinement, Policy, Protection, SandboxProvider
from client.agent.sandbox.posix import PosixConfinement, lowest_priority, set_rlimits, wait_gone

log = logging.getLogger("newral.agent.sandbox")

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_NO_NEW_PRIVS = 38
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_RULE_PATH_BENEATH = 1
FS_WRITE_FILE = 1 << 1
# Rights that change the filesystem (ABI 1); REFER (ABI 2) and TRUNCATE (ABI 3) join when known.
FS_WRITES_V1 = sum(1 << b for b in (1, 4, 5, 6, 7, 8, 9, 10, 11, 12))
FS_REFER, FS_TRUNCATE = 1 << 13, 1 << 14
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX, SCOPE_SIGNAL = 1 << 0, 1 << 1

_libc = ctypes.CDLL(None, use_errno=True)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _check(rc: int, what: str) -> int:
    if rc < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return rc


def landlock_abi() -> int:
    rc = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(0, rc)


def enter_user_and_net_namespace() -> None:
    """In the child: a user namespace mapping only our own ids, and an empty network namespace."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNET), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)


def restrict_filesystem(abi: int, workdir: str, block_tcp: bool) -> None:
    """In the child: writes only beneath workdir (and to /dev/null); optionally no TCP."""
    writes = FS_WRITES_V1 | (FS_REFER if abi >= 2 else 0) | (FS_TRUNCATE if abi >= 3 else 0)
    attr = _RulesetAttr(writes, NET_BIND_TCP | NET_CONNECT_TCP if block_tcp and abi >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = _check(_libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                                   ctypes.c_uint32(0)), "landlock_create_ruleset")
    try:
        for path, rights in ((workdir, writes), ("/dev/null", FS_WRITE_FILE | (FS_TRUNCATE if abi >= 3 else 0))):
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                rule = _PathBeneath(rights, fd)
                _check(_libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH,
                                     ctypes.byref(rule), ctypes.c_uint32(0)), f"landlock_add_rule {path}")
            finally:
                os.close(fd)
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
        _check(_libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _pids_cgroup_root() -> Path | None:
    """A pids-controller folder where we may create children, or None."""
    v1 = Path("/sys/fs/cgroup/pids")
    candidates = [v1] if v1.is_dir() else []
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                own = Path("/sys/fs/cgroup") / line[3:].lstrip("/")
                if (own / "cgroup.controllers").exists() and "pids" in (own / "cgroup.subtree_control").read_text():
                    candidates.append(own)
    except OSError:
        pass
    for root in candidates:
        probe = root / f"newral-probe-{uuid.uuid4().hex[:8]}"
        try:
            probe.mkdir()
            ok = (probe / "pids.max").exists()
            probe.rmdir()
            if ok:
                return root
        except OSError:
            continue
    return None


class LinuxConfinement(PosixConfinement):
    def __init__(self, sandbox: LinuxSandbox, workdir: Path, policy: Policy) -> None:
        self.cgroup: Path | None = None
        if sandbox.cgroup_root is not None:
            cg = sandbox.cgroup_root / f"newral-task-{uuid.uuid4().hex[:12]}"
            try:
                cg.mkdir()
                (cg / "pids.max").write_text(str(policy.processes))
                self.cgroup = cg
            except OSError as exc:
                log.warning("sandbox.cgroup_failed error=%s", exc)
        netns, abi, cgroup = sandbox.netns and not policy.network, sandbox.abi, self.cgroup
        nproc = policy.processes if netns or os.getuid() != 0 else None
        block_tcp = not policy.network and not sandbox.netns

        def setup() -> None:
            if cgroup is not None:
                (cgroup / "cgroup.procs").write_text(str(os.getpid()))
            lowest_priority()
            if netns:
                enter_user_and_net_namespace()
            set_rlimits(policy, nproc)
            if abi:
                restrict_filesystem(abi, str(workdir), block_tcp)

        super().__init__(setup)

    def _members(self) -> list[int]:
        if self.cgroup is None:
            return []
        try:
            return [int(x) for x in (self.cgroup / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def kill_all(self) -> None:
        super().kill_all()
        for _ in range(50):  # a fork bomb may keep forking while we kill: repeat until empty
            members = self._members()
            if not members:
                break
            for pid in members:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            wait_gone(members, 0.2)

    def close(self) -> None:
        if self.cgroup is not None:
            self.kill_all()
            try:
                self.cgroup.rmdir()
            except OSError as exc:
                if exc.errno != errno.ENOENT:
                    log.warning("sandbox.cgroup_left path=%s error=%s", self.cgroup, exc)


class LinuxSandbox(SandboxProvider):
    name = "linux"

    @cached_property
    def abi(self) -> int:
        abi = landlock_abi()
        if abi and not _probe(lambda: restrict_filesystem(abi, "/tmp", False)):
            return 0
        return abi

    @cached_property
    def netns(self) -> bool:
        return _probe(enter_user_and_net_namespace)

    @cached_property
    def cgroup_root(self) -> Path | None:
        return _pids_cgroup_root()

    def protections(self) -> list[Protection]:
        if self.netns:
            net = Protection("network", True, "own user and network namespace: no interfaces")
        elif self.abi >= 4:
            net = Protection("network", True, "partial: Landlock blocks TCP; UDP is not blocked "
                                              "(user namespaces are disabled here)")
        else:
            net = Protection("network", False, "network isolation unavailable: user namespaces are disabled "
                                               "and the kernel has no Landlock network rules")
        fs = (Protection("filesystem", True, f"Landlock ABI {self.abi}: writes only in the task folder")
              if self.abi else Protection("filesystem", False, "Landlock unavailable: the task can write "
                                                                "wherever this user can"))
        procs = []
        if self.netns:
            procs.append("RLIMIT_NPROC in the task's user namespace")
        if self.cgroup_root is not None:
            procs.append(f"pids cgroup under {self.cgroup_root}")
        if not procs and os.getuid() != 0:
            procs.append("RLIMIT_NPROC, user-wide")
        return [
            Protection("priority", True, "SCHED_IDLE, nice 19"),
            Protection("limits", True, "CPU time, address space, file size, open files"),
            Protection("processes", bool(procs), ", ".join(procs) or "no process limit binds root here"),
            net,
            fs,
        ]

    def confine(self, workdir: Path, policy: Policy) -> Confinement:
        if not self.netns and not self.cgroup_root and os.getuid() != 0:
            # No namespace: RLIMIT_NPROC counts all of this user's processes, so leave headroom.
            from client.agent.sandbox.posix import _user_processes

            policy = Policy(**{**policy.__dict__, "processes": _user_processes() + policy.processes})
        return LinuxConfinement(self, workdir, policy)


def _probe(setup: object) -> bool:
    try:
        subprocess.run(["/bin/true"], preexec_fn=setup, check=True, timeout=10,  # type: ignore[arg-type]
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return True
    except (subprocess.SubprocessError, OSError):
        return False
