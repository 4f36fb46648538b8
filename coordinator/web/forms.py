"""What the HTML forms post. Every field defaults to empty so that a missing field
reaches the domain and gets its message there (and a missing CSRF token a 403)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from coordinator.domain import projects
from coordinator.errors import InvalidInput

Short = Annotated[str, msgspec.Meta(max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=4000)]

# The work-request fields each app's form shows (label, placeholder).
APP_FIELDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "bpsw-hunter": (("a", "range start", "e.g. 0 or 2^63"), ("b", "range end (exclusive)", "e.g. 1e9"),
                    ("chunk", "integers per workunit", "e.g. 1e7")),
    "carmile": (("bound", "Carmile bound X", "e.g. 1e9"),),
}


class Csrf(msgspec.Struct):
    csrf_token: Short = ""


class Login(msgspec.Struct):
    name: Short = ""
    password: Short = ""
    login_csrf: Short = ""
    next: Short = "/ui/"


class Work(msgspec.Struct):
    csrf_token: Short = ""
    a: Short = ""
    b: Short = ""
    bound: Short = ""
    chunk: Short = ""
    quorum: Short = "1"
    deadline: Short = "3600"


class NewProject(Work):
    name: Short = ""
    app: Short = ""
    description: Text = ""


class ProjectState(msgspec.Struct):
    csrf_token: Short = ""
    status: Short = ""


class NodeState(msgspec.Struct):
    csrf_token: Short = ""
    status: Short = ""
    reason: Text = ""


class NewUser(msgspec.Struct):
    csrf_token: Short = ""
    name: Short = ""
    password: Short = ""
    role: Short = ""


class WorkflowDoc(msgspec.Struct):
    csrf_token: Short = ""
    document: Annotated[str, msgspec.Meta(max_length=200_000)] = ""
    project: Short = ""
    action: Short = "preview"  # preview | submit


def safe_next(target: str) -> str:
    """Only our own pages: no open redirect through ?next=."""
    return target if target.startswith("/ui/") and not target.startswith("//") else "/ui/"


def has_work(form: Work) -> bool:
    return any((form.a, form.b, form.bound))


def work_request(app: str, form: Work) -> tuple[dict[str, str | int], projects.Replication]:
    fields = APP_FIELDS.get(app, ())
    if not fields:
        raise InvalidInput(f"work for {app} is submitted through the JSON API or a workflow")
    params: dict[str, str | int] = {}
    for key, label, _ in fields:
        value = getattr(form, key).strip()
        if not value:
            raise InvalidInput(f"{label} is required")
        params[key] = value
    try:
        quorum = int(form.quorum or "1")
        deadline = float(form.deadline or "3600")
    except ValueError:
        raise InvalidInput("quorum and deadline must be numbers") from None
    replication = projects.Replication(min_quorum=quorum, target_results=quorum,
                                       max_total_results=max(8, quorum), delay_bound=deadline)
    return params, replication
