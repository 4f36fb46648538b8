"""One load-generating process: many simulated nodes, each running
enrol → (lease a batch → report the batch, outputs inline, in one request) in a
loop, on one asyncio loop. The nodes are dealt over several connection pools (--pools):
one pool hands a request to its most recently used connection, which crowded the
requests of a whole process onto a few connections and so a few server workers; real
nodes each hold their own connection. With --report single, each
output is uploaded to its signed URL and reported alone, as before. Several of these run side by side
(run.py starts them) so the generator is not the bottleneck alone.

Writes one JSON line to stdout at the end: counts and raw latencies."""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import pickle
import random
import sys
import time
from typing import Any

import httpx
import msgspec

from cyext import bpsw_format

CAPS = {"platform": "linux", "arch": "x86_64", "cores": 1, "memory_bytes": 1 << 33,
        "disk_free_bytes": 1 << 36, "client_version": "load/1", "benchmark": 0.0}


class Recorder:
    def __init__(self, begin_at: float, start_at: float, stop_at: float) -> None:
        # Nodes start at begin_at; only requests that end in [start_at, stop_at) are
        # counted (work done in the window, and how long it took), so the rush of the
        # first leases (the warm-up) does not weigh on the figures.
        self.begin_at, self.start_at, self.stop_at = begin_at, start_at, stop_at
        self.latency: dict[str, list[float]] = {"lease": [], "upload": [], "report": []}
        self.leased = self.reported = self.errors = 0
        self.empty = 0  # leases in the window that found no work: the run ran short of workunits
        self.statuses: dict[str, int] = {}

    def measuring(self, t: float) -> bool:
        return self.start_at <= t < self.stop_at

    def note(self, kind: str, began: float, response: httpx.Response) -> None:
        ended = time.time()
        if self.measuring(ended):
            self.latency[kind].append(ended - began)
            if response.status_code >= 400:
                key = f"{kind}:{response.status_code}"
                self.statuses[key] = self.statuses.get(key, 0) + 1


class Gated:
    """A node's HTTP client (one pool of several), with at most `limit` requests in flight
    over all pools: waiting nodes queue on a semaphore (cheap) rather than inside httpx's
    connection pool (whose bookkeeping grows with the number of waiting requests and made
    the generator itself the bottleneck). Bodies are encoded and decoded with msgspec."""

    def __init__(self, http: httpx.AsyncClient, gate: asyncio.Semaphore) -> None:
        self.http = http
        self.gate = gate

    async def post(self, url: str, *, headers: dict[str, str], json: Any) -> httpx.Response:
        body = msgspec.json.encode(json)
        async with self.gate:
            return await self.http.post(url, content=body, headers={**headers, "content-type": "application/json"})

    async def request(self, method: str, url: str, *, content: bytes, headers: dict[str, str]) -> httpx.Response:
        async with self.gate:
            return await self.http.request(method, url, content=content, headers=headers)


def body(response: httpx.Response) -> Any:
    return msgspec.json.decode(response.content)


async def enrol(http: httpx.AsyncClient, url: str, admin: str, name: str, gate: asyncio.Semaphore) -> dict[str, str]:
    async with gate:
        r = await http.post(f"{url}/api/v1/admin/enrolment-tokens", json={"note": name},
                            headers={"Authorization": f"Bearer {admin}"})
        r.raise_for_status()
        r = await http.post(f"{url}/api/v1/enrol", json={"token": r.json()["token"], "name": name,
                                                           "capabilities": CAPS})
        r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['node_id']}.{r.json()['secret']}"}


async def node_loop(http: Gated, url: str, auth: dict[str, str], batch: int, rec: Recorder,
                    mode: str, think: float) -> None:
    while time.time() < rec.begin_at:
        await asyncio.sleep(random.uniform(0.0, 0.01 + think))  # spread the first leases over the think time
    while time.time() < rec.stop_at:
        try:
            await cycle(http, url, auth, batch, rec, mode, think)
            if think:  # the node computes its next batch meanwhile (paced, not saturating)
                await asyncio.sleep(think * random.uniform(0.5, 1.5))
        except httpx.TransportError as exc:
            rec.statuses[type(exc).__name__] = rec.statuses.get(type(exc).__name__, 0) + 1
            await asyncio.sleep(0.2)


# Outputs computed ahead by run.py (start of range -> report fields), so the generator
# spends its CPU on requests, not sweeps; anything missing is computed here.
PRECOMPUTED: dict[int, dict[str, Any]] = {}


def output_of(a: dict[str, Any]) -> bytes:
    p = a["params"]
    return bpsw_format.encode(bpsw_format.run_sweep(int(p["a"]), int(p["b"])))


