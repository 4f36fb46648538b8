"""The web UI in headless Chromium against a real coordinator process and a real
agent process: log in, create a project, watch the node finish it live, run a
workflow and look at its graph, see a finding appear, quarantine the node, and
check every page on a phone-sized screen. Takes the README's screenshots."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from coordinator.apps.base import FindingPlan
from coordinator.apps.carmile import workflow_document
from coordinator.db.database import Database
from coordinator.db.models import Result, Workunit
from coordinator.domain import transitions
from tests.e2e.cluster import Cluster

playwright_sync = pytest.importorskip("playwright.sync_api")

expect = playwright_sync.expect
pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse battery"
WAIT_MS = 120_000
PAGES = ["/ui/", "/ui/nodes", "/ui/projects", "/ui/workflows", "/ui/findings", "/ui/apps",
         "/ui/orchestrator", "/ui/users"]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is needed (apt-get install chromium; see scripts/debian-packages.txt)")
    c = Cluster(tmp_path)
    try:
        c.start_coordinator()
        subprocess.run([sys.executable, "-m", "coordinator.cli.admin", "--data-dir", str(tmp_path / "coordinator"),
                        "user", "create", "alice", "--role", "admin", "--password-stdin"],
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        yield c
    finally:
        c.close()


async def _claim_a_finding(database_url: str, value: str) -> None:
    """What the validator does when a result claims a BPSW pseudoprime (the display is under test)."""
    db = Database(database_url)
    try:
        async with db.transaction() as s:
            result = await s.scalar(Result.__table__.select().with_only_columns(Result.id)
                                    .where(Result.verdict == "valid").limit(1))
            r = await s.get(Result, result)
            assert r is not None
            wu = await s.get(Workunit, r.workunit_id)
            assert wu is not None
            await transitions.record_findings(s, wu, r, (FindingPlan("bpsw-claim", value, {"note": "test"}),),
                                              wu.created_at + 1)
    finally:
        await db.dispose()


def test_an_admin_runs_the_coordinator_from_a_browser(cluster: Cluster, tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'coordinator' / 'coordinator.sqlite3'}"
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(WAIT_MS)
            # Log in (a page asks for it first).
            page.goto(f"{cluster.url}/ui/projects")
            assert "/ui/login" in page.url
            page.fill("input[name=name]", "alice")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{cluster.url}/ui/projects")
            assert page.text_content("#who-name") == "alice"

            # Create a project with its first range.
            form = page.locator("#create-project")
            form.locator("input[name=name]").fill("hunt")
            form.locator("select[name=app]").select_option("bpsw-hunter")
            form.locator("input[name=a]").fill("0")
            form.locator("input[name=b]").fill("200000")
            form.locator("input[name=chunk]").fill("20000")
            form.locator("button[type=submit]").click()
            page.wait_for_selector("tr[data-project=hunt]")

            # Watch a node finish the work on the dashboard, which updates itself.
            page.goto(f"{cluster.url}/ui/")
            page.wait_for_selector("body[data-stream=open]")
            assert page.text_content("#stat-validated .value") == "0"
            cluster.start_agent("agent1", concurrency=2)
            expect(page.locator("#stat-validated .value")).to_have_text("10", timeout=WAIT_MS)
            assert page.text_content("#stat-waiting .value") == "0"
            assert page.text_content("#stat-nodes .value") == "1"
            page.wait_for_selector("#events >> text=workunit.validated")
            assert int(page.locator("#throughput rect.bar").last.get_attribute("data-count") or 0) \
                + int(page.locator("#throughput rect.bar").nth(-2).get_attribute("data-count") or 0) > 0
            page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)

            # A workflow: Carmile's plan spawns enumerations, an aggregate merges them.
            page.goto(f"{cluster.url}/ui/projects")
            form = page.locator("#create-project")
            form.locator("input[name=name]").fill("carmile")
            form.locator("select[name=app]").select_option("carmile")
            form.locator("button[type=submit]").click()
            page.wait_for_selector("tr[data-project=carmile]")
            page.goto(f"{cluster.url}/ui/workflows")
            page.fill("textarea[name=document]", json.dumps(workflow_document(10**10, 0.01, "carmile-1e10")))
            page.select_option("select[name=project]", "carmile")
            page.click("button[value=preview]")
            page.wait_for_selector("svg.graph g[data-task=aggregate]")
            page.click("#submit-workflow")
            page.wait_for_url("**/ui/workflows/*")
            workflow_url = page.url
            for _ in range(WAIT_MS // 1000):
                if page.text_content("#workflow-state") == "succeeded":
                    break
                page.wait_for_timeout(1000)
                page.goto(workflow_url)
            assert page.text_content("#workflow-state") == "succeeded"
            states = page.eval_on_selector_all("svg.graph g.task", "gs => gs.map(g => g.dataset.state)")
            assert len(states) >= 4 and set(states) == {"done"}
            assert page.locator("svg.graph path.spawned").count() >= 1
            page.screenshot(path=str(SHOTS / "workflow.png"), full_page=True)
            page.goto(f"{cluster.url}/ui/findings")
            assert page.locator("#per-decade tbody tr").count() == 10
            assert page.locator("#carmichael >> text=561").count() >= 1

            # A finding appears while the page is open.
            page.goto(f"{cluster.url}/ui/findings")
            page.wait_for_selector("body[data-stream=open]")
            assert page.locator("#bpsw-claims >> text=1194649").count() == 0
            # Playwright's loop owns this thread; the database write gets its own.
            with ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, _claim_a_finding(database_url, "1194649")).result()
            page.wait_for_selector("#bpsw-claims >> text=1194649")
            assert page.text_content("tr[data-finding='1194649'] .pill") == "unverified"

            # Quarantine the node, with a reason.
            page.goto(f"{cluster.url}/ui/nodes")
            page.click("#node-table a")
            page.fill("#node-status-form textarea[name=reason]", "results disagree with a spot check")
            page.click("#node-status-form button[type=submit]")
            page.wait_for_selector("#node-status >> text=quarantined")
            assert page.text_content("#status-reason") == "results disagree with a spot check"
            assert page.locator("#history >> text=node.quarantined").count() == 1
            page.goto(f"{cluster.url}/ui/nodes")
            assert page.text_content("#node-table .pill") == "quarantined"

            # Every page on a phone: nothing wider than the screen.
            phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                        has_touch=True, device_scale_factor=2)
            phone.add_cookies(page.context.cookies())
            mobile = phone.new_page()
            for path in [*PAGES, workflow_url.removeprefix(cluster.url)]:
                mobile.goto(f"{cluster.url}{path}")
                overflow = mobile.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{path} is {overflow} px wider than a phone"
                assert mobile.locator("main h1").is_visible()
            mobile.goto(f"{cluster.url}/ui/")
            mobile.screenshot(path=str(SHOTS / "dashboard-phone.png"))

            # Log out: the page is gone.
            page.click("#logout")
            page.wait_for_url("**/ui/login")
            page.goto(f"{cluster.url}/ui/")
            assert "/ui/login" in page.url
        finally:
            browser.close()
