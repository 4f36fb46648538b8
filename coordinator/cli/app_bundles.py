"""`newral app keygen|sign|publish`: a project maintainer signs task-app bundles
with an offline Ed25519 key; the coordinator only stores what was signed."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from client.agent import appsign


def add_parsers(sub: Any) -> None:
    app = sub.add_parser("app", help="sign and publish task-app bundles (maintainers)")
    acts = app.add_subparsers(dest="action", required=True)
    k = acts.add_parser("keygen", help="create a project's signing key pair (private key stays here)")
    k.add_argument("path", type=Path, help="where to write the private key (mode 0600, never overwritten)")
    k.add_argument("--no-passphrase", action="store_true", help="leave the private key unencrypted")
    s = acts.add_parser("sign", help="write MANIFEST and SIGNATURE into a bundle folder")
    s.add_argument("folder", type=Path)
    s.add_argument("--key", type=Path, required=True)
    s.add_argument("--project", required=True)
    s.add_argument("--app", required=True)
    s.add_argument("--version", required=True)
    s.add_argument("--entry", required=True, help="builtin:NAME or python:FILE")
    s.add_argument("--no-passphrase", action="store_true")
    p = acts.add_parser("publish", help="upload a signed bundle to the coordinator")
    p.add_argument("folder", type=Path)


def _passphrase(args: argparse.Namespace, confirm: bool) -> bytes | None:
    if args.no_passphrase:
        return None
    env = os.environ.get("NEWRAL_KEY_PASSPHRASE")
    if env is not None:
        return env.encode()
    first = getpass.getpass("key passphrase: ")
    if confirm and getpass.getpass("again: ") != first:
        raise appsign.SignatureError("the passphrases differ")
    return first.encode()


def run(args: argparse.Namespace, call: Callable[[str, str, Any], Any]) -> Any:
    if args.action == "keygen":
        public = appsign.generate_keypair(args.path, _passphrase(args, confirm=True))
        print(f"private key written to {args.path}; keep it offline", file=sys.stderr)
        return {"public_key": public}
    if args.action == "sign":
        key = appsign.load_private_key(args.key, _passphrase(args, confirm=False))
        sha = appsign.sign_bundle(args.folder, key, project=args.project, app=args.app,
                                  version=args.version, entry=args.entry)
        return {"manifest_sha256": sha}
    payload = appsign.publish_payload(args.folder)
    return call("POST", f"/projects/{payload['project']}/app-bundles", payload)
