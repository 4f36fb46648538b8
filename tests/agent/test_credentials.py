import stat
from pathlib import Path

from client.agent.credentials import Credentials, CredentialStore


def test_file_fallback_is_private_and_round_trips(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path, use_keyring=False)
    assert store.load("http://c") is None
    store.save(Credentials("http://c", "a" * 32, "s3cret"))
    store.save(Credentials("http://d", "b" * 32, "other"))
    assert stat.S_IMODE(store.file.stat().st_mode) == 0o600
    again = CredentialStore(tmp_path, use_keyring=False)
    assert again.load("http://c") == Credentials("http://c", "a" * 32, "s3cret")
    assert again.load("http://d").secret == "other"  # type: ignore[union-attr]


def test_no_keyring_backend_means_the_file_fallback(tmp_path: Path) -> None:
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # what headless Linux gives
    try:
        store = CredentialStore(tmp_path)
    finally:
        keyring.set_keyring(previous)
    assert not store.use_keyring and "0600" in store.where
