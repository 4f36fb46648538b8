"""A coordinator world for workflow tests: real database, local object store,
nodes that run the real task apps in-process and report through the real
reporting path (so the engine is driven by transitions, as in production)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from client.taskapps import registry
from coordinator.db.database import Database
from coordinator.db.models import Admin, Node, Project
from coordinator.db.workflow_models import WorkflowTask
from coordinator.domain import leasing, nodes, projects, reporting
from coordinator.store import LocalStore, UrlSigner
from coordinator.workflows import lifecycle, views

CAPS = nodes.Capabilities(platform="linux", arch="x86_64", cores=4, memory_bytes=8 << 30,
                          disk_free_bytes=100 << 30, client_version="0.1.0", benchmark=1e8)
MAX_OUTPUT = 1 << 20


def sweep(name: str, a: int, after: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """A small, real bpsw-hunter task over [a, a + 1000)."""
    return {"name": name, "app": "bpsw-hunter", "params": {"a": str(a), "b": str(a + 1000)},
            "after": after or [], **extra}


@dataclass
class Flow:
    db: Database
    store: LocalStore
    now: float = 1_000_000.0
    nodes: list[Node] = field(default_factory=list)

    async def project(self, name: str = "flows", app: str = "bpsw-hunter") -> Project:
        async with self.db.transaction() as s:
            await nodes.ensure_admin(s, "admin", self.now)
            return await projects.create_project(s, name, app, self.now)

    async def node(self, name: str = "n") -> Node:
        async with self.db.transaction() as s:
            admin_row = await s.scalar(select(Admin).limit(1))
            assert admin_row is not None
            token = await nodes.create_enrolment_token(s, admin_row, self.now)
            node_id, _ = await nodes.enrol(s, token, name, CAPS, self.now)
            node = await s.get(Node, node_id)
            assert node is not None
            self.nodes.append(node)
            return node

    async def submit(self, doc: dict[str, Any], project: str = "flows") -> int:
        async with self.db.transaction() as s:
            p = await projects.get_project(s, project)
            return (await lifecycle.submit(s, p, doc, self.now)).id

    async def lease(self, node: Node, n: int = 50) -> list[leasing.Assignment]:
        async with self.db.transaction() as s:
            fresh = await s.get(Node, node.id)
            assert fresh is not None
            return await leasing.lease(s, fresh, n, self.now)

    async def complete(self, node: Node, a: leasing.Assignment, data: bytes | None = None) -> reporting.Receipt:
        if data is None:
            data = registry()[a.app](dict(a.params))
        await self.store.put(a.output_key, data)
        report = reporting.Report(result_id=a.result_id, outcome="success",
                                  sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                                  cpu_seconds=1.0, wall_seconds=1.0)
        return await reporting.submit(self.db, self.store, node.id, report, self.now, MAX_OUTPUT)

    async def error(self, node: Node, a: leasing.Assignment, message: str = "crashed") -> reporting.Receipt:
        report = reporting.Report(result_id=a.result_id, outcome="error", error=message, wall_seconds=1.0)
        return await reporting.submit(self.db, self.store, node.id, report, self.now, MAX_OUTPUT)

    async def run_all(self, node: Node, rounds: int = 100) -> int:
        """Leases and completes until nothing is left for this node; returns how many ran."""
        ran = 0
        for _ in range(rounds):
            batch = await self.lease(node)
            if not batch:
                return ran
            for a in batch:
                await self.complete(node, a)
                ran += 1
        raise AssertionError("work never ran out")

    async def status(self, workflow_id: int) -> dict[str, Any]:
        async with self.db.transaction() as s:
            return await views.status(s, await lifecycle.get(s, workflow_id))

    async def graph(self, workflow_id: int) -> dict[str, Any]:
        async with self.db.transaction() as s:
            return await views.graph(s, await lifecycle.get(s, workflow_id), with_summaries=True)

    async def states(self, workflow_id: int) -> dict[str, str]:
        return {n["name"]: n["state"] for n in (await self.graph(workflow_id))["nodes"]}

    async def task(self, workflow_id: int, name: str) -> WorkflowTask:
        async with self.db.transaction() as s:
            t = await s.scalar(select(WorkflowTask).where(WorkflowTask.workflow_id == workflow_id,
                                                          WorkflowTask.name == name))
            assert t is not None
            return t


def make_flow(db: Database, tmp_path: Path) -> Flow:
    return Flow(db=db, store=LocalStore(tmp_path / "objects", "http://127.0.0.1:1", UrlSigner(b"k" * 32)))


def task_of(assignments: list[leasing.Assignment], a: int) -> leasing.Assignment:
    """The assignment of the sweep task starting at a."""
    (found,) = [x for x in assignments if x.params.get("a") == str(a)]
    return found
