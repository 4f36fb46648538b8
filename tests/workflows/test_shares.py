"""Per-project shares: the pure decision the scheduler can apply."""

from __future__ import annotations

from coordinator.workflows.shares import ProjectLoad, allocate, order


def test_slots_follow_the_shares() -> None:
    loads = [ProjectLoad(1, share=3.0, running=0, waiting=100), ProjectLoad(2, share=1.0, running=0, waiting=100)]
    assert allocate(loads, 8) == {1: 6, 2: 2}


def test_a_project_running_above_its_share_waits() -> None:
    loads = [ProjectLoad(1, share=1.0, running=10, waiting=5), ProjectLoad(2, share=1.0, running=2, waiting=5)]
    assert order(loads) == [2, 1]
    assert allocate(loads, 4) == {2: 4}


def test_spare_slots_go_to_whoever_has_work() -> None:
    loads = [ProjectLoad(1, share=5.0, running=0, waiting=1), ProjectLoad(2, share=0.0, running=0, waiting=9)]
    assert allocate(loads, 4) == {1: 1, 2: 3}
    assert order([ProjectLoad(1, 1.0, 0, 0)]) == []
