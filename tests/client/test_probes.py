"""One contract for every host probe: the real machine and injected readings."""

import os

import pytest

from client.agent.probes import FixedProbes, HostProbes, SystemProbes


@pytest.fixture(params=["system", "fixed"])
def probes(request: pytest.FixtureRequest) -> HostProbes:
    return SystemProbes() if request.param == "system" else FixedProbes(on_battery=True, battery_percent=50)


def test_probe_contract(probes: HostProbes) -> None:
    on_battery, percent = probes.battery()
    assert on_battery in (True, False, None)
    assert percent is None or 0 <= percent <= 100
    idle = probes.idle_seconds()
    assert idle is None or idle >= 0
    assert (idle is None) == ("unavailable" in probes.idle_method) or isinstance(probes, FixedProbes)
    assert isinstance(probes.running_programs(), frozenset)
    assert 0 <= probes.other_cpu_percent([os.getpid()]) <= 100
    used, total = probes.memory([os.getpid()])
    assert 0 <= used and total > 0


def test_system_probe_sees_this_process_and_says_why_idle_is_unknown() -> None:
    p = SystemProbes()
    assert any("python" in n.lower() for n in p.running_programs())
    assert p.memory([os.getpid()])[0] > 1 << 20
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        assert p.idle_seconds() is None and "unavailable" in p.idle_method
