"""Endpoints volunteers' agents call: enrol, heartbeat, lease, upload URL, report."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from coordinator.api import auth, schemas
from coordinator.api.state import Services
from coordinator.db.models import Result
from coordinator.domain import bundles, leasing, nodes, reporting, trust
from coordinator.errors import Forbidden, LeaseExpired, NotFound


def _caps(c: schemas.CapabilitiesIn) -> nodes.Capabilities:
    return nodes.Capabilities(**msgspec.structs.asdict(c))


@post("/enrol", status_code=201)
async def enrol(data: JSONBody[schemas.EnrolIn], services: NamedDependency[Services]) -> schemas.EnrolOut:
    """Exchange a one-time enrolment token for a node id and secret (shown once)."""
    async with services.db.transaction() as session:
        node_id, secret = await nodes.enrol(
            session, data.token, data.name, _caps(data.capabilities), services.clock()
        )
    return schemas.EnrolOut(node_id=node_id, secret=secret)


@post("/nodes/heartbeat", status_code=200)
async def heartbeat(request: Request, data: JSONBody[schemas.HeartbeatIn], services: NamedDependency[Services]) -> schemas.HeartbeatOut:
    """Say the node is alive, optionally with fresh capabilities."""
    now = services.clock()
    async with services.db.transaction() as session:
        node = await nodes.authenticate_node(session, auth.bearer(request), now)
        nodes.heartbeat(node, _caps(data.capabilities) if data.capabilities else None, now)
        return schemas.HeartbeatOut(node_id=node.id, status=node.status, server_time=now,
                                    trust_level=node.trust_level, trust_score=round(node.trust_score, 4),
                                    credit=round(node.credit, 3))


async def _upload(services: NamedDependency[Services], key: str, deadline_at: float, now: float) -> schemas.PresignedOut:
    expires_in = max(60, int(deadline_at - now) + 60)
    req = await services.store.upload_url(key, expires_in)
    return schemas.PresignedOut(method=req.method, url=req.url, headers=req.headers, expires_at=req.expires_at)


async def _bundle_json(services: Services, bundle: bundles.BundleRef) -> dict[str, Any]:
    cached = services.bundle_cache.get(bundle.manifest_sha256)
    if cached is None:
        cached = json.loads(await services.store.get(bundle.object_key, max_size=bundles.MAX_BUNDLE_BYTES))
        services.bundle_cache[bundle.manifest_sha256] = cached
    return cached


@post("/work/lease", status_code=200)
async def lease(request: Request, data: JSONBody[schemas.LeaseIn], services: NamedDependency[Services]) -> schemas.LeaseOut:
    """Lease up to max_results result slots; each comes with its deadline and upload URL.
    With bundle_refs, each signed app bundle comes once in `bundles`, keyed by app_sha256.
    With `held`, results leased to this node that it does not hold come first, again."""
    now = services.clock()
    wanted = min(data.max_results, services.settings.max_leases_per_request)
    async with services.db.transaction() as session:
        node = await nodes.authenticate_node(session, auth.bearer(request), now)
        assignments = [] if data.held is None else await leasing.resend_lost(
            session, node, data.held, wanted, now, data.projects)
        assignments += await leasing.lease(session, node, wanted - len(assignments), now, data.projects)
        signed = await bundles.newest_many(session, {(a.project, a.app) for a in assignments})
        # The reply is built before the lease commits: a failure here (a bundle that cannot
        # be read, say) leases nothing, and a coordinator killed after the commit has little
        # left to do before the reply is sent (a lease whose reply is lost stays with its
        # node until the deadline).
        by_sha = {b.manifest_sha256: await _bundle_json(services, b) for b in signed.values()}
        out = []
        for a in assignments:
            bundle = signed.get((a.project, a.app))
            out.append(schemas.AssignmentOut(
                result_id=a.result_id, workunit_id=a.workunit_id, project=a.project, app=a.app,
                app_version=bundle.version if bundle else a.app_version, params=a.params,
                deadline_at=a.deadline_at, upload=await _upload(services, a.output_key, a.deadline_at, now),
                app_bundle=by_sha[bundle.manifest_sha256] if bundle and not data.bundle_refs else None,
                app_sha256=bundle.manifest_sha256 if bundle else None,
            ))
    return schemas.LeaseOut(assignments=out, server_time=now, bundles=by_sha if data.bundle_refs else None)


@post("/work/upload-url", status_code=200)
async def upload_url(request: Request, data: JSONBody[schemas.UploadUrlIn], services: NamedDependency[Services]) -> schemas.PresignedOut:
    """A fresh upload URL for a result still leased to this node (after a restart, say)."""
    now = services.clock()
    async with services.db.transaction() as session:
        node = await nodes.authenticate_node(session, auth.bearer(request), now)
        result = await session.get(Result, data.result_id)
        if result is None:
            raise NotFound("no such result")
        if result.node_id != node.id:
            raise Forbidden("this result is not leased to you")
        if result.state != "leased" or (result.deadline_at or 0) < now or result.output_key is None:
            raise LeaseExpired("this result is no longer leased to you")
        key, deadline = result.output_key, result.deadline_at or now
    return await _upload(services, key, deadline, now)


@post("/work/report", status_code=200)
async def report(request: Request, data: JSONBody[schemas.ReportIn], services: NamedDependency[Services]) -> schemas.ReportOut:
    """Report a leased result: success (output uploaded first) or error. Idempotent."""
    node = await auth.node(request, services)
    receipt = await reporting.submit(
        services.db, services.store, node.id,
        _report(data),
        services.clock(), services.settings.max_output_bytes, defer=True,
    )
    services.validator_wake.set()
    return schemas.ReportOut(
        result_id=receipt.result_id, state=receipt.state, verdict=receipt.verdict,
        duplicate=receipt.duplicate,
    )


def _report(data: schemas.ReportIn) -> reporting.Report:
    return reporting.Report(**msgspec.structs.asdict(data))


@post("/work/report-batch", status_code=200)
async def report_batch(request: Request, data: JSONBody[schemas.ReportBatchIn],
                       services: NamedDependency[Services]) -> schemas.ReportBatchOut:
    """Report many leased results at once, each as /work/report would (outputs uploaded
    first, or inline when small). Each report gets its own outcome; idempotent."""
    node = await auth.node(request, services)
    outcomes = await reporting.submit_many(
        services.db, services.store, node.id, [_report(r) for r in data.reports],
        services.clock(), services.settings.max_output_bytes, defer=True,
    )
    services.validator_wake.set()
    receipts = []
    for o in outcomes:
        if isinstance(o, reporting.Refusal):
            receipts.append(schemas.ReportItemOut(result_id=o.result_id, ok=False, status=o.error.status,
                                                  error=o.error.code, detail=o.error.message))
        else:
            receipts.append(schemas.ReportItemOut(result_id=o.result_id, ok=True, status=200, state=o.state,
                                                  verdict=o.verdict, duplicate=o.duplicate))
    return schemas.ReportBatchOut(receipts=receipts)


@get("/leaderboard")
async def leaderboard(services: NamedDependency[Services]) -> dict[str, list[dict[str, object]]]:
    """Credit per node and per owner, granted only for validated results."""
    async with services.db.transaction() as session:
        return await trust.leaderboard(session)


router = Router(path="/api/v1", route_handlers=[enrol, heartbeat, lease, upload_url, report, report_batch,
                                               leaderboard],
                tags=["nodes"])
