"""What every handler needs, built once per app by the factory."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from coordinator.db.database import Database
from coordinator.settings import Settings
from coordinator.store import ObjectStore, UrlSigner


@dataclass
class Services:
    settings: Settings
    db: Database
    store: ObjectStore
    signer: UrlSigner
    clock: Callable[[], float]
    bundle_cache: dict[str, dict[str, Any]] = field(default_factory=dict)  # manifest sha256 -> bundle JSON
    validator_wake: asyncio.Event = field(default_factory=asyncio.Event)  # set by reports (api/app.py)
