"""Several coordinator processes on one port, each with its own listening socket
(SO_REUSEPORT), so that the kernel spreads new connections evenly over them.

uvicorn's own `workers=N` shares one socket between the processes, and whichever
wakes first accepts: 128 fresh connections to four workers landed 44/5/37/42 there,
35/30/33/30 with a socket each (the kernel assigns each connection by a hash of its
addresses). Where SO_REUSEPORT is missing (Windows, say) serve.py falls back
to uvicorn's workers.

The supervisor restarts a worker that dies, stops them all on SIGTERM or SIGINT, and
each worker asks Linux to stop it when the supervisor dies (even by SIGKILL)."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

log = logging.getLogger("newral.workers")

APP = "coordinator.cli.serve:app_from_environment"


def supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound with SO_REUSEPORT: every worker binds one to the same address."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _die_with_parent(parent: int) -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    # A supervisor that died before the line above (while this worker was still starting)
    # sent no signal: the worker would outlive it, an orphan holding the port.
    if os.getppid() != parent:
        sys.exit(0)


def _worker(host: str, port: int, parent: int) -> None:
    _die_with_parent(parent)
    sock = listening_socket(host, port)
    config = uvicorn.Config(APP, factory=True, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def serve(host: str, port: int, count: int) -> int:
    """Runs `count` workers until SIGTERM or SIGINT; returns the exit status."""
    listening_socket(host, port).close()  # the port is free (or shared with SO_REUSEPORT): fail early if not
    spawn = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> BaseProcess:
        proc = spawn.Process(target=_worker, args=(host, port, os.getpid()), name="newral-coordinator-worker")
        proc.start()
        return proc

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workers = [start() for _ in range(count)]
    while not stopping:
        time.sleep(0.2)
        for i, proc in enumerate(workers):
            if not proc.is_alive() and not stopping:
                log.warning("coordinator worker %s exited with %s; starting another", proc.pid, proc.exitcode)
                workers[i] = start()
    for proc in workers:
        proc.terminate()  # SIGTERM: uvicorn finishes the requests in flight
    for proc in workers:
        proc.join(30)
        if proc.is_alive():
            proc.kill()
            proc.join()
    return 0
