"""Imports every module that defines tables, so Base.metadata is complete
(for Alembic and the migration test). Add one line per models module."""

from coordinator.db import (
    bundle_models,  # noqa: F401
    models,  # noqa: F401
    orchestrator_models,  # noqa: F401
    web_models,  # noqa: F401
    workflow_models,  # noqa: F401
)
