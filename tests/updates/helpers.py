"""Release keys, signed manifests and fake client versions (real executables) for the update tests."""

from __future__ import annotations

import base64
import hashlib
import json
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.updater import keys, manifest

PLATFORM = "linux-x86_64"
ENTRY = "newral-client"
NOW = 1_800_000_000
DAY = 86400


@dataclass
class Signer:
    key: Ed25519PrivateKey

    @classmethod
    def new(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @property
    def public(self) -> str:
        return keys.encode_public(self.key.public_key())

    @property
    def keyid(self) -> str:
        return keys.key_id(self.key.public_key())

    def manifest(self, version: str, files: dict[str, bytes], *, channel: str = "stable",
                 platform: str = PLATFORM, issued_at: int = NOW, expires_at: int = NOW + 30 * DAY,
                 entry: str = ENTRY) -> bytes:
        entries = [manifest.FileEntry(n, len(d), hashlib.sha256(d).hexdigest()) for n, d in files.items()]
        signed = manifest.build_signed(channel=channel, platform=platform, version=version, entry=entry,
                                       files=entries, issued_at=issued_at, expires_at=expires_at)
        return manifest.sign(signed, [self.key])

    def sign_unchecked(self, signed: dict[str, Any]) -> bytes:
        """Signs any body, well-formed or not, so only the receiver's shape checks can object."""
        sig = self.key.sign(manifest.DOMAIN + manifest.canonical(signed))
        return json.dumps({"signed": signed, "signatures": [
            {"keyid": self.keyid, "sig": base64.b64encode(sig).decode()}]}).encode()


def fake_client(version: str, selftest_exit: int = 0) -> bytes:
    """A stand-in for a frozen client build: a real program that answers the self-test
    with `selftest_exit` and otherwise says which version it is."""
    return textwrap.dedent(f"""\
        #!/bin/sh
        if [ "$1" = "--newral-selftest" ]; then
            echo "fake {version} selftest"; exit {selftest_exit}
        fi
        echo "newral-client {version}"
        """).encode()


def write_exe(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o755)
    return path
