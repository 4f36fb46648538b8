#!/usr/bin/env bash
# Sets everything up, then runs `newral demo`: an embedded coordinator and two
# agents on loopback sweep [0, 10^9) for BPSW-Hunter. Extra arguments go to the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/newral demo "$@"
