"""The offline release key file: encrypted, owner-only, never inside a repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.updater import keys
from client.updater.errors import KeyFileError

PASS = b"a long enough passphrase"


def test_private_key_is_encrypted_with_mode_0600(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "offline" / "release.key"
    keys.write_private_key(path, key, PASS)
    assert path.stat().st_mode & 0o777 == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    loaded = keys.load_private_key(path, PASS)
    assert keys.key_id(loaded.public_key()) == keys.key_id(key.public_key())
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        keys.load_private_key(path, b"not the passphrase")
    with pytest.raises(KeyFileError, match="not overwriting"):
        keys.write_private_key(path, Ed25519PrivateKey.generate(), PASS)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        keys.load_private_key(path, PASS)


def test_refuses_short_passphrases_and_repositories(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    with pytest.raises(KeyFileError, match="at least"):
        keys.write_private_key(tmp_path / "k", key, b"short")
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    with pytest.raises(KeyFileError, match="inside the git repository"):
        keys.write_private_key(tmp_path / "repo" / "secrets" / "release.key", key, PASS)
    assert not (tmp_path / "repo" / "secrets" / "release.key").exists()


def test_public_keys_round_trip_and_reject_garbage() -> None:
    key = Ed25519PrivateKey.generate().public_key()
    text = keys.encode_public(key)
    assert keys.key_id(keys.decode_public(text)) == keys.key_id(key)
    for bad in ("ssh-ed25519 AAAA", "ed25519:not base64!", "ed25519:AAAA"):
        with pytest.raises(ValueError):
            keys.decode_public(bad)
