from pathlib import Path

import pytest

from client.agent.config import ConfigError, load_config


def test_file_env_and_flags(tmp_path: Path) -> None:
    (tmp_path / "agent.toml").write_text('[agent]\nconcurrency = 3\nprojects = ["a", "b"]\n')
    cfg = load_config(environ={}, data_dir=tmp_path)
    assert cfg.concurrency == 3 and cfg.projects == ("a", "b")
    cfg = load_config(environ={"NEWRAL_AGENT_CONCURRENCY": "2"}, data_dir=tmp_path)
    assert cfg.concurrency == 2
    cfg = load_config(environ={"NEWRAL_AGENT_CONCURRENCY": "2"}, data_dir=tmp_path, concurrency=5,
                      projects="x,y")
    assert cfg.concurrency == 5 and cfg.projects == ("x", "y")


def test_default_concurrency_leaves_a_core_free(tmp_path: Path) -> None:
    import os

    assert load_config(environ={}, data_dir=tmp_path).concurrency == max(1, (os.cpu_count() or 1) - 1)


@pytest.mark.parametrize("text", ['[agent]\nconcurrency = 0\n', '[agent]\nbogus = 1\n', '[agent\n',
                                  '[agent]\nconcurrency = "many"\n'])
def test_bad_config(tmp_path: Path, text: str) -> None:
    (tmp_path / "agent.toml").write_text(text)
    with pytest.raises(ConfigError):
        load_config(environ={}, data_dir=tmp_path)
