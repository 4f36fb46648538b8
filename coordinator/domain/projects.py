"""Projects and their work: creation, submission and progress."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator import apps
from coordinator.db.database import Database
from coordinator.db.models import App, AppVersion, Finding, Project, Result, Workunit
from coordinator.domain import events
from coordinator.errors import Conflict, InvalidInput, NotFound

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class Replication:
    min_quorum: int = 1
    target_results: int = 1
    max_error_results: int = 3
    max_total_results: int = 8
    delay_bound: float = 3600.0

    def check(self) -> None:
        if not 1 <= self.min_quorum <= 10:
            raise InvalidInput("min_quorum must be between 1 and 10")
        if not self.min_quorum <= self.target_results <= 20:
            raise InvalidInput("target_results must be at least min_quorum and at most 20")
        if not self.target_results <= self.max_total_results <= 50:
            raise InvalidInput("max_total_results must be at least target_results and at most 50")
        if not 0 <= self.max_error_results <= 50:
            raise InvalidInput("max_error_results must be between 0 and 50")
        if not 10 <= self.delay_bound <= 30 * 86400:
            raise InvalidInput("delay_bound must be between 10 seconds and 30 days")


async def ensure_app_version(session: AsyncSession, spec: apps.AppSpec, now: float) -> AppVersion:
    app = await session.scalar(select(App).where(App.name == spec.name))
    if app is None:
        app = App(name=spec.name, description=spec.description, created_at=now)
        session.add(app)
        await session.flush()
    version = await session.scalar(
        select(AppVersion).where(AppVersion.app_id == app.id, AppVersion.version == spec.version)
    )
    if version is None:
        version = AppVersion(app_id=app.id, version=spec.version, platform="any", created_at=now)
        session.add(version)
        await session.flush()
        events.record(session, "app_version.published", now, app=spec.name, version=spec.version)
    return version


POLICIES = ("fixed", "boinc", "newral")
# After a submission this large, PostgreSQL's planner statistics are refreshed at once:
# before autovacuum catches up, the lease query can pick a plan that scans millions of rows.
ANALYZE_AFTER = 1000
# Every table the lease query joins. The small ones matter as much as the large: autovacuum
# analyzes a table only after 50 rows of it change, so a deployment's few projects, apps
# and app versions may never have statistics, and without them the planner guessed that
# one workunit in 240 had an active project, chose to join and sort every unsent result
# before taking the first 80, and a lease of 64 took 155 ms instead of 10 (51,200
# workunits, `benchmarks.load.statements`, 2026-11-27).
_SMALL_TABLES = ("projects", "app_versions", "apps")
_LEASE_TABLES = ("workunits", "results", *_SMALL_TABLES)


async def refresh_statistics(db: Database, tables: tuple[str, ...] = _LEASE_TABLES) -> None:
    if db.is_sqlite:
        return
    async with db.transaction() as session:
        await session.execute(text(f"ANALYZE {', '.join(tables)}"))


async def analyze_if_never(db: Database) -> None:
    """At start-up: the small tables get statistics if they never had any, so that a
    deployment upgraded from a version that did not analyze them (or whose tables were
    never analyzed at all) does not wait for its next project or large submission."""
    if db.is_sqlite:
        return
    async with db.reading() as session:
        missing = set(await session.scalars(text(
            "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(:tables) "
            "AND last_analyze IS NULL AND last_autoanalyze IS NULL"), {"tables": list(_SMALL_TABLES)}))
    if missing:
        await refresh_statistics(db, tuple(t for t in _SMALL_TABLES if t in missing))


async def after_creation(db: Database, workunits: int = 0) -> None:
    """What every way of creating a project does once its transaction has committed (with
    `workunits` submitted in the same transaction): the small tables get statistics now,
    since autovacuum would not analyze them for years (work that arrives through
    workflows, in pieces, never triggers after_submission); all of them if the
    submission was large."""
    await refresh_statistics(db, _LEASE_TABLES if workunits >= ANALYZE_AFTER else _SMALL_TABLES)


async def after_submission(db: Database, workunits: int) -> None:
    """What every way of submitting work (API, web form) does once its transaction has
    committed: refresh the planner's statistics if the submission was large."""
    if workunits >= ANALYZE_AFTER:
        await refresh_statistics(db)


async def create_project(
    session: AsyncSession, name: str, app_name: str, now: float, description: str = "",
    replication_policy: str = "newral",
) -> Project:
    if not NAME_RE.match(name):
        raise InvalidInput("project names are 1-63 lower-case letters, digits and dashes")
    if replication_policy not in POLICIES:
        raise InvalidInput(f"replication_policy must be one of {', '.join(POLICIES)}")
    spec = apps.get(app_name)
    if await session.scalar(select(Project.id).where(Project.name == name)) is not None:
        raise Conflict(f"a project named {name!r} exists already")
    version = await ensure_app_version(session, spec, now)
    project = Project(name=name, app_id=version.app_id, description=description, created_at=now,
                      replication_policy=replication_policy)
    session.add(project)
    await session.flush()
    events.record(session, "project.created", now, project_id=project.id, level=logging.INFO,
                  name=name, app=app_name)
    return project


