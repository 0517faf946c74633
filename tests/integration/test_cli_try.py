"""The ``wasmd try`` command-line contract (issue 2, section 5), through the real CLI.

With ``--json`` stdout is exactly one JSON object with the keys and types below; exit 0
when the plugin loaded and ran, 2 when it failed to load, 3 when it failed while running.
Without ``--json`` the output is for people. Every run is a bounded subprocess.
"""

from __future__ import annotations

import json
import struct
import sys
from typing import Any

import pytest

from tests.helpers.manifest import REPO_ROOT
from tests.helpers.procs import Completed, run
from tests.helpers.wasmd_try import try_argv
from tests.integration.support import case, spec

TIMEOUT_S = 60.0
EX_USAGE = 64


def wasmd_try(*args: str) -> Completed:
    return run([sys.executable, "-m", "wasmd", "try", *args], timeout_s=TIMEOUT_S, cwd=REPO_ROOT)


def manifest_try(plugin: str, case_name: str, *extra: str) -> tuple[Completed, dict[str, Any]]:
    p = spec(plugin)
    done = run(try_argv(p, case(p, case_name)) + list(extra), timeout_s=TIMEOUT_S, cwd=REPO_ROOT)
    return done, one_json_object(done)


def one_json_object(done: Completed) -> dict[str, Any]:
    """stdout must hold exactly one JSON object and nothing else."""
    decoder = json.JSONDecoder()
    text = done.stdout.lstrip()
    obj, end = decoder.raw_decode(text)
    assert text[end:].strip() == "", f"more than one JSON value on stdout\n{done.describe()}"
    assert isinstance(obj, dict), done.describe()
    return obj


def _pairs(value: object) -> None:
    assert isinstance(value, list)
    for pair in value:
        assert isinstance(pair, list) and len(pair) == 2
        assert all(isinstance(x, str) for x in pair)


def check_schema(result: dict[str, Any]) -> None:
    """The keys and types the contract lists, no more, no less."""
    assert set(result) == {
        "loaded",
        "error",
        "local_response",
        "request",
        "response",
        "logs",
        "metrics",
    }
    assert isinstance(result["loaded"], bool)
    assert result["error"] is None or isinstance(result["error"], str)
    local = result["local_response"]
    if local is not None:
        assert set(local) == {"status", "headers", "body", "details"}
        assert isinstance(local["status"], int) and not isinstance(local["status"], bool)
        _pairs(local["headers"])
        assert isinstance(local["body"], str) and isinstance(local["details"], str)
    assert set(result["request"]) == {"headers", "body"}
    _pairs(result["request"]["headers"])
    assert isinstance(result["request"]["body"], str)
    assert set(result["response"]) == {"status", "headers", "body"}
    assert isinstance(result["response"]["status"], int)
    _pairs(result["response"]["headers"])
    assert isinstance(result["response"]["body"], str)
    assert isinstance(result["logs"], list)
    for line in result["logs"]:
        assert set(line) == {"level", "message"}
        assert isinstance(line["level"], str) and isinstance(line["message"], str)
    assert isinstance(result["metrics"], dict)
    for name, value in result["metrics"].items():
        assert isinstance(name, str)
        assert isinstance(value, int | float) and not isinstance(value, bool)


# -- --json: schema and exit codes -----------------------------------------------------------


def test_json_run_that_reaches_the_upstream_exits_0() -> None:
    done, result = manifest_try("as_add_header", "echo-header")
    assert done.returncode == 0, done.describe()
    check_schema(result)
    assert result["loaded"] is True and result["error"] is None
    assert result["local_response"] is None
    assert ["x-as-req", "cfg-value"] in result["request"]["headers"]
    assert result["response"]["status"] == 200
    assert ["x-as-echo", "hi there"] in result["response"]["headers"]


def test_json_local_response_is_also_the_client_response() -> None:
    done, result = manifest_try("c_conformance", "local")
    assert done.returncode == 0, done.describe()
    check_schema(result)
    local = result["local_response"]
    assert local["status"] == 403 and local["details"] == "conformance_local_reply"
    response = result["response"]
    assert (response["status"], response["headers"], response["body"]) == (
        local["status"],
        local["headers"],
        local["body"],
    )


def test_json_metrics_are_numbers() -> None:
    done, result = manifest_try("c_conformance", "metrics")
    assert done.returncode == 0
    check_schema(result)
    assert result["metrics"]["conformance_gauge"] == 40


def test_json_load_failure_exits_2() -> None:
    p = spec("c_crash_start")
    done = run(try_argv(p, None), timeout_s=TIMEOUT_S, cwd=REPO_ROOT)
    assert done.returncode == 2, done.describe()
    result = one_json_object(done)
    check_schema(result)
    assert result["loaded"] is False
    assert "proxy_on_vm_start" in result["error"]


def test_json_missing_file_exits_2(tmp_path: Any) -> None:
    done = wasmd_try(str(tmp_path / "nope.wasm"), "--json")
    assert done.returncode == 2
    result = one_json_object(done)
    check_schema(result)
    assert "cannot read" in result["error"] and "nope.wasm" in result["error"]


