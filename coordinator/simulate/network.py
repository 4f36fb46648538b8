"""`newral simulate --scenario network`: a heterogeneous volunteer network (200
nodes, speeds up to 10x apart, daily availability cycles, 10% of nodes that go
offline mid-task) running one fixed workload under each orchestrator mode.

An event-driven simulation on a simulated clock, coarser than runner.py: it does
not go through the database, but it uses the coordinator's real decision code
for trust and replication (coordinator.domain.reputation) and the orchestrator's
real predictors and policies (coordinator.orchestrator). The deterministic rules
of AI Off are the ones leasing.py applies: FIFO by replica id, capability match,
never two replicas of a workunit to one node, adaptive replication by trust,
re-issue at the deadline (re-issued replicas go first, as BOINC does).

The orchestrator sees what the coordinator would: benchmarks, each node's record,
its daily window as heartbeats show it, and whether it is heard from now; never
the truth of a node's speed or an outage to come."""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from coordinator.domain import reputation
from coordinator.orchestrator import features, policy, predictors

HOUR = 3600.0
DAY = 86400.0
GB = 1 << 30
TICK = 600.0  # the coordinator's periodic pass (straggler checks, idle nodes ask again)
RETRAIN = 6 * HOUR
CFG = reputation.TrustConfig()


@dataclass(frozen=True)
class NetworkScenario:
    nodes: int = 200
    workunits: int = 3000
    seed: int = 7
    speed_ratio: float = 10.0  # fastest / slowest node
    offline_share: float = 0.10  # nodes that go offline mid-task
    drop_chance: float = 0.6  # ... on each task they take
    faulty_share: float = 0.03  # nodes whose hardware returns wrong results
    fault_rate: float = 0.3
    large_share: float = 0.15  # workunits 6x the typical size
    delay_bound: float = 18 * HOUR
    history_workunits: int = 1500  # the run before, that the predictors learn from


@dataclass
class SimNode:
    idx: int
    id: str
    speed: float  # cost units per second, the truth
    benchmark: float  # what the node reported (noisy)
    memory: int
    online_frac: float
    phase: float
    flaky: bool
    faulty: bool
    rng: random.Random
    trust: reputation.TrustState = field(default_factory=reputation.TrustState)
    consecutive_valid: int = 0
    quarantined: bool = False
    away_until: float = 0.0  # a flaky node's outage
    lease: Lease | None = None
    last_seen: float = 0.0
    ticks_seen: int = 0
    ticks: int = 0
    chain: int = 0  # wake/sleep events of an older chain are stale

    def online(self, t: float) -> bool:
        return t >= self.away_until and ((t + self.phase) % DAY) < self.online_frac * DAY

    def next_online(self, t: float) -> float:
        if t < self.away_until:
            t = self.away_until
        if self.online(t):
            return t
        into = (t + self.phase) % DAY
        return t + (DAY - into) + 1e-6

    def next_offline(self, t: float) -> float:
        into = (t + self.phase) % DAY
        return t + max(1.0, self.online_frac * DAY - into)

    # The daily window, as the coordinator learns it from heartbeats: it cannot see
    # an outage coming (away_until), only that the node has gone quiet inside it.
    def in_window(self, t: float) -> bool:
        return ((t + self.phase) % DAY) < self.online_frac * DAY

    def window_next_online(self, t: float) -> float:
        if self.in_window(t):
            return t
        return t + (DAY - (t + self.phase) % DAY) + 1e-6

    def silent_in_window(self, t: float) -> float:
        """How long the node has been quiet while its window says it should be up."""
        if self.online(t) or not self.in_window(t):
            return 0.0
        window_start = t - (t + self.phase) % DAY
        return t - max(self.last_seen, window_start)

    @property
    def availability(self) -> float:
        return (self.ticks_seen + 3.0) / (self.ticks + 4.0)


@dataclass(eq=False)  # identity: the queue holds each replica by reference
class SimWorkunit:
    id: int
    cost: float
    memory: int
    quorum: int = 2
    decided: bool = False
    done: bool = False
    correct_count: int = 0
    results: list[tuple[Lease, bool]] = field(default_factory=list)
    replicas: int = 0
    holders: set[int] = field(default_factory=set)
    leases: list[Lease] = field(default_factory=list)


