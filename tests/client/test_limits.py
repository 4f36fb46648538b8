"""Every limit decision, with injected readings."""

from dataclasses import replace
from datetime import datetime

from client.agent.limits import (
    LeaseBlock,
    Readings,
    SuspendReason,
    decide,
    fits_disk_cap,
    fits_network_quota,
)
from client.agent.preferences import Preferences, ProjectEntry, UsageLimits

MONDAY_NOON = datetime(2026, 11, 23, 12, 0)  # a Monday
P = Preferences(in_use=UsageLimits(2, 40, 50), idle=UsageLimits(0, 100, 90), idle_after_minutes=3,
                pause_on_battery=False, min_battery_percent=0)


def r(**kw: object) -> Readings:
    base: dict[str, object] = {"now": MONDAY_NOON, "on_battery": False, "idle_seconds": 0.0, "epoch": 1000.0}
    base.update(kw)
    return Readings(**base)  # type: ignore[arg-type]


def kinds(d: object) -> set:
    return {x.kind for x in (*d.suspend, *d.lease_blocks)}  # type: ignore[attr-defined]


def test_in_use_and_idle_have_separate_cores_and_cpu() -> None:
    busy = decide(P, r(idle_seconds=10), max_cores=4)
    assert (busy.run, busy.cores, busy.cpu_percent, busy.mode) == (True, 2, 40, "in use")
    assert busy.throttled and "40% CPU" in busy.status()
    idle = decide(P, r(idle_seconds=181), max_cores=4)
    assert (idle.cores, idle.cpu_percent, idle.mode) == (4, 100, "idle")
    assert not idle.throttled


def test_cores_never_exceed_the_agents_concurrency() -> None:
    assert decide(replace(P, in_use=UsageLimits(8, 100, 50)), r(), max_cores=3).cores == 3


def test_user_pause_and_snooze() -> None:
    d = decide(P, r(user_paused=True), 4)
    assert not d.run and d.cores == 0 and d.status() == "paused: paused by you"
    d = decide(P, r(snooze_until=1000.0 + 1800), 4)
    assert not d.run and d.suspend[0].kind is SuspendReason.SNOOZED and "30 more min" in d.status()
    assert decide(P, r(snooze_until=999.0), 4).run  # the snooze is over


def test_on_battery_pauses_and_mains_resumes() -> None:
    prefs = replace(P, pause_on_battery=True)
    d = decide(prefs, r(on_battery=True, battery_percent=90), 4)
    assert not d.run and d.status() == "paused: on battery"
    assert decide(prefs, r(on_battery=False, battery_percent=90), 4, d).run
    assert decide(P, r(on_battery=True, battery_percent=90), 4).run  # the rule is off


def test_battery_threshold_with_hysteresis() -> None:
    prefs = replace(P, min_battery_percent=30)
    low = decide(prefs, r(on_battery=True, battery_percent=25), 4)
    assert not low.run and low.has(SuspendReason.BATTERY_LOW) and "below 30%" in low.status()
    # Just above the threshold is not enough to resume once paused for it...
    assert not decide(prefs, r(on_battery=True, battery_percent=32), 4, low).run
    # ...but is enough if we were running, and 35% resumes.
    assert decide(prefs, r(on_battery=True, battery_percent=32), 4).run
    assert decide(prefs, r(on_battery=True, battery_percent=35), 4, low).run
    assert decide(prefs, r(on_battery=False, battery_percent=5), 4, low).run  # on mains: charge is fine


def test_only_when_idle() -> None:
    prefs = replace(P, only_when_idle=True)
    d = decide(prefs, r(idle_seconds=60), 4)
    assert not d.run and d.status() == "paused: computer in use"
    assert decide(prefs, r(idle_seconds=180), 4).run


