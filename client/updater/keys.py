"""Release keys: Ed25519. Public keys travel as one line, `ed25519:<base64 of 32 bytes>`;
private keys live in a PKCS#8 PEM file encrypted with a passphrase, mode 0600, made
once on the maintainer's offline machine and never inside a source repository."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from client.updater.errors import KeyFileError

PREFIX = "ed25519:"
MIN_PASSPHRASE = 8


def key_id(public: Ed25519PublicKey) -> str:
    """16 hex digits of SHA-256 over the raw public key: how manifests name their signer."""
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def encode_public(public: Ed25519PublicKey) -> str:
    return PREFIX + base64.b64encode(_raw(public)).decode("ascii")


def decode_public(text: str) -> Ed25519PublicKey:
    """Parse `ed25519:<base64>`; ValueError with a readable message otherwise."""
    text = text.strip()
    if not text.startswith(PREFIX):
        raise ValueError(f"a release public key starts with {PREFIX!r}")
    try:
        raw = base64.b64decode(text[len(PREFIX):], validate=True)
    except binascii.Error:
        raise ValueError("a release public key is base64 after 'ed25519:'") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key is 32 bytes, not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def trusted_set(encoded: list[str] | tuple[str, ...]) -> dict[str, Ed25519PublicKey]:
    """keyid -> key for each encoded public key."""
    out = {}
    for text in encoded:
        key = decode_public(text)
        out[key_id(key)] = key
    return out


def inside_git_worktree(path: Path) -> Path | None:
    """The repository root above `path`, if any: private keys must not land in one."""
    for parent in [path.resolve().parent, *path.resolve().parent.parents]:
        if (parent / ".git").exists():
            return parent
    return None


def write_private_key(path: Path, key: Ed25519PrivateKey, passphrase: bytes) -> None:
    """Writes the encrypted key with mode 0600; refuses to overwrite or to write into a repo."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyFileError(f"the passphrase must be at least {MIN_PASSPHRASE} characters")
    repo = inside_git_worktree(path)
    if repo is not None:
        raise KeyFileError(f"refusing to write a private key inside the git repository {repo}: "
                           "keep it offline, outside any source tree")
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(passphrase))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path} exists; not overwriting a key") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(path, 0o600)  # in case the umask or the file system widened it


def load_private_key(path: Path, passphrase: bytes) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the private key {path}: {exc.strerror}") from None
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise KeyFileError(f"{path} is readable by others; run chmod 600 on it first")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except (ValueError, TypeError):
        raise KeyFileError(f"cannot open {path}: wrong passphrase or not a private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not an Ed25519 key")
    return key
