"""Agent log records for the Log tab: a logging handler that keeps recent lines
in plain words, drained by the GUI thread (no Qt call from the agent's thread)."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

PLAIN = {
    "agent.started": "Started working for the coordinator",
    "agent.stopped": "Stopped",
    "agent.paused": "Paused",
    "agent.resumed": "Resumed",
    "agent.snoozed": "Snoozed",
    "task.started": "Started a task",
    "task.finished": "Finished a task",
    "task.failed": "A task failed",
    "task.refused": "Refused a task: its app did not pass the signature check",
    "report.accepted": "The coordinator accepted a result",
    "report.unavailable": "Could not reach the coordinator to report; will retry",
    "lease.unavailable": "Could not reach the coordinator for work; will retry",
    "limits.changed": "Now",
    "sandbox.protections": "Sandbox protections on this machine",
    "sandbox.unprotected": "Not protected here",
    "idle.detection": "Idle detection",
    "preferences.reloaded": "Preferences reloaded",
    "heartbeat.failed": "The coordinator did not answer the heartbeat",
}


def plain(message: str) -> str:
    """'task.started result=3 ...' -> 'Started a task (result=3 ...)'."""
    event, _, rest = message.partition(" ")
    words = PLAIN.get(event)
    if words is None:
        return message
    return f"{words}: {rest}" if rest else words


class LogBridge(logging.Handler):
    def __init__(self, maxlen: int = 2000) -> None:
        super().__init__(logging.INFO)
        self._lines: deque[tuple[str, str]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = plain(record.getMessage())
        except Exception:  # noqa: BLE001 (a bad format string must not break logging)
            text = str(record.msg)
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        with self._lock:
            self._lines.append((record.levelname, f"{stamp}  {text}"))

    def drain(self) -> list[tuple[str, str]]:
        with self._lock:
            lines = list(self._lines)
            self._lines.clear()
        return lines
