"""The agent's work loop: lease while the limits allow and slots are free, run
each task in the sandbox, spool its result to disk, then upload and report it.
Cooperating coroutines share one asyncio loop: lease, report, heartbeat, limits
(probe and decide once a second) and throttle (the CPU duty cycle). Every
network failure is met with backoff and jitter, never a busy loop."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from client.agent import apps, appsign, host, inputs, limits, preferences, sandbox, status
from client.agent.api import AgentApiError, CoordinatorClient, CoordinatorUnavailable, Rejected
from client.agent.backoff import Backoff
from client.agent.config import AgentConfig, ConfigError
from client.agent.governor import Governor
from client.agent.probes import HostProbes, SystemProbes
from client.agent.runner import TaskRunner
from client.agent.spool import Spool, SpoolEntry

log = logging.getLogger("newral.agent")

# After the data folder could not be written (disk full), no new work for this long.
DISK_RETRY_SECONDS = 30.0
GIVEN_UP_KEPT = 1000  # results let go unreported (deadline passed), remembered so they are not sent again
INLINE_OUTPUT_MAX = 64 << 10  # outputs up to this size travel inside the report, no upload
REPORT_BATCH_MAX = 64
REPORT_BATCH_BYTES = 512 << 10  # the coordinator takes request bodies up to about 1 MiB


@dataclass
class Stats:
    leased: int = 0
    finished: int = 0
    failed: int = 0
    reported: int = 0
    refused: int = 0
    cpu_seconds: float = 0.0
    running: dict[int, dict[str, Any]] = field(default_factory=dict)


class Agent:
    def __init__(self, config: AgentConfig, client: CoordinatorClient, *,
                 clock: Callable[[], float] = time.time, prefs: preferences.Preferences | None = None,
                 probes: HostProbes | None = None, provider: sandbox.SandboxProvider | None = None,
                 limits_interval: float = 1.0, throttle_tick: float = 0.05,
                 now: Callable[[], datetime] = datetime.now) -> None:
        self.config = config
        self.client = client
        self.clock = clock
        self._prefs_file = preferences.preferences_path(config.data_dir)
        self._prefs_mtime = self._mtime()
        prefs = prefs if prefs is not None else preferences.load_preferences(config.data_dir)
        self.spool = Spool(config.data_dir / "spool")
        self.runner = TaskRunner(config.data_dir / "work", memory_bytes=prefs.task_memory_mb << 20,
                                 provider=provider)
        self.governor = Governor(prefs, probes or SystemProbes(), config.data_dir, config.concurrency,
                                 clock=clock, now=now)
        self.governor.throttle.tick = throttle_tick
        self.limits_interval = limits_interval
        self.stats = Stats()
        self.offline = False
        self.last_error = ""
        self.node_info: dict[str, Any] = {}
        self._order: list[int] = []  # running results in start order: who keeps running when cores shrink
        self._stopping = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._report_wake = asyncio.Event()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        # Results this agent let go without a report (their deadline had passed by its clock):
        # listed as held in leases, so that a coordinator whose clock is behind does not send
        # them again and again. The newest GIVEN_UP_KEPT are kept.
        self._given_up: dict[int, None] = {}
        self._unpinned_logged: set[str] = set()
        self.benchmark = 0.0  # integers/s of the sweep kernel, for time estimates; 0: unknown
        self._disk_full_until = 0.0  # monotonic; no leasing before it (the data folder was full)
        self._direct_reports: set[asyncio.Task[None]] = set()
        # Workflow inputs: downloaded by the agent (never the task), checked, cached by sha256.
        cache_cap = (prefs.disk_cap_mb << 19) if prefs.disk_cap_mb else 1 << 30  # half the disk cap
        self.input_cache = inputs.InputCache(config.data_dir / "inputs", cache_cap)
        self.input_source = inputs.HttpInputSource(
            client.http, config.coordinator, lambda: client.credentials.bearer() if client.credentials else "")

    @property
    def prefs(self) -> preferences.Preferences:
        return self.governor.prefs

    # -- controls (safe to call from another thread: plain attribute writes) ---------

    def stop(self) -> None:
        self._stopping.set()

    def pause(self) -> None:
        self.governor.pause()
        log.info("agent.paused by=user")

    def resume(self) -> None:
        self.governor.resume()
        log.info("agent.resumed by=user")

    def snooze(self, seconds: float) -> None:
        self.governor.snooze(seconds)
        log.info("agent.snoozed seconds=%d", seconds)

    def set_preferences(self, prefs: preferences.Preferences) -> None:
        self.governor.prefs = prefs.validate()
        self.governor.invalidate_disk()
        self.runner.memory_bytes = prefs.task_memory_mb << 20

    # -- running --------------------------------------------------------------------

    async def run(self) -> None:
        log.info("agent.started coordinator=%s concurrency=%d spooled=%d",
                 self.config.coordinator, self.config.concurrency, len(self.spool))
        protections = self.runner.protections()
        log.info("sandbox.protections provider=%s %s", self.runner.provider.name, sandbox.summary(protections))
        for p in protections:
            if not p.active:
                log.warning("sandbox.unprotected %s", p)
        idle = self.governor.probes.idle_method
        (log.warning if "unavailable" in idle else log.info)("idle.detection method=%r", idle)
        self._evaluate()
        loops = [asyncio.create_task(c) for c in
                 (self._lease_loop(), self._report_loop(), self._heartbeat_loop(), self._limits_loop(),
                  self._throttle_loop())]
        try:
            await self._stopping.wait()
        finally:
            for t in [*loops, *self._tasks.values()]:
                t.cancel()
            for t in [*loops, *self._tasks.values()]:
                with suppress(asyncio.CancelledError, Exception):
                    await t
            self.governor.throttle.release_all()
            log.info("agent.stopped finished=%d reported=%d spooled=%d",
                     self.stats.finished, self.stats.reported, len(self.spool))

    def _mtime(self) -> float:
        try:
            return self._prefs_file.stat().st_mtime
        except OSError:
            return 0.0

    def _reload_if_changed(self) -> None:
        mtime = self._mtime()
        if mtime == self._prefs_mtime:
            return
        self._prefs_mtime = mtime
        try:
            self.set_preferences(preferences.load_preferences(self.config.data_dir))
            log.info("preferences.reloaded file=%s", self._prefs_file)
        except ConfigError as exc:
            log.error("preferences.invalid error=%s (keeping the previous ones)", exc)

    def _pids_in_order(self) -> list[int]:
        return [self.runner.pids[r] for r in self._order if r in self.runner.pids]

    def _evaluate(self) -> limits.Decision:
        decision = self.governor.evaluate(self._pids_in_order())
        self.governor.plan(self._pids_in_order())
        if decision.may_lease:
            self._slot_freed.set()
        return decision

    async def _limits_loop(self) -> None:
        while True:
            await asyncio.sleep(self.limits_interval)
            self._reload_if_changed()
            try:
                self._evaluate()
            except Exception:  # a probe failing must not stop the limits; the next tick retries
                log.exception("limits.evaluate_failed")

    async def _throttle_loop(self) -> None:
        throttle = self.governor.throttle
        try:
            while True:
                self.governor.plan(self._pids_in_order())
                await asyncio.sleep(throttle.tick)
        finally:
            throttle.release_all()

    def _slots(self) -> int:
        d = self.governor.decision
        if d is None or not d.may_lease:
            return 0
        if time.monotonic() < self._disk_full_until:
            return 0
        return min(self.config.concurrency, d.cores) - len(self._tasks)

    async def _lease_loop(self) -> None:
        idle = Backoff(base=1.0, cap=self.config.idle_poll_max)
        failing = Backoff(base=1.0, cap=self.config.backoff_cap)
        while True:
            free = self._slots()
            if free <= 0:
                self._slot_freed.clear()
                with suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._slot_freed.wait(), self.limits_interval * 2)
                continue
            projects = list(self.config.projects) or self.prefs.opted_in()
            try:
                held = set(self._tasks) | self.spool.result_ids() | set(self._given_up)
                assignments = await self.client.lease(free, projects, held)
            except CoordinatorUnavailable as exc:
                self.offline = True
                delay = exc.delay(failing.next_delay())
                log.warning("lease.unavailable retry_in=%.1fs error=%s", delay, exc)
                await asyncio.sleep(delay)
                continue
            except Rejected as exc:
                self.last_error = f"the coordinator refused to hand out work: {exc.detail or exc}"
                delay = failing.next_delay()
                log.error("lease.refused retry_in=%.1fs error=%s", delay, exc)
                await asyncio.sleep(delay)
                continue
            self.offline = False
            failing.reset()
            if not assignments:
                await asyncio.sleep(idle.next_delay())
                continue
            idle.reset()
            for a in assignments:
                if a["result_id"] in held:
                    # Sent again though held (a list too long to send, an older coordinator): one copy runs.
                    log.info("lease.duplicate result=%d (already held)", a["result_id"])
                    continue
                self.stats.leased += 1
                self._order.append(a["result_id"])
                self._tasks[a["result_id"]] = asyncio.create_task(self._execute(a))

    async def _execute(self, a: dict[str, Any]) -> None:
        rid = a["result_id"]
        self.stats.running[rid] = {"project": a["project"], "app": a["app"], "params": a["params"],
                                   "started": self.clock()}
        try:
            timeout = min(self.config.max_task_seconds, a["deadline_at"] - self.clock())
            if timeout <= 0:
                log.warning("task.skipped result=%d reason=deadline already passed", rid)
                self._given_up[rid] = None
                while len(self._given_up) > GIVEN_UP_KEPT:
                    del self._given_up[next(iter(self._given_up))]
                return
            try:
                code = apps.resolve(a, self.prefs, self.config.data_dir)
            except appsign.SignatureError as exc:
                self._refuse(a, exc)
                return
            if code.builtin == a["app"] and not code.files and a["project"] not in self._unpinned_logged:
                self._unpinned_logged.add(a["project"])
                log.info("apps.builtin project=%s app=%s: no project key pinned; running the app shipped "
                         "with this client", a["project"], a["app"])
            params = a["params"]
            if params.get("inputs"):
                try:
                    params = await self._fetch_inputs(rid, params)
                except inputs.InputError as exc:
                    self._fail_before_start(a, f"input: {exc}")
                    return
            log.info("task.started result=%d project=%s params=%s", rid, a["project"], a["params"])
            outcome = await self.runner.run(rid, code, params, timeout)
            self.stats.cpu_seconds += outcome.cpu_seconds
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
        except OSError as exc:  # the data folder is full or unwritable: hand the work back, then wait
            self._disk_trouble(a, exc)
        finally:
            self.stats.running.pop(rid, None)
            self._tasks.pop(rid, None)
            with suppress(ValueError):
                self._order.remove(rid)
            self._slot_freed.set()

    async def _fetch_inputs(self, rid: int, params: dict[str, Any]) -> dict[str, Any]:
        """The task's params plus the local paths of its inputs (within the network quota)."""
        daily = self.prefs.daily_network_mb << 20
        budget = daily - self.governor.meter.used_today() if daily else 1 << 40
        paths, used = await inputs.fetch_inputs(self.input_source, rid, list(params["inputs"]),
                                                self.input_cache, budget)
        self.governor.meter.add(used)
        return {**params, "input_paths": {name: str(path) for name, path in paths.items()}}

    def _fail_before_start(self, a: dict[str, Any], reason: str) -> None:
        rid = a["result_id"]
        self.stats.failed += 1
        self.last_error = f"a task of {a['project']} could not start: {reason}"
        log.warning("task.failed result=%d error=%s", rid, reason[:300])
        self.spool.add(SpoolEntry(rid, "error", "", 0, 0.0, 0.0, reason, a["deadline_at"], None), None)
        self._report_wake.set()

    def _disk_trouble(self, a: dict[str, Any], exc: OSError) -> None:
        rid = a["result_id"]
        self.stats.failed += 1
        self._disk_full_until = time.monotonic() + DISK_RETRY_SECONDS
        self.last_error = f"cannot write to the data folder {self.config.data_dir}: {exc}"
        log.error("task.disk_error result=%d error=%s; no new work for %ds", rid, exc, DISK_RETRY_SECONDS)
        entry = SpoolEntry(rid, "error", "", 0, 0.0, 0.0, f"the agent could not write its data folder: {exc}",
                           a["deadline_at"], None)
        try:
            self.spool.add(entry, None)
            self._report_wake.set()
        except OSError:  # not even that fits: tell the coordinator now, so the work goes elsewhere
            task = asyncio.create_task(self._report_directly(entry))
            self._direct_reports.add(task)
            task.add_done_callback(self._direct_reports.discard)

    async def _report_directly(self, entry: SpoolEntry) -> None:
        try:
            await self.client.report(entry.report_body())
            log.info("report.accepted result=%d state=errored (sent without the spool)", entry.result_id)
        except AgentApiError as exc:  # its lease will expire and the work be reissued anyway
            log.warning("report.failed result=%d error=%s", entry.result_id, exc)

    def _refuse(self, a: dict[str, Any], exc: appsign.SignatureError) -> None:
        rid = a["result_id"]
        self.stats.failed += 1
        self.last_error = f"refused a task of {a['project']}: {exc}"
        log.error("task.refused result=%d project=%s app=%s reason=%s", rid, a["project"], a["app"], exc)
        self.spool.add(SpoolEntry(rid, "error", "", 0, 0.0, 0.0, f"app signature check failed: {exc}",
                                  a["deadline_at"], None), None)
        self._report_wake.set()

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
                deferred = await self._deliver_all(entries)
                failing.reset()
                self.offline = False
                if deferred:
                    log.info("report.deferred pending=%d reason=daily network quota used up", deferred)
                    await asyncio.sleep(60)
            except CoordinatorUnavailable as exc:
                self.offline = True
                delay = exc.delay(failing.next_delay())
                log.warning("report.unavailable pending=%d retry_in=%.1fs error=%s",
                            len(entries), delay, exc)
                await asyncio.sleep(delay)
            except OSError as exc:  # the spool cannot be written (disk full): keep the loop alive
                delay = failing.next_delay()
                log.error("report.disk_error pending=%d retry_in=%.1fs error=%s", len(entries), delay, exc)
                await asyncio.sleep(delay)

    async def _deliver_all(self, entries: list[SpoolEntry]) -> int:
        """Errors and small outputs go in report-batch requests, outputs inline (no
        upload); big or already uploaded outputs one by one. Returns how many wait
        for tomorrow's network quota."""
        deferred = 0
        batch: list[tuple[SpoolEntry, dict[str, Any], int]] = []
        for entry in entries:
            if entry.outcome == "success" and (entry.uploaded or entry.size > INLINE_OUTPUT_MAX):
                deferred += not await self._deliver(entry)
                continue
            body, sent = entry.report_body(), 0
            if entry.outcome == "success":
                if not limits.fits_network_quota(self.prefs, self.governor.meter.used_today(), entry.size):
                    deferred += 1
                    continue
                data = self.spool.read_output(entry)
                if data is None:
                    self._output_lost(entry)
                    body = entry.report_body()
                else:
                    body["output"], sent = base64.b64encode(data).decode(), len(data)
            batch.append((entry, body, sent))
            if len(batch) == REPORT_BATCH_MAX or sum(n for _, _, n in batch) > REPORT_BATCH_BYTES:
                await self._deliver_batch(batch)
                batch = []
        if batch:
            await self._deliver_batch(batch)
        return deferred

    async def _deliver_batch(self, batch: list[tuple[SpoolEntry, dict[str, Any], int]]) -> None:
        try:
            receipts = await self.client.report_batch([body for _, body, _ in batch])
        except Rejected as exc:  # the batch as a whole (an older coordinator, say): one by one
            log.warning("report.batch_refused error=%s; reporting one by one", exc)
            for entry, _, _ in batch:
                await self._deliver(entry)
            return
        busy = 0
        for (entry, _, sent), r in zip(batch, receipts, strict=True):
            rid = entry.result_id
            if r.get("ok"):
                self.governor.meter.add(sent)
                self.stats.reported += 1
                log.info("report.accepted result=%d state=%s verdict=%s duplicate=%s", rid,
                         r.get("state"), r.get("verdict"), r.get("duplicate"))
                self.spool.remove(rid)
            elif int(r.get("status", 500)) >= 500 or r.get("status") == 429:
                busy += 1  # stays in the spool for the next round
            else:  # final: the lease expired, or the result is not ours or finished
                self.stats.refused += 1
                log.warning("report.refused result=%d error=%s %s: %s", rid, r.get("status"), r.get("error"),
                            r.get("detail"))
                self.spool.remove(rid)
        if busy:
            raise CoordinatorUnavailable(f"{busy} of {len(batch)} reports could not be processed now")

    def _output_lost(self, entry: SpoolEntry) -> None:
        log.error("spool.output_corrupt result=%d: reporting an error instead", entry.result_id)
        entry.outcome, entry.sha256, entry.size = "error", "", 0
        entry.error = "local output file was lost or corrupted"
        self.spool.save(entry)

    async def _deliver(self, entry: SpoolEntry) -> bool:
        """False when the upload must wait for tomorrow's network quota."""
        rid = entry.result_id
        try:
            if entry.outcome == "success" and not entry.uploaded:
                if not limits.fits_network_quota(self.prefs, self.governor.meter.used_today(), entry.size):
                    return False
                await self._upload(entry)
            if entry.outcome == "success" and not entry.uploaded:
                return True
            receipt = await self.client.report(entry.report_body())
        except Rejected as exc:
            if exc.status == 422 and "upload" in exc.detail:
                log.warning("report.reupload result=%d reason=%s", rid, exc.detail)
                entry.uploaded = False
                self.spool.save(entry)
                return True
            # Final: the lease expired, or the result is not ours or finished.
            self.stats.refused += 1
            log.warning("report.refused result=%d error=%s", rid, exc)
            self.spool.remove(rid)
            return True
        self.stats.reported += 1
        log.info("report.accepted result=%d state=%s verdict=%s duplicate=%s", rid,
                 receipt["state"], receipt["verdict"], receipt["duplicate"])
        self.spool.remove(rid)
        return True

    async def _upload(self, entry: SpoolEntry) -> None:
        data = self.spool.read_output(entry)
        if data is None:
            self._output_lost(entry)
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
        self.governor.meter.add(len(data))
        entry.upload = upload
        entry.uploaded = True
        self.spool.save(entry)

    # -- heartbeat --------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        while True:
            try:
                self.node_info = await self.client.heartbeat(host.capabilities(self.config.data_dir))
                self.offline = False
            except CoordinatorUnavailable as exc:
                self.offline = True
                log.warning("heartbeat.failed error=%s", exc)
            except AgentApiError as exc:
                self.last_error = f"heartbeat refused: {exc}"
                log.warning("heartbeat.failed error=%s", exc)
            await asyncio.sleep(self.config.heartbeat_interval)

    # -- what front ends show -----------------------------------------------------

    def snapshot(self) -> status.Snapshot:
        d = self.governor.decision
        now = self.clock()
        tasks = []
        for rid in list(self._order):
            info, pid = self.stats.running.get(rid), self.runner.pids.get(rid)
            if info is None:
                continue
            stopped = pid is not None and self.governor.throttle.is_stopped(pid)
            held = d is not None and pid in self._pids_in_order()[d.cores if d.run else 0:]
            state = "suspended" if held else "throttled" if stopped or (d and d.throttled) else "running"
            tasks.append(status.TaskView(rid, info["project"], info["app"], state, now - info["started"],
                                         _estimate(info["params"], self.benchmark), self.governor.task_cpu.get(pid or -1, 0.0)))
        state = self.governor.state(self.offline, error=False)
        line = d.status() if d is not None else "starting"
        if self.offline and state != "paused":
            line = f"offline: cannot reach {self.config.coordinator}; retrying"
        trust = self.node_info.get("trust_level", self.node_info.get("trust"))
        credit = self.node_info.get("credit")
        return status.Snapshot(
            state=state, status=line, coordinator=self.config.coordinator, tasks=tuple(tasks),
            finished=self.stats.finished, failed=self.stats.failed, reported=self.stats.reported,
            cpu_hours=self.stats.cpu_seconds / 3600, credit=float(credit) if isinstance(credit, (int, float)) else None,
            trust=str(trust) if trust is not None else None, node_status=self.node_info.get("status"),
            cpu_history=tuple(self.governor.cpu_history), protections=tuple(str(p) for p in self.runner.protections()),
            idle_method=self.governor.probes.idle_method, last_error=self.last_error,
            notes=d.notes if d is not None else ())


def _estimate(params: dict[str, Any], speed: float) -> float | None:
    """A rough guess for range sweeps from the kernel's speed on this machine (integers/s)."""
    try:
        size = int(params["b"]) - int(params["a"])
    except (KeyError, TypeError, ValueError):
        return None
    return size / speed if speed > 0 and size > 0 else None
