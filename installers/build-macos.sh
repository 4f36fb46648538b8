#!/usr/bin/env bash
# Builds the macOS client: Newral.app (PyInstaller folder build in an app bundle) inside a .dmg.
# Written, NOT run here (no Mac); .github/workflows/installers.yml runs it on macos-latest.
# Not done: code signing and notarization (needs a Developer ID), a .icns icon.
#
#   bash installers/build-macos.sh [--update-defaults defaults.json]
#
# Start at login: the app can add installers/macos/org.newral.Client.plist to
# ~/Library/LaunchAgents (the GUI's preference); the .dmg ships it in "Extras".
set -euo pipefail
cd "$(dirname "$0")/.."
while [ $# -gt 0 ]; do
    case "$1" in
        --update-defaults) export NEWRAL_UPDATE_DEFAULTS=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2;;
        *) echo "build-macos: unknown option $1" >&2; exit 2;;
    esac
done
PY=${PY:-.venv/bin/python}
export NEWRAL_ONEFILE=0
VERSION=$("$PY" -c 'from client.agent.host import CLIENT_VERSION; print(CLIENT_VERSION)')
ARCH=$(uname -m)
"$PY" -m PyInstaller --noconfirm --log-level WARN --distpath dist/macos --workpath build/pyinstaller-macos \
    installers/newral-client.spec
dist/macos/Newral.app/Contents/MacOS/newral-client --newral-selftest
STAGE=$(mktemp -d)
cp -R dist/macos/Newral.app "$STAGE/"
ln -s /Applications "$STAGE/Applications"
mkdir "$STAGE/Extras" && cp installers/macos/org.newral.Client.plist "$STAGE/Extras/"
hdiutil create -volname "Newral $VERSION" -srcfolder "$STAGE" -ov -format UDZO \
    "dist/macos/newral-client-$VERSION-macos-$ARCH.dmg"
rm -rf "$STAGE"
echo "build-macos: dist/macos/newral-client-$VERSION-macos-$ARCH.dmg"
