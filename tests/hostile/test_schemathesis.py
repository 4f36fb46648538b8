"""schemathesis against a real coordinator process on PostgreSQL, from its own
OpenAPI schema: with no credentials, a node's, and the admin's. Every generated
request (valid and deliberately invalid) must get an answer below 500, and a
refused one (4xx) must leave the database and the object store as they were.
A bounded number of examples per operation keeps this to about a minute."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from coordinator.cli import processes
from tests.fixtures.databases import clone_database
from tests.hostile.conftest import CAPS
from tests.hostile.snapshots import Fingerprint

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

EXAMPLES = {"none": 6, "node": 6, "admin": 10}


@dataclass
class Live:
    url: str
    database_url: str
    objects: Path
    credentials: dict[str, dict[str, str]]


async def _drop_db(server: str, name: str) -> None:
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def live(pg_server: str, pg_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    name = f"newral_fuzz_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(clone_database(pg_server, name, pg_template))
    db_url = pg_server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"
    root = tmp_path_factory.mktemp("fuzz")
    port = processes.free_port()
    proc = processes.start_coordinator(root, port, database_url=db_url, extra_env={
        "NEWRAL_RATE_LEASE_PER_NODE": "0", "NEWRAL_RATE_LEASE_PER_ADDRESS": "0",
        "NEWRAL_RATE_ENROL_PER_ADDRESS": "0", "NEWRAL_MAX_OUTPUT_BYTES": "4096"})
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_healthy(url, proc)
        admin = {"Authorization": f"Bearer {(root / 'admin-token').read_text().strip()}"}
        with httpx.Client(base_url=url, timeout=30) as c:
            c.post("/api/v1/admin/projects", json={"name": "hunt", "app": "bpsw-hunter"},
                   headers=admin).raise_for_status()
            c.post("/api/v1/admin/projects/hunt/work", json={"params": {"a": 0, "b": 200_000, "chunk": 1000}},
                   headers=admin).raise_for_status()
            token = c.post("/api/v1/admin/enrolment-tokens", json={}, headers=admin).json()["token"]
            body = c.post("/api/v1/enrol", json={"token": token, "name": "fuzzed", "capabilities": CAPS}).json()
        node = {"Authorization": f"Bearer {body['node_id']}.{body['secret']}"}
        yield Live(url, db_url, root / "objects", {"none": {}, "node": node, "admin": admin})
    finally:
        processes.stop(proc)
        asyncio.run(_drop_db(pg_server, name))


@pytest.mark.parametrize("who", ["none", "node", "admin"])
def test_fuzzed_requests_never_fail_the_server_nor_change_state_when_refused(live: Live, who: str) -> None:
    schema = schemathesis.openapi.from_url(f"{live.url}/schema/openapi.json")
    headers = live.credentials[who]
    loop = asyncio.new_event_loop()
    fp = Fingerprint(live.database_url, live.objects)
    problems: list[str] = []
    statuses: dict[int, int] = {}
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            strategy = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                                 operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

            @settings(max_examples=EXAMPLES[who], deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def check(case: schemathesis.Case) -> None:
                before = loop.run_until_complete(fp.take())
                response = case.call(base_url=live.url, headers=headers, timeout=30)
                statuses[response.status_code // 100] = statuses.get(response.status_code // 100, 0) + 1
                where = f"{case.method} {case.formatted_path} ({who})"
                if response.status_code >= 500:
                    problems.append(f"{where}: HTTP {response.status_code} {response.text[:200]}")
                elif response.status_code >= 400:
                    if loop.run_until_complete(fp.take()) != before:
                        problems.append(f"{where}: refused with {response.status_code} but state changed")

            check()
    finally:
        loop.run_until_complete(fp.close())
        loop.close()
    assert statuses.get(4, 0) > 50, statuses
    if who != "none":
        assert statuses.get(2, 0) > 0, statuses  # the credentials did open doors
    assert not problems, "\n".join(sorted(set(problems))[:30])
