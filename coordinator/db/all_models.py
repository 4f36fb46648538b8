"""Imports every module that defines tables, so Base.metadata is complete
(for Alembic and the migration test). Add one line per models module."""

from coordinator.db import models  # noqa: F401
