"""The manifest format and the update policy, without any I/O."""

from __future__ import annotations

import json

import pytest

from client.updater import keys, manifest
from client.updater.errors import (
    ManifestExpired,
    ManifestInvalid,
    RollbackRefused,
    SignatureRejected,
    WrongTarget,
)
from client.updater.updater import decide
from tests.updates.helpers import DAY, NOW, PLATFORM, Signer

FILES = {"newral-client": b"\x7fELF pretend program"}


def test_a_signed_manifest_verifies_and_says_what_was_signed() -> None:
    s = Signer.new()
    raw = s.manifest("0.2.0", FILES)
    m = manifest.verify(raw, keys.trusted_set([s.public]), NOW + 1)
    assert (m.version, m.platform, m.channel, m.entry) == ("0.2.0", PLATFORM, "stable", "newral-client")
    assert m.files[0].size == len(FILES["newral-client"])
    assert m.raw == raw


def test_any_change_to_the_signed_body_breaks_the_signature() -> None:
    s = Signer.new()
    doc = json.loads(s.manifest("0.2.0", FILES))
    doc["signed"]["files"][0]["sha256"] = "0" * 64  # point at another file
    with pytest.raises(SignatureRejected, match="altered after signing"):
        manifest.verify(json.dumps(doc).encode(), keys.trusted_set([s.public]), NOW)


def test_wrong_key_and_unsigned_are_refused() -> None:
    s, other = Signer.new(), Signer.new()
    raw = s.manifest("0.2.0", FILES)
    with pytest.raises(SignatureRejected, match="none of them trusted"):
        manifest.verify(raw, keys.trusted_set([other.public]), NOW)
    doc = json.loads(raw)
    doc["signatures"] = []
    with pytest.raises(SignatureRejected, match="unsigned"):
        manifest.verify(json.dumps(doc).encode(), keys.trusted_set([s.public]), NOW)
    # A forged signature under the trusted key's id.
    doc["signatures"] = [{"keyid": s.keyid, "sig": json.loads(other.manifest("0.2.0", FILES))["signatures"][0]["sig"]}]
    with pytest.raises(SignatureRejected, match="does not verify"):
        manifest.verify(json.dumps(doc).encode(), keys.trusted_set([s.public]), NOW)


def test_expired_manifest_is_refused() -> None:
    s = Signer.new()
    raw = s.manifest("0.2.0", FILES, expires_at=NOW + DAY)
    manifest.verify(raw, keys.trusted_set([s.public]), NOW + DAY - 1)
    with pytest.raises(ManifestExpired, match="expired"):
        manifest.verify(raw, keys.trusted_set([s.public]), NOW + DAY)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["signed"].update(version="1.0-beta"), "invalid version"),
    (lambda d: d["signed"].update(expires_at=1.5), "fractional"),
    (lambda d: d["signed"].update(entry="other"), "entry"),
    (lambda d: d["signed"]["files"][0].update(name="../evil"), "file name"),
    (lambda d: d["signed"].update(extra=1), "unknown"),
])
def test_malformed_bodies_are_named(mutate, message) -> None:  # type: ignore[no-untyped-def]
    s = Signer.new()
    doc = json.loads(s.manifest("0.2.0", FILES))
    mutate(doc)
    with pytest.raises(ManifestInvalid, match=message):
        manifest.verify(s.sign_unchecked(doc["signed"]), keys.trusted_set([s.public]), NOW)


def test_oversized_documents_are_refused_before_parsing() -> None:
    with pytest.raises(ManifestInvalid, match="limit"):
        manifest.verify(b" " * (manifest.MAX_MANIFEST_BYTES + 1), {}, NOW)


def test_versions_compare_numerically() -> None:
    assert manifest.version_key("0.10.0") > manifest.version_key("0.9.9")
    assert manifest.version_key("1.2") == manifest.version_key("1.2.0")


def _m(version: str, platform: str = PLATFORM, channel: str = "stable") -> manifest.Manifest:
    s = Signer.new()
    return manifest.verify(s.manifest(version, FILES, platform=platform, channel=channel),
                           keys.trusted_set([s.public]), NOW)


def test_decide_installs_newer_and_refuses_older_or_foreign() -> None:
    kw = {"channel": "stable", "platform": PLATFORM, "bad": []}
    assert decide(_m("0.2.0"), installed="0.1.0", highest_seen="0.1.0", **kw).action == "install"
    assert decide(_m("0.1.0"), installed="0.1.0", highest_seen="0.1.0", **kw).action == "none"
    with pytest.raises(RollbackRefused, match="older than 0.2.0"):
        decide(_m("0.1.0"), installed="0.2.0", highest_seen="0.2.0", **kw)
    # Seen 0.3.0 already (e.g. it failed here): a replayed 0.2.5 is still a rollback.
    with pytest.raises(RollbackRefused):
        decide(_m("0.2.5"), installed="0.2.0", highest_seen="0.3.0", **kw)
    with pytest.raises(WrongTarget):
        decide(_m("0.2.0", platform="windows-amd64"), installed="0.1.0", highest_seen="0.1.0", **kw)
    with pytest.raises(WrongTarget):
        decide(_m("0.2.0", channel="beta"), installed="0.1.0", highest_seen="0.1.0", **kw)
    skip = decide(_m("0.3.0"), installed="0.2.0", highest_seen="0.3.0",
                  channel="stable", platform=PLATFORM, bad=["0.3.0"])
    assert skip.action == "skip"
