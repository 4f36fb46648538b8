"""Exponential backoff with full jitter: pure, so the schedule can be tested."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    base: float = 1.0
    cap: float = 60.0
    attempts: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        """Delay before the next try: uniform in [base/2, min(cap, base * 2^attempts)]."""
        ceiling = min(self.cap, self.base * (2 ** min(self.attempts, 30)))
        self.attempts += 1
        return self.rng.uniform(min(self.base / 2, ceiling), ceiling)

    def reset(self) -> None:
        self.attempts = 0
