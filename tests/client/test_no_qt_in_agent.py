"""The agent core must run headless: no Qt import anywhere under client/agent."""

import ast
import subprocess
import sys
from pathlib import Path

AGENT = Path(__file__).resolve().parents[2] / "client" / "agent"
QT = ("PySide6", "PySide2", "PyQt5", "PyQt6", "shiboken6", "qtpy")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_module_under_client_agent_imports_qt() -> None:
    files = sorted(AGENT.rglob("*.py"))
    assert len(files) > 10
    offenders = {str(f.relative_to(AGENT)): sorted(_imports(f) & set(QT)) for f in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_the_whole_agent_loads_no_qt() -> None:
    code = ("import sys, pkgutil, importlib, client.agent as a\n"
            "for m in pkgutil.walk_packages(a.__path__, 'client.agent.'):\n"
            "    if not m.name.endswith(('.windows', '.macos')): importlib.import_module(m.name)\n"
            f"bad = [n for n in sys.modules if n.split('.')[0] in {QT!r}]\n"
            "print(bad); raise SystemExit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
