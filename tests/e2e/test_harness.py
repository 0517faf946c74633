"""Self-test of the e2e harness: the WAT fixture plugins through real Envoy (no wasmd),
plus the helpers it stands on (process groups, the scripted upstream, normalization)."""

from __future__ import annotations

import http.client
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.envoy_harness import (
    EnvoyHarness,
    EnvoyLoadError,
    EnvoyStartError,
    envoy_binary,
    run_plugin,
)
from tests.helpers.manifest import CaseSpec, PluginSpec
from tests.helpers.outcome import Outcome, outcome_from_try
from tests.helpers.procs import spawn, wait_for
from tests.helpers.upstream import Answer, Upstream

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def probe_outcomes(
    fixture_plugins_built: dict[str, PluginSpec], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Outcome]:
    """All wat_probe cases through one Envoy."""
    run = run_plugin(fixture_plugins_built["wat_probe"], tmp_path_factory.mktemp("envoy"))
    assert run.loaded, run.error
    return run.outcomes


@pytest.mark.envoy
def test_header_added_by_plugin_reaches_upstream(probe_outcomes: dict[str, Outcome]) -> None:
    assert probe_outcomes["add-header"] == Outcome(
        status=200,
        response_headers=(("x-up", "1"), ("x-wasm-resp", "added-by-wasm")),
        response_body="hello",
        upstream_reached=True,
        upstream_method="GET",
        upstream_path="/hello?q=1",
        upstream_headers=(("x-test", "add"), ("x-wasm-req", "hello-from-wasm")),
        upstream_body="",
    )


@pytest.mark.envoy
def test_body_duplicate_headers_and_status_pass_through(
    probe_outcomes: dict[str, Outcome],
) -> None:
    outcome = probe_outcomes["post-body"]
    assert (outcome.upstream_method, outcome.upstream_body) == ("POST", "ping")
    assert ("x-dup", "a") in outcome.upstream_headers
    assert ("x-dup", "b") in outcome.upstream_headers
    assert (outcome.status, outcome.response_body) == (201, "pong")


@pytest.mark.envoy
def test_local_reply_never_reaches_upstream(probe_outcomes: dict[str, Outcome]) -> None:
    outcome = probe_outcomes["local-reply"]
    assert not outcome.upstream_reached
    assert (outcome.upstream_method, outcome.upstream_headers) == (None, ())
    assert outcome.status == 403
    assert outcome.response_body == "local reply from wasm\n"
    # Envoy runs the plugin's response-header callback on its own local replies too.
    assert ("x-wasm-local", "yes") in outcome.response_headers
    assert ("x-wasm-resp", "added-by-wasm") in outcome.response_headers


@pytest.mark.envoy
def test_stream_reset_is_status_zero_not_a_harness_error(
    probe_outcomes: dict[str, Outcome],
) -> None:
    outcome = probe_outcomes["reset"]
    assert (outcome.status, outcome.response_headers, outcome.response_body) == (0, (), "")
    assert not outcome.upstream_reached


_TRAP = CaseSpec(name="trap", path="/wasm-trap", response_body="from upstream")


@pytest.mark.envoy
def test_fail_open_passes_a_trapping_request_through(
    fixture_plugins_built: dict[str, PluginSpec], tmp_path: Path
) -> None:
    """Regression: Envoy 1.40 with `failure_policy: FAIL_OPEN` answered 503 on a trap."""
    spec = replace(fixture_plugins_built["wat_probe"], failure_policy="fail_open", cases=(_TRAP,))
    run = run_plugin(spec, tmp_path)
    outcome = run.outcomes["trap"]
    assert (outcome.status, outcome.upstream_reached) == (200, True)
    assert outcome.upstream_headers == ()  # unmodified: the plugin's header is not added
    assert outcome.response_body == "from upstream"


@pytest.mark.envoy
def test_fail_closed_answers_503_on_a_trap(
    fixture_plugins_built: dict[str, PluginSpec], tmp_path: Path
) -> None:
    spec = replace(fixture_plugins_built["wat_probe"], failure_policy="fail_closed", cases=(_TRAP,))
    outcome = run_plugin(spec, tmp_path).outcomes["trap"]
    assert (outcome.status, outcome.upstream_reached) == (503, False)


