"""A real coordinator process for the client's integration and GUI tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cluster import Cluster


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path / "cluster")
    try:
        c.start_coordinator()
        yield c
    finally:
        c.close()


def token(c: Cluster, note: str = "client test") -> str:
    assert c.admin is not None
    return str(c.admin.call("POST", "/enrolment-tokens", {"note": note})["token"])


def long_work(c: Cluster, project: str = "hunt", **replication: object) -> None:
    """One workunit that keeps a task busy for minutes: time to pause and throttle it."""
    assert c.admin is not None
    c.admin.call("POST", "/projects", {"name": project, "app": "bpsw-hunter"})
    c.admin.call("POST", f"/projects/{project}/work",
                 {"params": {"a": "1000000000000", "b": "1050000000000", "chunk": 50_000_000_000},
                  **replication})
