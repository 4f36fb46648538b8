import os
from datetime import date
from pathlib import Path

from client.agent.quota import NetworkMeter, evict_oldest, folder_bytes


class Day:
    value = date(2026, 11, 26)

    @classmethod
    def today(cls) -> date:
        return cls.value


def test_network_meter_counts_across_restarts_and_resets_next_day(tmp_path: Path) -> None:
    Day.value = date(2026, 11, 26)
    m = NetworkMeter(tmp_path / "net.json", today=Day)  # type: ignore[arg-type]
    m.add(1000)
    m.add(500)
    again = NetworkMeter(tmp_path / "net.json", today=Day)  # type: ignore[arg-type]
    assert again.used_today() == 1500
    Day.value = date(2026, 11, 27)
    assert again.used_today() == 0
    again.add(7)
    assert NetworkMeter(tmp_path / "net.json", today=Day).used_today() == 7  # type: ignore[arg-type]


def test_evict_oldest_first(tmp_path: Path) -> None:
    for i, name in enumerate(("old", "mid", "new")):
        p = tmp_path / name
        p.write_bytes(b"x" * 100)
        os.utime(p, (1000 + i, 1000 + i))
    assert folder_bytes(tmp_path) == 300
    assert evict_oldest(tmp_path, 150) == 200
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]
