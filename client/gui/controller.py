"""The GUI's handle on the agent: runs client.agent.loop.Agent on its own asyncio
loop in a background thread, polls its snapshot on a timer and turns it into Qt
signals. Widgets never touch the agent directly."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from client.agent import host, preferences, sandbox, status
from client.agent.api import AgentApiError, CoordinatorClient, Rejected
from client.agent.config import AgentConfig, ConfigError, load_config
from client.agent.credentials import Credentials, CredentialStore
from client.agent.loop import Agent
from client.agent.probes import HostProbes, SystemProbes
from client.gui.log_bridge import LogBridge

log = logging.getLogger("newral.gui")


class AgentController(QObject):
    snapshot_changed = Signal(object)  # status.Snapshot
    log_lines = Signal(list)  # [(level, text)]
    error = Signal(str)
    attached = Signal(str)  # coordinator URL
    preferences_changed = Signal(object)  # preferences.Preferences

    def __init__(self, data_dir: Path, *, probes: HostProbes | None = None,
                 provider: sandbox.SandboxProvider | None = None, use_keyring: bool | None = None,
                 poll_ms: int = 500, heartbeat_interval: float | None = None) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.probes = probes or SystemProbes()
        self.provider = provider
        self.store = CredentialStore(data_dir, use_keyring=use_keyring)
        self.heartbeat_interval = heartbeat_interval
        self.prefs = preferences.load_preferences(data_dir)
        self.error_text = ""
        self._agent: Agent | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._bridge = LogBridge()
        logging.getLogger("newral").addHandler(self._bridge)
        logging.getLogger("newral").setLevel(logging.INFO)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.poll)
        self._timer.start(poll_ms)

    # -- configuration --------------------------------------------------------------

    def config(self) -> AgentConfig:
        overrides = {"heartbeat_interval": self.heartbeat_interval} if self.heartbeat_interval else {}
        return load_config(data_dir=self.data_dir, **overrides)

    @property
    def coordinator(self) -> str:
        try:
            return self.config().coordinator
        except ConfigError:
            return ""

    def is_attached(self) -> bool:
        url = self.coordinator
        return bool(url) and self.store.load(url) is not None

    def save_preferences(self, prefs: preferences.Preferences) -> None:
        """Validates, writes agent.toml and hands the new limits to the running agent."""
        preferences.save_preferences(self.data_dir, prefs)
        self.prefs = prefs
        if self._agent is not None:
            self._agent.set_preferences(prefs)
        log.info("preferences.saved file=%s", preferences.preferences_path(self.data_dir))
        self.preferences_changed.emit(prefs)

    def set_opted_in(self, project: str, opted_in: bool) -> None:
        entry = self.prefs.project(project) or preferences.ProjectEntry()
        self.save_preferences(self.prefs.with_project(project, replace(entry, opted_in=opted_in)))

    # -- attach and detach ------------------------------------------------------------

    def attach(self, url: str, token: str, keys: dict[str, str] | None = None) -> None:
        """Enrols in the background; `attached` or `error` follows."""
        url = url.strip().rstrip("/")
        prefs = self.prefs
        try:
            if not url.startswith(("http://", "https://")):
                raise ConfigError("the coordinator URL must start with http:// or https://")
            if not token.strip():
                raise ConfigError("paste the enrolment token the project gave you")
            for project, key in (keys or {}).items():
                from client.agent import appsign

                appsign.load_public_key(key)
                old = prefs.project(project)
                if old is not None and old.public_key and old.public_key != key.strip():
                    raise ConfigError(f"a different key is already pinned for {project}; detach first")
                prefs = prefs.with_project(project, preferences.ProjectEntry(True, key.strip()))
        except (ConfigError, ValueError) as exc:
            self._fail(str(exc))
            return
        threading.Thread(target=self._enrol_thread, args=(url, token.strip(), prefs), daemon=True).start()

    def _enrol_thread(self, url: str, token: str, prefs: preferences.Preferences) -> None:
        async def enrol() -> Credentials:
            client = CoordinatorClient(url)
            try:
                return await client.enrol(token, socket.gethostname()[:100] or "volunteer",
                                          host.capabilities(self.data_dir))
            finally:
                await client.close()

        try:
            creds = asyncio.run(enrol())
        except Rejected as exc:
            self._fail(f"the coordinator refused the enrolment: {exc.detail or exc}")
            return
        except AgentApiError as exc:
            self._fail(f"cannot reach the coordinator at {url}: {exc}")
            return
        self.store.save(creds)
        self.stop_agent()
        preferences.save_preferences(self.data_dir, prefs, agent={"coordinator": url})
        self.prefs = prefs
        self.error_text = ""
        log.info("attach.ok coordinator=%s node=%s", url, creds.node_id)
        self.attached.emit(url)
        self.preferences_changed.emit(prefs)
        self.start_agent()

    def detach(self) -> None:
        self.stop_agent()
        preferences.save_preferences(self.data_dir, self.prefs, agent={"coordinator": ""})
        log.info("detach.ok")
        self.poll()

    # -- the agent thread -------------------------------------------------------------

    def start_agent(self) -> bool:
        if self._thread is not None and self._thread.is_alive():
            return True
        try:
            cfg = self.config()
        except ConfigError as exc:
            self._fail(str(exc))
            return False
        creds = self.store.load(cfg.coordinator) if cfg.coordinator else None
        if creds is None:
            return False
        self._thread = threading.Thread(target=self._agent_thread, args=(cfg, creds), daemon=True,
                                        name="newral-agent")
        self._thread.start()
        return True

    def _agent_thread(self, cfg: AgentConfig, creds: Credentials) -> None:
        async def main() -> None:
            client = CoordinatorClient(cfg.coordinator, creds)
            try:
                agent = Agent(cfg, client, prefs=self.prefs, probes=self.probes, provider=self.provider)
                self._loop, self._agent = asyncio.get_running_loop(), agent
                await agent.run()
            finally:
                await client.close()

        try:
            asyncio.run(main())
        except Exception as exc:  # shown to the volunteer instead of a silent dead thread
            log.exception("agent.crashed")
            self._fail(f"the agent stopped: {exc}")
        finally:
            self._agent, self._loop = None, None

    def stop_agent(self) -> None:
        loop, agent, thread = self._loop, self._agent, self._thread
        if loop is not None and agent is not None:
            loop.call_soon_threadsafe(agent.stop)
        if thread is not None and thread is not threading.current_thread():
            thread.join(30)
        self._thread = None

    # -- tray controls ----------------------------------------------------------------------

    def pause(self) -> None:
        if self._agent is not None:
            self._agent.pause()
        self.poll()

    def resume(self) -> None:
        self.error_text = ""
        if self._agent is not None:
            self._agent.resume()
        self.poll()

    def snooze(self, seconds: float = 3600) -> None:
        if self._agent is not None:
            self._agent.snooze(seconds)
        self.poll()

    def _fail(self, text: str) -> None:
        self.error_text = text
        log.error("gui.error %s", text)
        self.error.emit(text)

    # -- polling ------------------------------------------------------------------------------

    def snapshot(self) -> status.Snapshot:
        agent = self._agent
        snap: status.Snapshot
        if agent is None:
            url = self.coordinator
            snap = status.Snapshot(state="offline", coordinator=url,
                                   status="not attached to a coordinator" if not url else f"not connected to {url}",
                                   idle_method=self.probes.idle_method)
        else:
            try:
                snap = agent.snapshot()
            except RuntimeError:  # a container changed under us: the next poll will do
                return status.Snapshot(state="running", status="", coordinator="")
        if self.error_text and snap.state != "paused":
            snap = replace(snap, state="error", status=f"error: {self.error_text}", last_error=self.error_text)
        return snap

    def poll(self) -> None:
        lines = self._bridge.drain()
        if lines:
            self.log_lines.emit(lines)
        snap = self.snapshot()
        if snap.status:
            self.snapshot_changed.emit(snap)

    def shutdown(self) -> None:
        self._timer.stop()
        self.stop_agent()
        logging.getLogger("newral").removeHandler(self._bridge)
