"""The HTTP layer: thin Litestar handlers over coordinator.domain."""

from coordinator.api.app import create_app

__all__ = ["create_app"]
