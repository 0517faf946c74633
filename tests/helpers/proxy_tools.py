"""Where the tests find nginx, HAProxy and wrk (one place, so the suite-wide tool lookup
of issue 10 can replace it).

Order: beside ``sys.executable`` (a venv's bin), then the environment override
(``WASMD_TEST_NGINX``, ``WASMD_TEST_HAPROXY``, ``WASMD_TEST_WRK``, ``WASMD_TEST_LUA5_3``),
then PATH, then the sbin directories Debian installs daemons into (root's PATH has them, a
user's often not).
Under ``CI=true`` a missing tool fails the test; elsewhere it skips, saying how to install it.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/local/openresty/nginx/sbin")
INSTALL_HINT = (
    "bash scripts/setup.sh (apt-get install nginx libnginx-mod-http-lua "
    "lua-messagepack haproxy wrk lua5.3)"
)


def env_override(name: str) -> str:
    """The environment variable naming ``name``'s path: WASMD_TEST_NGINX, WASMD_TEST_LUA5_3."""
    return "WASMD_TEST_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def find_tool(name: str) -> str | None:
    """The path of ``name`` by the lookup order above, or None."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    override = os.environ.get(env_override(name))
    if override:
        return override
    found = shutil.which(name)
    if found is not None:
        return found
    return shutil.which(name, path=os.pathsep.join(SBIN_DIRS))


def require_tool(name: str) -> str:
    """``find_tool`` or fail (CI) / skip (elsewhere) the calling test."""
    found = find_tool(name)
    if found is not None:
        return found
    reason = f"{name} not found (beside python, ${env_override(name)}, PATH, sbin): {INSTALL_HINT}"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)
