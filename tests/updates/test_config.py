"""Update settings: off unless a channel is set; baked-in keys and the volunteer's own file combine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from client.updater.config import UpdateConfigError, current_platform, load_update_config


def test_updates_are_off_by_default(tmp_path: Path) -> None:
    cfg = load_update_config(tmp_path, environ={}, defaults_file=tmp_path / "none.json")
    assert not cfg.enabled
    assert cfg.platform == current_platform()


def test_baked_defaults_then_file_then_environment(tmp_path: Path) -> None:
    defaults = tmp_path / "defaults.json"
    defaults.write_text(json.dumps({"channel": "stable", "release_keys": ["ed25519:A"]}))
    (tmp_path / "update.toml").write_text('[update]\nauto_install = true\nrelease_keys = ["ed25519:B"]\n')
    cfg = load_update_config(tmp_path, environ={"NEWRAL_UPDATE_CHANNEL": "beta"}, defaults_file=defaults)
    assert (cfg.channel, cfg.auto_install, cfg.release_keys) == ("beta", True, ("ed25519:A", "ed25519:B"))


def test_unknown_settings_are_named(tmp_path: Path) -> None:
    (tmp_path / "update.toml").write_text("[update]\nchanel = 'stable'\n")
    with pytest.raises(UpdateConfigError, match="chanel"):
        load_update_config(tmp_path, environ={}, defaults_file=tmp_path / "none.json")
