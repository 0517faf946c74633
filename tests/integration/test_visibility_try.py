"""The visibility policy through ``wasmd try`` (the real CLI, real corpus plugins): what the
plugin saw (its x-seen-* headers) and what the upstream gets (``--json``'s request)."""

from __future__ import annotations

import json
import sys
from typing import Any

from tests.helpers.manifest import REPO_ROOT
from tests.helpers.procs import run

TIMEOUT_S = 60.0
ECHO = str(REPO_ROOT / "plugins" / "c" / "build" / "header_echo.wasm")
TAMPER = str(REPO_ROOT / "plugins" / "c" / "build" / "header_tamper.wasm")
SECRET = "Bearer s3cret-token"
REQUEST = (
    f"--header=authorization: {SECRET}",
    "--header=cookie: sid=42",
    "--header=user-agent: curl/8",
    "--property=source.address=10.1.2.3:5555",
    "--response-header=set-cookie: sid=43",
)


def wasmd_try(plugin: str, *args: str) -> dict[str, Any]:
    done = run(
        [sys.executable, "-m", "wasmd", "try", plugin, "--json", *args],
        timeout_s=TIMEOUT_S,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def headers(result: dict[str, Any], side: str = "request") -> dict[str, str]:
    return {k: v for k, v in result[side]["headers"]}


def test_without_a_policy_the_plugin_sees_everything() -> None:
    seen = headers(wasmd_try(ECHO, *REQUEST))
    assert f"authorization={SECRET}" in seen["x-seen-headers"]
    assert seen["x-seen-get-authorization"] == f"0:{SECRET}"
    assert seen["x-seen-source-address"] == "0:10.1.2.3:5555"


def test_hidden_redacted_and_hidden_properties() -> None:
    result = wasmd_try(
        ECHO,
        *REQUEST,
        "--hide-header=authorization",
        "--hide-header=set-cookie",
        "--redact-header=cookie",
        "--hide-property=source",
    )
    up = headers(result)
    # What the plugin saw:
    assert "authorization" not in up["x-seen-headers"]
    assert up["x-seen-get-authorization"] == "1"  # NotFound
    assert up["x-seen-prop-authorization"] == "1"  # request.headers.authorization too
    assert up["x-seen-count"] == "6"  # 4 pseudo-headers, cookie, user-agent
    assert up["x-seen-all-props"] == "0:6"
    status, _, marker = up["x-seen-get-cookie"].partition(":")
    assert status == "0" and marker.startswith("redacted:") and "sid=42" not in marker
    assert up["x-seen-prop-cookie"] == up["x-seen-get-cookie"]
    assert up["x-seen-source-address"] == "1" and up["x-seen-source-port"] == "1"
    assert up["x-seen-useragent"] == "0:curl/8"
    assert "set-cookie" not in headers(result, "response")["x-seen-response-headers"]
    # What the upstream and the client get: everything, unchanged.
    assert up["authorization"] == SECRET and up["cookie"] == "sid=42"
    assert headers(result, "response")["set-cookie"] == "sid=43"
    for name, value in up.items():
        if name.startswith("x-seen"):
            assert "s3cret" not in value and "sid=42" not in value, (name, value)


def test_tampering_with_a_hidden_header_is_refused() -> None:
    result = wasmd_try(TAMPER, f"--header=authorization: {SECRET}", "--hide-header=authorization")
    up = headers(result)
    # replace, remove, add, set_pairs(+forged) refused with BadArgument (2); set_pairs
    # without the hidden name applied, the hidden header kept as it came.
    assert up["x-tamper"] == "2,2,2,2,0"
    assert up["x-whole"] == "replaced"
    assert [v for k, v in result["request"]["headers"] if k == "authorization"] == [SECRET]


def test_tampering_with_a_read_only_header_is_refused() -> None:
    result = wasmd_try(
        TAMPER, f"--header=authorization: {SECRET}", "--read-only-header=authorization"
    )
    assert headers(result)["x-tamper"] == "2,2,2,2,0"
    assert [v for k, v in result["request"]["headers"] if k == "authorization"] == [SECRET]


def test_without_a_policy_tampering_works() -> None:
    result = wasmd_try(TAMPER, f"--header=authorization: {SECRET}")
    assert headers(result)["x-tamper"] == "0,0,0,0,0"
    assert [v for k, v in result["request"]["headers"] if k == "authorization"] == ["added"]


def test_a_bad_flag_value_names_the_flag() -> None:
    done = run(
        [sys.executable, "-m", "wasmd", "try", ECHO, "--hide-property=a..b"],
        timeout_s=TIMEOUT_S,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 64
    assert "--hide-property 'a..b'" in done.stderr
