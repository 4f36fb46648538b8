#!/usr/bin/env bash
# Sets up, installs the reference (Debian's primesieve) when missing, then runs the
# kernel benchmarks: bench_kernels.py (which also runs bench_carmichael.py) and
# bench_audit.py. Extra arguments go to bench_kernels.py (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v primesieve >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "bench: installing primesieve-bin from Debian (the benchmark's reference)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq primesieve-bin >/dev/null
    else
        echo "bench: primesieve is missing; install Debian's primesieve-bin for the reference" >&2
    fi
fi
.venv/bin/python benchmarks/bench_kernels.py "$@"
.venv/bin/python benchmarks/bench_audit.py
