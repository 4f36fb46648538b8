"""Imports every module that defines tables, so Base.metadata is complete
(for Alembic and the migration test). Add one line per models module."""

from coordinator.db import models  # noqa: F401
from coordinator.db import web_models  # noqa: F401
from coordinator.db import workflow_models  # noqa: F401
from coordinator.db import bundle_models  # noqa: F401
from coordinator.db import orchestrator_models  # noqa: F401