def test_idle_detection_unavailable_is_said_not_ignored() -> None:
    d = decide(P, r(idle_seconds=None), 4)
    assert d.run and d.mode == "in use" and any("unavailable" in n for n in d.notes)
    d = decide(replace(P, only_when_idle=True), r(idle_seconds=None), 4)
    assert not d.run and d.has(SuspendReason.IDLE_UNKNOWN) and "unavailable" in d.status()


def test_exclusive_programs_by_name() -> None:
    prefs = replace(P, exclusive_programs=("Steam", "zoom.exe"))
    d = decide(prefs, r(running_programs=frozenset({"bash", "zoom"})), 4)
    assert not d.run and d.status() == "paused: zoom running"
    assert decide(prefs, r(running_programs=frozenset({"bash"})), 4).run


def test_other_programs_cpu_with_hysteresis() -> None:
    prefs = replace(P, other_cpu_percent=50)
    busy = decide(prefs, r(other_cpu_percent=70), 4)
    assert not busy.run and busy.has(SuspendReason.OTHER_CPU)
    assert not decide(prefs, r(other_cpu_percent=45), 4, busy).run  # needs to drop below 40
    assert decide(prefs, r(other_cpu_percent=35), 4, busy).run
    assert decide(P, r(other_cpu_percent=99), 4).run  # off by default


def test_schedule_per_weekday_including_overnight() -> None:
    prefs = replace(P, schedule=(("mon", "08:00-11:00"), ("mon", "22:00-06:00")))
    assert decide(prefs, r(), 4).status() == "paused: outside allowed hours"
    assert decide(prefs, r(now=datetime(2026, 11, 23, 9, 30)), 4).run
    assert decide(prefs, r(now=datetime(2026, 11, 23, 23, 0)), 4).run
    assert not decide(prefs, r(now=datetime(2026, 11, 24, 9, 30)), 4).run  # Tuesday: no hours


def test_memory_use_of_tasks() -> None:
    d = decide(P, r(tasks_memory_bytes=6 << 30, total_memory_bytes=8 << 30), 4)
    assert not d.run and d.has(SuspendReason.MEMORY)
    assert decide(P, r(idle_seconds=600, tasks_memory_bytes=6 << 30, total_memory_bytes=8 << 30), 4).run


def test_disk_cap_and_network_quota_stop_leasing_not_running() -> None:
    prefs = replace(P, disk_cap_mb=100, daily_network_mb=10)
    d = decide(prefs, r(data_dir_bytes=100 << 20, network_bytes_today=1), 4)
    assert d.run and not d.may_lease and kinds(d) == {LeaseBlock.DISK_FULL}
    d = decide(prefs, r(data_dir_bytes=1, network_bytes_today=10 << 20), 4)
    assert d.run and not d.may_lease and kinds(d) == {LeaseBlock.NETWORK_QUOTA}
    assert decide(prefs, r(data_dir_bytes=99 << 20, network_bytes_today=9 << 20), 4).may_lease
    assert fits_disk_cap(prefs, 90 << 20, 10 << 20) and not fits_disk_cap(prefs, 90 << 20, 11 << 20)
    assert fits_network_quota(prefs, 9 << 20, 1 << 20) and not fits_network_quota(prefs, 9 << 20, 2 << 20)
    assert fits_network_quota(P, 10**15, 10**15)  # no quota


def test_no_project_opted_in_stops_leasing() -> None:
    prefs = replace(P, projects=(("hunt", ProjectEntry(opted_in=False)),))
    d = decide(prefs, r(), 4)
    assert d.run and not d.may_lease and d.has(LeaseBlock.NO_PROJECTS)


def test_all_reasons_are_kept_in_order() -> None:
    prefs = replace(P, pause_on_battery=True, exclusive_programs=("game",))
    d = decide(prefs, r(user_paused=True, on_battery=True, running_programs=frozenset({"game"})), 4)
    assert [x.kind for x in d.suspend] == [SuspendReason.USER_PAUSED, SuspendReason.ON_BATTERY,
                                           SuspendReason.EXCLUSIVE_PROGRAM]