@dataclass(eq=False)
class Lease:
    id: int
    wu: SimWorkunit
    node: SimNode
    start: float
    deadline: float
    remaining: float  # cost units of work left
    compute: float = 0.0  # node seconds spent so far
    state: str = "running"  # running | reported | abandoned | cancelled
    run_since: float | None = None
    version: int = 0
    drop_at: float | None = None  # remaining work at which a flaky node vanishes
    expired: bool = False
    reissued: bool = False
    flagged: bool = False  # already judged a straggler
    learned: bool = False
    advice: list[tuple[policy.Advice, int]] = field(default_factory=list)


@dataclass
class ModeOutcome:
    mode: str
    makespan: float
    wasted_node_hours: float
    replicas_per_accepted: float
    accepted: int
    wrong_accepted: int
    constraint_violations: int
    actions: int  # decisions the orchestrator applied itself (each an event)
    recommendations: dict[str, tuple[int, int]]  # kind -> (confirmed, refuted)
    events: list[dict[str, Any]]
    schedule: list[tuple[int, int]]  # (workunit, node) in lease order: Advisory must match Off
    model: dict[str, Any]

    @property
    def hit_rate(self) -> float | None:
        hit = sum(c for c, _ in self.recommendations.values())
        total = sum(c + r for c, r in self.recommendations.values())
        return hit / total if total else None


def build_network(sc: NetworkScenario) -> list[SimNode]:
    rng = random.Random(f"net-{sc.seed}")
    out = []
    n_flaky = round(sc.nodes * sc.offline_share)
    n_faulty = round(sc.nodes * sc.faulty_share)
    kinds = ["flaky"] * n_flaky + ["faulty"] * n_faulty + ["ok"] * (sc.nodes - n_flaky - n_faulty)
    rng.shuffle(kinds)
    for i, kind in enumerate(kinds):
        speed = math.exp(rng.uniform(0.0, math.log(sc.speed_ratio))) / 3600.0  # 1..10 cost units per hour
        out.append(SimNode(idx=i, id=f"n{i:03d}", speed=speed, benchmark=speed * math.exp(rng.gauss(0, 0.3)),
                           memory=(4 if rng.random() < 0.3 else 16) * GB, online_frac=rng.uniform(0.45, 1.0),
                           phase=rng.uniform(0, DAY), flaky=kind == "flaky", faulty=kind == "faulty",
                           rng=random.Random(f"node-{sc.seed}-{i}")))
    return out


def build_workload(sc: NetworkScenario, count: int, salt: str) -> list[SimWorkunit]:
    rng = random.Random(f"work-{sc.seed}-{salt}")
    out = []
    for i in range(count):
        cost = math.exp(rng.gauss(math.log(2.0), 0.35)) * (6.0 if rng.random() < sc.large_share else 1.0)
        out.append(SimWorkunit(id=i, cost=cost, memory=(8 if rng.random() < 0.2 else 1) * GB))
    return out


