"""BPSW-Hunter as a workflow: a BPSW claim from a sweep sets off a follow-up that
factors and re-tests the number on other nodes; only a confirmation makes it a
confirmed finding. No composite below 2^64 is known to pass BPSW, so every claim
here is false and must end refuted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from coordinator.db.database import Database
from coordinator.db.models import Event, Finding, Node, Result, Workunit
from coordinator.domain import transitions
from coordinator.workflows import engine, followups
from tests.workflows.flow import Flow, make_flow, sweep

FALSE_CLAIM = "3215031751"  # a strong pseudoprime to bases 2, 3, 5 and 7 that fails strong Lucas


def test_every_claim_spawns_a_follow_up_with_a_quorum_of_two() -> None:
    specs = followups.spawn_specs("bpsw-hunter", {"a": "0", "b": "10"}, {"bpsw_claims": ["2047", FALSE_CLAIM]}, {})
    assert [(s.name, s.app, s.params) for s in specs] == [
        ("verify-2047", "bpsw-verify", {"n": "2047"}), (f"verify-{FALSE_CLAIM}", "bpsw-verify", {"n": FALSE_CLAIM})]
    assert all(s.replication["min_quorum"] == 2 for s in specs)
    assert followups.spawn_specs("bpsw-hunter", {}, {"bpsw_claims": []}, {}) == []


async def _accept_sweep_with_forged_claim(flow: Flow, wid: int, node_id: str) -> None:
    """What transitions.advance does when it validates a sweep, except that the node's
    canonical summary carries a claim the sweep's own check would have caught."""
    task = await flow.task(wid, "sweep")
    async with flow.db.transaction() as s:
        wu = await transitions.lock_workunit(s, task.workunit_id)  # type: ignore[arg-type]
        result = await s.scalar(select(Result).where(Result.workunit_id == wu.id))
        assert result is not None
        summary = {"primes": 168, "spsp": 1, "integers": 1000, "bpsw_claims": [FALSE_CLAIM]}
        result.state, result.verdict, result.node_id, result.summary = "reported", "valid", node_id, summary
        result.output_key, result.output_sha256, result.output_size = "results/forged", "0" * 64, 10
        wu.state, wu.canonical_result_id, wu.summary, wu.finished_at = "validated", result.id, summary, flow.now
        # the sweep's own check would have stored it as an unverified claim
        s.add(Finding(project_id=wu.project_id, workunit_id=wu.id, result_id=result.id, kind="bpsw-claim",
                      value=FALSE_CLAIM, status="unverified", data={}, created_at=flow.now))
        await engine.on_workunit_finished(s, wu, flow.now)


async def test_an_injected_false_claim_is_refuted_and_never_confirmed(db: Database, tmp_path: Path) -> None:
    flow = make_flow(db, tmp_path)
    await flow.project()
    wid = await flow.submit({"name": "hunt", "tasks": [sweep("sweep", 0)]})
    rogue, liar, honest1, honest2 = [await flow.node(n) for n in ("rogue", "liar", "h1", "h2")]
    await _accept_sweep_with_forged_claim(flow, wid, rogue.id)
    assert (await flow.states(wid))[f"sweep/verify-{FALSE_CLAIM}"] == "queued"
    assert await flow.lease(rogue) == []  # follow-ups go to trusted nodes only; a new node is on probation
    async with flow.db.transaction() as s:
        for n in (liar, honest1, honest2):
            row = await s.get(Node, n.id)
            assert row is not None
            row.trust_level = "trusted"
            n.trust_level = "trusted"

    # a second dishonest node vouches for the claim: its forged factorisation is refused
    (a,) = await flow.lease(liar)
    assert a.app == "bpsw-verify" and a.params == {"n": FALSE_CLAIM}
    forged = json.dumps({"n": FALSE_CLAIM, "factors": [FALSE_CLAIM], "strong_base2": True, "strong_lucas": True},
                        separators=(",", ":")).encode()
    assert (await flow.complete(liar, a, forged)).verdict == "invalid"
    # two honest nodes factor it and re-test it
    for node in (honest1, honest2):
        (a,) = await flow.lease(node)
        await flow.complete(node, a)

    status = await flow.status(wid)
    assert status["state"] == "succeeded"
    verify_task = await flow.task(wid, f"sweep/verify-{FALSE_CLAIM}")
    async with flow.db.transaction() as s:
        findings = list(await s.scalars(select(Finding)))
        refuted = list(await s.scalars(select(Event).where(Event.kind == "finding.refuted")))
        follow_up = await s.get(Workunit, verify_task.workunit_id)
    assert [(f.value, f.status) for f in findings] == [(FALSE_CLAIM, "refuted")]
    assert findings[0].data["factors"] == ["151", "751", "28351"]
    assert not any(f.status == "confirmed" for f in findings)
    assert len(refuted) == 1 and refuted[0].data["value"] == FALSE_CLAIM
    assert follow_up is not None and follow_up.summary["confirmed"] is False  # type: ignore[index]


@pytest.mark.parametrize("n, factors", [("2047", ["23", "89"]), ("1000000007", ["1000000007"])])
def test_the_follow_up_app_proves_what_it_says(n: str, factors: list[str]) -> None:
    from client.taskapps import bpsw_verify as task
    from coordinator.apps import get

    summary = get("bpsw-verify").check({"n": n}, task.run({"n": n})).summary
    assert summary["factors"] == factors and summary["confirmed"] is False
