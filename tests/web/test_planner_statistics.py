"""The planner's statistics follow the ways projects and work come in (JSON API, web
form): a project's creation analyzes the small tables the lease query joins, which
autovacuum would leave unanalyzed for years, and a large submission analyzes them all
(projects.after_creation, projects.after_submission), and so does a coordinator's
start if they never had any (projects.analyze_if_never). Without them a lease of 64 took
155 ms at 51,200 workunits instead of 10 (benchmarks.load.statements --backlog 20)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from coordinator.db.database import Database
from coordinator.domain import projects
from tests.fixtures.databases import analyzed_tables
from tests.web.harness import Web, running

SMALL_TABLES = {"projects", "app_versions", "apps"}
LEASE_TABLES = {"workunits", "results", *SMALL_TABLES}


async def analyzed(database_url: str) -> set[str]:
    db = Database(database_url)
    try:
        return await analyzed_tables(db)
    finally:
        await db.dispose()


async def analyze_counts(database_url: str) -> dict[str, int]:
    """How many times each table was analyzed by hand (ANALYZE), so far."""
    db = Database(database_url)
    try:
        async with db.transaction() as s:
            return dict((await s.execute(text("SELECT relname, analyze_count FROM pg_stat_user_tables"))).all())
    finally:
        await db.dispose()


async def submit_from_the_form(web: Web, workunits: int) -> None:
    chunk = 1000  # the smallest bpsw-hunter allows
    r = await web.client.post("/ui/projects/hunt/work", data={
        "a": "0", "b": str(chunk * workunits), "chunk": str(chunk), "csrf_token": web.be("admin")})
    assert r.status_code == 303, r.text[:300]


async def test_creating_a_project_through_the_api_analyzes_the_small_tables(tmp_path: Path,
                                                                            database_url: str) -> None:
    async with running(tmp_path, database_url) as web:
        sqlite = database_url.startswith("sqlite")  # nothing to analyze there
        before = {} if sqlite else await analyze_counts(database_url)
        await web.api("POST", "/projects", {"name": "hunt", "app": "bpsw-hunter"})
        await web.api("POST", "/projects/hunt/work", {"params": {"a": 0, "b": 10_000, "chunk": 1000}})
        if sqlite:
            return
        after = await analyze_counts(database_url)
        assert all(after[t] > before[t] for t in SMALL_TABLES), (before, after)
        assert not {"workunits", "results"} & await analyzed(database_url)  # ten workunits: left to autovacuum


async def test_creating_a_project_from_the_web_form_analyzes_the_small_tables(tmp_path: Path,
                                                                              database_url: str) -> None:
    async with running(tmp_path, database_url) as web:
        sqlite = database_url.startswith("sqlite")
        before = {} if sqlite else await analyze_counts(database_url)
        r = await web.client.post("/ui/projects", data={
            "name": "hunt", "app": "bpsw-hunter", "a": "", "b": "", "chunk": "", "csrf_token": web.be("admin")})
        assert r.status_code == 303, r.text[:300]
        assert (await web.api("GET", "/projects/hunt"))["workunits"]["total"] == 0
        if not sqlite:
            after = await analyze_counts(database_url)
            assert all(after[t] > before[t] for t in SMALL_TABLES), (before, after)


async def test_a_large_submission_from_the_web_form_analyzes_the_lease_tables(tmp_path: Path,
                                                                              database_url: str) -> None:
    async with running(tmp_path, database_url) as web:
        await web.api("POST", "/projects", {"name": "hunt", "app": "bpsw-hunter"})
        await submit_from_the_form(web, projects.ANALYZE_AFTER - 1)
        if not database_url.startswith("sqlite"):
            assert not {"workunits", "results"} & await analyzed(database_url)
        await submit_from_the_form(web, projects.ANALYZE_AFTER)
        total = (await web.api("GET", "/projects/hunt"))["workunits"]["total"]
        assert total == 2 * projects.ANALYZE_AFTER - 1
        if not database_url.startswith("sqlite"):
            assert LEASE_TABLES <= await analyzed(database_url)


async def test_a_coordinator_starting_on_never_analyzed_tables_analyzes_the_small_ones(tmp_path: Path,
                                                                                        database_url: str) -> None:
    # A freshly migrated database has no statistics, like one upgraded from a version that
    # did not analyze the small tables: starting the coordinator is enough.
    async with running(tmp_path, database_url):
        if not database_url.startswith("sqlite"):
            assert SMALL_TABLES <= await analyzed(database_url)
