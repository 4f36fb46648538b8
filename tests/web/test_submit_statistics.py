"""Work submitted through the web form refreshes the planner's statistics when it is
large, as the JSON API does (projects.after_submission)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from coordinator.db.database import Database
from coordinator.domain import projects
from tests.web.harness import running

LEASE_TABLES = {"workunits", "results", "projects", "app_versions", "apps"}


async def test_a_large_submission_from_the_web_form_analyzes_the_lease_tables(tmp_path: Path,
                                                                              database_url: str) -> None:
    async with running(tmp_path, database_url) as web:
        await web.api("POST", "/projects", {"name": "hunt", "app": "bpsw-hunter"})
        csrf = web.be("admin")
        chunk = 1000  # the smallest bpsw-hunter allows
        r = await web.client.post("/ui/projects/hunt/work", data={
            "a": "0", "b": str(chunk * projects.ANALYZE_AFTER), "chunk": str(chunk), "csrf_token": csrf})
        assert r.status_code == 303, r.text[:300]
        assert (await web.api("GET", "/projects/hunt"))["workunits"]["total"] == projects.ANALYZE_AFTER
    if database_url.startswith("sqlite"):
        return  # nothing to analyze
    db = Database(database_url)
    try:
        async with db.transaction() as s:
            analyzed = set(await s.scalars(text(
                "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL")))
    finally:
        await db.dispose()
    assert LEASE_TABLES <= analyzed