class Simulation:
    """One run of a workload over the network in one mode."""

    def __init__(self, sc: NetworkScenario, mode: str, nodes: list[SimNode], work: list[SimWorkunit],
                 history: features.History, trained: predictors.Trained, leases_so_far: list[features.Lease],
                 start: float, partial_actions: tuple[str, ...] = ("reissue-straggler",)) -> None:
        self.sc, self.mode, self.nodes, self.work = sc, mode, nodes, work
        self.history, self.trained, self.log = history, trained, leases_so_far
        self.partial_actions = partial_actions
        self.rng = random.Random(f"run-{sc.seed}")  # the same stream in every mode
        self.now = self.start = start
        self.heap: list[tuple[float, int, str, Any]] = []
        self.seq = 0
        self.queue: deque[SimWorkunit] = deque()  # unsent replicas, FIFO
        self.leases: list[Lease] = []
        self.open: list[Lease] = []  # not yet expired
        self.events: list[dict[str, Any]] = []
        self.schedule: list[tuple[int, int]] = []
        self.recs: dict[str, list[int]] = {}
        self.violations = 0
        self.actions = 0
        self.last_train = start
        self.unit_cache: dict[int, float] = {}  # predicted seconds per cost unit, per node
        self.exponent = trained.runtime.cost_exponent("sim")
        self.curve_cache: dict[int, Callable[[float], float]] = {}
        self.horizon_at, self.horizon_value, self.best_unit = -1.0, 0.0, 0.0
        self.undone = len(work)
        costs = sorted(w.cost for w in work)
        self.large_cost = costs[int(0.8 * len(costs))] if costs else math.inf
        for wu in work:
            for _ in range(2):
                self.queue.append(wu)
                wu.replicas += 1

    # --- predictions, as the coordinator would make them from what it observes
    def predicted_runtime(self, node: SimNode, cost: float) -> float:
        unit = self.unit_cache.get(node.idx)
        if unit is None:
            unit = self.trained.runtime.predict("sim", 1.0, node.benchmark, self.history.of(node.id))
            self.unit_cache[node.idx] = unit
        return unit * cost ** self.exponent

    def predicted_wall(self, node: SimNode, cost: float) -> float:
        return self.predicted_runtime(node, cost) / node.availability

    def predicted_on_time(self, node: SimNode, cost: float) -> float:
        return self.on_time_curve(node)(self.predicted_wall(node, cost))

    def predicted_finish(self, node: SimNode, compute: float) -> float:
        """When the node would finish this much compute, walking its daily window
        (which the coordinator learns from the node's heartbeats)."""
        t, left = self.now, compute
        for _ in range(60):
            if not node.in_window(t):
                t = node.window_next_online(t)
            span = node.next_offline(t) - t
            if span >= left:
                return t + left
            left -= span
            t += span
        return math.inf

    def uses(self, action: str) -> bool:
        return self.mode == "full" or (self.mode == "partial" and action in self.partial_actions)

    # --- the event loop
    def push(self, t: float, kind: str, payload: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, payload))

    def run(self) -> float:
        for node in self.nodes:
            node.away_until = self.start
            node.chain += 1
            self.push(node.next_online(self.start), "wake", (node, node.chain))
        self.push(self.start + TICK, "tick", None)
        finished_at = self.start
        limit = self.start + 90 * DAY
        while self.heap and self.undone and self.now < limit:
            t, _, kind, payload = heapq.heappop(self.heap)
            self.now = t
            getattr(self, "on_" + kind)(payload)
            finished_at = t
        return finished_at - self.start

    def on_wake(self, payload: tuple[SimNode, int]) -> None:
        node, chain = payload
        if chain != node.chain:
            return
        if not node.online(self.now):
            self.push(node.next_online(self.now), "wake", payload)
            return
        node.last_seen = self.now
        self.push(node.next_offline(self.now), "sleep", payload)
        if node.lease is not None:
            self.resume(node.lease)
        else:
            self.ask(node)

    def on_sleep(self, payload: tuple[SimNode, int]) -> None:
        node, chain = payload
        if chain != node.chain:
            return
        if node.lease is not None:
            self.pause(node.lease)
        self.push(node.next_online(self.now + 1.0), "wake", payload)

    def on_tick(self, _: Any) -> None:
        for node in self.nodes:
            node.ticks += 1
            if node.online(self.now):
                node.ticks_seen += 1
                node.last_seen = self.now
        keep = []
        for lease in self.open:
            if lease.state in ("running", "abandoned") and not lease.expired:
                if self.now >= lease.deadline:
                    self.expire(lease)
                else:  # running, or abandoned: the coordinator cannot tell them apart
                    self.check_straggler(lease)
                keep.append(lease)
        self.open = keep
        if self.mode != "off" and self.now - self.last_train >= RETRAIN:
            self.trained = predictors.train(self.log)
            self.unit_cache.clear()
            self.curve_cache.clear()
            self.exponent = self.trained.runtime.cost_exponent("sim")
            self.last_train = self.now
        idle = [n for n in self.nodes if n.lease is None and n.online(self.now) and not n.quarantined]
        self.rng.shuffle(idle)
        for node in idle:
            self.ask(node)
        self.push(self.now + TICK, "tick", None)

    # --- leasing
    def eligible(self, node: SimNode, wu: SimWorkunit) -> bool:
        return not wu.done and wu.memory <= node.memory and node.idx not in wu.holders

    def ask(self, node: SimNode) -> None:
        if node.quarantined or node.lease is not None or not self.queue:
            return
        chosen: SimWorkunit | None = None
        if self.mode == "full":
            chosen = self.pick_full(node)
        else:
            for wu in self.queue:
                if self.eligible(node, wu):
                    chosen = wu
                    break
        if chosen is None:
            return
        if chosen in self.queue:
            self.queue.remove(chosen)
        self.lease(node, chosen)

    def pick_full(self, node: SimNode) -> SimWorkunit | None:
        """Full: policy.pick_full over the first 400 distinct workunits queued."""
        seen: set[int] = set()
        cands: list[tuple[policy.Candidate, SimWorkunit]] = []
        on_time = self.on_time_curve(node)
        horizon = self.horizon()  # also refreshes best_unit
        for pos, wu in enumerate(self.queue):
            if wu.id in seen or not self.eligible(node, wu):
                continue
            seen.add(wu.id)
            runtime = self.predicted_runtime(node, wu.cost)
            finish = self.predicted_finish(node, policy.planned_runtime(runtime)) - self.now
            best = policy.planned_runtime(self.best_unit * wu.cost ** self.exponent)
            cands.append((policy.Candidate(pos, wu.cost, finish, on_time(runtime / node.availability), best), wu))
            if len(cands) >= 400:
                break
        if not cands:
            return None
        pick = policy.pick_full([c for c, _ in cands], horizon, self.sc.delay_bound)
        if pick is None:
            return None
        return next(wu for c, wu in cands if c is pick)

    def horizon(self) -> float:
        """How long the network needs for what is left, as the models see it: the
        queued work (at the replication seen so far) and what running leases have
        left, over the predicted rate of the nodes that are not unreliable.
        Recomputed once per tick."""
        if self.horizon_at == self.now // TICK:
            return self.horizon_value
        decided = sum(1 for wu in self.work if wu.decided)
        ratio = len(self.leases) / decided if decided else 1.2
        copies: dict[int, int] = {}
        for wu in self.queue:
            copies[wu.id] = copies.get(wu.id, 0) + 1
        left = sum(self.work[i].cost * (n if self.work[i].decided else min(n, ratio)) for i, n in copies.items())
        left += sum(other.remaining for other in self.open if other.state == "running")
        reliable = [n for n in self.nodes
                    if not n.quarantined and self.history.of(n.id).miss_rate < policy.UNRELIABLE]
        rate = sum(n.availability / self.predicted_runtime(n, 1.0) for n in reliable)
        self.best_unit = min((self.predicted_runtime(n, 1.0) for n in reliable), default=0.0)
        self.horizon_at, self.horizon_value = self.now // TICK, max(2 * HOUR, left / max(rate, 1e-9))
        return self.horizon_value

    def on_time_curve(self, node: SimNode) -> Callable[[float], float]:
        curve = self.curve_cache.get(node.idx)
        if curve is None:
            curve = self.trained.reliability.curve(self.sc.delay_bound, self.history.of(node.id))
            self.curve_cache[node.idx] = curve
        return curve

    def lease(self, node: SimNode, wu: SimWorkunit) -> None:
        if wu.memory > node.memory or node.idx in wu.holders:
            self.violations += 1
        if not wu.decided:
            wu.decided = True
            decision = reputation.decide_replication("newral", node.trust, node.consecutive_valid, CFG, self.rng)
            if decision.alone:
                wu.quorum = 1
                while wu in self.queue:
                    self.queue.remove(wu)
                    wu.replicas -= 1
        wu.holders.add(node.idx)
        lease = Lease(len(self.leases), wu, node, self.now, self.now + self.sc.delay_bound, wu.cost)
        if node.flaky and node.rng.random() < self.sc.drop_chance:
            lease.drop_at = wu.cost * node.rng.uniform(0.1, 0.9)
        self.leases.append(lease)
        self.open.append(lease)
        wu.leases.append(lease)
        self.schedule.append((wu.id, node.idx))
        node.lease = lease
        if self.mode != "off":
            wall = self.predicted_wall(node, wu.cost)
            fast = min(self.predicted_wall(n, wu.cost) for n in self.nodes[:50])
            on_time = self.predicted_on_time(node, wu.cost)
            for advice in policy.advise_lease(wu.cost, self.large_cost, wall, fast, on_time, self.sc.delay_bound):
                self.recommend(lease, advice)
        self.resume(lease)

    def resume(self, lease: Lease) -> None:
        lease.run_since = self.now
        lease.version += 1
        factor = math.exp(lease.node.rng.gauss(0, 0.1)) if lease.compute == 0 else 1.0
        lease.remaining *= factor
        target = lease.drop_at if lease.drop_at is not None else 0.0
        target = min(target, lease.remaining)
        self.push(self.now + (lease.remaining - target) / lease.node.speed, "progress", (lease, lease.version))

    def pause(self, lease: Lease) -> None:
        if lease.run_since is None:
            return
        ran = self.now - lease.run_since
        lease.compute += ran
        lease.remaining = max(0.0, lease.remaining - ran * lease.node.speed)
        lease.run_since = None
        lease.version += 1

    def on_progress(self, payload: tuple[Lease, int]) -> None:
        lease, version = payload
        if version != lease.version or lease.state != "running":
            return
        self.pause(lease)
        node = lease.node
        if lease.drop_at is not None and lease.remaining <= lease.drop_at + 1e-9:
            lease.state = "abandoned"  # the node vanished; the coordinator learns at the deadline
            node.lease = None
            node.away_until = self.now + node.rng.uniform(6 * HOUR, 30 * HOUR)
            node.chain += 1
            self.push(node.next_online(self.now), "wake", (node, node.chain))
            return
        self.report(lease)
        node.lease = None
        if node.online(self.now):
            self.ask(node)

    # --- validation and trust (the coordinator's rules)
    def report(self, lease: Lease) -> None:
        lease.state = "reported"
        node, wu = lease.node, lease.wu
        on_time = self.now <= lease.deadline
        self.learn(lease, runtime=lease.compute, on_time=on_time)
        self.settle_advice(lease, on_time)
        if wu.done:
            lease.state = "cancelled"  # arrived after the workunit was decided: wasted
            return
        correct = not (node.faulty and node.rng.random() < self.sc.fault_rate)
        wu.results.append((lease, correct))
        wu.correct_count += correct
        if wu.correct_count >= wu.quorum:
            self.validate(wu)
            return
        outstanding = sum(1 for q in self.queue if q is wu) + sum(1 for other in wu.leases if other.state == "running")
        for _ in range(max(0, wu.quorum - wu.correct_count - outstanding)):
            self.queue.appendleft(wu)
            wu.replicas += 1

    def validate(self, wu: SimWorkunit) -> None:
        wu.done = True
        self.undone -= 1
        self.events.append({"kind": "workunit.validated", "at": self.now, "workunit": wu.id})
        for lease, correct in wu.results:
            self.trust(lease.node, "valid" if correct else "invalid")
        while wu in self.queue:
            self.queue.remove(wu)
        for lease in wu.leases:
            if lease.state == "running":
                self.pause(lease)
                lease.state = "cancelled"
                if lease.node.lease is lease:
                    lease.node.lease = None

    def trust(self, node: SimNode, outcome: str) -> None:
        change = reputation.apply(node.trust, outcome, CFG)
        node.trust = change.state
        node.consecutive_valid = node.consecutive_valid + 1 if outcome == "valid" else 0
        if change.quarantine:
            node.quarantined = True

    def expire(self, lease: Lease) -> None:
        lease.expired = True
        self.trust(lease.node, "timeout")
        self.learn(lease, runtime=None, on_time=False)
        if not lease.reissued and not lease.wu.done:
            self.queue.appendleft(lease.wu)  # re-issued work goes first
            lease.wu.replicas += 1

    def check_straggler(self, lease: Lease) -> None:
        if lease.flagged or self.mode == "off" or lease.wu.done:
            return
        node = lease.node
        silent = node.silent_in_window(self.now)
        predicted = self.predicted_wall(node, lease.wu.cost)
        done = lease.compute + (self.now - lease.run_since if lease.run_since is not None else 0.0)
        left = max(0.0, self.predicted_runtime(node, lease.wu.cost) - done)
        finish_in = self.predicted_finish(node, left) - self.now
        if not policy.is_straggler(finish_in, lease.deadline - self.now, silent):
            return
        advice = policy.advise_straggler(lease.deadline - self.now, self.now - lease.start, predicted, silent)
        if self.uses("reissue-straggler"):
            lease.reissued = True
            self.queue.appendleft(lease.wu)
            lease.wu.replicas += 1
            self.actions += 1
            self.events.append({"kind": "orchestrator.reissue", "at": self.now, "workunit": lease.wu.id,
                                "node": node.id, "prediction": advice.prediction})
        self.recommend(lease, advice)
        lease.flagged = True

    # --- learning and recommendations
    def learn(self, lease: Lease, runtime: float | None, on_time: bool) -> None:
        if lease.learned:
            return
        lease.learned = True
        row = features.Lease("sim", lease.node.id, lease.start, lease.wu.cost, lease.node.benchmark,
                             self.sc.delay_bound, runtime, on_time)
        self.log.append(row)
        self.history.add(row)
        self.unit_cache.pop(lease.node.idx, None)
        self.curve_cache.pop(lease.node.idx, None)

    def recommend(self, lease: Lease, advice: policy.Advice) -> None:
        self.recs.setdefault(advice.kind, [0, 0])
        lease.advice.append((advice, 0))
        self.events.append({"kind": "orchestrator.recommendation", "at": self.now, "what": advice.kind,
                            "node": lease.node.id, "workunit": lease.wu.id,
                            "predicted_benefit": advice.predicted_benefit})

    def settle_advice(self, lease: Lease, on_time: bool) -> None:
        """Confirm or refute what was predicted about this lease, now its outcome is known."""
        for advice, _ in lease.advice:
            if advice.kind == "large-to-fast":
                fast = advice.prediction["runtime_fast"]
                wall = self.now - lease.start
                hit = wall - fast >= 0.5 * advice.predicted_benefit
            else:
                hit = not on_time
            self.recs[advice.kind][0 if hit else 1] += 1
        lease.advice.clear()

    def finish_advice(self) -> None:
        for lease in self.leases:
            if lease.advice and lease.state in ("abandoned",):
                for advice, _ in lease.advice:
                    self.recs[advice.kind][0] += 1  # it never came back: the warning was right
            elif lease.advice and lease.state == "cancelled":
                for advice, _ in lease.advice:  # overtaken before it could prove anything
                    if advice.kind != "large-to-fast":
                        self.recs[advice.kind][0 if lease.expired else 1] += 1
            lease.advice.clear()

    def outcome(self, makespan: float) -> ModeOutcome:
        self.finish_advice()
        accepted = [w for w in self.work if w.done]
        wrong = sum(1 for w in accepted if w.correct_count < w.quorum)
        for other in self.leases:
            if other.state == "running":
                self.pause(other)
        wasted = sum(other.compute for other in self.leases if other.state in ("abandoned", "cancelled"))
        return ModeOutcome(self.mode, makespan, wasted / HOUR, len(self.leases) / max(1, len(accepted)),
                           len(accepted), wrong, self.violations, self.actions,
                           {k: (v[0], v[1]) for k, v in self.recs.items()}, self.events, self.schedule,
                           self.trained.summary())


