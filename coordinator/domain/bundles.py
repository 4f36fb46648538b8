"""Signed task-app bundles: maintainers publish them per project; leases carry the
newest one so the client can verify it against the project key it pinned. The
coordinator checks the bundle's shape and hashes, never its signature (it holds
no key), and keeps the bytes in the object store."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.db.bundle_models import AppBundle
from coordinator.db.models import App, Project
from coordinator.domain import events
from coordinator.errors import Conflict, InvalidInput

MAX_BUNDLE_BYTES = 4 << 20


def check_payload(project: str, payload: dict[str, Any]) -> tuple[str, str, str, bytes]:
    """(app, version, manifest sha256, canonical JSON bytes) of a well-formed bundle."""
    try:
        bundle = payload["bundle"]
        manifest_text = str(bundle["manifest"])
        manifest = json.loads(manifest_text)
        base64.b64decode(bundle["signature"], validate=True)
        files = {str(n): base64.b64decode(d, validate=True) for n, d in dict(bundle["files"]).items()}
        app, version = str(manifest["app"]), str(manifest["version"])
        listed = dict(manifest["files"])
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise InvalidInput(f"malformed app bundle: {exc}") from None
    sha = hashlib.sha256(manifest_text.encode()).hexdigest()
    if payload.get("manifest_sha256") != sha:
        raise InvalidInput("manifest_sha256 does not match the manifest")
    if manifest.get("project") != project or payload.get("project") not in (None, project):
        raise InvalidInput(f"this bundle is signed for project {manifest.get('project')!r}, not {project!r}")
    if payload.get("app") not in (None, app) or payload.get("version") not in (None, version):
        raise InvalidInput("app or version differ from the signed manifest")
    if set(listed) != set(files):
        raise InvalidInput("the bundle's files differ from those its manifest lists")
    for name, data in files.items():
        if hashlib.sha256(data).hexdigest() != listed[name]:
            raise InvalidInput(f"file {name!r} does not match its hash in the manifest")
    if len(version) > 32 or not version:
        raise InvalidInput("version must be 1 to 32 characters")
    body = json.dumps(bundle, sort_keys=True, separators=(",", ":")).encode()
    if len(body) > MAX_BUNDLE_BYTES:
        raise InvalidInput(f"bundles are limited to {MAX_BUNDLE_BYTES} bytes")
    return app, version, sha, body


def object_key(project: str, app: str, version: str, sha: str) -> str:
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in version)
    return f"bundles/{project}/{app}-{safe}-{sha[:16]}.json"


async def record(session: AsyncSession, project: Project, app_name: str, version: str, sha: str,
                 key: str, now: float) -> AppBundle:
    app = await session.scalar(select(App).where(App.name == app_name))
    if app is None or app.id != project.app_id:
        raise InvalidInput(f"project {project.name} runs a different app than {app_name!r}")
    existing = await session.scalar(select(AppBundle).where(
        AppBundle.project_id == project.id, AppBundle.app_id == app.id, AppBundle.version == version))
    if existing is not None:
        if existing.manifest_sha256 == sha:
            return existing
        raise Conflict(f"version {version} of {app_name} is already published with other contents")
    row = AppBundle(project_id=project.id, app_id=app.id, version=version, manifest_sha256=sha,
                    object_key=key, created_at=now)
    session.add(row)
    await session.flush()
    events.record(session, "app_bundle.published", now, project_id=project.id, level=logging.INFO,
                  app=app_name, version=version, manifest_sha256=sha)
    return row


@dataclass(frozen=True)
class BundleRef:
    """What a lease needs of a published bundle; the bytes are immutable per manifest_sha256."""

    version: str
    manifest_sha256: str
    object_key: str


async def newest_many(session: AsyncSession, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], BundleRef]:
    """The newest bundle of each (project, app) pair that has one, in one query."""
    if not pairs:
        return {}
    rows = await session.execute(_newest_query(), {"b_projects": sorted({p for p, _ in pairs})})
    return {(p, a): BundleRef(v, sha, key) for p, a, v, sha, key in rows if (p, a) in pairs}


@functools.cache
def _newest_query() -> Select[Any]:
    """Built once per process (every lease runs it), as leasing's candidate query is."""
    latest = select(func.max(AppBundle.id)).group_by(AppBundle.project_id, AppBundle.app_id)
    return (select(Project.name, App.name, AppBundle.version, AppBundle.manifest_sha256, AppBundle.object_key)
            .join(Project, Project.id == AppBundle.project_id).join(App, App.id == AppBundle.app_id)
            .where(AppBundle.id.in_(latest), Project.name.in_(bindparam("b_projects", expanding=True))))


async def newest(session: AsyncSession, project: str, app: str) -> AppBundle | None:
    return await session.scalar(
        select(AppBundle).join(Project, Project.id == AppBundle.project_id).join(App, App.id == AppBundle.app_id)
        .where(Project.name == project, App.name == app).order_by(AppBundle.id.desc()).limit(1))
