"""Readings of the host for the limits: battery, idle time, running programs,
other programs' CPU use and our tasks' memory. `SystemProbes` asks the OS;
`FixedProbes` returns what a test (or a simulation) sets. Both honour one
contract (tests/client/test_probes.py).

Idle time, in order: pynput (keyboard and mouse events, where a display server
allows it), the OS idle time (X11 XScreenSaver, Windows GetLastInputInfo, macOS
HIDIdleTime), else unavailable, which the UI and the log say in plain words."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import psutil

log = logging.getLogger("newral.agent.probes")


class HostProbes(Protocol):
    idle_method: str  # how idle time is measured, or why it cannot be

    def battery(self) -> tuple[bool | None, float | None]: ...
    def idle_seconds(self) -> float | None: ...
    def running_programs(self) -> frozenset[str]: ...
    def other_cpu_percent(self, task_pids: Iterable[int]) -> float: ...
    def memory(self, task_pids: Iterable[int]) -> tuple[int, int]: ...


@dataclass
class FixedProbes:
    """Readings set by hand: for tests and for simulating a laptop unplugged."""

    on_battery: bool | None = None
    battery_percent: float | None = None
    idle: float | None = None
    programs: frozenset[str] = frozenset()
    other_cpu: float = 0.0
    tasks_memory: int = 0
    total_memory: int = 16 << 30
    idle_method: str = "injected readings"

    def battery(self) -> tuple[bool | None, float | None]:
        return self.on_battery, self.battery_percent

    def idle_seconds(self) -> float | None:
        return self.idle

    def running_programs(self) -> frozenset[str]:
        return self.programs

    def other_cpu_percent(self, task_pids: Iterable[int]) -> float:
        return self.other_cpu

    def memory(self, task_pids: Iterable[int]) -> tuple[int, int]:
        return self.tasks_memory, self.total_memory


def _tree(pids: Iterable[int]) -> list[psutil.Process]:
    procs = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            procs.append(p)
            procs.extend(p.children(recursive=True))
        except psutil.Error:
            continue
    return procs


class _PynputIdle:
    """Last keyboard or mouse event, from pynput's listeners (needs a display)."""

    def __init__(self) -> None:
        from pynput import keyboard, mouse  # fails without a display server

        self.last = time.monotonic()
        touch = self._touch
        self._listeners = [
            mouse.Listener(on_move=touch, on_click=touch, on_scroll=touch),
            keyboard.Listener(on_press=touch, on_release=touch),
        ]
        for listener in self._listeners:
            listener.daemon = True
            listener.start()

    def _touch(self, *_args: object) -> None:
        self.last = time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() - self.last


class _XssInfo(ctypes.Structure):
    _fields_ = [("window", ctypes.c_ulong), ("state", ctypes.c_int), ("kind", ctypes.c_int),
                ("til_or_since", ctypes.c_ulong), ("idle", ctypes.c_ulong), ("eventMask", ctypes.c_ulong)]


class _X11Idle:
    """The X server's own idle counter (XScreenSaverQueryInfo), via ctypes."""

    def __init__(self) -> None:
        xlib_name, xss_name = ctypes.util.find_library("X11"), ctypes.util.find_library("Xss")
        if not os.environ.get("DISPLAY") or not xlib_name or not xss_name:
            raise OSError("no X display or no libXss")
        self.xlib, self.xss = ctypes.CDLL(xlib_name), ctypes.CDLL(xss_name)
        self.xlib.XOpenDisplay.restype = ctypes.c_void_p
        self.xlib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        self.xlib.XDefaultRootWindow.restype = ctypes.c_ulong
        self.xss.XScreenSaverAllocInfo.restype = ctypes.POINTER(_XssInfo)
        self.xss.XScreenSaverQueryInfo.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(_XssInfo)]
        self.display = self.xlib.XOpenDisplay(None)
        if not self.display:
            raise OSError("cannot open the X display")
        self.info = self.xss.XScreenSaverAllocInfo()
        if not self() >= 0:
            raise OSError("XScreenSaver extension unusable")

    def __call__(self) -> float:
        root = self.xlib.XDefaultRootWindow(self.display)
        if not self.xss.XScreenSaverQueryInfo(self.display, root, self.info):
            raise OSError("XScreenSaverQueryInfo failed")
        return float(self.info.contents.idle) / 1000.0


