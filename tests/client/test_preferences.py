from pathlib import Path

import pytest

from client.agent.config import ConfigError, load_config
from client.agent.preferences import (
    Preferences,
    ProjectEntry,
    UsageLimits,
    load_preferences,
    save_preferences,
)


def test_defaults_when_no_file(tmp_path: Path) -> None:
    assert load_preferences(tmp_path) == Preferences()


def test_round_trip_keeps_every_field_and_the_agent_table(tmp_path: Path) -> None:
    (tmp_path / "agent.toml").write_text('[agent]\nconcurrency = 3\n\n[other]\nkeep = "me"\n')
    prefs = Preferences(in_use=UsageLimits(2, 40, 30), idle=UsageLimits(0, 100, 80), idle_after_minutes=5,
                        only_when_idle=True, pause_on_battery=False, min_battery_percent=35,
                        exclusive_programs=("steam", "zoom"), other_cpu_percent=25, disk_cap_mb=500,
                        daily_network_mb=100, task_memory_mb=512,
                        schedule=(("mon", "08:00-18:00"), ("sat", "22:00-06:00")),
                        projects=(("hunt", ProjectEntry(False, "a2V5")),))
    save_preferences(tmp_path, prefs, agent={"coordinator": "http://c:1"})
    assert load_preferences(tmp_path) == prefs
    cfg = load_config(environ={}, data_dir=tmp_path)  # the headless agent reads the same file
    assert cfg.concurrency == 3 and cfg.coordinator == "http://c:1"
    assert 'keep = "me"' in (tmp_path / "agent.toml").read_text()


@pytest.mark.parametrize("text", [
    "[preferences]\nbogus = 1\n",
    "[preferences.in_use]\ncpu_percent = 0\n",
    "[preferences.schedule]\nmon = \"8-18\"\n",
    "[preferences]\nonly_when_idle = \"yes\"\n",
    "[preferences]\nmin_battery_percent = 120\n",
    "[preferences\n",
])
def test_bad_preferences_are_refused_with_a_message(tmp_path: Path, text: str) -> None:
    (tmp_path / "agent.toml").write_text(text)
    with pytest.raises(ConfigError):
        load_preferences(tmp_path)


def test_opted_in_projects() -> None:
    p = Preferences()
    assert p.opted_in() is None
    p = p.with_project("a", ProjectEntry(True)).with_project("b", ProjectEntry(False))
    assert p.opted_in() == ["a"]
    assert p.with_project("a", ProjectEntry(False)).opted_in() == []
    assert p.with_project("b", None).opted_in() is None