@pytest.mark.envoy
def test_plugin_envoy_rejects_is_a_load_failure(
    fixture_plugins_built: dict[str, PluginSpec], tmp_path: Path
) -> None:
    spec = fixture_plugins_built["wat_reject"]
    run = run_plugin(spec, tmp_path)
    assert not run.loaded
    assert run.to_record() == {"load_error": True}
    assert "Unable to create Wasm plugin wat_reject" in run.error
    with pytest.raises(EnvoyLoadError), EnvoyHarness(spec, tmp_path / "again"):
        pass


@pytest.mark.envoy
def test_envoy_failing_for_other_reasons_is_not_a_plugin_load_error(
    fixture_plugins_built: dict[str, PluginSpec], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken harness or host must never be recorded as ``load_error`` in expected.json."""
    bogus = [envoy_binary(), "--bogus"]
    monkeypatch.setattr(EnvoyHarness, "_argv", lambda self, config, admin: bogus)
    harness = EnvoyHarness(fixture_plugins_built["wat_probe"], tmp_path)
    with pytest.raises(EnvoyStartError) as info, harness:
        pass
    assert not isinstance(info.value, EnvoyLoadError)


def test_outcome_from_try_matches_wire_normalization() -> None:
    """A ``wasmd try`` object that means the same exchange normalizes to the same Outcome."""
    result: dict[str, Any] = {
        "loaded": True,
        "error": None,
        "local_response": None,
        "request": {
            "headers": [
                [":method", "GET"],
                [":path", "/hello?q=1"],
                [":scheme", "http"],
                [":authority", "x"],
                ["X-Test", "add"],
                ["x-wasm-req", "hello-from-wasm"],
                ["x-request-id", "1"],
                ["x-forwarded-proto", "http"],
            ],
            "body": "",
        },
        "response": {
            "status": 200,
            "headers": [["x-wasm-resp", "added-by-wasm"], ["content-length", "5"], ["x-up", "1"]],
            "body": "hello",
        },
        "logs": [],
        "metrics": {},
    }
    assert outcome_from_try(result) == Outcome(
        status=200,
        response_headers=(("x-up", "1"), ("x-wasm-resp", "added-by-wasm")),
        response_body="hello",
        upstream_reached=True,
        upstream_method="GET",
        upstream_path="/hello?q=1",
        upstream_headers=(("x-test", "add"), ("x-wasm-req", "hello-from-wasm")),
        upstream_body="",
    )


def test_upstream_records_chunked_body_and_answers_as_told() -> None:
    with Upstream() as upstream:
        upstream.set_answer(Answer(418, (("x-a", "1"),), b"teapot"))
        conn = http.client.HTTPConnection(upstream.host, upstream.port, timeout=5)
        conn.request("PUT", "/p", body=iter([b"ab", b"cd"]), headers={"X-In": "v"})
        resp = conn.getresponse()
        assert (resp.status, resp.getheader("x-a"), resp.read()) == (418, "1", b"teapot")
        assert resp.getheader("server") is None  # the plugin must not see a Server header
        conn.close()
        [seen] = upstream.requests()
    assert (seen.method, seen.path, seen.body) == ("PUT", "/p", b"abcd")
    assert ("X-In", "v") in seen.headers


def test_spawn_kills_the_whole_process_group(tmp_path: Path) -> None:
    """A grandchild must not outlive the block (it would keep ports and files busy)."""
    pid_file = tmp_path / "grandchild.pid"
    script = f"sleep 300 & echo $! > {pid_file}; wait"
    with spawn(["sh", "-c", script], log_path=tmp_path / "sh.log") as child:
        wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), 10, what="pid file")
    grandchild = int(pid_file.read_text())
    assert child.exited()
    wait_for(lambda: not _alive(grandchild), 10, what=f"grandchild {grandchild} to die")


def test_wait_for_timeout_names_what_it_waited_for() -> None:
    with pytest.raises(TimeoutError, match="the moon"):
        wait_for(lambda: False, 0.05, what="the moon")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A reaped-by-init zombie still answers kill(0); treat zombies as dead.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
