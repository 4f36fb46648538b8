"""Drives simulated nodes through the real coordinator domain (enrol, lease,
upload, report, validate, trust, audits, credit) on a real database, one policy
at a time, each with its own project and its own fresh nodes."""

from __future__ import annotations

import hashlib
import random
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from coordinator.apps import sim_blocks
from coordinator.db.database import Database
from coordinator.db.models import Admin, CreditEntry, Node, Result, Workunit
from coordinator.domain import leasing, nodes, projects, reporting
from coordinator.simulate.behaviours import Behaviour, Scenario
from coordinator.store import LocalStore, UrlSigner

MAX_OUTPUT = 1 << 20


@dataclass
class PolicyOutcome:
    policy: str
    accepted: int
    replicas_per_accepted: float
    replicas_after_warmup: float
    audit_cost_per_accepted: float
    wrong_accepted: int
    wrong_per_10k: float
    credit_for_wrong: float
    before_quarantine: dict[str, list[int | None]] = field(default_factory=dict)  # kind -> per node
    wrong_by_kind: dict[str, int] = field(default_factory=dict)  # whose wrong result was accepted
    credit_for_wrong_by_kind: dict[str, float] = field(default_factory=dict)
    rounds: int = 0


async def run_policy(db: Database, store: LocalStore, scenario: Scenario, policy: str) -> PolicyOutcome:
    rng = random.Random(f"{scenario.seed}-{policy}")
    population = scenario.population()
    now = 1_000_000.0
    async with db.transaction() as s:
        await nodes.ensure_admin(s, "admin", now)
        admin = await s.scalar(select(Admin).limit(1))
        assert admin is not None
        project = await projects.create_project(s, f"sim-{policy}", "sim-blocks", now, replication_policy=policy)
        await projects.submit_work(
            s, project, {"count": scenario.workunits, "blocks": scenario.blocks, "seed": f"s{scenario.seed}{policy}"},
            projects.Replication(min_quorum=2, target_results=2, max_error_results=5, max_total_results=12,
                                 delay_bound=86400.0), now)
        ids: list[str] = []
        for i, b in enumerate(population):
            token = await nodes.create_enrolment_token(s, admin, now)
            node_id, _ = await nodes.enrol(s, token, f"{policy}-{b.kind}-{i}", _caps(b), now)
            ids.append(node_id)
    project_id = project.id
    returned: dict[str, int] = defaultdict(int)
    quarantined_after: dict[str, int] = {}
    rounds = 0
    while True:
        rounds += 1
        now += 10.0
        async with db.transaction() as s:
            rows = (await s.execute(select(Node.id, Node.status, Node.trust_level).where(Node.id.in_(ids)))).all()
        state = {nid: (status, level) for nid, status, level in rows}
        order = list(range(len(ids)))
        rng.shuffle(order)
        progress = False
        for i in order:
            nid, behaviour = ids[i], population[i]
            status, level = state[nid]
            if status != "active":
                quarantined_after.setdefault(nid, returned[nid])
                continue
            async with db.transaction() as s:
                node = await s.get(Node, nid)
                assert node is not None
                got = await leasing.lease(s, node, 1, now, [f"sim-{policy}"], rng=rng)
            if not got:
                continue
            progress = True
            (a,) = got
            data, wall = behaviour.output(a.params, level != "probation", rng)
            await store.put(a.output_key, data)
            await reporting.submit(db, store, nid, reporting.Report(
                result_id=a.result_id, outcome="success", sha256=hashlib.sha256(data).hexdigest(),
                size=len(data), cpu_seconds=wall, wall_seconds=wall), now, MAX_OUTPUT, rng=rng)
            returned[nid] += 1
            async with db.transaction() as s:
                refreshed = await s.get(Node, nid)
                assert refreshed is not None
                state[nid] = (refreshed.status, refreshed.trust_level)
        if not progress:
            break
    return await _measure(db, scenario, population, ids, project_id, policy, returned, quarantined_after, rounds)


