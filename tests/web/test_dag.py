"""The workflow graph layout: layers follow dependencies; bad graphs are refused."""

from __future__ import annotations

import json

import pytest

from coordinator.errors import InvalidInput
from coordinator.web import dag

T = dag.Task


def test_layers_follow_the_longest_dependency_chain() -> None:
    tasks = [T("a", "done"), T("b", "done", ("a",)), T("c", "queued", ("a", "b")),
             T("d", "waiting", spawned_by="c")]
    assert dag.layers(tasks) == {"a": 0, "b": 1, "c": 2, "d": 3}


def test_layout_puts_every_task_right_of_its_parents_without_overlap() -> None:
    tasks = [T("plan", "done")] + [T(f"e{i}", "queued", spawned_by="plan") for i in range(4)] + \
            [T("agg", "waiting", tuple(f"e{i}" for i in range(4)))]
    g = dag.layout(tasks)
    box = {b.key: b for b in g.boxes}
    for t in tasks:
        for p in t.parents:
            assert box[p].x + box[p].w < box[t.key].x
    spots = {(b.x, b.y) for b in g.boxes}
    assert len(spots) == len(tasks)
    assert all(b.x + b.w <= g.width and b.y + b.h <= g.height for b in g.boxes)
    assert sorted(e.kind for e in g.edges) == ["after"] * 4 + ["spawned"] * 4


@pytest.mark.parametrize("tasks, message", [
    ([T("a", "x", ("b",)), T("b", "x", ("a",))], "cycle"),
    ([T("a", "x", ("zzz",))], "not a task"),
    ([T("a", "x"), T("a", "x")], "twice"),
])
def test_bad_graphs_are_refused(tasks: list[dag.Task], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        dag.layout(tasks)


def test_a_document_is_read_as_the_engine_reads_it() -> None:
    doc = {"name": "w", "tasks": [
        {"name": "plan", "app": "carmile", "params": {"step": "plan", "bound": "1000"}},
        {"name": "aggregate", "app": "carmile", "inputs": [{"task": "plan"}],
         "params": {"step": "aggregate", "bound": "1000"}}]}
    name, tasks, parsed = dag.parse_document(json.dumps(doc))
    assert name == "w" and parsed == doc
    assert [(t.key, t.depends_on) for t in tasks] == [("plan", ()), ("aggregate", ("plan",))]
    with pytest.raises(InvalidInput):
        dag.parse_document("{nope")