async def get_project(session: AsyncSession, name: str) -> Project:
    project = await session.scalar(select(Project).where(Project.name == name))
    if project is None:
        raise NotFound(f"no project named {name!r}")
    return project


async def app_of(session: AsyncSession, project: Project) -> apps.AppSpec:
    app = await session.get(App, project.app_id)
    assert app is not None
    return apps.get(app.name)


async def set_status(session: AsyncSession, project: Project, status: str, now: float) -> None:
    if status not in ("active", "paused"):
        raise InvalidInput("status must be 'active' or 'paused'")
    if project.status != status:
        project.status = status
        events.record(session, f"project.{'resumed' if status == 'active' else 'paused'}", now,
                      project_id=project.id, level=logging.INFO)


async def submit_work(
    session: AsyncSession,
    project: Project,
    request: dict[str, Any],
    replication: Replication,
    now: float,
) -> int:
    """Cuts the request into workunits with their unsent results; returns how many.
    A workunit whose (app version, params) was validated before reuses that result."""
    replication.check()
    spec = await app_of(session, project)
    plans = spec.plan(request)
    version = await ensure_app_version(session, spec, now)
    keys = [params_key(version.id, plan.params) for plan in plans]
    cached: dict[str, Workunit] = {}
    for chunk in range(0, len(keys), 500):
        for wu in await session.scalars(select(Workunit).where(
                Workunit.params_key.in_(keys[chunk:chunk + 500]), Workunit.state == "validated")):
            cached.setdefault(wu.params_key or "", wu)
    units = [
        Workunit(
            project_id=project.id,
            app_version_id=version.id,
            params=plan.params,
            cost=plan.cost,
            min_quorum=replication.min_quorum,
            target_results=replication.target_results,
            max_error_results=replication.max_error_results,
            max_total_results=replication.max_total_results,
            delay_bound=replication.delay_bound,
            result_count=0 if key in cached else replication.target_results,
            created_at=now,
            params_key=key,
        )
        for plan, key in zip(plans, keys)
    ]
    for wu in units:
        hit = cached.get(wu.params_key or "")
        if hit is not None:
            wu.state, wu.summary, wu.finished_at = "validated", hit.summary, now
            wu.canonical_result_id, wu.accepted_mode = hit.canonical_result_id, "cache"
            wu.verification = {"mode": "cache", "from_workunit": hit.id}
    session.add_all(units)
    await session.flush()
    session.add_all(
        Result(workunit_id=wu.id, state="unsent", created_at=now)
        for wu in units if wu.state == "active"
        for _ in range(replication.target_results)
    )
    events.record(session, "work.submitted", now, project_id=project.id, level=logging.INFO,
                  workunits=len(units), reused=sum(wu.state == "validated" for wu in units),
                  request={k: str(v) for k, v in request.items()})
    return len(units)


def params_key(app_version_id: int, params: dict[str, Any]) -> str:
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{app_version_id}:{canonical}".encode()).hexdigest()


async def status(session: AsyncSession, project: Project) -> dict[str, Any]:
    spec = await app_of(session, project)
    counts = dict(
        (await session.execute(
            select(Workunit.state, func.count()).where(Workunit.project_id == project.id)
            .group_by(Workunit.state)
        )).all()
    )
    running = await session.scalar(
        select(func.count()).select_from(Result).join(Workunit, Result.workunit_id == Workunit.id)
        .where(Workunit.project_id == project.id, Result.state == "leased")
    )
    summaries = await session.scalars(
        select(Workunit.summary).where(Workunit.project_id == project.id, Workunit.state == "validated")
    )
    findings = await session.scalars(
        select(Finding).where(Finding.project_id == project.id).order_by(Finding.id)
    )
    total = sum(counts.values())
    return {
        "name": project.name,
        "app": spec.name,
        "status": project.status,
        "replication_policy": project.replication_policy,
        "workunits": {
            "total": total,
            "validated": counts.get("validated", 0),
            "active": counts.get("active", 0),
            "failed": counts.get("failed", 0),
            "cancelled": counts.get("cancelled", 0),
            "running_results": running or 0,
        },
        "done": total > 0 and counts.get("active", 0) == 0,
        "totals": spec.totals(s for s in summaries if s is not None),
        "findings": [
            {"kind": f.kind, "value": f.value, "status": f.status, "workunit_id": f.workunit_id,
             "result_id": f.result_id}
            for f in findings
        ],
    }


async def list_projects(session: AsyncSession) -> list[Project]:
    return list(await session.scalars(select(Project).order_by(Project.id)))