def test_json_trap_while_running_exits_3() -> None:
    done, result = manifest_try("c_trap", "trap")
    assert done.returncode == 3, done.describe()
    check_schema(result)
    assert result["loaded"] is True
    assert "unreachable" in result["error"]
    assert result["local_response"]["details"] == "wasm_fail_stream"


def test_json_stalled_pause_exits_3() -> None:
    """wat_abi020_pause returns Pause on `x-pause: 1` and nothing resumes it."""
    p = spec("wat_abi020_pause")
    argv = try_argv(p, None) + ["-H", "x-pause: 1", "--pause-timeout-ms=100"]
    done = run(argv, timeout_s=TIMEOUT_S, cwd=REPO_ROOT)
    assert done.returncode == 3, done.describe()
    result = one_json_object(done)
    check_schema(result)
    assert "paused" in result["error"] and "100 ms" in result["error"]


def test_header_values_keep_their_colons() -> None:
    done, result = manifest_try(
        "as_add_header", "adds-headers", "-H", "X-URL: http://a:8080/p", "--body=xyz"
    )
    assert done.returncode == 0
    assert ["x-url", "http://a:8080/p"] in result["request"]["headers"]
    assert result["request"]["body"] == "xyz"


# -- human output -------------------------------------------------------------------------


def test_human_output_shows_the_upstream_request_and_the_client_response() -> None:
    p = spec("as_add_header")
    argv = [a for a in try_argv(p, case(p, "echo-header")) if a != "--json"]
    done = run(argv, timeout_s=TIMEOUT_S, cwd=REPO_ROOT)
    assert done.returncode == 0
    out = done.stdout
    assert not out.lstrip().startswith("{")
    assert out.index("upstream request:") < out.index("client response:")
    assert "  x-as-req: cfg-value" in out
    assert "  status: 200" in out
    assert "  x-as-echo: hi there" in out
    assert "  body: 'echoed'" in out


def test_human_output_for_a_local_reply_and_a_run_failure() -> None:
    p = spec("c_trap")
    argv = [a for a in try_argv(p, case(p, "trap")) if a != "--json"]
    done = run(argv, timeout_s=TIMEOUT_S, cwd=REPO_ROOT)
    assert done.returncode == 3
    assert "local response (the upstream is not called):" in done.stdout
    assert "  status: 503" in done.stdout
    assert "error: plugin c_trap failed: trapped" in done.stdout


def test_human_output_for_a_load_failure() -> None:
    done = wasmd_try(str(spec("c_bad_configure").wasm), "--config=not-ok")
    assert done.returncode == 2
    assert done.stdout.startswith("not loaded: ")
    assert "proxy_on_configure returned false" in done.stdout


# -- usage errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "bad"), [("-H", "no-colon"), ("-H", "   : empty-name"), ("-R", "no-colon")]
)
def test_bad_header_is_a_usage_error(flag: str, bad: str) -> None:
    done = wasmd_try(str(spec("c_trap").wasm), "--json", flag, bad)
    assert done.returncode == EX_USAGE, done.describe()
    assert done.stdout == "", "a usage error must not print a result"
    assert "is not of the form 'name: value'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("no-equals", "is not of the form NAMESPACE=JSON"),
        ("=1", "is not of the form NAMESPACE=JSON"),
        ("ns={not json", "--metadata ns: not JSON"),
        ("ns=[1, 2]", "--metadata ns: must be a JSON object"),
    ],
)
def test_bad_metadata_is_a_usage_error(bad: str, message: str) -> None:
    done = wasmd_try(str(spec("c_trap").wasm), "--json", f"--metadata={bad}")
    assert done.returncode == EX_USAGE, done.describe()
    assert done.stdout == "" and message in done.stderr
    assert "Traceback" not in done.stderr


def test_metadata_is_read_as_envoy_would_answer_it() -> None:
    """``--metadata`` namespaces answer ``metadata.filter_metadata`` paths (the c_props
    manifest plugin passes them the same way; tests/e2e compare it with Envoy)."""
    paths = "metadata/filter_metadata/envoy.lb/canary,metadata/filter_metadata/envoy.lb/w"
    done = wasmd_try(
        str(spec("c_conformance").wasm),
        "--json",
        "-H",
        "x-test: prop-read",
        "-H",
        f"x-prop: {paths}",
        '--metadata=envoy.lb={"canary": true, "w": 0.5}',
    )
    assert done.returncode == 0, done.describe()
    headers = dict(one_json_object(done)["response"]["headers"])
    assert headers["x-r-prop-0"] == "0:01"
    assert headers["x-r-prop-1"] == "0:" + struct.pack("<d", 0.5).hex()


def test_unknown_option_is_an_argparse_usage_error() -> None:
    done = wasmd_try(str(spec("c_trap").wasm), "--json", "--no-such-flag")
    assert done.returncode not in (0, 3)
    assert done.stdout == ""
    assert "usage:" in done.stderr
