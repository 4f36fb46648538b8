"""Entry point of a task process: `python -I -m client.taskapps.run APP PARAMS OUT`.
Writes OUT atomically and stats.json beside it; exit code 0 on success."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from client.taskapps import registry


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: run APP PARAMS_JSON OUTPUT", file=sys.stderr)
        return 2
    app, params_path, out_path = argv
    runner = registry().get(app)
    if runner is None:
        print(f"unknown app {app!r}", file=sys.stderr)
        return 3
    params = json.loads(Path(params_path).read_text())
    data = runner(params)
    tmp = Path(out_path + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out_path)
    Path("stats.json").write_text(json.dumps({"cpu_seconds": time.process_time()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
