"""Signed client updates (no Qt): the manifest format, release keys, the managed
install layout with rollback, and the update round that ties them together."""

from client.updater.config import UpdateConfig, current_platform, load_update_config
from client.updater.errors import (
    DownloadRejected,
    ManifestExpired,
    ManifestInvalid,
    RollbackRefused,
    SignatureRejected,
    UpdateError,
    WrongTarget,
)
from client.updater.install import Installation
from client.updater.manifest import Manifest
from client.updater.updater import Outcome, Updater

__all__ = [
    "DownloadRejected",
    "Installation",
    "Manifest",
    "ManifestExpired",
    "ManifestInvalid",
    "Outcome",
    "RollbackRefused",
    "SignatureRejected",
    "UpdateConfig",
    "UpdateError",
    "Updater",
    "WrongTarget",
    "current_platform",
    "load_update_config",
]
