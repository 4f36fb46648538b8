"""Drawing a workflow's DAG: tasks placed in layers (a task sits one layer right
of its deepest dependency), edges as curves. Pure functions; the template turns
the Layout into inline SVG."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from coordinator.errors import InvalidInput
from coordinator.workflows import document

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 170, 44, 60, 18, 10
MAX_TASKS = 500


@dataclass(frozen=True)
class Task:
    key: str
    state: str
    depends_on: tuple[str, ...] = ()
    detail: str = ""
    spawned_by: str | None = None  # the task whose output created this one (dynamic fan-out)

    @property
    def parents(self) -> tuple[str, ...]:
        return self.depends_on if self.spawned_by is None else (*self.depends_on, self.spawned_by)


@dataclass(frozen=True)
class Box:
    key: str
    state: str
    detail: str
    x: float
    y: float
    w: float = BOX_W
    h: float = BOX_H


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    path: str  # SVG path data
    kind: str = "after"  # after (a dependency) | spawned


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]


def layers(tasks: list[Task]) -> dict[str, int]:
    """Layer of each task (0 for tasks without dependencies); InvalidInput on an
    unknown dependency, a duplicate name or a cycle."""
    by_key: dict[str, Task] = {}
    for t in tasks:
        if t.key in by_key:
            raise InvalidInput(f"task {t.key!r} appears twice")
        by_key[t.key] = t
    for t in tasks:
        for dep in t.parents:
            if dep not in by_key:
                raise InvalidInput(f"task {t.key!r} depends on {dep!r}, which is not a task")
    layer: dict[str, int] = {}
    visiting: set[str] = set()

    def visit(key: str, path: tuple[str, ...]) -> int:
        if key in layer:
            return layer[key]
        if key in visiting:
            cycle = " -> ".join((*path[path.index(key):], key))
            raise InvalidInput(f"the workflow has a cycle: {cycle}")
        visiting.add(key)
        deps = by_key[key].parents
        layer[key] = 1 + max((visit(d, (*path, key)) for d in deps), default=-1)
        visiting.discard(key)
        return layer[key]

    for t in tasks:
        visit(t.key, ())
    return layer


def layout(tasks: list[Task]) -> Layout:
    if len(tasks) > MAX_TASKS:
        raise InvalidInput(f"at most {MAX_TASKS} tasks can be drawn")
    layer = layers(tasks)
    columns: dict[int, list[Task]] = {}
    for t in tasks:
        columns.setdefault(layer[t.key], []).append(t)
    row: dict[str, float] = {}
    for col in sorted(columns):
        # Order a column by the mean row of each task's dependencies: fewer crossings.
        members = columns[col]
        members.sort(key=lambda t: (sum(row[d] for d in t.parents) / len(t.parents))
                     if t.parents else 0.0)
        for i, t in enumerate(members):
            row[t.key] = float(i)
    boxes = {
        t.key: Box(t.key, t.state, t.detail, PAD + layer[t.key] * (BOX_W + GAP_X),
                   PAD + row[t.key] * (BOX_H + GAP_Y))
        for t in tasks
    }
    edges = []
    for t in tasks:
        for dep in t.parents:
            a, b = boxes[dep], boxes[t.key]
            x1, y1, x2, y2 = a.x + a.w, a.y + a.h / 2, b.x, b.y + b.h / 2
            mid = (x1 + x2) / 2
            edges.append(Edge(dep, t.key, f"M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} "
                                          f"{x2 - 6:.0f},{y2:.0f}",
                              "spawned" if dep == t.spawned_by else "after"))
    width = PAD * 2 + (max(layer.values(), default=0) + 1) * (BOX_W + GAP_X) - GAP_X
    height = PAD * 2 + max((len(c) for c in columns.values()), default=1) * (BOX_H + GAP_Y) - GAP_Y
    return Layout(width, height, tuple(boxes.values()), tuple(edges))


def parse_document(text: str) -> tuple[str, list[Task], Any]:
    """Reads a workflow document as the engine will (coordinator.workflows.document);
    returns its name, its tasks for drawing (all "planned"), and the parsed JSON."""
    if len(text) > 200_000:
        raise InvalidInput("the document is too large (200 kB at most)")
    try:
        doc: Any = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"the document is not valid JSON: {exc}") from None
    spec = document.parse(doc)
    return spec.name, [Task(t.name, "planned", tuple(t.after), t.app) for t in spec.tasks], doc
