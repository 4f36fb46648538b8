"""macOS provider: the POSIX part plus `sandbox-exec` with a profile that denies
the network and allows writes only beneath the task folder. sandbox-exec is
deprecated by Apple but still shipped; where it is missing, both are reported
as unavailable. Written for macOS but NOT tested here (the CI runs on Linux)."""

from __future__ import annotations

import shutil
from pathlib import Path

from client.agent.sandbox.base import Confinement, Policy, Protection
from client.agent.sandbox.posix import PosixConfinement, PosixSandbox

PROFILE = """(version 1)
(allow default)
(deny network*)
(deny file-write*)
(allow file-write* (subpath "{workdir}") (literal "/dev/null"))
"""


def wrap(cmd: list[str], workdir: Path) -> list[str]:
    """The command under sandbox-exec with our profile (the runner calls this on macOS)."""
    profile = PROFILE.format(workdir=str(workdir.resolve()).replace('"', ""))
    return ["/usr/bin/sandbox-exec", "-p", profile, *cmd]


class MacSandbox(PosixSandbox):
    name = "macos"

    @property
    def has_sandbox_exec(self) -> bool:
        return shutil.which("sandbox-exec") is not None

    def protections(self) -> list[Protection]:
        base = [p for p in super().protections() if p.name not in ("network", "filesystem")]
        on = self.has_sandbox_exec
        return [*base,
                Protection("network", on, "sandbox-exec profile denies network" if on else "sandbox-exec missing"),
                Protection("filesystem", on, "sandbox-exec: writes only in the task folder" if on
                           else "sandbox-exec missing")]

    def confine(self, workdir: Path, policy: Policy) -> Confinement:
        inner = super().confine(workdir, policy)
        assert isinstance(inner, PosixConfinement)
        return _SandboxExec(inner, workdir) if self.has_sandbox_exec else inner


class _SandboxExec(PosixConfinement):
    def __init__(self, inner: PosixConfinement, workdir: Path) -> None:
        super().__init__(inner._child_setup)
        self.workdir = workdir

    def command(self, cmd: list[str]) -> list[str]:
        return wrap(cmd, self.workdir)
