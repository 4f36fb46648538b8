"""Shared fixtures live in tests/fixtures/, one module per real component."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = [
    "tests.fixtures.s3",
    "tests.fixtures.databases",
]
