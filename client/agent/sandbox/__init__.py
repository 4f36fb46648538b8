"""Task sandboxes, one provider per OS (see base.py for the interface)."""

from __future__ import annotations

import sys

from client.agent.sandbox.base import (
    Confinement,
    Policy,
    Protection,
    SandboxProvider,
    SandboxUnavailable,
    clean_env,
    summary,
)

__all__ = ["Confinement", "Policy", "Protection", "SandboxProvider", "SandboxUnavailable",
           "clean_env", "default_provider", "summary"]


def default_provider() -> SandboxProvider:
    """The provider for this OS."""
    if sys.platform.startswith("linux"):
        from client.agent.sandbox.linux import LinuxSandbox

        return LinuxSandbox()
    if sys.platform == "win32":
        from client.agent.sandbox.windows import WindowsSandbox

        return WindowsSandbox()
    if sys.platform == "darwin":
        from client.agent.sandbox.macos import MacSandbox

        return MacSandbox()
    from client.agent.sandbox.posix import PosixSandbox

    return PosixSandbox()
