"""Signed task apps. A bundle is a manifest plus files (code or parameters):

    manifest.json   {"format": 1, "project", "app", "version", "entry", "files": {name: sha256}}
    manifest.sig    base64 Ed25519 signature of manifest.json's exact bytes
    <files...>      each listed in the manifest with its sha256

`entry` is "builtin:NAME" (a task app shipped inside the signed client, run with
the signed parameters) or "python:FILE" (a script from the bundle). The client
pins each project's public key when it attaches; before anything runs, the
manifest's sha256 (when the coordinator names one), its signature and every
file's sha256 are checked, and a mismatch refuses the task.

Maintainer side (the private key never leaves the maintainer's machine; the
coordinator only ever holds bundles and signatures):
    generate_keypair(path)  sign_bundle(folder, key, ...)  publish_payload(folder)"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
MAX_BUNDLE_BYTES = 64 << 20
_FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class SignatureError(Exception):
    """A bundle that must not run: bad signature, wrong hash, unpinned or malformed."""


@dataclass(frozen=True)
class Bundle:
    manifest: bytes
    signature: bytes
    files: dict[str, bytes]

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(self.manifest).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {"manifest": self.manifest.decode(), "signature": base64.b64encode(self.signature).decode(),
                "files": {n: base64.b64encode(d).decode() for n, d in self.files.items()}}

    @classmethod
    def from_json(cls, untrusted: Any) -> Bundle:
        try:
            files = {str(n): base64.b64decode(d, validate=True) for n, d in dict(untrusted["files"]).items()}
            bundle = cls(str(untrusted["manifest"]).encode(),
                         base64.b64decode(untrusted["signature"], validate=True), files)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise SignatureError(f"malformed app bundle: {exc}") from None
        if len(bundle.manifest) + sum(map(len, files.values())) > MAX_BUNDLE_BYTES:
            raise SignatureError("app bundle too large")
        return bundle

    @classmethod
    def read(cls, folder: Path) -> Bundle:
        try:
            manifest = (folder / MANIFEST).read_bytes()
            signature = base64.b64decode((folder / SIGNATURE).read_text().strip(), validate=True)
            listed = json.loads(manifest).get("files", {})
            files = {n: (folder / n).read_bytes() for n in listed if _FILE_NAME.match(n)}
        except (OSError, ValueError, binascii.Error) as exc:
            raise SignatureError(f"cannot read app bundle in {folder}: {exc}") from None
        return cls(manifest, signature, files)


@dataclass(frozen=True)
class VerifiedApp:
    project: str
    app: str
    version: str
    entry: str
    files: dict[str, bytes]
    manifest_sha256: str

    @property
    def builtin(self) -> str | None:
        return self.entry.removeprefix("builtin:") if self.entry.startswith("builtin:") else None


def load_public_key(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error) as exc:
        raise SignatureError(f"not an Ed25519 public key (base64 of 32 bytes): {exc}") from None


def verify(bundle: Bundle, public_key: str, *, project: str, app: str, version: str | None = None,
           manifest_sha256: str | None = None) -> VerifiedApp:
    """Checks hash, signature, identity and every file. Raises SignatureError."""
    if manifest_sha256 and bundle.manifest_sha256 != manifest_sha256.lower():
        raise SignatureError("app manifest sha256 does not match what the coordinator announced")
    try:
        load_public_key(public_key).verify(bundle.signature, bundle.manifest)
    except InvalidSignature:
        raise SignatureError(f"app {app!r} is not signed by the key pinned for project {project!r}") from None
    try:
        m = json.loads(bundle.manifest)
        listed = {str(k): str(v).lower() for k, v in dict(m["files"]).items()}
        got = (str(m["project"]), str(m["app"]), str(m["version"]), str(m["entry"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise SignatureError(f"malformed app manifest: {exc}") from None
    if got[0] != project or got[1] != app or (version is not None and got[2] != version):
        raise SignatureError(f"bundle is for {got[0]}/{got[1]} {got[2]}, not {project}/{app} {version or ''}")
    if set(listed) != set(bundle.files):
        raise SignatureError("bundle files differ from the signed manifest's list")
    for name, digest in listed.items():
        if not _FILE_NAME.match(name):
            raise SignatureError(f"bad file name in manifest: {name!r}")
        if hashlib.sha256(bundle.files[name]).hexdigest() != digest:
            raise SignatureError(f"file {name} does not match its signed sha256")
    entry = got[3]
    if not (entry.startswith("builtin:") or (entry.startswith("python:") and entry[7:] in listed)):
        raise SignatureError(f"unknown entry point {entry!r}")
    return VerifiedApp(got[0], got[1], got[2], entry, dict(bundle.files), bundle.manifest_sha256)


# -- maintainer commands (wired into the `newral release`/`newral app` CLI) -------------


def generate_keypair(private_path: Path, passphrase: bytes | None = None) -> str:
    """Writes a new private key (PEM, mode 0600, refuses to overwrite); returns the public key (base64)."""
    key = Ed25519PrivateKey.generate()
    enc = (serialization.BestAvailableEncryption(passphrase) if passphrase
           else serialization.NoEncryption())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return public_key_text(key)


def public_key_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def load_private_key(path: Path, passphrase: bytes | None = None) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), passphrase)
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError(f"{path} is not an Ed25519 private key")
    return key


def sign_bundle(folder: Path, key: Ed25519PrivateKey, *, project: str, app: str, version: str,
                entry: str) -> str:
    """Lists every file in `folder` in a manifest, signs it; returns the manifest's sha256."""
    files = {}
    for p in sorted(folder.iterdir()):
        if p.name in (MANIFEST, SIGNATURE) or not p.is_file():
            continue
        if not _FILE_NAME.match(p.name):
            raise SignatureError(f"file name not allowed in a bundle: {p.name!r}")
        files[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
    manifest = json.dumps({"format": 1, "project": project, "app": app, "version": version,
                           "entry": entry, "files": files}, sort_keys=True, indent=1).encode()
    (folder / MANIFEST).write_bytes(manifest)
    (folder / SIGNATURE).write_text(base64.b64encode(key.sign(manifest)).decode() + "\n")
    return hashlib.sha256(manifest).hexdigest()


def publish_payload(folder: Path) -> dict[str, Any]:
    """The JSON body a coordinator stores for an app version: the signed bundle, no key."""
    bundle = Bundle.read(folder)
    m = json.loads(bundle.manifest)
    return {"project": m["project"], "app": m["app"], "version": m["version"],
            "manifest_sha256": bundle.manifest_sha256, "bundle": bundle.to_json()}
