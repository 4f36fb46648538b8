import random

from client.agent.backoff import Backoff


def test_delays_grow_to_the_cap_with_jitter() -> None:
    b = Backoff(base=1.0, cap=8.0, rng=random.Random(1))
    delays = [b.next_delay() for _ in range(10)]
    ceilings = [1, 2, 4, 8, 8, 8, 8, 8, 8, 8]
    assert all(0.5 <= d <= c for d, c in zip(delays, ceilings))
    assert len(set(delays)) == len(delays)  # jittered, never in lock step


def test_reset_starts_over() -> None:
    b = Backoff(base=1.0, cap=60.0, rng=random.Random(2))
    for _ in range(6):
        b.next_delay()
    b.reset()
    assert b.next_delay() <= 1.0


def test_never_zero() -> None:
    b = Backoff(base=0.1, cap=0.1, rng=random.Random(3))
    assert min(b.next_delay() for _ in range(100)) >= 0.05
