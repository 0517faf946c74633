"""Hostile plugins: each misbehaviour is contained to its own VM and answered by policy.

Infinite loop (c_loop), memory bomb (c_membomb), trap with each failure policy (c_trap),
log flood (c_logflood), WASI file access (c_wasi_file), plugins that fail to load, a module
with an import nobody implements, and isolation between plugins sharing one Runtime.
Everything runs on the real wasmtime with the real binaries in ``plugins/c/build``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.manifest import REPO_ROOT
from tests.helpers.procs import run
from tests.integration.support import (
    FakeClock,
    Plugin,
    config_for,
    drive,
    first,
    run_case,
    spec,
    wat,
)
from workers.contexts.logsink import LogSink
from workers.contexts.maps import HeaderMap
from workers.contexts.policy import RELOAD_BACKOFF_CAP_S, reload_delay_s
from workers.vm.runtime import EPOCH_TICK_MS, Runtime

HOSTILE = (b"x-hostile",)
# Generous: the assertion is "stopped near the deadline", not a benchmark; CI boxes are slow.
SLACK_S = 1.0
CLI_TIMEOUT_S = 60.0


def hostile(value: str) -> list[tuple[bytes, bytes]]:
    return [(b"x-hostile", value.encode())]


@pytest.fixture(params=[True, False], ids=["fast", "public"])
def runtime(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    with Runtime(fast=request.param) as rt:
        yield rt


# -- infinite loop ------------------------------------------------------------------------


@pytest.mark.parametrize("deadline_ms", [100, 250])
def test_infinite_loop_is_stopped_within_the_deadline(runtime: Runtime, deadline_ms: int) -> None:
    loop = Plugin.from_spec(runtime, "c_loop", deadline_ms=deadline_ms)
    started = time.monotonic()
    done = drive([loop.handle], hostile("loop"))
    elapsed_s = time.monotonic() - started
    assert [f.kind for f in done.failures] == ["deadline"]
    assert elapsed_s >= deadline_ms / 1000 * 0.9, "stopped before its deadline"
    assert elapsed_s < (deadline_ms + EPOCH_TICK_MS) / 1000 + SLACK_S
    assert (done.status, done.details, done.upstream_reached) == (503, "wasm_fail_stream", False)
    assert loop.handle.stats.deadline_hits == 1
    assert f"exceeded its CPU deadline of {deadline_ms} ms" in str(done.failures[0])


def test_after_a_deadline_the_worker_serves_other_plugins(runtime: Runtime) -> None:
    loop = Plugin.from_spec(runtime, "c_loop")
    other = Plugin.from_spec(runtime, "c_loop")
    assert drive([loop.handle], hostile("loop")).failures
    again = drive([other.handle], hostile("no"))
    assert again.failures == []
    assert again.header(b"x-loop-plugin") == b"ok"
    # The failed VM stays failed under fail_closed: the next request is refused.
    refused = drive([loop.handle], hostile("no"))
    assert (refused.status, refused.upstream_reached) == (503, False)


# -- memory bomb ----------------------------------------------------------------------------


def test_memory_bomb_stays_within_the_per_vm_limit() -> None:
    result, code = run_case("c_membomb", "mem", memory_limit_bytes=16 << 20, deadline_ms=10_000)
    assert code == 0, result["error"]
    allocated_mib = int(first(result["response"]["headers"], "x-membomb-allocated-mib") or "-1")
    # malloc(1 MiB) fails once linear memory would pass 16 MiB (code and data take a bit).
    assert 12 <= allocated_mib <= 16


def test_memory_bomb_default_limit_is_64_mib() -> None:
    # Touching 64 MiB takes ~90 ms, close to the default 100 ms deadline (wall clock, so a
    # loaded machine hits it): raise the deadline, this test is about memory only.
    result, code = run_case("c_membomb", "mem", deadline_ms=10_000)
    assert code == 0, result["error"]
    allocated_mib = int(first(result["response"]["headers"], "x-membomb-allocated-mib") or "-1")
    assert 56 <= allocated_mib <= 64


def test_memory_grow_past_the_limit_returns_minus_one() -> None:
    result, code = run_case("c_membomb_grow", "grow", memory_limit_bytes=16 << 20)
    assert code == 0
    assert first(result["response"]["headers"], "x-membomb-grow") == "-1"
    result, _ = run_case("c_membomb_grow", "grow-small", memory_limit_bytes=16 << 20)
    assert first(result["response"]["headers"], "x-membomb-grow-small") == "ok"


def test_memory_bomb_vm_keeps_serving(runtime: Runtime) -> None:
    """The plugin frees what it got; the same VM answers the next request normally."""
    bomb = Plugin.from_spec(runtime, "c_membomb", memory_limit_bytes=16 << 20)
    first_vm = bomb.handle.vm
    done = drive([bomb.handle], hostile("mem"))
    assert done.failures == []
    assert int(done.header(b"x-membomb-allocated-mib") or b"-1") <= 16
    after = drive([bomb.handle])
    assert after.header(b"x-membomb-plugin") == b"ok"
    assert bomb.handle.vm is first_vm
    assert first_vm is not None and first_vm.memory.size() <= 16 << 20


# -- trap and the failure policies ----------------------------------------------------------


def test_trap_fail_closed_answers_503_and_the_vm_stays_failed(runtime: Runtime) -> None:
    trap = Plugin.from_spec(runtime, "c_trap")
    done = drive([trap.handle], hostile("trap"))
    assert (done.status, done.details, done.local, done.upstream_reached) == (
        503,
        "wasm_fail_stream",
        True,
        False,
    )
    assert done.body == b""
    assert [f.kind for f in done.failures] == ["trap"]
    assert "unreachable" in str(done.failures[0])
    assert trap.handle.stats.traps == 1 and trap.handle.stats.failed_vms == 1
    later = drive([trap.handle], hostile("no"))
    assert (later.status, later.details, later.upstream_reached) == (503, "wasm_fail_stream", False)
    assert len(trap.vms) == 1, "fail_closed must not rebuild the VM"


def test_trap_fail_closed_through_wasmd_try() -> None:
    result, code = run_case("c_trap", "trap")
    assert code == 3
    assert result["local_response"] == {
        "status": 503,
        "headers": [],
        "body": "",
        "details": "wasm_fail_stream",
    }
    assert "unreachable" in result["error"]


def test_trap_fail_open_passes_through_unfiltered(runtime: Runtime) -> None:
    trap = Plugin.from_spec(runtime, "c_trap_open")
    done = drive([trap.handle], hostile("trap"))
    assert (done.status, done.body, done.upstream_reached, done.local) == (
        200,
        b"hello",
        True,
        False,
    )
    assert (b"x-hostile", b"trap") in done.upstream_headers
    later = drive([trap.handle], hostile("no"))
    assert later.upstream_reached and later.status == 200
    assert later.header(b"x-trap-plugin") is None, "a failed VM must be skipped, not run"
    assert later.failures == []


def test_trap_reload_builds_a_fresh_vm_with_backoff(runtime: Runtime) -> None:
    clock = FakeClock()
    trap = Plugin.from_spec(runtime, "c_trap_reload", clock=clock)
    vm1 = trap.handle.vm

    # 1st failure: the next stream gets a fresh VM at once.
    assert drive([trap.handle], hostile("trap")).status == 503
    ok = drive([trap.handle], hostile("no"))
    assert ok.header(b"x-trap-plugin") == b"ok"
    assert trap.handle.vm is not vm1 and len(trap.vms) == 2
    assert trap.handle.stats.reloads == 1

    # Two failures in a row: wait 1 s before rebuilding (503 meanwhile).
    assert drive([trap.handle], hostile("trap")).status == 503
    assert drive([trap.handle], hostile("trap")).status == 503  # fresh VM #3 traps too
    assert len(trap.vms) == 3
    clock.advance(0.5)
    backing_off = drive([trap.handle], hostile("no"))
    assert (backing_off.status, backing_off.details) == (503, "wasm_fail_stream")
    assert len(trap.vms) == 3, "rebuilt during the backoff"
    clock.advance(0.5)
    assert drive([trap.handle], hostile("no")).header(b"x-trap-plugin") == b"ok"
    assert len(trap.vms) == 4

    # A success resets the count: the next failure reloads at once again.
    assert drive([trap.handle], hostile("trap")).status == 503
    assert drive([trap.handle], hostile("no")).header(b"x-trap-plugin") == b"ok"
    assert len(trap.vms) == 5
    assert trap.handle.stats.traps == 4


def test_reload_backoff_doubles_and_is_capped() -> None:
    assert [reload_delay_s(n) for n in range(1, 7)] == [0.0, 1.0, 2.0, 4.0, 8.0, 16.0]
    assert reload_delay_s(100) == RELOAD_BACKOFF_CAP_S == 60.0


# -- log flood ------------------------------------------------------------------------------


def test_log_flood_hits_the_default_deadline_and_the_worker_survives(runtime: Runtime) -> None:
    flood = Plugin.from_spec(runtime, "c_logflood", log_level="info")
    done = drive([flood.handle], hostile("logs"))
    assert [f.kind for f in done.failures] == ["deadline"]
    assert done.status == 503
    other = Plugin.from_spec(runtime, "c_logflood")
    assert drive([other.handle]).header(b"x-logflood-plugin") == b"ok"


def test_log_flood_with_a_raised_deadline_completes_and_drops_lines() -> None:
    """100000 proxy_log calls all return OK; the sink keeps max_lines_per_s and counts the rest.

    The sink's clock is frozen so the whole flood falls in one rate-limit window.
    """
    with Runtime() as runtime:
        sink = LogSink("c_logflood", capture=True, clock=lambda: 0.0)
        p = spec("c_logflood")
        flood = Plugin(
            runtime, p.wasm, config_for(p, log_level="info", deadline_ms=60_000), logs=sink
        )
        vm = flood.handle.vm
        assert vm is not None
        ctx = vm.new_stream()
        ctx.request_headers = HeaderMap([(b":path", b"/"), (b"x-hostile", b"logs")])
        vm.invoke(ctx, "proxy_on_request_headers", ctx.id, 2, 1)
        assert vm.failed is None
        assert ctx.request_headers.get(b"x-logflood") == b"100000"  # every call returned OK
        kept = [r for r in sink.records if r.message.startswith("logflood: ")]
        assert len(kept) == sink.max_lines_per_s == 1000
        assert sink.dropped == 99_000
        flood.close()


def test_log_flood_wasmd_try_reports_dropped_lines() -> None:
    """Regression: the 'dropped N log lines' summary was lost once the capture list (1000
    records, the same as the per-second rate limit) was full."""
    result, code = run_case("c_logflood", "logs", log_level="info", deadline_ms=60_000)
    assert code == 0
    assert first(result["response"]["headers"], "x-logflood") == "100000"
    assert any("dropped" in r["message"] and "rate limit" in r["message"] for r in result["logs"])


# -- WASI file access ----------------------------------------------------------------------


def test_wasi_file_access_is_denied() -> None:
    result, code = run_case("c_wasi_file", "probe")
    assert code == 0
    headers = result["response"]["headers"]
    assert first(headers, "x-wasi-file") == "denied"
    assert first(headers, "x-wasi-file-errno") == "76,76"  # fopen, opendir: ENOTCAPABLE
    assert first(headers, "x-wasi-path-open") == "44"  # raw path_open: ENOENT
    assert first(headers, "x-wasi-prestat") == "8"  # no preopens: EBADF


# -- load failures, through the CLI ----------------------------------------------------------


def _try_cli(wasm: Path, *args: str) -> tuple[int, dict[str, object], str]:
    argv = [sys.executable, "-m", "wasmd", "try", str(wasm), "--json", *args]
    done = run(argv, timeout_s=CLI_TIMEOUT_S, cwd=REPO_ROOT)
    return done.returncode, json.loads(done.stdout), done.stderr


def _not_proxy_wasm(tmp: Path) -> Path:
    path = tmp / "empty.wasm"
    path.write_bytes(wat("(module)"))
    return path


def _text(tmp: Path) -> Path:
    """Regression (issue 13): reported as a WAT syntax error ("expected `(`")."""
    path = tmp / "readme.wasm"
    path.write_bytes(b"not wasm at all\n")
    return path


def _wat_text(tmp: Path) -> Path:
    """WAT text is not a module file: wasmtime would have compiled it."""
    path = tmp / "text.wasm"
    path.write_bytes(b'(module (memory (export "memory") 1))')
    return path


def _garbage(tmp: Path) -> Path:
    path = tmp / "garbage.wasm"
    path.write_bytes(b"\x00asm\x0f\x00\x00\x00this is not wasm")
    return path


LOAD_FAILURES = [
    pytest.param(
        lambda tmp: spec("c_crash_start").wasm,
        (),
        ("proxy_on_vm_start", "returned false"),
        id="c_crash_start",
    ),
    pytest.param(
        lambda tmp: spec("c_bad_configure").wasm,
        ("--config=not-ok",),
        ("proxy_on_configure", "returned false"),
        id="c_bad_configure-not-ok",
    ),
    pytest.param(
        lambda tmp: spec("as_sdk_default_config_empty").wasm,
        ("--root-id=as_sdk_default", "--config="),
        ("proxy_on_configure", "out of bounds memory access"),
        id="as-empty-config",
    ),
    pytest.param(_not_proxy_wasm, (), ("Proxy-Wasm ABI version",), id="not-proxy-wasm"),
    pytest.param(_garbage, (), ("not a valid Wasm module",), id="garbage"),
    pytest.param(_text, (), ("not a WebAssembly module", "magic number"), id="text"),
    pytest.param(_wat_text, (), ("not a WebAssembly module",), id="wat-text"),
]


@pytest.mark.parametrize(("make", "args", "words"), LOAD_FAILURES)
def test_load_failure_exits_2_naming_the_step(
    tmp_path: Path, make: object, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    wasm = make(tmp_path)  # type: ignore[operator]
    code, result, stderr = _try_cli(wasm, *args)
    assert code == 2, stderr
    assert result["loaded"] is False
    error = result["error"]
    assert isinstance(error, str)
    for word in words:
        assert word in error, error
    assert "Traceback" not in stderr


def test_load_failure_keeps_the_plugins_own_log_lines() -> None:
    result, code = run_case("c_crash_start", "any")
    assert code == 2
    assert {"level": "error", "message": "crash_start: on_vm_start returns false"} in result["logs"]


# -- unknown imports ---------------------------------------------------------------------


def test_module_importing_an_unknown_function_loads_and_runs() -> None:
    """Envoy refuses wat_imports_everything (env.proxy_nonexistent_function); wasmd stubs it."""
    result, code = run_case("wat_imports_everything", "adds-x-wat")
    assert code == 0, result["error"]
    assert result["loaded"] is True
    assert first(result["response"]["headers"], "x-wat") == "ok"


def test_unknown_import_is_linked_to_a_stub(runtime: Runtime) -> None:
    p = Plugin.from_spec(runtime, "wat_imports_everything")
    declared = {(i.module, i.name) for i in p.compiled.imports}
    assert ("env", "proxy_nonexistent_function") in declared
    assert p.handle.vm is not None and p.handle.vm.failed is None


# -- isolation -------------------------------------------------------------------------------


def test_a_failing_plugin_never_affects_another_on_the_same_runtime(runtime: Runtime) -> None:
    trap = Plugin.from_spec(runtime, "c_trap")
    loop = Plugin.from_spec(runtime, "c_loop")
    bomb = Plugin.from_spec(runtime, "c_membomb", memory_limit_bytes=16 << 20)
    healthy = Plugin.from_spec(runtime, "c_bad_configure_ok")

    assert drive([trap.handle], hostile("trap")).failures
    assert drive([loop.handle], hostile("loop")).failures
    assert drive([bomb.handle], hostile("mem")).failures == []

    started = time.monotonic()
    fine = drive([healthy.handle])
    assert time.monotonic() - started < 0.1 + SLACK_S
    assert fine.failures == [] and fine.header(b"x-bad-configure") == b"loaded"
    assert healthy.handle.vm is not None and healthy.handle.vm.failed is None
    assert healthy.handle.stats.failed_vms == 0
    assert (trap.handle.stats.failed_vms, loop.handle.stats.failed_vms) == (1, 1)


def test_in_one_chain_a_fail_open_trap_leaves_the_next_plugin_running(runtime: Runtime) -> None:
    trap = Plugin.from_spec(runtime, "c_trap_open")
    after = Plugin.from_spec(runtime, "c_loop")
    done = drive([trap.handle, after.handle], hostile("trap"))
    assert done.upstream_reached and done.status == 200
    assert (b"x-loop-plugin", b"ok") in done.upstream_headers
    assert done.header(b"x-loop-plugin") == b"ok"
    assert [f.kind for f in done.failures] == ["trap"]


def test_in_one_chain_a_fail_closed_trap_stops_the_exchange(runtime: Runtime) -> None:
    before = Plugin.from_spec(runtime, "c_bad_configure_ok")
    trap = Plugin.from_spec(runtime, "c_trap")
    done = drive([before.handle, trap.handle], hostile("trap"))
    assert (done.status, done.details, done.upstream_reached) == (503, "wasm_fail_stream", False)
    # The local reply passes back through the plugin before the failed one, as in Envoy.
    assert done.header(b"x-bad-configure") == b"loaded"
    assert before.handle.vm is not None and before.handle.vm.failed is None