def _caps(b: Behaviour) -> nodes.Capabilities:
    return nodes.Capabilities(platform="linux", arch="x86_64", cores=1, memory_bytes=1 << 33,
                              disk_free_bytes=1 << 36, client_version="sim", benchmark=b.speed)


async def _measure(db: Database, scenario: Scenario, population: list[Behaviour], ids: list[str],
                   project_id: int, policy: str, returned: dict[str, int], quarantined_after: dict[str, int],
                   rounds: int) -> PolicyOutcome:
    async with db.transaction() as s:
        wus = list(await s.scalars(select(Workunit).where(Workunit.project_id == project_id)))
        results = list(await s.scalars(select(Result).join(Workunit, Workunit.id == Result.workunit_id)
                                       .where(Workunit.project_id == project_id, Result.state == "reported")))
        ledger = (await s.execute(select(CreditEntry.result_id, func.sum(CreditEntry.amount))
                                  .where(CreditEntry.node_id.in_(ids)).group_by(CreditEntry.result_id))).all()
    truth = {wu.id: hashlib.sha256(sim_blocks.correct_output(wu.params)).hexdigest() for wu in wus}
    by_result = {r.id: r for r in results}
    accepted = [wu for wu in wus if wu.state == "validated"]
    wrong = [wu for wu in accepted if by_result[wu.canonical_result_id].output_sha256 != truth[wu.id]]
    per_wu: dict[int, int] = defaultdict(int)
    audits = 0.0
    for r in results:
        per_wu[r.workunit_id] += 1
        if (r.summary or {}).get("_audit"):
            audits += sim_blocks.AUDIT_BLOCKS / scenario.blocks
    accepted.sort(key=lambda wu: wu.finished_at or 0.0)
    late = accepted[len(accepted) // 2:]
    wrong_results = {r.id for r in results if r.output_sha256 != truth[r.workunit_id]}
    credit_for_wrong = sum(amount for rid, amount in ledger if rid in wrong_results)
    kind_of = {nid: b.kind for nid, b in zip(ids, population)}
    wrong_by_kind: dict[str, int] = defaultdict(int)
    for wu in wrong:
        wrong_by_kind[kind_of[by_result[wu.canonical_result_id].node_id]] += 1
    credit_by_kind: dict[str, float] = defaultdict(float)
    for rid, amount in ledger:
        if rid in wrong_results:
            credit_by_kind[kind_of[by_result[rid].node_id]] += amount
    before: dict[str, list[int | None]] = defaultdict(list)
    for nid, b in zip(ids, population):
        if b.kind in ("liar", "sleeper", "colluder"):
            before[b.kind].append(quarantined_after.get(nid))
    n = max(1, len(accepted))
    return PolicyOutcome(
        policy=policy,
        accepted=len(accepted),
        replicas_per_accepted=sum(per_wu[wu.id] for wu in accepted) / n,
        replicas_after_warmup=sum(per_wu[wu.id] for wu in late) / max(1, len(late)),
        audit_cost_per_accepted=audits / n,
        wrong_accepted=len(wrong),
        wrong_per_10k=10_000 * len(wrong) / n,
        credit_for_wrong=credit_for_wrong,
        before_quarantine=dict(before),
        wrong_by_kind=dict(wrong_by_kind),
        credit_for_wrong_by_kind=dict(credit_by_kind),
        rounds=rounds,
    )


async def run(scenario: Scenario, policies: tuple[str, ...] = ("fixed", "boinc", "newral"),
              database_url: str | None = None) -> list[PolicyOutcome]:
    from coordinator.db import migrate

    with tempfile.TemporaryDirectory(prefix="newral-sim-", dir=_fast_tmp()) as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'sim.sqlite3'}"
        await migrate.upgrade_async(url)
        db = Database(url)
        store = LocalStore(Path(tmp) / "objects", "http://127.0.0.1:0", UrlSigner(b"s" * 32))
        try:
            return [await run_policy(db, store, scenario, p) for p in policies]
        finally:
            await store.close()
            await db.dispose()


def _fast_tmp() -> str | None:
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() else None
