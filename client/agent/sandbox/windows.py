"""Windows provider: the task runs in a Job Object that caps its memory and
process count and kills every process when the job is closed, at the lowest
priority class. Windows offers no per-process network block without a firewall
rule (administrator rights), so network isolation is reported as unavailable.
Written to the Win32 API but NOT tested here (the CI runs on Linux)."""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

from client.agent.sandbox.base import Confinement, Policy, Protection, SandboxProvider

JOB_OBJECT_LIMIT_ACTIVE_PROCESS = 0x8
JOB_OBJECT_LIMIT_PROCESS_MEMORY = 0x100
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
JOB_OBJECT_LIMIT_PROCESS_TIME = 0x2
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION = 9
IDLE_PRIORITY_CLASS = 0x40
CREATE_NEW_PROCESS_GROUP = 0x200
PROCESS_ALL_ACCESS = 0x1F0FFF


class _Basic(ctypes.Structure):
    _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                ("LimitFlags", ctypes.c_uint32), ("MinimumWorkingSetSize", ctypes.c_size_t),
                ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", ctypes.c_uint32),
                ("Affinity", ctypes.c_size_t), ("PriorityClass", ctypes.c_uint32),
                ("SchedulingClass", ctypes.c_uint32)]


class _Io(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in ("ReadOps", "WriteOps", "OtherOps", "ReadBytes", "WriteBytes",
                                              "OtherBytes")]


class _Extended(ctypes.Structure):
    _fields_ = [("Basic", _Basic), ("Io", _Io), ("ProcessMemoryLimit", ctypes.c_size_t),
                ("JobMemoryLimit", ctypes.c_size_t), ("PeakProcessMemoryUsed", ctypes.c_size_t),
                ("PeakJobMemoryUsed", ctypes.c_size_t)]


class JobConfinement(Confinement):
    def __init__(self, policy: Policy) -> None:
        self.k32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        self.job = self.k32.CreateJobObjectW(None, None)
        info = _Extended()
        info.Basic.LimitFlags = (JOB_OBJECT_LIMIT_ACTIVE_PROCESS | JOB_OBJECT_LIMIT_PROCESS_MEMORY
                                 | JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_PROCESS_TIME)
        info.Basic.ActiveProcessLimit = policy.processes
        info.Basic.PerProcessUserTimeLimit = policy.cpu_seconds * 10_000_000  # 100 ns units
        info.ProcessMemoryLimit = policy.memory_bytes
        self.k32.SetInformationJobObject(self.job, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION,
                                         ctypes.byref(info), ctypes.sizeof(info))

    def popen_kwargs(self) -> dict[str, Any]:
        return {"creationflags": IDLE_PRIORITY_CLASS | CREATE_NEW_PROCESS_GROUP}

    def started(self, pid: int) -> None:
        handle = self.k32.OpenProcess(PROCESS_ALL_ACCESS, False, pid)
        self.k32.AssignProcessToJobObject(self.job, handle)
        self.k32.CloseHandle(handle)

    def kill_all(self) -> None:
        self.k32.TerminateJobObject(self.job, 1)

    def close(self) -> None:
        self.k32.CloseHandle(self.job)  # KILL_ON_JOB_CLOSE ends anything left


class WindowsSandbox(SandboxProvider):
    name = "windows"

    def protections(self) -> list[Protection]:
        return [
            Protection("priority", True, "IDLE_PRIORITY_CLASS"),
            Protection("limits", True, "Job Object: CPU time, memory, process count"),
            Protection("processes", True, "Job Object active-process limit"),
            Protection("network", False, "network isolation unavailable without administrator rights"),
            Protection("filesystem", False, "the task can write wherever this user can"),
        ]

    def confine(self, workdir: Path, policy: Policy) -> Confinement:
        return JobConfinement(policy)

