"""The one entry point of the frozen (PyInstaller) client, and how any client starts a
task process. A frozen program has no Python to run `-m client.taskapps.run`, so it
re-launches itself in a worker mode instead:

    newral-client [agent or GUI options]     the desktop client (GUI when bundled, else headless)
    newral-client --headless [agent options] the headless agent, even when the GUI is bundled
    newral-client --newral-task APP PARAMS OUT   a task process (what the sandbox runs)
    newral-client [-I] [-B] -m MODULE ARGS | SCRIPT.py ARGS   behaves like `python` for task
                                             processes, so a runner that starts
                                             `sys.executable -I -B -m ...` works frozen too
    newral-client --newral-selftest          start-up check a new version must pass before it is kept
    newral-client --newral-version
    newral-client --newral-install [--autostart]   Linux: install this program for the user
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

TASK_FLAG = "--newral-task"
SELFTEST_FLAG = "--newral-selftest"
# Interpreter flags a task command may carry; frozen, there is no interpreter to obey
# them and nothing to do: the program reads no PYTHON* variables and writes no .pyc.
_PYTHON_FLAGS = {"-I", "-B", "-E", "-s", "-S", "-u"}


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def task_command() -> list[str]:
    """The command that starts a task process; the runner appends APP PARAMS OUT."""
    if is_frozen():
        return [sys.executable, TASK_FLAG]
    return [sys.executable, "-I", "-m", "client.taskapps.run"]


def _run_task(argv: list[str]) -> int:
    from client.taskapps import run

    return run.main(argv)


def _python_like(args: list[str]) -> int | None:
    """Run `[flags] -m MODULE ...` or `[flags] SCRIPT.py ...` as python would; None if
    `args` is not of that form."""
    import runpy

    i = 0
    while i < len(args) and args[i] in _PYTHON_FLAGS:
        i += 1
    rest = args[i:]
    if i == 0 and rest[:1] != ["-m"]:
        return None
    try:
        if rest[:1] == ["-m"] and len(rest) >= 2:
            sys.argv = [rest[1], *rest[2:]]
            runpy.run_module(rest[1], run_name="__main__", alter_sys=True)
        elif rest and rest[0].endswith(".py"):
            sys.argv = list(rest)
            runpy.run_path(rest[0], run_name="__main__")
        else:
            return None
    except SystemExit as exc:
        code = exc.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    return 0


def selftest() -> int:
    """Everything a working client needs, exercised once: imports, the compiled kernel,
    and a real task process started the way the agent starts them."""
    import client.agent.cli  # noqa: F401  (imports every agent module)
    from client.agent import host
    from cyext import bpsw, bpsw_format

    if bpsw_format.run_sweep(0, 100).prime_count != 25:
        print("selftest: the BPSW kernel miscounts primes below 100", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="newral-selftest-") as tmp:
        Path(tmp, "params.json").write_text(json.dumps({"a": 1000, "b": 2000}))
        proc = subprocess.run([*task_command(), "bpsw-hunter", "params.json", "output"], cwd=tmp,
                              env={"PATH": os.defpath, "LANG": "C.UTF-8", "HOME": tmp, "TMPDIR": tmp},
                              capture_output=True, timeout=120, check=False)
        if proc.returncode != 0:
            print(f"selftest: the task process failed: {proc.stderr.decode(errors='replace')[-500:]}",
                  file=sys.stderr)
            return 1
        out = bpsw_format.decode(Path(tmp, "output").read_bytes())
        if out.prime_count != 135:  # primes in [1000, 2000)
            print(f"selftest: wrong task result {out.prime_count}", file=sys.stderr)
            return 1
    print(f"selftest ok version={host.CLIENT_VERSION} kernel={bpsw.__name__} frozen={is_frozen()}")
    return 0


def _boot_guard() -> None:
    """A managed install that keeps failing to start after an update goes back to the
    previous version (see client/updater/install.py)."""
    from client.updater.install import Installation

    inst = Installation.detect()
    if inst is None:
        return
    version = Path(sys.executable).resolve().parent.name
    restore = inst.boot(version)
    if restore is not None:
        exe = str(inst.executable(restore))
        os.execv(exe, [exe, *sys.argv[1:]])


def _gui_main() -> Callable[[list[str]], int] | None:
    if importlib.util.find_spec("client.gui") is None:
        return None
    for module in ("client.gui.app", "client.gui"):
        try:
            main = getattr(importlib.import_module(module), "main", None)
        except ImportError:
            continue
        if callable(main):
            return main  # type: ignore[no-any-return]
    return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == [TASK_FLAG]:
        return _run_task(args[1:])
    if is_frozen() and args[:1] and (args[0] in _PYTHON_FLAGS or args[0] == "-m"):
        code = _python_like(args)
        if code is not None:
            return code
    if args[:1] == [SELFTEST_FLAG]:
        return selftest()
    if args[:1] == ["--newral-install"]:
        from client.updater import desktop

        return desktop.main(args[1:])
    if args[:1] == ["--newral-version"]:
        from client.agent import host

        print(host.CLIENT_VERSION)
        return 0
    if is_frozen():
        _boot_guard()
    headless = "--headless" in args
    args = [a for a in args if a != "--headless"]
    gui = None if headless else _gui_main()
    if gui is not None:
        return gui(args)
    from client.agent import cli

    return cli.main(args)


if __name__ == "__main__":
    sys.exit(main())