class _WindowsIdle:
    def __init__(self) -> None:
        class LastInput(ctypes.Structure):
            _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint)]

        self.info = LastInput()
        self.info.cbSize = ctypes.sizeof(LastInput)
        self.user32 = ctypes.windll.user32  # type: ignore[attr-defined]
        self.kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        self()

    def __call__(self) -> float:
        if not self.user32.GetLastInputInfo(ctypes.byref(self.info)):
            raise OSError("GetLastInputInfo failed")
        return ((self.kernel32.GetTickCount() - self.info.dwTime) & 0xFFFFFFFF) / 1000.0


class _MacIdle:
    def __init__(self) -> None:
        self()

    def __call__(self) -> float:
        out = subprocess.run(["ioreg", "-c", "IOHIDSystem", "-d", "4"], capture_output=True, text=True,
                             timeout=5, check=False).stdout
        for line in out.splitlines():
            if '"HIDIdleTime"' in line:
                return int(line.rsplit("=", 1)[1].strip()) / 1e9
        raise OSError("no HIDIdleTime in ioreg")


def _idle_source() -> tuple[object | None, str]:
    candidates: list[tuple[str, type]] = []
    if sys.platform == "win32":
        candidates.append(("Windows last-input time", _WindowsIdle))
    elif sys.platform == "darwin":
        candidates.append(("macOS HID idle time", _MacIdle))
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform in ("win32", "darwin"):
        candidates.insert(0, ("keyboard and mouse events (pynput)", _PynputIdle))
    if os.environ.get("DISPLAY"):
        candidates.append(("X11 idle time (XScreenSaver)", _X11Idle))
    for name, cls in candidates:
        try:
            return cls(), name
        except Exception as exc:  # noqa: BLE001 (each backend fails in its own way without a desktop)
            log.debug("idle.backend_unusable backend=%s error=%s", name, exc)
    return None, "idle detection unavailable (no display server or desktop idle API)"


@dataclass
class SystemProbes:
    """The real machine, through psutil and the desktop's idle APIs."""

    own_pid: int = field(default_factory=os.getpid)

    def __post_init__(self) -> None:
        self._idle, self.idle_method = _idle_source()
        self._lock = threading.Lock()
        psutil.cpu_percent(None)  # primes the counter: the next call measures since now
        self._task_times: dict[int, float] = {}
        self._last = time.monotonic()

    def battery(self) -> tuple[bool | None, float | None]:
        try:
            b = psutil.sensors_battery()
        except (AttributeError, NotImplementedError, OSError):
            b = None
        if b is None:
            return False, None  # no battery: on mains
        return (not b.power_plugged if b.power_plugged is not None else None), float(b.percent)

    def idle_seconds(self) -> float | None:
        if self._idle is None:
            return None
        try:
            return float(self._idle())  # type: ignore[operator]
        except Exception as exc:  # noqa: BLE001 (a desktop API failing must not stop the limits)
            log.warning("idle.read_failed error=%s", exc)
            return None

    def running_programs(self) -> frozenset[str]:
        names = set()
        for p in psutil.process_iter(["name"]):
            name = p.info.get("name")
            if name:
                names.add(str(name))
        return frozenset(names)

    def other_cpu_percent(self, task_pids: Iterable[int]) -> float:
        """CPU used by everything but our tasks since the last call, as % of the machine."""
        with self._lock:
            now = time.monotonic()
            total = psutil.cpu_percent(None)
            spent = 0.0
            seen: dict[int, float] = {}
            for p in _tree(task_pids):
                try:
                    t = p.cpu_times()
                    seen[p.pid] = t.user + t.system
                    spent += seen[p.pid] - self._task_times.get(p.pid, seen[p.pid])
                except psutil.Error:
                    continue
            elapsed = max(now - self._last, 1e-3)
            self._task_times, self._last = seen, now
            ours = 100.0 * spent / elapsed / (os.cpu_count() or 1)
            return max(0.0, total - ours)

    def memory(self, task_pids: Iterable[int]) -> tuple[int, int]:
        used = 0
        for p in _tree(task_pids):
            try:
                used += p.memory_info().rss
            except psutil.Error:
                continue
        return used, int(psutil.virtual_memory().total)
