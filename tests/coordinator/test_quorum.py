from coordinator.domain.quorum import Candidate, decide, replicas_needed


def test_single_result_meets_quorum_of_one() -> None:
    d = decide([Candidate(5, "x")], 1)
    assert d.canonical_id == 5 and d.valid_ids == (5,) and d.invalid_ids == ()


def test_no_quorum_until_enough_agree() -> None:
    d = decide([Candidate(1, "x"), Candidate(2, "y")], 2)
    assert d.canonical_id is None and d.largest_group == 1


def test_majority_wins_and_dissenters_are_invalid() -> None:
    d = decide([Candidate(1, "x"), Candidate(2, "y"), Candidate(3, "y")], 2)
    assert d.canonical_id == 2
    assert d.valid_ids == (2, 3)
    assert d.invalid_ids == (1,)


def test_earliest_group_wins_a_tie() -> None:
    d = decide([Candidate(4, "b"), Candidate(3, "a"), Candidate(7, "a"), Candidate(9, "b")], 2)
    assert d.canonical_id == 3 and d.invalid_ids == (4, 9)


def test_empty() -> None:
    assert decide([], 1).canonical_id is None


def test_replicas_needed() -> None:
    assert replicas_needed(largest_group=0, min_quorum=2, outstanding=0) == 2
    assert replicas_needed(largest_group=1, min_quorum=2, outstanding=1) == 0
    assert replicas_needed(largest_group=1, min_quorum=2, outstanding=0) == 1
