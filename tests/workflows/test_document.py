"""A workflow document is refused, with a message naming the problem, before anything is stored."""

from __future__ import annotations

import pytest

from coordinator.errors import InvalidInput, PayloadTooLarge
from coordinator.workflows import document


def task(name: str, after: list[str] | None = None, **extra: object) -> dict:
    return {"name": name, "app": "bpsw-hunter", "params": {"a": "0", "b": "1000"}, "after": after or [], **extra}


def test_a_good_document_parses_with_inputs_as_dependencies() -> None:
    spec = document.parse({"name": "w", "tasks": [task("a"), task("b", inputs=[{"task": "a"}]),
                                                   task("c", ["a"], inputs=[{"task": "b"}])]})
    assert [t.after for t in spec.tasks] == [(), ("a",), ("a", "b")]


@pytest.mark.parametrize("tasks, message", [
    ([task("a", ["b"]), task("b", ["a"])], "cycle: a → b → a"),
    ([task("a"), task("b", ["c"]), task("c", ["d"]), task("d", ["b"])], "cycle: b → c → d → b"),
    ([task("a", ["a"])], "depends on itself"),
    ([task("a"), task("b", ["nope"])], "task 'b' refers to 'nope', which is not a task of this workflow"),
    ([task("a", inputs=[{"task": "ghost"}])], "refers to 'ghost'"),
    ([{"name": "a", "app": "no-such-app"}], "task 'a': unknown app 'no-such-app'"),
    ([task("a"), task("a")], "two tasks are named 'a'"),
    ([task("a", inputs=[{"key": "../etc/passwd"}])], "invalid object key"),
    ([task("a", replication={"min_quorum": 0})], "min_quorum"),
    ([task("a", surprise=1)], "unknown fields: surprise"),
    ([{"name": "p", "app": "carmile", "params": {"step": "guess", "bound": "1e6"}}], "'step'"),
])
def test_bad_documents_are_refused_with_a_reason(tasks: list, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        document.parse({"name": "w", "tasks": tasks})
    assert message in info.value.message


def test_an_oversized_document_is_refused() -> None:
    tasks = [task(f"t{i}", params={"a": "0", "b": "1000", "pad": "x" * 200}) for i in range(1500)]
    with pytest.raises(PayloadTooLarge, match="limit is 262144"):
        document.parse({"name": "big", "tasks": tasks})


def test_limits_must_fit_the_document() -> None:
    with pytest.raises(InvalidInput, match="max_tasks is 1"):
        document.parse({"name": "w", "limits": {"max_tasks": 1}, "tasks": [task("a"), task("b")]})


def test_find_cycle_on_an_acyclic_graph_is_empty() -> None:
    assert document.find_cycle({"a": (), "b": ("a",), "c": ("a", "b"), "d": ("c", "b")}) == []
