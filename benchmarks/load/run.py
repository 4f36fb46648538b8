"""Load harness: 1,000 simulated nodes drive lease → report (batched) against a
real coordinator process on PostgreSQL, with one and with two uvicorn workers.

    .venv/bin/python -m benchmarks.load.run [--nodes 1000] [--procs 4] [--duration 20]
        [--batch 8] [--workers 1 2] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
        [--repeat 1] [--no-profile]

Prints, per worker count: workunits leased and reported per second, latency
percentiles per request kind, HTTP errors, and where the server's time goes
(py-spy sampling of every worker process; top functions by own time and our own
code by inclusive time). After the `--repeat` runs of a worker count, a verdict:
in how many of them the issue's target held (1,000 workunits/s, p99 under 50 ms for
leases and reports), and every run's p99, since one run's tail is not the next one's.
Rate limits are switched off for the run: every
simulated node shares the loopback address. The project uses the "fixed"
replication policy with quorum 1, so each report validates its workunit at
once (no audit recomputation): this measures the scheduling path."""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import psutil

from coordinator.cli import processes
from cyext import bpsw_format

ROOT = Path(__file__).resolve().parents[2]


def pick(ordered: list[float], q: float) -> float:
    """The q-quantile of sorted seconds, in milliseconds (the value at rank q * n)."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def percentiles(values: list[float]) -> str:
    if not values:
        return "no samples"
    v = sorted(values)
    return (f"n={len(v):6d}  p50={pick(v, 0.50):7.1f}  p90={pick(v, 0.90):7.1f}  p99={pick(v, 0.99):7.1f}  "
            f"max={v[-1] * 1000:7.1f} ms  mean={statistics.fmean(v) * 1000:6.1f} ms")


# The target on this 2-core machine: at least 1,000 workunits/s, p99 under 50 ms.
TARGET_RATE = 1000.0
TARGET_P99_MS = 50.0


@dataclass(frozen=True)
class Outcome:
    """One measured run: workunits per second and p99 per request kind (None: no samples)."""

    leased_per_s: float
    reported_per_s: float
    p99_ms: dict[str, float | None]
    validated_per_s: float | None = None  # None: not measured

    def rate(self) -> float:
        """Workunits per second through the whole loop: the least of leased, reported
        and validated (the validator settles reports just after their requests)."""
        rates = [self.leased_per_s, self.reported_per_s]
        return min(rates if self.validated_per_s is None else [*rates, self.validated_per_s])

    def meets_target(self) -> bool:
        latencies = [self.p99_ms.get(kind) for kind in ("lease", "report")]
        return (self.rate() >= TARGET_RATE
                and all(p is not None and p < TARGET_P99_MS for p in latencies))


def verdict(outcomes: list[Outcome]) -> list[str]:
    """The runs of one configuration against the target, and the spread of their p99s
    (on this VM one run's p99 moves by tens of milliseconds from the next)."""
    met = sum(o.meets_target() for o in outcomes)
    lines = [f"target ({TARGET_RATE:,.0f} workunits/s, p99 under {TARGET_P99_MS:.0f} ms for leases and reports): "
             f"met in {met} of {len(outcomes)} run(s)"]
    rates = [o.rate() for o in outcomes]
    lines.append(f"  workunits/s (the least of leased, reported and validated): {min(rates):.1f} to {max(rates):.1f}")
    for kind in ("lease", "report"):
        p99s = sorted(p for o in outcomes if (p := o.p99_ms.get(kind)) is not None)
        if p99s:
            each = ", ".join(f"{p:.1f}" for p in p99s)
            lines.append(f"  {kind} p99, ms, in order: {each} (median {statistics.median(p99s):.1f})")
    return lines


async def round_trip(dsn: str, count: int = 2000) -> tuple[float, float]:
    """Milliseconds of wall time and of this process's CPU per asyncpg 'SELECT 1'."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.fetchval("SELECT 1")
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            await conn.fetchval("SELECT 1")
        return (time.perf_counter() - wall) * 1000 / count, (time.process_time() - cpu) * 1000 / count
    finally:
        await conn.close()


async def validation_figures(db_url: str, start_at: float, stop_at: float) -> tuple[int, list[float], int]:
    """Workunits validated in the window, each one's seconds from report to validation,
    and the results still queued for the validator now."""
    conn = await asyncpg.connect(db_url.replace("+asyncpg", "", 1))
    try:
        rows = await conn.fetch(
            "SELECT w.finished_at - r.reported_at AS lag FROM workunits w JOIN results r "
            "ON r.id = w.canonical_result_id WHERE w.state = 'validated' AND w.finished_at >= $1 "
            "AND w.finished_at < $2", start_at, stop_at)
        queued = await conn.fetchval("SELECT count(*) FROM results WHERE awaiting_validator")
    finally:
        await conn.close()
    return len(rows), sorted(float(r["lag"]) for r in rows), int(queued)


async def admin_sql(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def fresh_database(server_dsn: str, name: str) -> str:
    conn = await asyncpg.connect(server_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    return server_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"


def start_coordinator(data_dir: Path, port: int, db_url: str, workers: int) -> subprocess.Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NEWRAL_RATE_ENROL_PER_ADDRESS": "0", "NEWRAL_RATE_LEASE_PER_ADDRESS": "0",
           "NEWRAL_RATE_LEASE_PER_NODE": "0", "NEWRAL_LOG_LEVEL": "WARNING",
           "NEWRAL_MAX_LEASES_PER_REQUEST": "256"}
    cmd = [sys.executable, "-m", "coordinator.cli.serve", "--data-dir", str(data_dir),
           "--bind", f"127.0.0.1:{port}", "--database-url", db_url, "--workers", str(workers)]
    log = open(data_dir / "coordinator.log", "ab")
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)


def server_pids(proc: subprocess.Popen[bytes]) -> list[int]:
    """The serving processes: the uvicorn workers if any, else the process itself."""
    out = subprocess.run(["ps", "-o", "pid=,ppid=,args=", "-e"], capture_output=True, text=True).stdout
    kids = [int(line.split()[0]) for line in out.splitlines()
            if line.split()[1] == str(proc.pid) and "multiprocessing.resource_tracker" not in line]
    return kids or [proc.pid]


def cpu_by_role(roles: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds used so far by each role's processes (and their children), and by
    PostgreSQL's backends, and by everything else on the machine."""
    used: dict[str, float] = dict.fromkeys([*roles, "postgres", "other"], 0.0)
    owner = {pid: role for role, pids in roles.items() for pid in pids}
    for proc in psutil.process_iter(["pid", "ppid", "name"]):
        try:
            times = proc.cpu_times()
            role = owner.get(proc.info["pid"]) or owner.get(proc.info["ppid"])
            if role is None:
                role = "postgres" if proc.info["name"].startswith("postgres") else "other"
            used[role] += times.user + times.system
        except psutil.Error:
            continue
    return used


def _cpu_of(pid: int) -> float:
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


def profile_summary(raw_files: list[Path], top: int = 15) -> list[str]:
    """py-spy raw (collapsed) stacks: top frames by own samples, and our code inclusive."""
    own: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    for f in raw_files:
        if not f.exists():
            continue
        for line in f.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue  # a line py-spy cut short
            n = int(count)
            total += n
            frames = [fr for fr in stack.split(";") if fr]
            own[_short(frames[-1])] += n
            for fr in set(frames):
                if "coordinator/" in fr and "site-packages" not in fr:
                    incl[_short(fr)] += n
    if not total:
        return ["(no profile samples: is py-spy installed and ptrace allowed?)"]
    lines = [f"{total} samples; top by own time:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines.append("coordinator code, inclusive:")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in incl.most_common(top)]
    return lines


def _short(frame: str) -> str:
    # "func (path/to/file.py:123)" -> "func (file.py)"
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    tail = "/".join(path.split("/")[-2:])
    return f"{name} ({tail})"


FIRST = 10**12  # the work: bpsw-hunter sweeps of 1,000 integers from here
CHUNK = 1000


def precompute_outputs(count: int, path: Path) -> None:
    """Every workunit's report fields, so the client processes spend no CPU on sweeps."""
    began = time.time()
    fields = {}
    for k in range(count):
        a = FIRST + CHUNK * k
        data = bpsw_format.encode(bpsw_format.run_sweep(a, a + CHUNK))
        fields[a] = {"size": len(data), "sha256": bpsw_format.digest(data), "output": base64.b64encode(data).decode()}
    with open(path, "wb") as f:
        pickle.dump(fields, f)
    print(f"  computed the {count} outputs ahead in {time.time() - began:.1f} s")


def run_once(args: argparse.Namespace, workers: int, outputs: Path) -> Outcome:
    tmp = Path(tempfile.mkdtemp(prefix=f"newral-load-w{workers}-"))
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}"
    db_url = asyncio.run(fresh_database(args.pg, f"newral_load_{os.getpid()}_{workers}"))
    coord = start_coordinator(tmp / "coordinator", port, db_url, workers)
    spies: list[subprocess.Popen[bytes]] = []
    clients: list[subprocess.Popen[str]] = []
    try:
        processes.wait_healthy(url, coord, timeout=120)
        admin = (tmp / "coordinator" / "admin-token").read_text().strip()
        h = {"Authorization": f"Bearer {admin}"}
        with httpx.Client(base_url=f"{url}/api/v1/admin", headers=h, timeout=600) as c:
            c.post("/projects", json={"name": "load", "app": "bpsw-hunter",
                                      "replication_policy": "fixed"}).raise_for_status()
            began = time.time()
            made = 0
            a = FIRST
            while made < args.workunits:
                n = min(50_000, args.workunits - made)
                r = c.post("/projects/load/work", json={"params": {"a": str(a), "b": str(a + CHUNK * n),
                                                                   "chunk": CHUNK}})
                r.raise_for_status()
                made += r.json()["workunits"]
                a += CHUNK * n
            print(f"  submitted {made} workunits in {time.time() - began:.1f} s")
        # No ANALYZE here: after a submission of 1,000 workunits or more the coordinator
        # refreshes the statistics of the tables its lease query joins (a freshly loaded
        # table has none until autovacuum gets to it, and the plan then degrades: 3 s a lease
        # at 5,000 workunits once, 155 ms at 51,200 with the small tables unanalyzed).
        per = -(-args.nodes // args.procs)
        began = time.time()
        for i in range(args.procs):
            n = min(per, args.nodes - i * per)
            clients.append(subprocess.Popen(
                [sys.executable, "-m", "benchmarks.load.clients", "--url", url, "--admin", admin,
                 "--nodes", str(n), "--prefix", f"p{i}", "--batch", str(args.batch),
                 "--connections", str(args.connections), "--pools", str(args.pools), "--report", args.report,
                 "--think", str(args.think), "--outputs", str(outputs)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT))
        for p in clients:  # every node enrolled before the clock starts
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        print(f"  enrolled {args.nodes} nodes in {time.time() - began:.1f} s")
        begin_at = time.time() + 1.0
        start_at = begin_at + args.warmup
        stop_at = start_at + args.duration
        for p in clients:
            assert p.stdin is not None
            p.stdin.write(f"{begin_at} {start_at} {stop_at}\n")
            p.stdin.flush()
        pids = server_pids(coord)
        roles = {"coordinator": [coord.pid, *pids], "load clients": [p.pid for p in clients]}
        time.sleep(max(0.0, start_at - time.time()))
        cpu_before = cpu_by_role(roles)
        workers_before = {pid: _cpu_of(pid) for pid in pids}
        spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
        if args.profile and spy:
            delay = max(0.0, start_at - time.time())
            time.sleep(delay)
            for pid in pids:
                spies.append(subprocess.Popen(
                    [spy, "record", "--pid", str(pid), "--duration", str(int(args.duration)),
                     "--rate", "50", "--format", "raw", "--output", str(tmp / f"profile-{pid}.txt"),
                     "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(max(0.0, stop_at - time.time()))
        cpu_after = cpu_by_role(roles)
        per_worker = [(_cpu_of(pid) - workers_before[pid]) / args.duration for pid in pids]
        validated, lags, queued = asyncio.run(validation_figures(db_url, start_at, stop_at))
        outs = [json.loads(p.communicate(timeout=args.duration + 600)[0].strip().splitlines()[-1])
                for p in clients]
        for s in spies:
            s.wait(120)
    finally:
        for p in clients:
            if p.poll() is None:
                p.kill()
        processes.stop(coord)
        asyncio.run(admin_sql(args.pg, f"DROP DATABASE IF EXISTS newral_load_{os.getpid()}_{workers} WITH (FORCE)"))
    leased = sum(o["leased"] for o in outs)
    reported = sum(o["reported"] for o in outs)
    print(f"== coordinator on PostgreSQL, {workers} worker process(es), {args.nodes} nodes in "
          f"{args.procs} client processes, batch {args.batch}, reports {args.report}, think {args.think:g} s, "
          f"{args.duration:.0f} s measured after {args.warmup:.0f} s of warm-up")
    print(f"  workunits leased:   {leased:7d}  = {leased / args.duration:8.1f} /s")
    print(f"  workunits reported: {reported:7d}  = {reported / args.duration:8.1f} /s")
    print(f"  workunits validated:{validated:7d}  = {validated / args.duration:8.1f} /s; "
          f"{queued} result(s) still queued for the validator at the end of the window")
    print(f"  from report to validation: {percentiles(lags)}")
    for kind in ("lease", "upload", "report"):
        print(f"  {kind:7s} {percentiles([x for o in outs for x in o['latency'][kind]])}")
    errors: collections.Counter[str] = collections.Counter()
    for o in outs:
        errors.update(o["statuses"])
    failed = sum(o["failed_nodes"] for o in outs)
    print(f"  HTTP errors: {dict(errors) or 'none'}; nodes that crashed: {failed}")
    empty = sum(o.get("empty", 0) for o in outs)
    if empty:
        print(f"  WARNING: {empty} leases in the window found no work: the run ran short of workunits "
              "(raise --workunits), so the load offered fell")
    print("  CPU in the window, in cores: " + ", ".join(
        f"{role} {(cpu_after[role] - cpu_before[role]) / args.duration:.2f}" for role in cpu_after))
    if len(per_worker) > 1:  # the load is only as even as the connections' spread over the workers
        print("  CPU per worker process, in cores: " + ", ".join(f"{c:.2f}" for c in per_worker))
    for o in outs:
        for f in o["failures"]:
            print(f"    {f[:300]}")
    for line in profile_summary(sorted(tmp.glob("profile-*.txt"))) if args.profile else []:
        print("  " + line)
    if args.keep:
        print(f"  raw profiles and logs kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    latency = {kind: sorted(x for o in outs for x in o["latency"][kind]) for kind in ("lease", "report")}
    return Outcome(leased / args.duration, reported / args.duration,
                   {kind: pick(v, 0.99) if v else None for kind, v in latency.items()}, validated / args.duration)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nodes", type=int, default=1000)
    p.add_argument("--procs", type=int, default=4)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--warmup", type=float, default=10.0, help="seconds of load before the measured window")
    p.add_argument("--batch", type=int, default=8, help="max_results per lease")
    p.add_argument("--connections", type=int, default=32, help="HTTP connections per client process")
    p.add_argument("--pools", type=int, default=8,
                   help="connection pools per client process, the nodes dealt over them (1: one shared pool)")
    p.add_argument("--workunits", type=int, default=40_000)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--pg", default=os.environ.get("NEWRAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--report", choices=("batch", "single"), default="batch",
                   help="batch: one report-batch request per lease, outputs inline; single: upload + report each")
    p.add_argument("--think", type=float, default=0.0,
                   help="mean seconds a node waits after reporting before it leases again (0: closed loop, "
                        "saturation; >0: paced load of about nodes * batch / think workunits/s)")
    p.add_argument("--repeat", type=int, default=1,
                   help="runs per worker count, each on a fresh database; a verdict on the target follows them")
    p.add_argument("--no-profile", dest="profile", action="store_false")
    p.add_argument("--keep", action="store_true", help="keep the raw profiles and the coordinator log")
    args = p.parse_args()
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    print(f"load harness {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    wall, cpu = asyncio.run(round_trip(args.pg))
    print(f"  reference: one 'SELECT 1' round trip to PostgreSQL takes {wall:.3f} ms, {cpu:.3f} ms of CPU "
          "(on this VM it varied from 0.04 to 0.14 ms during one day, and the latencies below move with it)")
    with tempfile.TemporaryDirectory(prefix="newral-load-outputs-") as tmp:
        outputs = Path(tmp) / "outputs.pickle"
        precompute_outputs(args.workunits, outputs)
        for w in args.workers:
            outcomes = [run_once(args, w, outputs) for _ in range(args.repeat)]
            print(f"== {w} worker process(es), {args.repeat} run(s):")
            for line in verdict(outcomes):
                print("  " + line)


if __name__ == "__main__":
    main()