def report_of(a: dict[str, Any]) -> dict[str, Any]:
    """The success report of an assignment, its output inline."""
    fields = PRECOMPUTED.get(int(a["params"]["a"]))
    if fields is None:
        data = output_of(a)
        fields = {"size": len(data), "sha256": bpsw_format.digest(data), "output": base64.b64encode(data).decode()}
    return {"result_id": a["result_id"], "outcome": "success", "cpu_seconds": 0.001, "wall_seconds": 0.001,
            **fields}


async def cycle(http: Gated, url: str, auth: dict[str, str], batch: int, rec: Recorder,
                mode: str, think: float) -> None:
    began = time.time()
    r = await http.post(f"{url}/api/v1/work/lease", json={"max_results": batch, "bundle_refs": True},
                        headers=auth)
    rec.note("lease", began, r)
    if r.status_code != 200:
        await asyncio.sleep(0.2)
        return
    assignments = body(r)["assignments"]
    if rec.measuring(time.time()):
        rec.leased += len(assignments)
    if not assignments:
        if rec.measuring(time.time()):
            rec.empty += 1
        await asyncio.sleep(0.5)
        return
    if mode == "batch":
        reports = [report_of(a) for a in assignments]
        began = time.time()
        r = await http.post(f"{url}/api/v1/work/report-batch", headers=auth, json={"reports": reports})
        rec.note("report", began, r)
        if r.status_code == 200 and rec.measuring(time.time()):
            receipts = body(r)["receipts"]
            rec.reported += sum(x["ok"] for x in receipts)
            for x in receipts:
                if not x["ok"]:
                    key = f"report-item:{x['status']}"
                    rec.statuses[key] = rec.statuses.get(key, 0) + 1
        return
    for a in assignments:
        data = output_of(a)
        up = a["upload"]
        began = time.time()
        r = await http.request(up["method"], up["url"], content=data, headers=up["headers"])
        rec.note("upload", began, r)
        began = time.time()
        r = await http.post(f"{url}/api/v1/work/report", headers=auth, json={
            "result_id": a["result_id"], "outcome": "success", "size": len(data),
            "sha256": bpsw_format.digest(data), "cpu_seconds": 0.001, "wall_seconds": 0.001})
        rec.note("report", began, r)
        if r.status_code == 200 and rec.measuring(time.time()):
            rec.reported += 1


async def main(args: argparse.Namespace) -> dict[str, Any]:
    if args.outputs:
        with open(args.outputs, "rb") as f:
            PRECOMPUTED.update(pickle.load(f))
    # Below uvicorn's 5 s keep-alive, so a pooled connection is never reused as the server closes it.
    per_pool = -(-args.connections // args.pools)
    limits = httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool, keepalive_expiry=2.0)
    async with contextlib.AsyncExitStack() as stack:
        pools = [await stack.enter_async_context(httpx.AsyncClient(timeout=60, limits=limits))
                 for _ in range(args.pools)]
        # Enrol every node first; the parent starts the clock once all processes are ready.
        gate = asyncio.Semaphore(args.connections)
        auths = await asyncio.gather(*(
            enrol(pools[i % args.pools], args.url, args.admin, f"{args.prefix}-{i}", gate) for i in range(args.nodes)))
        print("ready", flush=True)
        begin_at, start_at, stop_at = (float(x) for x in (await asyncio.to_thread(sys.stdin.readline)).split())
        rec = Recorder(begin_at, start_at, stop_at)
        clients = [Gated(http, gate) for http in pools]
        tasks = [asyncio.create_task(node_loop(clients[i % args.pools], args.url, auth, args.batch, rec, args.report,
                                               args.think))
                 for i, auth in enumerate(auths)]
        # Cycles still in flight when the window closes are abandoned, not waited for.
        done, pending = await asyncio.wait(tasks, timeout=max(1.0, stop_at - time.time() + 2))
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    failures = [repr(t.exception()) for t in done if t.exception() is not None]
    return {"leased": rec.leased, "reported": rec.reported, "empty": rec.empty, "latency": rec.latency,
            "statuses": rec.statuses, "failures": failures[:5], "failed_nodes": len(failures)}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--admin", required=True)
    p.add_argument("--nodes", type=int, required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--pools", type=int, default=8, help="connection pools the nodes are dealt over")
    p.add_argument("--report", choices=("batch", "single"), default="batch")
    p.add_argument("--think", type=float, default=0.0)
    p.add_argument("--outputs", default="", help="pickle of precomputed report fields (run.py writes it)")
    print(json.dumps(asyncio.run(main(p.parse_args()))))
    sys.stdout.flush()
