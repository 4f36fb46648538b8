"""A small coordinator world for domain tests: a project, nodes, and a store."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from coordinator.db.database import Database
from coordinator.db.models import Admin, Node, Project
from coordinator.domain import leasing, nodes, projects, reporting
from coordinator.store import LocalStore, UrlSigner
from cyext import bpsw_format

CAPS = nodes.Capabilities(platform="linux", arch="x86_64", cores=4, memory_bytes=8 << 30,
                          disk_free_bytes=100 << 30, client_version="0.1.0", benchmark=1e8)
MAX_OUTPUT = 1 << 20


@dataclass
class World:
    db: Database
    store: LocalStore
    now: float = 1_000_000.0

    async def project(self, a: int = 0, b: int = 100_000, chunk: int = 10_000,
                      **replication: float) -> Project:
        async with self.db.transaction() as s:
            await nodes.ensure_admin(s, "admin", self.now)
            project = await projects.create_project(s, "hunt", "bpsw-hunter", self.now)
            await projects.submit_work(s, project, {"a": a, "b": b, "chunk": chunk},
                                       projects.Replication(**replication), self.now)  # type: ignore[arg-type]
        return project

    async def node(self, name: str = "n") -> Node:
        async with self.db.transaction() as s:
            admin_row = await s.scalar(select(Admin).limit(1))
            assert admin_row is not None
            token = await nodes.create_enrolment_token(s, admin_row, self.now)
            node_id, _ = await nodes.enrol(s, token, name, CAPS, self.now)
            return await s.get(Node, node_id)  # type: ignore[return-value]

    async def lease(self, node: Node, n: int = 1) -> list[leasing.Assignment]:
        async with self.db.transaction() as s:
            fresh = await s.get(Node, node.id)
            assert fresh is not None
            return await leasing.lease(s, fresh, n, self.now)

    async def upload(self, a: leasing.Assignment, data: bytes | None = None) -> bytes:
        if data is None:
            data = bpsw_format.encode(bpsw_format.run_sweep(int(a.params["a"]), int(a.params["b"])))
        await self.store.put(a.output_key, data)
        return data

    async def report(self, node: Node, a: leasing.Assignment, data: bytes | None = None,
                     **overrides: object) -> reporting.Receipt:
        if data is None:
            data = await self.upload(a)
        fields = dict(result_id=a.result_id, outcome="success",
                      sha256=hashlib.sha256(data).hexdigest(), size=len(data))
        fields.update(overrides)
        return await reporting.submit(self.db, self.store, node.id, reporting.Report(**fields),  # type: ignore[arg-type]
                                      self.now, MAX_OUTPUT)


def make_world(db: Database, tmp_path: Path) -> World:
    store = LocalStore(tmp_path / "objects", "http://127.0.0.1:1", UrlSigner(b"k" * 32))
    return World(db=db, store=store)
