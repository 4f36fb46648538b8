"""`newral demo`: an embedded coordinator and two agents on loopback sweep
[0, 10^9) for BPSW-Hunter, with a progress line, then print the totals."""

from __future__ import annotations

import time

from coordinator.apps.bpsw_hunter import parse_int
from coordinator.cli import local_run
from coordinator.cli.admin import AdminClient, CliError

# Known counts, for the check printed at the end.
PRIMES_BELOW = {10**6: 78_498, 10**7: 664_579, 10**8: 5_761_455, 10**9: 50_847_534, 10**10: 455_052_511}


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    return "#" * filled + "-" * (width - filled)


def _print_trust(admin: AdminClient, total: int) -> None:
    """How the work was verified: new nodes run in quorum 2 until they earn trust,
    then alone with random spot-checks (adaptive replication)."""
    events = []
    after = 0
    while True:
        page = admin.call("GET", f"/events?after={after}&limit=1000")
        if not page:
            break
        events += page
        after = page[-1]["id"]
    modes: dict[str, int] = {}
    for e in events:
        if e["kind"] == "workunit.validated":
            modes[e["data"].get("mode", "?")] = modes.get(e["data"].get("mode", "?"), 0) + 1
    replicas = sum(1 for e in events if e["kind"] == "result.reported")
    print(f"Replicas computed per workunit: {replicas / max(total, 1):.2f}  (accepted by "
          + ", ".join(f"{k}: {v}" for k, v in sorted(modes.items())) + ")")
    for n in admin.call("GET", "/nodes"):
        print(f"  {n['name']}: {n['trust_level']}, score {n['trust_score']:.2f}, "
              f"{n['valid']} valid, credit {n['credit']:.1f}")


def run(bound: str = "1e9", chunk: str = "1e7", agents: int = 2, keep: bool = False) -> int:
    try:
        b, step = parse_int(bound), parse_int(chunk)
    except ValueError:
        raise CliError(f"--bound and --chunk must be integers like 1e9, got {bound!r}, {chunk!r}") from None
    if not 1000 <= b <= 10**12:
        raise CliError("--bound must be between 1000 and 10^12 for the demo")
    started = time.monotonic()
    with local_run.local_run("newral-demo-", keep, f"Newral demo: coordinator on {{url}}, {agents} agents, "
                             "data in {root}") as run:
        admin = run.admin
        admin.call("POST", "/projects", {"name": "bpsw-hunter", "app": "bpsw-hunter"})
        made = admin.call("POST", "/projects/bpsw-hunter/work",
                          {"params": {"a": 0, "b": b, "chunk": step}, "delay_bound": 600,
                           "min_quorum": 2, "target_results": 2})
        total = made["workunits"]
        print(f"BPSW-Hunter: sweeping [0, {b:,}) in {total} workunits of {step:,}")
        run.start_agents(agents)
        status = {}
        while True:
            status = admin.call("GET", "/projects/bpsw-hunter")
            wu = status["workunits"]
            elapsed = time.monotonic() - started
            line = (f"\r[{_bar(wu['validated'], total)}] {wu['validated']}/{total} validated, "
                    f"{wu['running_results']} running, {elapsed:5.1f} s")
            print(line, end="", flush=True)
            if status["done"]:
                break
            run.check_agents()
            time.sleep(0.5)
        print()
        elapsed = time.monotonic() - started
        totals = status["totals"]
        print(f"\nIntegers swept:                 {totals['integers']:,}")
        print(f"Primes:                         {totals['primes']:,}")
        print(f"Base-2 strong pseudoprimes:     {totals['spsp']:,}")
        print(f"BPSW pseudoprimes found:        {totals['bpsw_pseudoprimes']}")
        print(f"Failed workunits:               {status['workunits']['failed']}")
        print(f"Time:                           {elapsed:.1f} s")
        _print_trust(admin, total)
        expected = PRIMES_BELOW.get(b)
        if expected is not None:
            verdict = "matches" if totals["primes"] == expected else "DOES NOT MATCH"
            print(f"Prime count {verdict} the known value {expected:,} for pi({b:,}).")
            if totals["primes"] != expected:
                return 1
        return 0 if status["workunits"]["failed"] == 0 else 1
