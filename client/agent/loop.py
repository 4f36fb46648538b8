"""The agent's work loop: lease while there are free slots, run each task in its
own process, spool its result to disk, then upload and report it. Three
cooperating coroutines (lease, report, heartbeat) share one asyncio loop; every
network failure is met with backoff and jitter, never a busy loop."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from client.agent import host
from client.agent.api import AgentApiError, CoordinatorClient, CoordinatorUnavailable, Rejected
from client.agent.backoff import Backoff
from client.agent.config import AgentConfig
from client.agent.runner import TaskRunner
from client.agent.spool import Spool, SpoolEntry

log = logging.getLogger("newral.agent")


@dataclass
class Stats:
    leased: int = 0
    finished: int = 0
    failed: int = 0
    reported: int = 0
    refused: int = 0
    running: dict[int, dict[str, Any]] = field(default_factory=dict)


class Agent:
    def __init__(self, config: AgentConfig, client: CoordinatorClient, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.client = client
        self.clock = clock
        self.spool = Spool(config.data_dir / "spool")
        self.runner = TaskRunner(config.data_dir / "work", memory_bytes=config.task_memory_bytes)
        self.stats = Stats()
        self._stopping = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._report_wake = asyncio.Event()
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        log.info("agent.started coordinator=%s concurrency=%d spooled=%d",
                 self.config.coordinator, self.config.concurrency, len(self.spool))
        loops = [asyncio.create_task(c) for c in
                 (self._lease_loop(), self._report_loop(), self._heartbeat_loop())]
        try:
            await self._stopping.wait()
        finally:
            for t in [*loops, *self._tasks.values()]:
                t.cancel()
            for t in [*loops, *self._tasks.values()]:
                with suppress(asyncio.CancelledError, Exception):
                    await t
            log.info("agent.stopped finished=%d reported=%d spooled=%d",
                     self.stats.finished, self.stats.reported, len(self.spool))

    # -- leasing and running ------------------------------------------------

    async def _lease_loop(self) -> None:
        idle = Backoff(base=1.0, cap=self.config.idle_poll_max)
        failing = Backoff(base=1.0, cap=self.config.backoff_cap)
        while True:
            free = self.config.concurrency - len(self._tasks)
            if free <= 0:
                self._slot_freed.clear()
                await self._slot_freed.wait()
                continue
            try:
                assignments = await self.client.lease(free, list(self.config.projects) or None)
            except CoordinatorUnavailable as exc:
                delay = failing.next_delay()
                log.warning("lease.unavailable retry_in=%.1fs error=%s", delay, exc)
                await asyncio.sleep(delay)
                continue
            except Rejected as exc:
                delay = failing.next_delay()
                log.error("lease.refused retry_in=%.1fs error=%s", delay, exc)
                await asyncio.sleep(delay)
                continue
            failing.reset()
            if not assignments:
                await asyncio.sleep(idle.next_delay())
                continue
            idle.reset()
            for a in assignments:
                self.stats.leased += 1
                self._tasks[a["result_id"]] = asyncio.create_task(self._execute(a))

    async def _execute(self, a: dict[str, Any]) -> None:
        rid = a["result_id"]
        self.stats.running[rid] = {"project": a["project"], "params": a["params"], "started": self.clock()}
        try:
            timeout = min(self.config.max_task_seconds, a["deadline_at"] - self.clock())
            if timeout <= 0:
                log.warning("task.skipped result=%d reason=deadline already passed", rid)
                return
            log.info("task.started result=%d project=%s params=%s", rid, a["project"], a["params"])
            outcome = await self.runner.run(rid, a["app"], a["params"], timeout)
            if outcome.output is not None:
                entry = SpoolEntry(rid, "success", hashlib.sha256(outcome.output).hexdigest(),
                                   len(outcome.output), outcome.cpu_seconds, outcome.wall_seconds, "",
                                   a["deadline_at"], a.get("upload"))
                self.stats.finished += 1
                log.info("task.finished result=%d wall=%.2fs cpu=%.2fs", rid, outcome.wall_seconds,
                         outcome.cpu_seconds)
            else:
                entry = SpoolEntry(rid, "error", "", 0, outcome.cpu_seconds, outcome.wall_seconds,
                                   outcome.error, a["deadline_at"], None)
                self.stats.failed += 1
                log.warning("task.failed result=%d error=%s", rid, outcome.error[:300])
            self.spool.add(entry, outcome.output)
            self._report_wake.set()
        finally:
            self.stats.running.pop(rid, None)
            self._tasks.pop(rid, None)
            self._slot_freed.set()

    # -- reporting ------------------------------------------------------------

    async def _report_loop(self) -> None:
        failing = Backoff(base=1.0, cap=self.config.backoff_cap)
        while True:
            entries = self.spool.entries()
            if not entries:
                self._report_wake.clear()
                await self._report_wake.wait()
                continue
            try:
                for entry in entries:
                    await self._deliver(entry)
                failing.reset()
            except CoordinatorUnavailable as exc:
                delay = failing.next_delay()
                log.warning("report.unavailable pending=%d retry_in=%.1fs error=%s",
                            len(entries), delay, exc)
                await asyncio.sleep(delay)

    async def _deliver(self, entry: SpoolEntry) -> None:
        rid = entry.result_id
        try:
            if entry.outcome == "success" and not entry.uploaded:
                await self._upload(entry)
            if entry.outcome == "success" and not entry.uploaded:
                return
            receipt = await self.client.report(entry.report_body())
        except Rejected as exc:
            if exc.status == 422 and "upload" in exc.detail:
                log.warning("report.reupload result=%d reason=%s", rid, exc.detail)
                entry.uploaded = False
                self.spool.save(entry)
                return
            # Final: the lease expired, or the result is not ours or finished.
            self.stats.refused += 1
            log.warning("report.refused result=%d error=%s", rid, exc)
            self.spool.remove(rid)
            return
        self.stats.reported += 1
        log.info("report.accepted result=%d state=%s verdict=%s duplicate=%s", rid,
                 receipt["state"], receipt["verdict"], receipt["duplicate"])
        self.spool.remove(rid)

    async def _upload(self, entry: SpoolEntry) -> None:
        data = self.spool.read_output(entry)
        if data is None:
            log.error("spool.output_corrupt result=%d: reporting an error instead", entry.result_id)
            entry.outcome, entry.error, entry.sha256, entry.size = "error", "local output file was lost or corrupted", "", 0
            self.spool.save(entry)
            return
        upload = entry.upload
        if upload is None or upload.get("expires_at", 0) < self.clock() + 30:
            upload = await self.client.upload_url(entry.result_id)
        try:
            await self.client.upload(upload, data)
        except Rejected as exc:
            if exc.status != 403:
                raise
            upload = await self.client.upload_url(entry.result_id)  # the URL went stale
            await self.client.upload(upload, data)
        entry.upload = upload
        entry.uploaded = True
        self.spool.save(entry)

    # -- heartbeat --------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_interval)
            try:
                await self.client.heartbeat(host.capabilities(self.config.data_dir))
            except AgentApiError as exc:
                log.warning("heartbeat.failed error=%s", exc)
