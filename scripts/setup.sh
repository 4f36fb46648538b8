#!/usr/bin/env bash
# Sets up everything the demo and the tests need: a virtual environment, the
# Python packages, and the compiled Cython kernels. Safe to run again: it skips
# the install when nothing it depends on has changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}

"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "Newral needs Python 3.11 or newer; $PY is $("$PY" --version 2>&1)" >&2; exit 1; }

stamp=.venv/.installed
inputs=$(cat pyproject.toml setup.py cyext/*.pyx cyext/*.pxi cyext/*.h 2>/dev/null | sha256sum | cut -c1-16)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ]; then
    exit 0
fi

if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip setuptools wheel "cython>=3.0"
.venv/bin/python -m pip install --quiet -e ".[test,gui,bench]"
# Editable installs build the extensions in place; make sure each one imports.
.venv/bin/python - <<'PY'
import importlib, pathlib
for pyx in sorted(pathlib.Path("cyext").glob("*.pyx")):
    importlib.import_module(f"cyext.{pyx.stem}")
PY
echo "$inputs" > "$stamp"
echo "setup: ok ($(.venv/bin/python --version))"
