"""Client releases: the coordinator's side of signed updates (see catalog.py)."""

from coordinator.releases.catalog import KEYS_OBJECT, ReleaseCatalog

__all__ = ["KEYS_OBJECT", "ReleaseCatalog"]
