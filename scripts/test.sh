#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite (SQLite and PostgreSQL,
# local folder and S3 on a loopback moto server, real coordinator and agent
# processes). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# PostgreSQL: the tests use the server on 127.0.0.1:5432 when one answers, else
# start a throwaway cluster from the local binaries; make sure those exist.
if ! .venv/bin/python -c 'import socket; socket.create_connection(("127.0.0.1", 5432), 2)' 2>/dev/null \
   && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "test: installing PostgreSQL from Debian for the database tests"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
fi

# Other Debian packages the tests use (browsers, Xvfb, ...): install what is missing.
missing=()
while read -r pkg; do
    [ -z "$pkg" ] || [ "${pkg#\#}" != "$pkg" ] && continue
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done < scripts/debian-packages.txt
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "test: installing Debian packages: ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "test: please install these Debian packages first: ${missing[*]}" >&2
        exit 1
    fi
fi

# Two runs: most tests spread over the cores (pytest-xdist, a test file to a worker, so a
# module's expensive fixture is built once), then the few that measure CPU shares or
# timing alone. The second runs even if the first fails; the script fails if either does
# (pytest's 5, "no test selected", is not a failure: extra arguments may pick tests from
# one group only). NEWRAL_TEST_WORKERS=1 runs everything in one process, N on N workers.
workers=${NEWRAL_TEST_WORKERS:-auto}
status=0
if [ "$workers" = 1 ]; then
    .venv/bin/python -m pytest -q "$@" || status=$?
else
    .venv/bin/python -m pytest -q -n "$workers" --dist loadfile -m "not serial" "$@" \
        || { rc=$?; [ $rc = 5 ] || status=$rc; }
    .venv/bin/python -m pytest -q -m serial "$@" || { rc=$?; [ $rc = 5 ] || status=$rc; }
fi
exit $status
