"""The read services behind the dashboard, their JSON and HTML views, and /metrics
(all computed from the database, so every replica reports the same)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from coordinator.db.database import Database
from coordinator.db.models import Finding, Project, Workunit
from coordinator.domain import dashboard
from tests.web.harness import Web, running


@pytest.fixture
async def web(tmp_path: Path, database_url: str) -> AsyncIterator[Web]:
    async with running(tmp_path, database_url) as w:
        await w.api("POST", "/projects", {"name": "hunt", "app": "bpsw-hunter"})
        await w.api("POST", "/projects/hunt/work", {"params": {"a": 0, "b": 30000, "chunk": 10000}})
        yield w


def metric(text: str, name: str) -> float:
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert m, f"{name} missing from:\n{text}"
    return float(m.group(1))


async def test_numbers_follow_the_work(web: Web) -> None:
    node = await web.node()
    overview = await web.api("GET", "/dashboard")
    assert (overview["workunits_waiting"], overview["workunits_running"], overview["workunits_validated"]) == (3, 0, 0)
    assert overview["nodes_active"] == 1
    await web.do_one(node)
    await web.do_one(node)
    overview = await web.api("GET", "/dashboard")
    assert (overview["workunits_waiting"], overview["workunits_validated"]) == (1, 2)
    chart = await web.api("GET", "/throughput?window=3600&buckets=30")
    assert len(chart["counts"]) == 30 and sum(chart["counts"]) == 2 and chart["counts"][-1] == 2

    detail = await web.api("GET", f"/nodes/{node['id']}")
    kinds = [e["kind"] for e in detail["history"]]
    assert kinds.count("result.leased") == 2 and kinds[-1] == "node.enrolled"
    assert [r["verdict"] for r in detail["results"]] == ["valid", "valid"]

    text = (await web.client.get("/metrics")).text
    assert metric(text, "newral_active_nodes") == 1
    assert metric(text, "newral_leases_total") == 2
    assert metric(text, 'newral_results_total{outcome="reported"}') == 2
    assert metric(text, 'newral_queue_depth{project="hunt",state="waiting"}') == 1
    assert metric(text, 'newral_workunits{state="validated"}') == 2
    assert metric(text, "newral_leases_per_second") == pytest.approx(2 / 60)
    assert metric(text, "newral_validation_lag_seconds") == 0

    web.be("viewer")
    page = (await web.client.get("/ui/")).text
    validated = re.search(r'id="stat-validated">.*?class="value">(\d+)<', page, re.DOTALL)
    assert validated and validated.group(1) == "2"
    assert "result.reported" in page
    node_page = (await web.client.get(f"/ui/nodes/{node['id']}")).text
    assert "node.enrolled" in node_page and "linux x86_64" in node_page


async def test_project_share_and_pause_show_on_the_projects_page(web: Web) -> None:
    node = await web.node()
    headers = {"Authorization": node["Authorization"]}
    await web.client.post("/api/v1/work/lease", json={"max_results": 1}, headers=headers)
    rows = await web.api("GET", "/project-shares")
    assert [(r["status"]["name"], r["running_share"]) for r in rows] == [("hunt", 1.0)]
    csrf = web.be("manager")
    r = await web.client.post("/ui/projects", data={"csrf_token": csrf, "name": "carm", "app": "carmile",
                                                    "bound": "1e5"})
    assert r.status_code == 303, r.text
    fragment = (await web.client.get("/ui/fragments/projects")).text
    assert re.search(r'data-project="hunt".*?100% of running', fragment, re.DOTALL)
    assert re.search(r'data-project="carm".*?0% of running', fragment, re.DOTALL)


async def test_findings_appear_with_their_certificates(web: Web) -> None:
    db = Database(web.database_url)
    try:
        async with db.transaction() as s:
            project_id = await s.scalar(Project.__table__.select().with_only_columns(Project.id))
            wu_id = await s.scalar(Workunit.__table__.select().with_only_columns(Workunit.id).limit(1))
            s.add(Finding(project_id=project_id, workunit_id=wu_id, result_id=1, kind="bpsw-claim",
                          value="1194649", status="unverified", data={"a": "0", "b": "10000"},
                          created_at=1.0))
            s.add(Finding(project_id=project_id, workunit_id=wu_id, result_id=1, kind="carmichael",
                          value="41041", status="verified", data={}, created_at=1.0))
    finally:
        await db.dispose()
    found = await web.api("GET", "/findings")
    assert [(c["value"], c["status"]) for c in found["bpsw_claims"]] == [("1194649", "unverified")]
    assert found["carmichael"] == [{"value": "41041", "factors": ["7", "11", "13", "41"], "korselt": True,
                                    "project": "hunt", "workunit_id": found["carmichael"][0]["workunit_id"]}]
    web.be("viewer")
    html = (await web.client.get("/ui/findings")).text
    assert "1194649" in html and "7 × 11 × 13 × 41" in html


async def test_carmile_counts_per_decade_come_from_validated_summaries(db: Database) -> None:
    from coordinator.domain import projects

    async with db.transaction() as s:
        p = await projects.create_project(s, "carm", "carmile", 0.0)
        await projects.submit_work(s, p, {"bound": "100000"}, projects.Replication(), 0.0)
        wu = await s.scalar(Workunit.__table__.select().with_only_columns(Workunit.id).limit(1))
        row = await s.get(Workunit, wu)
        assert row is not None
        row.state = "validated"
        row.summary = {"step": "enumerate", "bound": "100000", "count": 3,
                       "numbers": ["561", "1105", "41041"]}
    async with db.transaction() as s:
        found = await dashboard.findings(s)
    assert [c.value for c in found.carmichael] == ["561", "1105", "41041"]
    assert all(c.korselt for c in found.carmichael)
    assert [(d.decade, d.count, d.below) for d in found.per_decade] == [
        (1, 0, 0), (2, 0, 0), (3, 1, 1), (4, 1, 2), (5, 1, 3)]
