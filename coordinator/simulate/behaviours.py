"""What each kind of simulated node returns for a workunit. Pure: the ground truth
is known here, so the simulation can count wrong results that were accepted."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

from coordinator.apps import sim_blocks

KINDS = ("honest", "faulty", "liar", "sleeper", "colluder")


@dataclass(frozen=True)
class Behaviour:
    kind: str
    speed: float  # blocks per simulated second
    fault_rate: float = 0.0  # faulty hardware: chance one block comes out wrong
    cheat_rate: float = 0.0  # sleeper, once trusted: chance to skip work on a result

    def output(self, params: dict[str, Any], trusted: bool, rng: random.Random) -> tuple[bytes, float]:
        """(output bytes, wall seconds claimed)."""
        seed, blocks = str(params["seed"]), int(params["blocks"])
        digests = [sim_blocks.block_digest(seed, i) for i in range(blocks)]
        wall = blocks / self.speed
        if self.kind == "faulty" and rng.random() < self.fault_rate:
            i = rng.randrange(blocks)
            digests[i] = _junk(f"fault-{rng.random()}")
        elif self.kind == "liar":
            digests = [_junk(f"lie-{rng.random()}-{i}") for i in range(blocks)]
            wall = 0.01  # made up, so back at once
        elif self.kind == "sleeper" and trusted and rng.random() < self.cheat_rate:
            for i in range(blocks // 2, blocks):  # skipped half the work
                digests[i] = _junk(f"skip-{rng.random()}-{i}")
            wall = wall / 2
        elif self.kind == "colluder":
            # Both colluders return the same wrong answer, so they agree with each other.
            digests = [_junk(f"collude-{seed}-{i}") for i in range(blocks)]
        return sim_blocks.encode(seed, digests), wall


def _junk(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Scenario:
    nodes: int = 100
    workunits: int = 3000
    blocks: int = 100
    faulty_share: float = 0.05
    fault_rate: float = 0.01
    liar_share: float = 0.04
    sleeper_share: float = 0.04
    sleeper_cheat_rate: float = 0.3
    colluders: int = 2
    seed: int = 1

    def population(self) -> list[Behaviour]:
        rng = random.Random(self.seed)
        n_faulty = round(self.nodes * self.faulty_share)
        n_liar = round(self.nodes * self.liar_share)
        n_sleeper = round(self.nodes * self.sleeper_share)
        n_honest = self.nodes - n_faulty - n_liar - n_sleeper - self.colluders
        if n_honest < 2:
            raise ValueError("the scenario needs at least two honest nodes")
        kinds = (["honest"] * n_honest + ["faulty"] * n_faulty + ["liar"] * n_liar
                 + ["sleeper"] * n_sleeper + ["colluder"] * self.colluders)
        rng.shuffle(kinds)
        return [Behaviour(kind=k, speed=rng.uniform(10.0, 100.0), fault_rate=self.fault_rate,
                          cheat_rate=self.sleeper_cheat_rate) for k in kinds]
