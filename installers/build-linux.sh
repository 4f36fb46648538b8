#!/usr/bin/env bash
# Builds the Linux client: one executable (PyInstaller one-file) plus a tarball with it.
#
#   bash installers/build-linux.sh [--out DIR] [--update-defaults defaults.json] [--headless]
#
# The volunteer installs it with `./newral-client --newral-install [--autostart]`: a managed
# install in ~/.local/share/newral-client (what the updater switches and rolls back), a menu
# entry, and, with --autostart, an XDG autostart entry.
# Built and smoke-tested here (tests/updates/test_frozen_build.py).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=dist/linux
WORK=build/pyinstaller-linux
while [ $# -gt 0 ]; do
    case "$1" in
        --out) OUT=$2; shift 2;;
        --work) WORK=$2; shift 2;;
        --update-defaults) export NEWRAL_UPDATE_DEFAULTS=$(realpath "$2"); shift 2;;
        --headless) export NEWRAL_BUILD_GUI=0; shift;;
        *) echo "build-linux: unknown option $1" >&2; exit 2;;
    esac
done
PY=${PY:-.venv/bin/python}
"$PY" -c 'import PyInstaller' 2>/dev/null || { echo "build-linux: pip install 'pyinstaller>=6.10' first" >&2; exit 1; }
VERSION=$("$PY" -c 'from client.agent.host import CLIENT_VERSION; print(CLIENT_VERSION)')
ARCH=$(uname -m)
"$PY" -m PyInstaller --noconfirm --log-level WARN --distpath "$OUT" --workpath "$WORK" \
    installers/newral-client.spec
"$OUT/newral-client" --newral-selftest
NAME="newral-client-$VERSION-linux-$ARCH"
tar -C "$OUT" -czf "$OUT/$NAME.tar.gz" newral-client
echo "build-linux: $OUT/newral-client ($(du -h "$OUT/newral-client" | cut -f1)) and $OUT/$NAME.tar.gz"
