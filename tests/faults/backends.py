"""Backends a fault test may break on purpose: a throwaway PostgreSQL cluster
(the shared server must not be restarted) and a TCP proxy in front of the S3
server that can refuse connections for a while and come back on the same port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from glob import glob
from pathlib import Path

import asyncpg

from coordinator.cli import processes


class ThrowawayPostgres:
    """A PostgreSQL cluster of its own, in a temporary folder, on a free port,
    started and stopped with pg_ctl (as the postgres user when we are root)."""

    def __init__(self) -> None:
        bins = sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins:
            raise RuntimeError("no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)")
        self.bindir = Path(bins[-1]).parent
        self.root = Path(tempfile.mkdtemp(prefix="newral-pgfault-"))
        self.data = self.root / "data"
        self.port = processes.free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            shutil.chown(self.root, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        subprocess.run([*self._as, str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                        "--auth=trust"], check=True, capture_output=True)

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        # fsync off: this cluster holds nothing worth keeping past the test, and a crash of
        # the server process (stop -m immediate) is still recovered from its WAL.
        opts = f"-p {self.port} -k {self.root} -h 127.0.0.1 -c fsync=off -c max_connections=100"
        subprocess.run([*self._as, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts,
                        "-l", str(self.root / "server.log"), "-w", "-t", "60", "start"],
                       check=True, capture_output=True)

    def stop(self, mode: str = "fast") -> None:
        subprocess.run([*self._as, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode,
                        "-w", "-t", "60", "stop"], check=True, capture_output=True)

    def create_database(self, name: str) -> str:
        """Creates `name`; returns its SQLAlchemy URL."""
        async def go() -> None:
            conn = await asyncpg.connect(self.dsn())
            try:
                await conn.execute(f"CREATE DATABASE {name}")
            finally:
                await conn.close()

        asyncio.run(go())
        return self.dsn(name).replace("postgresql://", "postgresql+asyncpg://", 1)

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target. `down()` closes the listener and cuts
    every open connection, so clients see connection refused; `up()` listens again on
    the same port. The target (and what it stores) is untouched meanwhile."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = processes.free_port()
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, set()
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: down()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # went down meanwhile
                    client.close()
                    upstream.close()
                    return
                self._conns.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            with self._lock:
                self._conns.discard(src)
                self._conns.discard(dst)
