"""Signed object URLs: only the signer's exact (op, key, exp) pass, and only in time."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from coordinator.store import (
    SignatureError,
    SignatureExpired,
    SignatureInvalid,
    StoreError,
    UrlSigner,
    load_or_create_secret,
)

NOW = 1_800_000_000
EXP = NOW + 600


@pytest.fixture
def signer() -> UrlSigner:
    return UrlSigner(b"k" * 32)


def test_a_genuine_signature_verifies(signer: UrlSigner) -> None:
    sig = signer.sign("put", "results/r-1", EXP)
    assert len(sig) == 64 and int(sig, 16) >= 0
    signer.verify("put", "results/r-1", EXP, sig, now=NOW)
    signer.verify("put", "results/r-1", str(EXP), sig, now=NOW)  # as read from a query string
    signer.verify("put", "results/r-1", EXP, sig.upper(), now=NOW)


def test_signing_is_deterministic_and_keyed(signer: UrlSigner) -> None:
    assert signer.sign("get", "a", EXP) == signer.sign("get", "a", EXP)
    assert UrlSigner(b"j" * 32).sign("get", "a", EXP) != signer.sign("get", "a", EXP)


@pytest.mark.parametrize(
    ("op", "key", "exp"),
    [
        ("get", "results/r-1", EXP),  # a PUT URL used to read
        ("put", "results/r-2", EXP),  # another key
        ("put", "results/r-1x", EXP),  # a key extended
        ("put", "results/r-1", EXP + 3600),  # a longer life
        ("put", "results/r-1", EXP - 1),
    ],
)
def test_any_change_to_op_key_or_exp_is_invalid(
    signer: UrlSigner, op: str, key: str, exp: int
) -> None:
    sig = signer.sign("put", "results/r-1", EXP)
    with pytest.raises(SignatureInvalid, match="does not match"):
        signer.verify(op, key, exp, sig, now=NOW)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: s[:-1] + ("0" if s[-1] != "0" else "1"),  # one digit changed
        lambda s: s[:-2],  # shortened
        lambda s: s + "00",  # lengthened
        lambda s: "",
        lambda s: "é" * 64,  # not hex, not even ASCII
    ],
)
def test_a_tampered_signature_is_invalid(signer: UrlSigner, tamper) -> None:  # type: ignore[no-untyped-def]
    sig = signer.sign("get", "apps/x.zip", EXP)
    with pytest.raises(SignatureInvalid):
        signer.verify("get", "apps/x.zip", EXP, tamper(sig), now=NOW)


def test_another_signers_signature_is_invalid(signer: UrlSigner) -> None:
    sig = UrlSigner(os.urandom(32)).sign("get", "a", EXP)
    with pytest.raises(SignatureInvalid):
        signer.verify("get", "a", EXP, sig, now=NOW)


@pytest.mark.parametrize(
    ("op", "key", "exp"),
    [
        ("delete", "a", EXP),
        ("PUT", "a", EXP),
        ("get", "../a", EXP),
        ("get", "a", "soon"),
        ("get", "a", "-5"),
        ("get", "a", "1e9"),
        ("get", "a", True),
    ],
)
def test_malformed_requests_are_invalid_not_crashes(
    signer: UrlSigner, op: str, key: str, exp: int
) -> None:
    with pytest.raises(SignatureInvalid, match="malformed"):
        signer.verify(op, key, exp, "00" * 32, now=NOW)


def test_a_genuine_signature_past_its_time_is_expired(signer: UrlSigner) -> None:
    sig = signer.sign("get", "a", EXP)
    signer.verify("get", "a", EXP, sig, now=EXP - 1)
    with pytest.raises(SignatureExpired, match="expired 0 s ago"):
        signer.verify("get", "a", EXP, sig, now=EXP)
    with pytest.raises(SignatureExpired, match="expired 60 s ago"):
        signer.verify("get", "a", EXP, sig, now=EXP + 60)


def test_verify_uses_the_clock_when_no_time_is_given(signer: UrlSigner) -> None:
    past = 1_000_000_000
    with pytest.raises(SignatureExpired):
        signer.verify("get", "a", past, signer.sign("get", "a", past))


def test_signature_errors_are_store_errors() -> None:
    assert issubclass(SignatureInvalid, SignatureError)
    assert issubclass(SignatureExpired, SignatureError)
    assert issubclass(SignatureError, StoreError)


def test_sign_refuses_what_it_would_never_verify(signer: UrlSigner) -> None:
    with pytest.raises(ValueError):
        signer.sign("delete", "a", EXP)
    with pytest.raises(ValueError):
        signer.sign("get", "a/../b", EXP)
    with pytest.raises(ValueError):
        signer.sign("get", "a", str(EXP))  # type: ignore[arg-type]


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        UrlSigner(b"short")


def test_the_secret_stays_out_of_repr() -> None:
    assert "k" * 8 not in repr(UrlSigner(b"k" * 32))


# --- the secret file ----------------------------------------------------------------


def test_load_or_create_secret_creates_a_private_file_once(tmp_path: Path) -> None:
    path = tmp_path / "state" / "url-signing.key"
    secret = load_or_create_secret(path)
    assert len(secret) == 32
    assert path.read_bytes() == secret
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == secret
    assert sorted(p.name for p in path.parent.iterdir()) == ["url-signing.key"]


def test_racing_creators_agree_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "url-signing.key"
    results: list[bytes] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        results.append(load_or_create_secret(path))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert set(results) == {path.read_bytes()}
    assert [p.name for p in tmp_path.iterdir()] == ["url-signing.key"]


def test_a_truncated_secret_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "url-signing.key"
    path.write_bytes(b"abc")
    with pytest.raises(ValueError, match="too short"):
        load_or_create_secret(path)
