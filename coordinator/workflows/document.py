"""The workflow document: parsed and checked before anything is stored.

    {"name": "carmile-1e12",
     "limits": {"max_tasks": 10000, "max_spawn": 5000},          optional
     "tasks": [{"name": "plan", "app": "carmile", "params": {...},
                "after": ["other-task"],                          optional
                "inputs": [{"task": "other-task"},                optional: its output
                           {"key": "objects/x", "sha256": "..."}],           or a stored object
                "replication": {"min_quorum": 2, ...},            optional (projects.Replication)
                "cost": 1.0}]}                                    optional

Every problem is an InvalidInput (PayloadTooLarge for size) whose message names
the task and what is wrong: an unknown app, a reference to a task that is not
in the document, a cycle (drawn as a → b → a), an oversized document.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from coordinator import apps
from coordinator.domain.projects import Replication
from coordinator.errors import InvalidInput, PayloadTooLarge
from coordinator.store import InvalidKey, validate_key

MAX_DOCUMENT_BYTES = 256 * 1024
MAX_TASKS_PER_DOCUMENT = 2_000
MAX_PARAMS_BYTES = 16 * 1024
MAX_INPUTS = 1_000
DEFAULT_MAX_TASKS = 10_000
DEFAULT_MAX_SPAWN = 5_000
HARD_MAX_TASKS = 100_000

TASK_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
WORKFLOW_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
REPLICATION_FIELDS = {"min_quorum", "target_results", "max_error_results", "max_total_results",
                      "delay_bound"}


@dataclass(frozen=True)
class TaskSpec:
    name: str
    app: str
    params: dict[str, Any]
    after: tuple[str, ...] = ()  # every dependency, including the tasks named in inputs
    inputs: tuple[dict[str, Any], ...] = ()
    replication: dict[str, Any] = field(default_factory=dict)
    cost: float = 1.0


@dataclass(frozen=True)
class WorkflowSpec:
    name: str
    tasks: tuple[TaskSpec, ...]
    max_tasks: int = DEFAULT_MAX_TASKS
    max_spawn: int = DEFAULT_MAX_SPAWN


def parse(doc: Any) -> WorkflowSpec:
    """Checks a submitted document completely; raises on the first problem found."""
    if not isinstance(doc, dict):
        raise InvalidInput("a workflow is a JSON object with 'name' and 'tasks'")
    size = len(json.dumps(doc, separators=(",", ":")))
    if size > MAX_DOCUMENT_BYTES:
        raise PayloadTooLarge(f"the workflow document is {size} bytes; the limit is {MAX_DOCUMENT_BYTES} "
                              "(let a task's output spawn the rest instead)")
    unknown = set(doc) - {"name", "tasks", "limits"}
    if unknown:
        raise InvalidInput(f"unknown workflow fields: {', '.join(sorted(unknown))}")
    name = doc.get("name")
    if not isinstance(name, str) or not WORKFLOW_NAME_RE.match(name):
        raise InvalidInput("the workflow needs a 'name' of 1-100 letters, digits, '.', '_', ':' or '-'")
    raw_tasks = doc.get("tasks")
    if not isinstance(raw_tasks, list) or not raw_tasks:
        raise InvalidInput("'tasks' must be a non-empty list")
    if len(raw_tasks) > MAX_TASKS_PER_DOCUMENT:
        raise PayloadTooLarge(f"{len(raw_tasks)} tasks; a document may hold at most {MAX_TASKS_PER_DOCUMENT}")
    max_tasks, max_spawn = _limits(doc.get("limits", {}), len(raw_tasks))
    tasks = [_task(i, raw) for i, raw in enumerate(raw_tasks)]
    names: set[str] = set()
    for t in tasks:
        if t.name in names:
            raise InvalidInput(f"two tasks are named {t.name!r}; task names must be unique")
        names.add(t.name)
    for t in tasks:
        for dep in t.after:
            if dep not in names:
                raise InvalidInput(f"task {t.name!r} refers to {dep!r}, which is not a task of this workflow")
            if dep == t.name:
                raise InvalidInput(f"task {t.name!r} depends on itself")
    cycle = find_cycle({t.name: t.after for t in tasks})
    if cycle:
        raise InvalidInput("the tasks form a cycle: " + " → ".join(cycle))
    return WorkflowSpec(name=name, tasks=tuple(tasks), max_tasks=max_tasks, max_spawn=max_spawn)


def _limits(raw: Any, count: int) -> tuple[int, int]:
    if not isinstance(raw, dict) or set(raw) - {"max_tasks", "max_spawn"}:
        raise InvalidInput("'limits' may hold only max_tasks and max_spawn")
    max_tasks = raw.get("max_tasks", DEFAULT_MAX_TASKS)
    max_spawn = raw.get("max_spawn", DEFAULT_MAX_SPAWN)
    for key, value in (("max_tasks", max_tasks), ("max_spawn", max_spawn)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= HARD_MAX_TASKS:
            raise InvalidInput(f"limits.{key} must be an integer between 0 and {HARD_MAX_TASKS}")
    if max_tasks < count:
        raise InvalidInput(f"limits.max_tasks is {max_tasks} but the document already has {count} tasks")
    return max_tasks, max_spawn


def _task(index: int, raw: Any) -> TaskSpec:
    where = f"task #{index + 1}"
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where} must be an object")
    name = raw.get("name")
    if not isinstance(name, str) or not TASK_NAME_RE.match(name):
        raise InvalidInput(f"{where} needs a 'name' of 1-100 letters, digits, '.', '_', ':' or '-'")
    where = f"task {name!r}"
    unknown = set(raw) - {"name", "app", "params", "after", "inputs", "replication", "cost"}
    if unknown:
        raise InvalidInput(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    app = raw.get("app")
    if not isinstance(app, str):
        raise InvalidInput(f"{where} needs an 'app'")
    try:
        apps.get(app)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}") from None
    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise InvalidInput(f"{where}: 'params' must be an object")
    if len(json.dumps(params)) > MAX_PARAMS_BYTES:
        raise PayloadTooLarge(f"{where}: params are larger than {MAX_PARAMS_BYTES} bytes; "
                              "pass large data as an input object")
    if "inputs" in params:
        raise InvalidInput(f"{where}: 'inputs' is reserved in params (the engine fills it in)")
    after = raw.get("after", [])
    if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
        raise InvalidInput(f"{where}: 'after' must be a list of task names")
    inputs = raw.get("inputs", [])
    if not isinstance(inputs, list) or len(inputs) > MAX_INPUTS:
        raise InvalidInput(f"{where}: 'inputs' must be a list of at most {MAX_INPUTS} references")
    checked_inputs = tuple(_input(where, ref) for ref in inputs)
    deps = list(dict.fromkeys([*after, *(ref["task"] for ref in checked_inputs if "task" in ref)]))
    replication = raw.get("replication", {})
    if not isinstance(replication, dict) or set(replication) - REPLICATION_FIELDS:
        raise InvalidInput(f"{where}: 'replication' may hold only {', '.join(sorted(REPLICATION_FIELDS))}")
    try:
        Replication(**replication).check()
    except TypeError:
        raise InvalidInput(f"{where}: replication values must be numbers") from None
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}") from None
    cost = raw.get("cost", 1.0)
    if isinstance(cost, bool) or not isinstance(cost, int | float) or not 0 <= cost <= 1e18:
        raise InvalidInput(f"{where}: 'cost' must be a non-negative number")
    check_params = getattr(apps.get(app), "check_task_params", None)
    if check_params is not None:  # an app may check its params, and return them normalized
        try:
            params = check_params(params) or params
        except InvalidInput as exc:
            raise InvalidInput(f"{where}: {exc.message}") from None
    return TaskSpec(name=name, app=app, params=dict(params), after=tuple(deps), inputs=checked_inputs,
                    replication=dict(replication), cost=float(cost))


def _input(where: str, ref: Any) -> dict[str, Any]:
    if isinstance(ref, dict) and set(ref) == {"task"} and isinstance(ref["task"], str):
        return {"task": ref["task"]}
    if isinstance(ref, dict) and set(ref) <= {"key", "sha256"} and "key" in ref:
        try:
            validate_key(ref["key"])
        except InvalidKey as exc:
            raise InvalidInput(f"{where}: {exc}") from None
        sha = ref.get("sha256")
        if sha is not None and (not isinstance(sha, str) or not SHA256_RE.match(sha)):
            raise InvalidInput(f"{where}: an input's sha256 must be 64 lower-case hex digits")
        return dict(ref)
    raise InvalidInput(f"{where}: each input is {{\"task\": NAME}} or {{\"key\": OBJECT_KEY, \"sha256\": HEX}}")


def find_cycle(graph: dict[str, tuple[str, ...]]) -> list[str]:
    """A cycle as [a, b, ..., a] if the graph (node → what it waits for) has one, else []."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for root in graph:
        if state.get(root):
            continue
        path: list[str] = [root]
        stack = [iter(graph.get(root, ()))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            mark = state.get(nxt)
            if mark == 1:
                return [*path[path.index(nxt):], nxt]
            if mark is None:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph.get(nxt, ())))
    return []