def prepare(sc: NetworkScenario) -> tuple[
        list[SimNode], features.History, list[features.Lease], predictors.Trained, float]:
    """The network's past: one run under AI Off that the predictors learn from."""
    nodes = build_network(sc)
    history = features.History()
    log: list[features.Lease] = []
    untrained = predictors.Trained(predictors.RuntimeModel(), predictors.ReliabilityModel(), None, None, None,
                                   None, None, 0)
    past = Simulation(sc, "off", nodes, build_workload(sc, sc.history_workunits, "history"), history, untrained,
                      log, 0.0)
    elapsed = past.run()
    return nodes, history, log, predictors.train(log), math.ceil((elapsed + DAY) / DAY) * DAY


def run(sc: NetworkScenario, modes: tuple[str, ...] = ("off", "advisory", "partial", "full")) -> tuple[
        predictors.Trained, list[ModeOutcome]]:
    import copy

    nodes, history, log, trained, start = prepare(sc)
    out = []
    for mode in modes:
        # Every mode starts from the same snapshot of the network and its history.
        snap_nodes = copy.deepcopy(nodes)
        for n in snap_nodes:
            n.lease = None
            n.rng = random.Random(f"node-{sc.seed}-{n.idx}-run")
        sim = Simulation(sc, mode, snap_nodes, build_workload(sc, sc.workunits, "run"), copy.deepcopy(history),
                         copy.deepcopy(trained), list(log), start)
        out.append(sim.outcome(sim.run()))
    return trained, out
