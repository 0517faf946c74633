"""Fixtures for e2e tests: built fixture plugins and a per-test work directory."""

from __future__ import annotations

import pytest

from tests.e2e import fixture_plugins
from tests.helpers.manifest import PluginSpec


@pytest.fixture(scope="session")
def fixture_plugins_built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PluginSpec]:
    """The WAT fixture plugins compiled once per session, by name."""
    return fixture_plugins.build_all(tmp_path_factory.mktemp("wat-fixtures"))
