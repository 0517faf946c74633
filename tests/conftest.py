"""Suite-wide pytest hooks."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.helpers.tools import COMPILE_CACHE_ENV, find_tool, missing_component, not_found


@pytest.fixture(scope="session", autouse=True)
def session_compile_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One compiled-module cache for the session's ``wasmd try`` runs and in-process servers
    (``tests.helpers.tools.compile_cache``): the corpus compiles each module once, not once
    per case and path (a Go module takes seconds to compile). Tests of compiling itself make
    their own runtimes without it."""
    os.environ[COMPILE_CACHE_ENV] = str(tmp_path_factory.mktemp("compile-cache"))
    yield
    os.environ.pop(COMPILE_CACHE_ENV, None)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """An ``envoy``-marked test needs the real Envoy: without one it is skipped with the fix
    in the reason, or under CI fails (tests/helpers/tools.py, ``require_tool``)."""
    if item.get_closest_marker("envoy") is not None and find_tool("envoy") is None:
        missing_component(not_found("envoy"))
