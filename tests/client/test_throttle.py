import signal

from client.agent.throttle import Throttler, runs_now


def test_duty_cycle_share_and_stagger() -> None:
    steps = [i / 1000 for i in range(1000)]
    for count, fraction in ((1, 0.5), (2, 0.5), (3, 0.4), (4, 0.25)):
        on = [[runs_now(t, i, count, fraction) for t in steps] for i in range(count)]
        for row in on:
            assert abs(sum(row) / len(steps) - fraction) < 0.01
        if count > 1:  # staggered: the number running at once stays near count * fraction
            concurrent = [sum(col) for col in zip(*on)]
            assert max(concurrent) - min(concurrent) <= 1
            assert max(concurrent) <= -(-count * fraction // 1)


def test_full_and_zero_share() -> None:
    assert all(runs_now(t / 10, 0, 1, 1.0) for t in range(20))
    assert not any(runs_now(t / 10, 0, 1, 0.0) for t in range(20))


def test_throttler_sends_stop_and_cont_only_on_change_and_releases_all() -> None:
    now = [0.0]
    sent: list[tuple[int, int]] = []
    t = Throttler(period=1.0, clock=lambda: now[0], signal_group=lambda g, s: sent.append((g, s)))
    t.set_plan([101, 102], [103], 50)  # 101 runs in [0, .5), 102 in [.5, 1); 103 is held
    assert sent == [(102, signal.SIGSTOP), (103, signal.SIGSTOP)]
    t.apply()
    assert len(sent) == 2  # no change, no signal
    now[0] = 0.6
    t.apply()
    assert sent[2:] == [(101, signal.SIGSTOP), (102, signal.SIGCONT)]
    assert t.is_stopped(101) and not t.is_stopped(102) and t.is_stopped(103)
    t.release_all()
    assert sorted(sent[4:]) == [(101, signal.SIGCONT), (103, signal.SIGCONT)]
