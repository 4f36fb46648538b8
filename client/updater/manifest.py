"""The signed release manifest: one JSON document per (channel, platform, version)
that names the release's files with their sizes and SHA-256 hashes, and an expiry.

    {"signed": {"_type": "newral-release", "format": 1, "channel": "stable",
                "platform": "linux-x86_64", "version": "0.2.0", "entry": "newral-client",
                "issued_at": 1767225600, "expires_at": 1775001600, "notes": "",
                "files": [{"name": "newral-client", "size": 31457280, "sha256": "ab12..."}]},
     "signatures": [{"keyid": "3f2a9c...", "sig": "<base64 Ed25519 signature>"}]}

Signatures cover `DOMAIN + canonical_json(signed)` (sorted keys, no spaces, ASCII;
integers and strings only, so the encoding is unique). This module is the one
definition of the format: the client, the coordinator and the maintainer CLI import it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from client.updater import keys as keys_mod
from client.updater.errors import ManifestExpired, ManifestInvalid, SignatureRejected

TYPE = "newral-release"
FORMAT = 1
DOMAIN = b"newral-release-manifest/1\n"
MAX_MANIFEST_BYTES = 64 << 10
MAX_FILES = 16
MAX_FILE_SIZE = 2 << 30

_VERSION_RE = re.compile(r"(0|[1-9][0-9]{0,5})(\.(0|[1-9][0-9]{0,5})){1,3}")
_CHANNEL_RE = re.compile(r"[a-z][a-z0-9-]{0,31}")
_PLATFORM_RE = re.compile(r"[a-z][a-z0-9_]{0,15}-[a-z0-9_]{1,16}")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SHA_RE = re.compile(r"[0-9a-f]{64}")


def parse_version(text: str) -> tuple[int, ...]:
    """'0.2.10' -> (0, 2, 10); raises ManifestInvalid for anything but 2 to 4 dotted integers."""
    if not isinstance(text, str) or not _VERSION_RE.fullmatch(text):
        raise ManifestInvalid(f"invalid version {text!r}: use dotted integers such as 1.4.0")
    return tuple(int(p) for p in text.split("."))


def version_key(text: str) -> tuple[int, int, int, int]:
    """A sort key under which '1.2' == '1.2.0'."""
    parts = parse_version(text)
    return (parts + (0, 0, 0, 0))[:4]  # type: ignore[return-value]


@dataclass(frozen=True)
class FileEntry:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """The checked contents of a manifest; `raw` is the document exactly as signed and served."""

    channel: str
    platform: str
    version: str
    entry: str
    issued_at: int
    expires_at: int
    files: tuple[FileEntry, ...]
    notes: str
    raw: bytes

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    def file(self, name: str) -> FileEntry:
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(name)


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


def build_signed(*, channel: str, platform: str, version: str, entry: str, files: list[FileEntry],
                 issued_at: int, expires_at: int, notes: str = "") -> dict[str, Any]:
    """The `signed` body for the given release; checked by the same rules as a received one."""
    body = {
        "_type": TYPE, "format": FORMAT, "channel": channel, "platform": platform,
        "version": version, "entry": entry, "issued_at": int(issued_at),
        "expires_at": int(expires_at), "notes": notes,
        "files": [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in files],
    }
    _check_signed(body)
    return body


def sign(signed: dict[str, Any], private_keys: list[Ed25519PrivateKey]) -> bytes:
    """The whole manifest document, signed by each of `private_keys`."""
    _check_signed(signed)
    message = DOMAIN + canonical(signed)
    sigs = [{"keyid": keys_mod.key_id(k.public_key()),
             "sig": base64.b64encode(k.sign(message)).decode("ascii")} for k in private_keys]
    doc = json.dumps({"signed": signed, "signatures": sigs}, sort_keys=True, indent=1,
                     ensure_ascii=True)
    return (doc + "\n").encode("ascii")


def _reject_float(text: str) -> Any:
    raise ManifestInvalid(f"a manifest holds no fractional numbers ({text})")


def _reject_constant(text: str) -> Any:
    raise ManifestInvalid(f"a manifest holds no {text}")


def _load(raw: bytes) -> tuple[dict[str, Any], list[Any]]:
    if not isinstance(raw, (bytes, bytearray)):
        raise ManifestInvalid("a manifest is bytes")
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ManifestInvalid(f"the manifest is {len(raw)} bytes; the limit is {MAX_MANIFEST_BYTES}")
    try:
        doc = json.loads(bytes(raw).decode("utf-8"), parse_float=_reject_float,
                         parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, ManifestInvalid):
            raise
        raise ManifestInvalid(f"the manifest is not JSON: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != {"signed", "signatures"}:
        raise ManifestInvalid("a manifest is an object with exactly 'signed' and 'signatures'")
    signed, sigs = doc["signed"], doc["signatures"]
    if not isinstance(signed, dict):
        raise ManifestInvalid("'signed' must be an object")
    if not isinstance(sigs, list) or len(sigs) > 8:
        raise ManifestInvalid("'signatures' must be a list of at most 8 entries")
    return signed, sigs


def verify_signature(raw: bytes, trusted: Mapping[str, Ed25519PublicKey]) -> dict[str, Any]:
    """The `signed` body, if one signature by a `trusted` key (keyid -> key) verifies over it.

    Raises SignatureRejected for unsigned documents, unknown keys and bad signatures,
    ManifestInvalid for documents that are not manifests at all. Checks nothing else.
    """
    signed, sigs = _load(raw)
    if not sigs:
        raise SignatureRejected("the manifest is unsigned")
    message = DOMAIN + canonical(signed)
    seen_ids = []
    for entry in sigs:
        if not isinstance(entry, dict) or not isinstance(entry.get("keyid"), str) \
                or not isinstance(entry.get("sig"), str):
            raise ManifestInvalid("a signature is an object with string 'keyid' and 'sig'")
        seen_ids.append(entry["keyid"][:16])
        key = trusted.get(entry["keyid"])
        if key is None:
            continue
        try:
            key.verify(base64.b64decode(entry["sig"], validate=True), message)
        except (InvalidSignature, binascii.Error, ValueError):
            raise SignatureRejected(
                f"the signature by key {entry['keyid']} does not verify: the manifest was "
                "altered after signing or the signature is forged") from None
        return signed
    raise SignatureRejected(
        f"the manifest is signed by key(s) {', '.join(seen_ids)}, none of them trusted here "
        f"(trusted: {', '.join(trusted) or 'none'})")


def verify(raw: bytes, trusted: Mapping[str, Ed25519PublicKey], now: float) -> Manifest:
    """Signature first, then shape, then freshness: a Manifest only if all hold."""
    signed = verify_signature(raw, trusted)
    m = _check_signed(signed, bytes(raw))
    if m.expires_at <= now:
        raise ManifestExpired(
            f"the manifest for {m.version} expired at {m.expires_at} (now {int(now)}): "
            "a stale or replayed release list")
    return m


def _check_signed(signed: dict[str, Any], raw: bytes = b"") -> Manifest:
    expected = {"_type", "format", "channel", "platform", "version", "entry", "issued_at",
                "expires_at", "notes", "files"}
    if set(signed) != expected:
        missing, extra = expected - set(signed), set(signed) - expected
        raise ManifestInvalid(f"manifest fields differ: missing {sorted(missing)}, unknown {sorted(extra)}")
    if signed["_type"] != TYPE or signed["format"] != FORMAT:
        raise ManifestInvalid(f"not a {TYPE} manifest of format {FORMAT}")

    def text(field: str, pattern: re.Pattern[str]) -> str:
        value = signed[field]
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ManifestInvalid(f"invalid {field} {value!r}")
        return value

    def integer(value: Any, field: str, lo: int, hi: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ManifestInvalid(f"invalid {field} {value!r}")
        return value

    version = signed["version"]
    parse_version(version)
    issued = integer(signed["issued_at"], "issued_at", 0, 1 << 40)
    expires = integer(signed["expires_at"], "expires_at", issued + 1, 1 << 40)
    notes = signed["notes"]
    if not isinstance(notes, str) or len(notes) > 4000:
        raise ManifestInvalid("notes must be a string of at most 4000 characters")
    files = signed["files"]
    if not isinstance(files, list) or not 1 <= len(files) <= MAX_FILES:
        raise ManifestInvalid(f"a manifest lists 1 to {MAX_FILES} files")
    entries = []
    for f in files:
        if not isinstance(f, dict) or set(f) != {"name", "size", "sha256"}:
            raise ManifestInvalid("each file is an object with name, size and sha256")
        if not isinstance(f["name"], str) or not _NAME_RE.fullmatch(f["name"]):
            raise ManifestInvalid(f"invalid file name {f['name']!r}")
        if not isinstance(f["sha256"], str) or not _SHA_RE.fullmatch(f["sha256"]):
            raise ManifestInvalid(f"invalid sha256 for {f['name']}")
        entries.append(FileEntry(f["name"], integer(f["size"], "size", 0, MAX_FILE_SIZE), f["sha256"]))
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        raise ManifestInvalid("file names repeat")
    entry = text("entry", _NAME_RE)
    if entry not in names:
        raise ManifestInvalid(f"the entry {entry!r} is not one of the files")
    return Manifest(channel=text("channel", _CHANNEL_RE), platform=text("platform", _PLATFORM_RE),
                    version=version, entry=entry, issued_at=issued, expires_at=expires,
                    files=tuple(entries), notes=notes, raw=raw)


def check_channel(channel: str) -> str:
    if not _CHANNEL_RE.fullmatch(channel):
        raise ManifestInvalid(f"invalid channel {channel!r}")
    return channel


def check_platform(platform: str) -> str:
    if not _PLATFORM_RE.fullmatch(platform):
        raise ManifestInvalid(f"invalid platform {platform!r}: e.g. linux-x86_64, windows-amd64")
    return platform
