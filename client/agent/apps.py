"""Which code runs for an assignment, decided before anything runs.

- The project's key is pinned: a signed bundle is required (sent with the
  assignment as `app_bundle`, or installed under <data>/apps/PROJECT/APP-VERSION/)
  and must verify; otherwise the task is refused.
- No key pinned: only the task apps shipped inside the client run (the client
  release itself is signed, issue 8); a bundle that cannot be checked is refused."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from client.agent import appsign
from client.agent.preferences import Preferences
from client.agent.runner import TaskCode

log = logging.getLogger("newral.agent.apps")


def bundle_folder(data_dir: Path, project: str, app: str, version: str) -> Path:
    return data_dir / "apps" / project / f"{app}-{version}"


def resolve(a: dict[str, Any], prefs: Preferences, data_dir: Path) -> TaskCode:
    """The code for assignment `a`; raises appsign.SignatureError to refuse it."""
    project, app, version = str(a["project"]), str(a["app"]), str(a.get("app_version") or "")
    pinned = prefs.project(project)
    untrusted_bundle = a.get("app_bundle")
    if pinned is not None and pinned.public_key:
        if untrusted_bundle is not None:
            bundle = appsign.Bundle.from_json(untrusted_bundle)
        else:
            folder = bundle_folder(data_dir, project, app, version)
            if not folder.is_dir():
                raise appsign.SignatureError(
                    f"no signed bundle for {project}/{app} {version}; this project's key is pinned, "
                    "so unsigned code is refused")
            bundle = appsign.Bundle.read(folder)
        v = appsign.verify(bundle, pinned.public_key, project=project, app=app, version=version or None,
                           manifest_sha256=a.get("app_sha256"))
        files = tuple(sorted(v.files.items()))
        if v.builtin is not None:
            return TaskCode(builtin=v.builtin, files=files)
        return TaskCode(script=v.entry.removeprefix("python:"), files=files)
    if untrusted_bundle is not None:
        raise appsign.SignatureError(
            f"project {project} sent a code bundle but no key is pinned for it; attach with its key")
    return TaskCode(builtin=app)
