"""Node credentials: in the OS keyring, or where no keyring backend exists
(headless Linux) in a file only this user can read."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("newral.agent.credentials")

SERVICE = "newral-agent"


@dataclass(frozen=True)
class Credentials:
    coordinator: str
    node_id: str
    secret: str

    def bearer(self) -> str:
        return f"{self.node_id}.{self.secret}"


def _keyring_usable() -> bool:
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring):
            return False
        chained = getattr(backend, "backends", None)
        return chained is None or len(chained) > 0
    except Exception:  # a broken keyring install must not stop the agent
        return False


class CredentialStore:
    """Keyring first; the file fallback is chosen when no keyring backend works."""

    def __init__(self, data_dir: Path, use_keyring: bool | None = None) -> None:
        self.file = data_dir / "credentials.json"
        self.use_keyring = _keyring_usable() if use_keyring is None else use_keyring

    @property
    def where(self) -> str:
        return "the OS keyring" if self.use_keyring else f"{self.file} (mode 0600; no keyring backend)"

    def load(self, coordinator: str) -> Credentials | None:
        raw: str | None = None
        if self.use_keyring:
            import keyring

            raw = keyring.get_password(SERVICE, coordinator)
        elif self.file.exists():
            data = json.loads(self.file.read_text())
            raw = json.dumps(data.get(coordinator)) if coordinator in data else None
        if not raw:
            return None
        item = json.loads(raw)
        return Credentials(coordinator, item["node_id"], item["secret"])

    def save(self, creds: Credentials) -> None:
        item = json.dumps({"node_id": creds.node_id, "secret": creds.secret})
        if self.use_keyring:
            import keyring

            keyring.set_password(SERVICE, creds.coordinator, item)
            return
        data = json.loads(self.file.read_text()) if self.file.exists() else {}
        data[creds.coordinator] = json.loads(item)
        self.file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.file)
        os.chmod(self.file, 0o600)
