"""Suite-wide pytest hooks."""

from __future__ import annotations

import pytest

from tests.helpers.tools import find_tool, missing_component, not_found


def pytest_runtest_setup(item: pytest.Item) -> None:
    """An ``envoy``-marked test needs the real Envoy: without one it is skipped with the fix
    in the reason, or under CI fails (tests/helpers/tools.py, ``require_tool``)."""
    if item.get_closest_marker("envoy") is not None and find_tool("envoy") is None:
        missing_component(not_found("envoy"))
