"""Hostile tasks on Linux: each is denied or stopped, and the runner keeps working."""

import socket
import sys
from pathlib import Path

import psutil
import pytest

from client.agent.runner import TaskCode, TaskRunner
from client.agent.sandbox import default_provider

pytestmark = [pytest.mark.sandbox,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux provider")]


def _active(name: str) -> bool:
    return any(p.name == name and p.active for p in default_provider().protections())


def script(code: str) -> TaskCode:
    return TaskCode(script="task.py", files=(("task.py", code.encode()),))


@pytest.fixture
def runner(tmp_path: Path) -> TaskRunner:
    return TaskRunner(tmp_path / "work", memory_bytes=512 << 20, processes=16)


async def still_works(runner: TaskRunner) -> None:
    out = await runner.run(99, "bpsw-hunter", {"a": 1000, "b": 2000}, timeout=60)
    assert out.output, out.error
    leftovers = [p for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]
    assert leftovers == []
    assert not any((runner.work_root).glob("task-*")), "work folders are removed afterwards"


async def test_the_protections_are_stated() -> None:
    text = " ".join(str(p) for p in default_provider().protections())
    for name in ("network", "filesystem", "processes", "limits", "priority"):
        assert f"{name}:" in text


async def test_a_task_cannot_open_a_network_connection(runner: TaskRunner) -> None:
    if not _active("network"):
        pytest.skip("network isolation unavailable on this machine (reported as such)")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        out = await runner.run(1, script(
            "import socket\n"
            f"socket.create_connection(('127.0.0.1', {port}), timeout=3).sendall(b'leak')\n"
            "open('output', 'w').write('connected')\n"), {}, timeout=30)
        assert out.output is None and ("Network is unreachable" in out.error or "Permission" in out.error)
        with pytest.raises(TimeoutError):
            listener.accept()
    await still_works(runner)


async def test_a_task_cannot_write_outside_its_folder(runner: TaskRunner, tmp_path: Path) -> None:
    if not _active("filesystem"):
        pytest.skip("Landlock unavailable on this machine (reported as such)")
    target = tmp_path / "stolen.txt"
    out = await runner.run(2, script(f"open({str(target)!r}, 'w').write('x')\n"), {}, timeout=30)
    assert out.output is None and "PermissionError" in out.error
    assert not target.exists()
    ok = await runner.run(3, script("open('inside.txt', 'w').write('ok'); "
                                    "import os; os.replace('inside.txt', 'output')\n"), {}, timeout=30)
    assert ok.output == b"ok", ok.error
    await still_works(runner)


async def test_a_fork_bomb_is_contained(runner: TaskRunner) -> None:
    if not _active("processes"):
        pytest.skip("no process limit binds on this machine (reported as such)")
    out = await runner.run(4, script(
        "import os, time\n"
        "n = 0\n"
        "try:\n"
        "    for _ in range(2000):  # bounded, so a broken limit cannot take the machine down\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60); os._exit(0)\n"
        "        n += 1\n"
        "except OSError as exc:\n"
        "    raise SystemExit(f'fork refused after {n}: {exc}')\n"
        "open('output', 'w').write(str(n))\n"), {}, timeout=60)
    assert out.output is None and "fork refused after" in out.error
    assert int(out.error.split("fork refused after ")[1].split(":")[0]) < 16
    await still_works(runner)  # also checks that no child of the bomb is left


async def test_a_task_allocating_past_its_limit_is_stopped(runner: TaskRunner) -> None:
    out = await runner.run(5, script("x = bytearray(1 << 30)\nopen('output', 'w').write('got it')\n"),
                           {}, timeout=30)
    assert out.output is None and "MemoryError" in out.error
    await still_works(runner)


async def test_a_task_that_never_ends_is_stopped_at_its_timeout(runner: TaskRunner) -> None:
    out = await runner.run(6, script("while True:\n    pass\n"), {}, timeout=2)
    assert out.output is None and "timed out" in out.error
    await still_works(runner)


async def test_the_environment_is_clean(runner: TaskRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWRAL_SECRET_FOR_TEST", "hunter2")
    out = await runner.run(7, script("import os, json\n"
                                     "open('output', 'w').write(json.dumps(sorted(os.environ)))\n"), {},
                           timeout=30)
    assert out.output is not None and b"NEWRAL_SECRET" not in out.output
