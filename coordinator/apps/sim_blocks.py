"""sim-blocks: a synthetic app for `newral simulate`. A workunit is `blocks` blocks of
deterministic work; the output lists one digest per block, so the validator can
audit a few blocks chosen at random after the result arrives (a cheap proof of work)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from typing import Any

from coordinator.apps.base import AuditVerdict, CheckedOutput, OutputInvalid, WorkunitPlan
from coordinator.errors import InvalidInput

FORMAT = "newral-sim/1"
AUDIT_BLOCKS = 4


def block_digest(seed: str, i: int) -> str:
    return hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()[:16]


def encode(seed: str, digests: list[str]) -> bytes:
    return "\n".join([FORMAT, f"seed {seed}", *(f"block {i} {d}" for i, d in enumerate(digests))]).encode() + b"\n"


def correct_output(params: dict[str, Any]) -> bytes:
    seed, blocks = str(params["seed"]), int(params["blocks"])
    return encode(seed, [block_digest(seed, i) for i in range(blocks)])


def decode(params: dict[str, Any], data: bytes) -> list[str]:
    seed, blocks = str(params["seed"]), int(params["blocks"])
    try:
        lines = data.decode("ascii").split("\n")
    except UnicodeDecodeError:
        raise OutputInvalid("output is not ASCII") from None
    if lines[:2] != [FORMAT, f"seed {seed}"] or lines[-1] != "" or len(lines) != blocks + 3:
        raise OutputInvalid("output header or block count is wrong")
    digests = []
    for i, line in enumerate(lines[2:-1]):
        parts = line.split(" ")
        if len(parts) != 3 or parts[:2] != ["block", str(i)] or len(parts[2]) != 16:
            raise OutputInvalid(f"block line {i} is malformed")
        digests.append(parts[2])
    return digests


class SimBlocks:
    name = "sim-blocks"
    version = "1.0"
    description = "Synthetic blocks of work for simulations of validation policies."
    reference_rate = 1.0  # one credit per block

    def plan(self, request: dict[str, Any]) -> list[WorkunitPlan]:
        try:
            count, blocks, seed = int(request["count"]), int(request["blocks"]), str(request["seed"])
        except (KeyError, ValueError):
            raise InvalidInput("sim-blocks work needs integer count and blocks, and a seed") from None
        if not 1 <= count <= 100_000 or not 2 <= blocks <= 10_000:
            raise InvalidInput("count must be 1..100000 and blocks 2..10000")
        return [WorkunitPlan(params={"seed": f"{seed}-{i}", "blocks": blocks}, cost=float(blocks))
                for i in range(count)]

    def check(self, params: dict[str, Any], data: bytes) -> CheckedOutput:
        decode(params, data)
        return CheckedOutput(summary={"blocks": int(params["blocks"])})

    def audit(self, params: dict[str, Any], data: bytes, rng: random.Random) -> AuditVerdict:
        digests = decode(params, data)
        picks = rng.sample(range(len(digests)), min(AUDIT_BLOCKS, len(digests)))
        bad = [i for i in picks if digests[i] != block_digest(str(params["seed"]), i)]
        detail = f"recomputed blocks {sorted(picks)}" + (f", wrong: {bad}" if bad else ", all match")
        return AuditVerdict(ok=not bad, detail=detail, cost_fraction=len(picks) / len(digests))

    def totals(self, summaries: Iterable[dict[str, Any]]) -> dict[str, Any]:
        return {"blocks": sum(s["blocks"] for s in summaries)}
