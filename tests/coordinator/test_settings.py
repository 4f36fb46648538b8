from pathlib import Path

import pytest

from coordinator.settings import SettingsError, load_settings


def test_defaults_give_embedded_sqlite(tmp_path: Path) -> None:
    s = load_settings(environ={}, data_dir=tmp_path)
    assert s.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path / 'coordinator.sqlite3'}"
    assert s.object_store == "local"


def test_precedence_file_env_flags(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[coordinator]\nbind = "0.0.0.0:9000"\nmax_output_bytes = 5\n')
    s = load_settings(cfg, environ={"NEWRAL_MAX_OUTPUT_BYTES": "7"}, data_dir=tmp_path)
    assert s.bind == "0.0.0.0:9000"
    assert s.max_output_bytes == 7
    s = load_settings(cfg, environ={"NEWRAL_MAX_OUTPUT_BYTES": "7"}, max_output_bytes=9)
    assert s.max_output_bytes == 9


@pytest.mark.parametrize(
    "text, message",
    [
        ('[coordinator]\nnope = 1\n', "unknown setting"),
        ('[coordinator\n', "not valid TOML"),
        ('[coordinator]\nobject_store = "ftp://x"\n', "object_store"),
        ('[coordinator]\nmax_output_bytes = "lots"\n', "max_output_bytes"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    with pytest.raises(SettingsError, match=message):
        load_settings(cfg, environ={})


def test_redacted_hides_secrets() -> None:
    s = load_settings(environ={}, database_url="postgresql+asyncpg://u:hunter2@db/x",
                      s3_secret_key="topsecret", s3_access_key="AKIA")
    text = str(s.redacted())
    assert "hunter2" not in text and "topsecret" not in text and "AKIA" not in text
