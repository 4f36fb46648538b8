"""Carmile against an independent brute force: every odd composite n <= 10^7 that is
a base-2 Fermat pseudoprime (all Carmichael numbers are) is factored by trial
division and put to Korselt's criterion directly."""

from __future__ import annotations

import json
from pathlib import Path

import gmpy2
import pytest

from client.taskapps import carmile as task
from coordinator.apps import OutputInvalid, get
from coordinator.apps.carmile import check_tiling, workflow_document
from coordinator.db.database import Database
from tests.workflows.flow import Flow, make_flow

TOP = 10**7
APP = get("carmile")


def _trial_factor(n: int) -> list[int]:
    out, p = [], 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out + ([n] if n > 1 else [])


@pytest.fixture(scope="module")
def brute() -> list[int]:
    sieve = bytearray([1]) * (TOP + 1)
    sieve[0] = sieve[1] = 0
    for p in range(2, int(TOP**0.5) + 1):
        if sieve[p]:
            sieve[p * p::p] = bytes(len(range(p * p, TOP + 1, p)))
    found = []
    for n in range(3, TOP + 1, 2):
        if sieve[n] or not gmpy2.is_fermat_prp(n, 2):
            continue
        fs = _trial_factor(n)
        if len(fs) >= 3 and len(set(fs)) == len(fs) and all((n - 1) % (p - 1) == 0 for p in fs):
            found.append(n)
    return found


def _run_in_process(bound: int, target: float) -> dict:
    """plan → enumerate → aggregate through the task app and the coordinator's checks."""
    plan_params = APP.check_task_params({"step": "plan", "bound": str(bound), "target_seconds": target})
    plan = APP.check(plan_params, task.run(plan_params))
    inputs = []
    for child in APP.spawn(plan_params, plan.summary):
        inputs.append({"summary": APP.check(child["params"], task.run(child["params"])).summary})
    agg = {"step": "aggregate", "bound": str(bound), "inputs": inputs}
    data = task.run(agg)
    return {**APP.check(agg, data).summary, "slices": len(inputs), "data": data}


def test_the_brute_force_knows_the_classical_counts(brute: list[int]) -> None:
    assert brute[:3] == [561, 1105, 1729]
    assert sum(n < 10**6 for n in brute) == 43 and len(brute) == 105


@pytest.mark.parametrize("bound", [561, 10_000, 123_457, 2_000_000, TOP])
def test_counts_match_brute_force(bound: int, brute: list[int]) -> None:
    out = _run_in_process(bound, 0.0001)
    expected = [n for n in brute if n <= bound]
    assert out["count"] == len(expected)
    assert out["below"] == {f"10^{k}": sum(n < 10**k for n in expected) for k in range(1, 8) if 10**k <= bound}
    assert out["data"].decode().split("\n")[2:-1] == [str(n) for n in expected]


async def test_the_workflow_lists_every_carmichael_number_to_1e7(db: Database, tmp_path: Path,
                                                                 brute: list[int]) -> None:
    flow: Flow = make_flow(db, tmp_path)
    await flow.project("carmile", "carmile")
    wid = await flow.submit(workflow_document(TOP, 0.0001), project="carmile")
    ran = await flow.run_all(await flow.node())
    status = await flow.status(wid)
    assert status["state"] == "succeeded" and ran == status["progress"]["tasks"] > 3
    agg = await flow.task(wid, "aggregate")
    assert agg.summary is not None and agg.summary["count"] == 105 and agg.summary["below"]["10^7"] == 105
    assert agg.output_key is not None
    stored = await flow.store.get(agg.output_key, 1 << 20)
    assert stored.decode().split("\n")[2:-1] == [str(n) for n in brute]


def _enumeration(params: dict, lines: list[str]) -> bytes:
    head = " ".join("-" if params[k] is None else params[k] for k in ("bound", "lo", "hi", "second_lo", "second_hi"))
    return ("\n".join(["carmile-enumerate 1", head, *lines]) + "\n").encode()


PARAMS = {"step": "enumerate", "bound": "100000", "lo": "0", "hi": None, "second_lo": "0", "second_hi": None}


def test_an_honest_enumeration_passes() -> None:
    assert APP.check(PARAMS, task.run(PARAMS)).summary["count"] == 16


@pytest.mark.parametrize("lines, reason", [
    (["561 3 11 17", "1105 5 13 17", "1729 7 13 19", "2465 5 17 29"], None),
    (["561 3 11 17", "1105 5 13 17", "1729 7 13 19", "2821 7 13 31", "3201 3 11 97"], "Korselt fails"),
    (["561 3 11 17", "561 3 11 17"], "out of order"),
    (["561 3 187"], "at least 3"),
    (["563 3 11 17"], "multiply to"),
    (["200560490131 1 2 3"], "below 2"),
])
def test_the_validator_checks_every_certificate(lines: list[str], reason: str | None) -> None:
    if reason is None:
        APP.check(PARAMS, _enumeration(PARAMS, lines))  # a short but valid list: only a quorum finds omissions
        return
    with pytest.raises(OutputInvalid, match=reason):
        APP.check(PARAMS, _enumeration(PARAMS, lines))


def test_numbers_outside_the_slice_are_refused() -> None:
    params = {**PARAMS, "lo": "5", "hi": "7"}
    with pytest.raises(OutputInvalid, match="does not belong"):
        APP.check(params, _enumeration(params, ["561 3 11 17"]))


def test_an_aggregate_must_be_the_merge_of_its_inputs() -> None:
    params = {"step": "aggregate", "bound": "2000", "inputs": [
        {"summary": {"step": "enumerate", "numbers": ["1105", "1729"]}},
        {"summary": {"step": "enumerate", "numbers": ["561"]}}]}
    assert APP.check(params, task.run(params)).summary["below"] == {"10^1": 0, "10^2": 0, "10^3": 1}
    with pytest.raises(OutputInvalid, match="sorted merge"):
        APP.check(params, b"carmile-list 1\n2000 2\n561\n1729\n")


@pytest.mark.parametrize("slices, reason", [
    ([[0, 7, 0, None], [7, None, 0, None]], None),
    ([[0, 7, 0, None], [5, 11, 0, None], [11, None, 0, None]], "gap or overlap at smallest prime 7"),
    ([[0, 7, 0, None], [7, 11, 0, None]], "last slice has an upper limit"),
    ([[0, 5, 0, None], [5, 7, 0, 100], [5, 7, 90, None], [7, None, 0, None]], "second-prime cuts"),
    ([[0, 5, 0, None], [5, 7, 0, 100], [7, None, 0, None]], "stop at 100"),
])
def test_a_plan_must_tile_the_search_exactly_once(slices: list, reason: str | None) -> None:
    rows = [(lo, hi, lo2, hi2, 0.0) for lo, hi, lo2, hi2 in slices]
    if reason is None:
        check_tiling(rows)
        return
    with pytest.raises(OutputInvalid, match=reason):
        check_tiling(rows)


def test_a_real_plan_with_second_prime_cuts_tiles() -> None:
    params = APP.check_task_params({"step": "plan", "bound": "1e12", "target_seconds": 0.05})
    summary = APP.check(params, task.run(params)).summary
    assert any(row[3] is not None for row in summary["slices"])  # some smallest primes were cut again
    doc = json.loads(task.run(params))
    doc["slices"].pop(1)
    with pytest.raises(OutputInvalid):
        APP.check(params, json.dumps(doc, separators=(",", ":")).encode())
