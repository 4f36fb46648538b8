"""HMAC-signed object URLs for the local-folder store, whose URLs the coordinator serves.

A URL carries `op`, `exp` (unix seconds) and `sig`; `sig` is HMAC-SHA256 over
a canonical string of the three facts it vouches for, so changing any of them
breaks it. No I/O here except `load_or_create_secret`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import tempfile
import time
from pathlib import Path

from coordinator.store import base

OPS = frozenset({"put", "get"})
SECRET_BYTES = 32
_MIN_SECRET_BYTES = 16
_DOMAIN = b"newral-object-url-v1"


class SignatureError(base.StoreError):
    """A signed object URL was refused."""


class SignatureInvalid(SignatureError):
    """The URL's signature does not match its operation, key and expiry."""


class SignatureExpired(SignatureError):
    """The URL's signature is genuine but its time is up."""


class UrlSigner:
    """Signs and checks (op, key, expiry) triples with one secret."""

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes) or len(secret) < _MIN_SECRET_BYTES:
            raise ValueError(f"the URL signing secret must be at least {_MIN_SECRET_BYTES} bytes")
        self._secret = secret

    def __repr__(self) -> str:
        return "<UrlSigner>"  # never the secret

    def sign(self, op: str, key: str, exp: int) -> str:
        """Return the hex signature that lets anyone do `op` on `key` until `exp`."""
        if op not in OPS:
            raise ValueError(f"op must be one of {sorted(OPS)}, not {op!r}")
        base.validate_key(key)
        if isinstance(exp, bool) or not isinstance(exp, int):
            raise ValueError(f"exp must be an integer unix time, not {exp!r}")
        return self._digest(op, key, exp)

    def object_request(self, method: str, base_url: str, key: str, expires_in: int) -> base.PresignedRequest:
        """A request to the coordinator's objects route, signed with this key."""
        op = method.lower()
        exp = int(time.time()) + expires_in
        # Key characters are all URL-safe, so the key goes into the path as is.
        url = f"{base_url}/api/v1/objects/{key}?op={op}&exp={exp}&sig={self.sign(op, key, exp)}"
        return base.PresignedRequest(method=method, url=url, headers={}, expires_at=float(exp))

    def verify(self, op: str, key: str, exp: int | str, sig: str, now: float | None = None) -> None:
        """Return if `sig` is this signer's for (op, key, exp) and `exp` is not past.

        Raises `SignatureInvalid` for anything forged, altered or malformed, and
        `SignatureExpired` for a genuine signature whose time is up.
        """
        try:
            exp_int = _parse_exp(exp)
            if op not in OPS:
                raise ValueError
            base.validate_key(key)
        except ValueError:
            raise SignatureInvalid("the URL is malformed (operation, key or expiry)") from None
        expected = self._digest(op, key, exp_int)
        given = sig if isinstance(sig, str) else ""
        if not hmac.compare_digest(expected.encode(), given.lower().encode("ascii", "replace")):
            raise SignatureInvalid(
                f"the URL's signature does not match {op} of {key!r}; ask the coordinator"
                " for a new URL"
            )
        current = time.time() if now is None else now
        if current >= exp_int:
            raise SignatureExpired(
                f"the URL to {op} {key!r} expired {int(current - exp_int)} s ago;"
                " ask the coordinator for a new URL"
            )

    def _digest(self, op: str, key: str, exp: int) -> str:
        # Newlines cannot occur in any field, so the canonical string is unambiguous.
        message = b"\n".join((_DOMAIN, op.encode(), key.encode(), str(exp).encode()))
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()


def _parse_exp(exp: int | str) -> int:
    if isinstance(exp, bool):
        raise ValueError
    if isinstance(exp, int):
        return exp
    if isinstance(exp, str) and exp.isascii() and exp.isdigit() and len(exp) <= 12:
        return int(exp)
    raise ValueError


def load_or_create_secret(path: Path) -> bytes:
    """Return the secret stored at `path`, creating 32 random bytes (mode 0600) if absent.

    Creation is atomic: the file appears whole or not at all, and when two
    processes race, both end up with the one that landed first.
    """
    path = Path(path)
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates the file 0600 already; chmod again in case of an odd umask.
        os.chmod(tmp, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(SECRET_BYTES))
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process got there first
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    secret = path.read_bytes()
    if len(secret) < _MIN_SECRET_BYTES:
        raise ValueError(
            f"the URL signing secret in {path} is {len(secret)} bytes, too short;"
            " delete the file to have a new one made"
        )
    return secret
