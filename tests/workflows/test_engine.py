"""The workflow engine driven through the real lease/report path, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from coordinator.db.database import Database
from coordinator.errors import Conflict
from coordinator.workflows import lifecycle
from tests.workflows.flow import Flow, make_flow, sweep, task_of


@pytest.fixture
async def flow(db: Database, tmp_path: Path) -> Flow:
    f = make_flow(db, tmp_path)
    await f.project()
    return f


async def test_diamond_runs_the_join_once_both_sides_are_validated(flow: Flow) -> None:
    wid = await flow.submit({"name": "diamond", "tasks": [
        sweep("a", 0), sweep("b", 1000, ["a"]), sweep("c", 2000, ["a"]),
        sweep("d", 3000, inputs=[{"task": "b"}, {"task": "c"}])]})
    node = await flow.node()
    (a,) = await flow.lease(node)
    assert a.params["a"] == "0"
    await flow.complete(node, a)
    batch = await flow.lease(node)
    assert sorted(x.params["a"] for x in batch) == ["1000", "2000"]
    await flow.complete(node, task_of(batch, 1000))
    assert await flow.lease(node) == []  # d still waits for c
    assert (await flow.states(wid))["d"] == "waiting"
    await flow.complete(node, task_of(batch, 2000))
    (d,) = await flow.lease(node)
    b_task, c_task = await flow.task(wid, "b"), await flow.task(wid, "c")
    assert [(i["task"], i["key"], i["sha256"]) for i in d.params["inputs"]] == [
        ("b", b_task.output_key, b_task.output_sha256), ("c", c_task.output_key, c_task.output_sha256)]
    assert d.params["inputs"][0]["summary"]["integers"] == 1000
    await flow.complete(node, d)
    status = await flow.status(wid)
    assert status["state"] == "succeeded"
    assert status["progress"]["complete"] == status["progress"]["tasks"] == 4
    assert {(e["from"], e["to"]) for e in (await flow.graph(wid))["edges"]} == {
        ("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")}


async def test_static_fan_out_and_fan_in(flow: Flow) -> None:
    leaves = [sweep(f"leaf{i}", 1000 * (i + 1), ["root"]) for i in range(6)]
    wid = await flow.submit({"name": "fan", "tasks": [
        sweep("root", 0), *leaves, sweep("join", 10_000, [leaf["name"] for leaf in leaves])]})
    node = await flow.node()
    (root,) = await flow.lease(node)
    await flow.complete(node, root)
    batch = await flow.lease(node)
    assert len(batch) == 6  # every leaf became leasable in the transaction that validated root
    for a in batch[:-1]:
        await flow.complete(node, a)
    assert await flow.lease(node) == []
    await flow.complete(node, batch[-1])
    (join,) = await flow.lease(node)
    await flow.complete(node, join)
    assert (await flow.status(wid))["state"] == "succeeded"


async def test_dynamic_fan_out_waits_for_every_spawned_task(flow: Flow) -> None:
    async with flow.db.transaction() as s:
        from coordinator.domain import projects

        await projects.create_project(s, "carmile", "carmile", flow.now)
    doc = {"name": "c", "tasks": [
        {"name": "plan", "app": "carmile", "params": {"step": "plan", "bound": "1e8", "target_seconds": 0.0001}},
        {"name": "aggregate", "app": "carmile", "params": {"step": "aggregate", "bound": "1e8"},
         "inputs": [{"task": "plan"}]}]}
    wid = await flow.submit(doc, project="carmile")
    node = await flow.node()
    (plan,) = await flow.lease(node)
    await flow.complete(node, plan)
    spawned = await flow.lease(node, 100)
    assert len(spawned) > 10 and all(a.params["step"] == "enumerate" for a in spawned)
    for a in spawned[:-1]:
        await flow.complete(node, a)
    assert await flow.lease(node) == []  # the aggregate waits for the last spawned task
    await flow.complete(node, spawned[-1])
    (agg,) = await flow.lease(node)
    assert len(agg.params["inputs"]) == len(spawned) + 1  # the plan's output and every enumeration
    await flow.complete(node, agg)
    assert (await flow.task(wid, "aggregate")).summary["below"]["10^8"] == 255  # type: ignore[index]
    graph = await flow.graph(wid)
    assert sum(e["kind"] == "spawned" for e in graph["edges"]) == len(spawned)
    assert (await flow.status(wid))["state"] == "succeeded"


async def test_spawn_beyond_the_workflow_limit_fails_the_task(flow: Flow) -> None:
    async with flow.db.transaction() as s:
        from coordinator.domain import projects

        await projects.create_project(s, "carmile", "carmile", flow.now)
    wid = await flow.submit({"name": "c", "limits": {"max_spawn": 3}, "tasks": [
        {"name": "plan", "app": "carmile", "params": {"step": "plan", "bound": "1e8", "target_seconds": 0.0001}},
        {"name": "aggregate", "app": "carmile", "params": {"step": "aggregate", "bound": "1e8"},
         "after": ["plan"]}]}, project="carmile")
    node = await flow.node()
    (plan,) = await flow.lease(node)
    await flow.complete(node, plan)
    status = await flow.status(wid)
    assert status["state"] == "failed"
    assert "spawn" in status["failure_reason"] and "3 per task" in status["failure_reason"]
    assert await flow.states(wid) == {"plan": "failed", "aggregate": "blocked"}
    assert await flow.lease(node) == []


async def test_failed_task_blocks_its_dependants_and_retry_recovers(flow: Flow) -> None:
    wid = await flow.submit({"name": "chain", "tasks": [
        sweep("a", 0, replication={"max_error_results": 0}), sweep("b", 1000, ["a"]),
        sweep("c", 2000, ["b"]), sweep("free", 5000)]})
    node = await flow.node()
    batch = await flow.lease(node)
    await flow.error(node, task_of(batch, 0), "segfault")
    status = await flow.status(wid)
    assert status["state"] == "failed"
    assert status["failure_reason"].startswith("task 'a' failed: 1 results ended in error")
    assert await flow.states(wid) == {"a": "failed", "b": "blocked", "c": "blocked", "free": "queued"}
    await flow.complete(node, task_of(batch, 5000))  # an independent branch still finishes
    assert (await flow.status(wid))["state"] == "failed"
    assert await flow.lease(node) == []

    async with flow.db.transaction() as s:
        assert await lifecycle.retry(s, wid, flow.now) == 1
    assert await flow.states(wid) == {"a": "queued", "b": "waiting", "c": "waiting", "free": "done"}
    assert (await flow.task(wid, "a")).attempts == 2
    other = await flow.node("other")
    assert await flow.run_all(other) == 3
    assert (await flow.status(wid))["state"] == "succeeded"


async def test_an_error_is_retried_on_another_node_within_the_limit(flow: Flow) -> None:
    wid = await flow.submit({"name": "r", "tasks": [sweep("a", 0, replication={"max_error_results": 1})]})
    first, second = await flow.node("first"), await flow.node("second")
    (a,) = await flow.lease(first)
    await flow.error(first, a)
    assert await flow.lease(first) == []  # never the same node twice for one workunit
    (again,) = await flow.lease(second)
    assert again.workunit_id == a.workunit_id
    await flow.complete(second, again)
    assert (await flow.status(wid))["state"] == "succeeded"


async def test_an_invalid_output_is_retried_on_another_node(flow: Flow) -> None:
    wid = await flow.submit({"name": "v", "tasks": [sweep("a", 0), sweep("b", 1000, ["a"])]})
    liar, honest = await flow.node("liar"), await flow.node("honest")
    (a,) = await flow.lease(liar)
    receipt = await flow.complete(liar, a, b"not a sweep")
    assert receipt.verdict == "invalid"
    assert await flow.states(wid) == {"a": "queued", "b": "waiting"}
    assert await flow.run_all(honest) == 2
    assert (await flow.status(wid))["state"] == "succeeded"


async def test_cancel_stops_leasing_and_retry_resumes(flow: Flow) -> None:
    wid = await flow.submit({"name": "x", "tasks": [sweep("a", 0), sweep("b", 1000), sweep("c", 2000, ["a"])]})
    node = await flow.node()
    (held, _) = await flow.lease(node, 2)
    assert await lifecycle.cancel_workflow(flow.db, wid, flow.now) == 2
    assert await flow.lease(node) == []
    with pytest.raises(Conflict):
        await flow.complete(node, held)
    status = await flow.status(wid)
    assert status["state"] == "cancelled"
    assert status["progress"]["cancelled"] == 3
    with pytest.raises(Conflict):
        await lifecycle.cancel_workflow(flow.db, wid, flow.now)

    async with flow.db.transaction() as s:
        assert await lifecycle.retry(s, wid, flow.now) == 2
    assert await flow.states(wid) == {"a": "queued", "b": "queued", "c": "waiting"}
    assert await flow.run_all(await flow.node("fresh")) == 3
    assert (await flow.status(wid))["state"] == "succeeded"


async def test_retrying_a_running_workflow_is_refused(flow: Flow) -> None:
    wid = await flow.submit({"name": "x", "tasks": [sweep("a", 0)]})
    async with flow.db.transaction() as s:
        with pytest.raises(Conflict, match="only a failed or cancelled one"):
            await lifecycle.retry(s, wid, flow.now)


async def test_two_concurrent_workflows_with_concurrent_reports(flow: Flow) -> None:
    await flow.project("second")
    width = 8

    def fan_in(name: str, base: int) -> dict:
        leaves = [sweep(f"l{i}", base + 1000 * i) for i in range(width)]
        return {"name": name, "tasks": [*leaves, sweep("join", base + 50_000, inputs=[
            {"task": leaf["name"]} for leaf in leaves])]}

    w1 = await flow.submit(fan_in("one", 0))
    w2 = await flow.submit(fan_in("two", 100_000), project="second")
    nodes = [await flow.node(f"n{i}") for i in range(4)]
    leased = [(n, a) for n in nodes for a in await flow.lease(n, 4)]
    assert len(leased) == 2 * width
    # every leaf of both workflows reported at once: the joins must be queued exactly once
    await asyncio.gather(*(flow.complete(n, a) for n, a in leased))
    joins = [a for n in nodes for a in await flow.lease(n, 4)]
    assert len(joins) == 2
    for wid, base in ((w1, 0), (w2, 100_000)):
        join = await flow.task(wid, "join")
        assert join.attempts == 1 and join.state == "queued"
        (asg,) = [a for a in joins if a.workunit_id == join.workunit_id]
        assert sorted(int(i["summary"]["integers"]) for i in asg.params["inputs"]) == [1000] * width
        assert {i["task"] for i in asg.params["inputs"]} == {f"l{i}" for i in range(width)}
        assert all("/wu" in i["key"] for i in asg.params["inputs"])
    for a in joins:
        await flow.complete(nodes[0], a)
    assert (await flow.status(w1))["state"] == (await flow.status(w2))["state"] == "succeeded"
