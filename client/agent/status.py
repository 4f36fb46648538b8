"""A read-only picture of the agent for front ends (the GUI polls it; no Qt here)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TaskView:
    result_id: int
    project: str
    app: str
    state: str  # running | throttled | suspended
    elapsed: float
    estimate: float | None  # seconds for the whole task, when the benchmark allows a guess
    cpu_percent: float  # of one core

    @property
    def progress(self) -> float | None:
        if not self.estimate:
            return None
        return min(0.99, self.elapsed / self.estimate)


@dataclass(frozen=True)
class Snapshot:
    state: str  # running | paused | throttled | offline | error
    status: str  # the tray's status line, in plain words
    coordinator: str
    tasks: tuple[TaskView, ...] = ()
    finished: int = 0
    failed: int = 0
    reported: int = 0
    cpu_hours: float = 0.0
    credit: float | None = None  # as the coordinator reports it; None if it does not
    trust: str | None = None
    node_status: str | None = None
    cpu_history: tuple[float, ...] = ()
    protections: tuple[str, ...] = ()
    idle_method: str = ""
    last_error: str = ""
    notes: tuple[str, ...] = field(default=())
