"""Maintainer commands behind `newral release ...` and `newral key ...`.

    newral release keygen --out ~/offline/newral-release.key     encrypted private key (0600) + .pub
    newral release sign --key K --version 0.2.0 --platform linux-x86_64 [--channel stable]
                        [--expires-days 90] [--entry newral-client] FILE... -o manifest.json
    newral release publish manifest.json FILE...                  submit, upload, finalize
    newral release show [--channel stable] --platform linux-x86_64
    newral key add newral-release.key.pub [--note TEXT] | newral key list | newral key remove KEYID

The passphrase comes from NEWRAL_RELEASE_KEY_PASSPHRASE, --passphrase-file, or a
prompt; it is never printed or logged. keygen and sign need no coordinator.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.updater import keys, manifest
from client.updater.errors import UpdateError

PASSPHRASE_ENV = "NEWRAL_RELEASE_KEY_PASSPHRASE"


class MaintainerError(Exception):
    pass


def add_parsers(sub: Any) -> None:
    """Adds the `release` and `key` commands to the admin CLI's subparsers."""
    r = sub.add_parser("release", help="make, sign and publish client releases")
    rs = r.add_subparsers(dest="action", required=True)

    kg = rs.add_parser("keygen", help="create the offline release key")
    kg.add_argument("--out", type=Path, required=True, help="private key file (outside any repository)")
    kg.add_argument("--passphrase-file", type=Path)

    sg = rs.add_parser("sign", help="write a signed manifest for release files")
    sg.add_argument("files", nargs="+", type=Path)
    sg.add_argument("--key", type=Path, required=True)
    sg.add_argument("--passphrase-file", type=Path)
    sg.add_argument("--version", required=True)
    sg.add_argument("--platform", required=True, help="e.g. linux-x86_64, windows-amd64, macos-arm64")
    sg.add_argument("--channel", default="stable")
    sg.add_argument("--entry", help="the file that is the program (default: the first file)")
    sg.add_argument("--expires-days", type=float, default=90.0)
    sg.add_argument("--notes", default="")
    sg.add_argument("-o", "--output", type=Path, required=True)

    pb = rs.add_parser("publish", help="upload a signed manifest and its files to the coordinator")
    pb.add_argument("manifest", type=Path)
    pb.add_argument("files", nargs="+", type=Path)

    sh = rs.add_parser("show", help="the newest published manifest for a platform")
    sh.add_argument("--channel", default="stable")
    sh.add_argument("--platform", required=True)

    k = sub.add_parser("key", help="release public keys the coordinator accepts manifests from")
    ks = k.add_subparsers(dest="action", required=True)
    ka = ks.add_parser("add")
    ka.add_argument("public_key_file", type=Path)
    ka.add_argument("--note", default="")
    ks.add_parser("list")
    kr = ks.add_parser("remove")
    kr.add_argument("keyid")


def _passphrase(args: argparse.Namespace, confirm: bool) -> bytes:
    if args.passphrase_file:
        return args.passphrase_file.read_text().rstrip("\n").encode()
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV].encode()
    first = getpass.getpass("release key passphrase: ")
    if confirm and getpass.getpass("again: ") != first:
        raise MaintainerError("the passphrases differ")
    return first.encode()


def keygen(args: argparse.Namespace) -> dict[str, str]:
    key = Ed25519PrivateKey.generate()
    keys.write_private_key(args.out, key, _passphrase(args, confirm=True))
    pub_path = args.out.with_name(args.out.name + ".pub")
    pub = keys.encode_public(key.public_key())
    pub_path.write_text(pub + "\n")
    return {"private_key": str(args.out), "public_key_file": str(pub_path), "public_key": pub,
            "keyid": keys.key_id(key.public_key())}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sign(args: argparse.Namespace, now: float | None = None) -> dict[str, Any]:
    key = keys.load_private_key(args.key, _passphrase(args, confirm=False))
    now = time.time() if now is None else now
    files = [manifest.FileEntry(p.name, p.stat().st_size, _sha256(p)) for p in args.files]
    signed = manifest.build_signed(
        channel=args.channel, platform=args.platform, version=args.version,
        entry=args.entry or args.files[0].name, files=files, issued_at=int(now),
        expires_at=int(now + args.expires_days * 86400), notes=args.notes)
    args.output.write_bytes(manifest.sign(signed, [key]))
    return {"manifest": str(args.output), "version": args.version, "platform": args.platform,
            "channel": args.channel, "expires_at": signed["expires_at"],
            "keyid": keys.key_id(key.public_key())}


class _Http:
    def __init__(self, base_url: str, token: str) -> None:
        self.base = base_url.rstrip("/")
        self.http = httpx.Client(timeout=600.0, headers={"Authorization": f"Bearer {token}"})

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            r = self.http.request(method, self.base + path, **kwargs)
        except httpx.TransportError as exc:
            raise MaintainerError(f"cannot reach the coordinator at {self.base}: {exc}") from None
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail", r.text)
            except ValueError:
                detail = r.text
            raise MaintainerError(f"{r.status_code}: {detail}")
        return r.json() if r.content else None


def publish(args: argparse.Namespace, http: _Http) -> dict[str, Any]:
    raw = args.manifest.read_bytes()
    sent = http.call("POST", "/api/v1/admin/releases", content=raw,
                     headers={"Content-Type": "application/json"})
    by_name = {p.name: p for p in args.files}
    channel, platform, version = sent["channel"], sent["platform"], sent["version"]
    for f in sent["files"]:
        path = by_name.get(f["name"])
        if path is None:
            raise MaintainerError(f"the manifest lists {f['name']}; pass that file too")
        http.call("PUT", f"/api/v1/admin/releases/{channel}/{platform}/{version}/files/{f['name']}",
                  content=path.read_bytes(), headers={"Content-Type": "application/octet-stream"})
    return http.call("POST", f"/api/v1/admin/releases/{channel}/{platform}/{version}/finalize")  # type: ignore[no-any-return]


def run(args: argparse.Namespace, coordinator: str, token: Any) -> Any:
    """Runs one maintainer command; `token` is a callable giving the admin token (only
    asked for by commands that talk to the coordinator)."""
    try:
        if args.command == "release" and args.action == "keygen":
            return keygen(args)
        if args.command == "release" and args.action == "sign":
            return sign(args)
        if args.command == "release" and args.action == "show":
            r = httpx.get(f"{coordinator.rstrip('/')}/api/v1/releases/{args.channel}/{args.platform}/latest",
                          timeout=30)
            if r.status_code != 200:
                raise MaintainerError(f"{r.status_code}: {r.text[:300]}")
            return json.loads(r.content)
        http = _Http(coordinator, token())
        try:
            if args.command == "release":
                return publish(args, http)
            if args.action == "add":
                return http.call("POST", "/api/v1/admin/release-keys",
                                 json={"public_key": args.public_key_file.read_text().strip(),
                                       "note": args.note})
            if args.action == "list":
                return http.call("GET", "/api/v1/admin/release-keys")
            http.call("DELETE", f"/api/v1/admin/release-keys/{args.keyid}")
            return {"removed": args.keyid}
        finally:
            http.http.close()
    except (UpdateError, OSError) as exc:
        raise MaintainerError(str(exc)) from None
