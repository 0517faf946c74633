"""Conformance per host function, against the real plugin binaries in ``plugins/``.

Each row names a host function, the manifest case whose outcome proves it works, and the
explicit values that outcome must contain (the ``x-r-*`` status headers conformance.c
writes, what the upstream saw, what the client got). The values are the ABI's codes as
Envoy returns them (plugins/c/README.md) except where a row says it is a deliberate
wasmd deviation. Cases run in-process through ``workers.trial.run`` with ``wasmd try``'s
argument conventions; each case runs once and its result is shared by all rows.

ABI versions: 0.1.0 (zig_abi010), 0.2.0 (AssemblyScript SDK plugins, wat_abi020_pause),
0.2.1 (C and Rust plugins).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.integration.support import first, results, run_case, values

C = "c_conformance"


@functools.cache
def outcome(plugin: str, case_name: str, log_level: str = "warn") -> tuple[dict[str, Any], int]:
    return run_case(plugin, case_name, log_level=log_level)


@dataclass(frozen=True)
class Row:
    """What one case must show for one host function."""

    function: str
    case: str
    plugin: str = C
    x_r: dict[str, str] = field(default_factory=dict)  # x-r-* result headers (exact)
    upstream: tuple[tuple[str, str], ...] = ()  # pairs the upstream must see
    upstream_absent: tuple[str, ...] = ()  # header names the upstream must not see
    upstream_path: str | None = None
    upstream_body: str | None = None
    client: tuple[tuple[str, str], ...] = ()  # pairs the client must see
    client_absent: tuple[str, ...] = ()
    status: int | None = None
    body: str | None = None
    local_details: str | None = None  # a local reply with these details
    note: str = ""

    @property
    def id(self) -> str:
        return f"{self.function}[{self.plugin}:{self.case}]"


ROWS: list[Row] = [
    # -- logging, time, timers --------------------------------------------------------
    Row("proxy_log", "log", x_r={"x-r-log": "0,0,0,0,0,0", "x-r-log-level-valid": "0:valid"}),
    Row(
        "proxy_log",
        "bad-log",
        x_r={"x-r-bad-log-level": "2", "x-r-bad-log-ptr": "6"},
        note="level 99 -> BadArgument; message pointer outside memory -> InvalidMemoryAccess",
    ),
    Row(
        "proxy_get_log_level",
        "log-level",
        x_r={"x-r-log-level": "0:3"},
        note="wasmd try --log-level warn -> WARN (3), as Envoy -l warn",
    ),
    Row("proxy_get_log_level", "bad-log", x_r={"x-r-bad-log-level-ptr": "6"}),
    Row("proxy_get_current_time_nanoseconds", "time", x_r={"x-r-time": "0:ok"}),
    Row(
        "proxy_set_tick_period_milliseconds",
        "tick-continue",
        x_r={"x-r-tick-period": "0", "x-r-tick-effective": "0"},
        upstream=(("x-resumed-by-tick", "yes"),),
        note="the tick fired and resumed the stream",
    ),
    # -- configuration and buffers ----------------------------------------------------
    Row(
        "proxy_get_buffer_bytes",
        "config",
        x_r={
            "x-r-vm-config": "0:vm-cfg-value",
            "x-r-plugin-config": "0:cfg-value",
            "x-r-plugin-config-late": "1",
        },
        note="VM_CONFIGURATION in on_vm_start, PLUGIN_CONFIGURATION in on_configure only",
    ),
    Row(
        "proxy_get_buffer_bytes",
        "body-replace",
        x_r={"x-r-body-get": "0:hello body", "x-r-body-get-partial": "0:EPL"},
    ),
    Row(
        "proxy_get_buffer_bytes",
        "bad-buffer",
        x_r={
            "x-r-bad-buffer-type": "2",
            "x-r-bad-buffer-nobody": "0:0",
            "x-r-bad-buffer-vmconfig-late": "0:10",
        },
        note="VM configuration stays readable after start (read with max_size 10)",
    ),
    Row(
        "proxy_set_buffer_bytes",
        "body-replace",
        x_r={"x-r-body-set": "0"},
        upstream_body="REPLACED[hello body]",
    ),
    Row(
        "proxy_set_buffer_bytes",
        "body-prepend",
        x_r={"x-r-body-set": "0", "x-r-body-get-partial": "0:RE-"},
        upstream_body="PRE-hello body",
    ),
    Row(
        "proxy_set_buffer_bytes",
        "body-append",
        x_r={"x-r-body-set": "0"},
        upstream_body="hello body-POST",
    ),
    Row(
        "proxy_set_buffer_bytes",
        "body-middle",
        x_r={"x-r-body-set": "2"},
        upstream_body="hello body",
        note="a middle range is BadArgument, body unchanged",
    ),
    Row(
        "proxy_set_buffer_bytes",
        "resp-body-replace",
        body="RESP[upstream body]|status=0:13:0|get=0:13|set=0",
    ),
    Row("proxy_set_buffer_bytes", "resp-body-prepend", body="PRE-upstream body|set=0"),
    Row(
        "proxy_set_buffer_bytes",
        "resp-body-append",
        body="upstream body|status=0:13:0|get=0:13|set=0",
    ),
    Row("proxy_set_buffer_bytes", "bad-buffer", x_r={"x-r-bad-buffer-set-type": "2"}),
    Row("proxy_get_buffer_status", "body-append", x_r={"x-r-body-status": "0:10:0:size-match"}),
    Row(
        "proxy_get_buffer_status",
        "bad-buffer",
        x_r={"x-r-bad-buffer-status-type": "2", "x-r-bad-buffer-nobody-status": "0:0"},
    ),
    # -- header maps -------------------------------------------------------------------
    Row(
        "proxy_get_header_map_pairs",
        "pairs",
        x_r={
            "x-r-pairs-get": "0",
            "x-r-pairs-parse": "ok",
            "x-r-pairs-xup": "2",
            "x-r-pairs-size-match": "yes",
        },
    ),
    Row(
        "proxy_get_header_map_pairs",
        "bad-pairs",
        x_r={"x-r-bad-pairs-save": "0", "x-r-bad-pairs-retptr": "6"},
    ),
    Row("proxy_get_header_map_pairs", "bad-map", x_r={"x-r-bad-map-pairs": "2"}),
    Row(
        "proxy_set_header_map_pairs",
        "pairs",
        x_r={"x-r-pairs-set": "0"},
        upstream=(("x-up-one", "HELLO"), ("x-up-two", "WORLD 2"), ("x-other", "lower")),
    ),
    Row(
        "proxy_set_header_map_pairs",
        "bad-pairs",
        x_r={
            "x-r-bad-pairs-truncated": "2",
            "x-r-bad-pairs-after": "0:nonempty",
            "x-r-bad-pairs-nonul": "2",
            "x-r-bad-pairs-ptr": "6",
            "x-r-bad-pairs-restore": "0",
        },
        upstream=(("x-keep", "kept"), ("x-test", "bad-pairs")),
        note="DEVIATION (manifest `deviation`): malformed pairs -> BadArgument (2) and the map "
        "is kept; Envoy answers OK (0) and empties the map",
    ),
    Row("proxy_set_header_map_pairs", "bad-map", x_r={"x-r-bad-map-set-pairs": "2"}),
    Row(
        "proxy_get_header_map_size",
        "size",
        x_r={"x-r-size": "0:nonzero", "x-r-size-trailers": "2:0"},
        note="request trailers do not exist on a GET -> BadArgument",
    ),
    Row("proxy_get_header_map_size", "bad-map", x_r={"x-r-bad-map-size": "2"}),
    Row(
        "proxy_get_header_map_value",
        "get",
        x_r={
            "x-r-get": "0:hello-echo",
            "x-r-get-uppercase-key": "0:hello-echo",
            "x-r-get-method": "0:GET",
        },
    ),
    Row(
        "proxy_get_header_map_value",
        "get-multi",
        x_r={"x-r-get-multi": "0:a"},
        note="a repeated header reads as its first value",
    ),
    Row(
        "proxy_get_header_map_value",
        "missing",
        x_r={"x-r-missing": "1"},
        note="ABI 0.2.x: an absent key is NotFound",
    ),
    Row(
        "proxy_get_header_map_value",
        "resp-headers",
        x_r={"x-r-resp-status": "0:200", "x-r-resp-removed-get": "1", "x-r-resp-req-map": "2"},
        note="request headers are not readable in the response phase",
    ),
    Row(
        "proxy_get_header_map_value",
        "bad-ptr",
        x_r={"x-r-bad-ptr-key": "6", "x-r-bad-ptr-ret": "6", "x-r-bad-ptr-size-overflow": "6"},
    ),
    Row(
        "proxy_get_header_map_value",
        "bad-map",
        x_r={"x-r-bad-map-get": "2", "x-r-bad-map-resp-in-req": "2"},
    ),
    Row(
        "proxy_add_header_map_value",
        "add",
        x_r={"x-r-add": "0", "x-r-add-existing": "0"},
        upstream=(("x-added", "yes"), ("x-multi", "first"), ("x-multi", "second")),
    ),
    Row(
        "proxy_add_header_map_value",
        "resp-headers",
        x_r={"x-r-resp-add": "0"},
        client=(("x-resp-added", "1"),),
    ),
    Row(
        "proxy_add_header_map_value",
        "bad-ptr",
        x_r={"x-r-bad-ptr-add": "6"},
        upstream_absent=("x-bad-ptr",),
    ),
    Row("proxy_add_header_map_value", "bad-map", x_r={"x-r-bad-map-add": "2"}),
    Row(
        "proxy_replace_header_map_value",
        "replace",
        x_r={"x-r-replace": "0", "x-r-replace-absent": "0"},
        upstream=(("x-rep", "new"), ("x-rep-created", "created")),
    ),
    Row(
        "proxy_replace_header_map_value",
        "path",
        x_r={"x-r-path": "0", "x-r-path-orig": "0:/orig/p?q=1"},
        upstream_path="/rewritten/orig/p?q=1",
    ),
    Row(
        "proxy_replace_header_map_value",
        "resp-headers",
        x_r={"x-r-resp-replace": "0"},
        client=(("x-up", "replaced"), ("x-keep", "k")),
    ),
    Row(
        "proxy_replace_header_map_value",
        "resp-status",
        x_r={"x-r-resp-status-rewrite": "0"},
        status=201,
    ),
    Row("proxy_replace_header_map_value", "bad-map", x_r={"x-r-bad-map-replace": "2"}),
    Row(
        "proxy_remove_header_map_value",
        "remove",
        x_r={"x-r-remove": "0", "x-r-remove-absent": "0"},
        upstream=(("x-keep", "kept"),),
        upstream_absent=("x-del",),
    ),
    Row(
        "proxy_remove_header_map_value",
        "resp-headers",
        x_r={"x-r-resp-remove": "0"},
        client_absent=("x-remove-me",),
    ),
    Row("proxy_remove_header_map_value", "body-replace", x_r={"x-r-body-cl-remove": "0"}),
    Row("proxy_remove_header_map_value", "bad-map", x_r={"x-r-bad-map-remove": "2"}),
    # -- stream control -------------------------------------------------------------------
    Row(
        "proxy_continue_stream",
        "continue",
        x_r={
            "x-r-continue-downstream": "0",
            "x-r-continue-upstream": "12",
            "x-r-continue-bogus": "2",
        },
    ),
    Row(
        "proxy_continue_stream",
        "tick-continue",
        x_r={"x-r-tick-continue": "0", "x-r-tick-add": "0"},
        upstream=(("x-resumed-by-tick", "yes"),),
        status=200,
        body="hello",
    ),
    Row(
        "proxy_close_stream",
        "continue",
        x_r={"x-r-close-downstream": "0", "x-r-close-upstream": "0", "x-r-close-bogus": "2"},
        status=200,
        note="DOWNSTREAM/UPSTREAM are no-ops on an HTTP filter",
    ),
    Row(
        "proxy_send_local_response",
        "local",
        x_r={"x-r-local": "0"},
        status=403,
        body="local reply body\n",
        local_details="conformance_local_reply",
        client=(("x-local", "yes"), ("x-local-2", "two"), ("content-type", "text/plain")),
    ),
    Row(
        "proxy_send_local_response",
        "local-empty",
        x_r={"x-r-local-empty": "0"},
        status=204,
        body="",
        local_details="",
        client_absent=("content-type",),
    ),
    Row(
        "proxy_set_effective_context",
        "effective",
        x_r={
            "x-r-effective-bogus": "2",
            "x-r-effective-self": "0",
            "x-r-effective-root": "0",
            "x-r-effective-root-add": "2",
            "x-r-effective-back": "0",
            "x-r-effective-self-add": "0",
        },
        upstream=(("x-effective-self", "1"),),
        upstream_absent=("x-effective-root",),
        note="the root context has no request headers",
    ),
    Row("proxy_set_effective_context", "tick-continue", x_r={"x-r-tick-effective": "0"}),
    Row(
        "proxy_done", "done", x_r={"x-r-done": "1"}, note="NotFound outside a pending proxy_on_done"
    ),
    # -- properties, foreign functions ---------------------------------------------------
    Row(
        "proxy_get_property",
        "props",
        x_r={
            "x-r-prop-plugin-name": "0:c_conformance",
            "x-r-prop-plugin-root-id": "0:",
            "x-r-prop-plugin-vm-id": "0:c_conformance",
            "x-r-prop-request-path": "0:/props/path?x=1",
            "x-r-prop-request-method": "0:PUT",
            "x-r-prop-request-header": "0:prop-echo",
            "x-r-prop-missing": "1:",
        },
    ),
    Row("proxy_get_property", "bad-ptr", x_r={"x-r-bad-ptr-prop": "6"}),
    Row("proxy_set_property", "set-prop", x_r={"x-r-set-prop": "0", "x-r-set-prop-get": "0:pv"}),
    Row("proxy_call_foreign_function", "foreign", x_r={"x-r-foreign": "1"}),
    # -- metrics ------------------------------------------------------------------------
    Row(
        "proxy_define_metric",
        "metrics",
        x_r={
            "x-r-metrics-define": "0,0,0",
            "x-r-metrics-redefine": "0:new-id",
            "x-r-metrics-define-badtype": "2",
        },
    ),
    Row(
        "proxy_increment_metric",
        "metrics",
        x_r={
            "x-r-metrics-counter-inc": "0",
            "x-r-metrics-counter-dec": "2",
            "x-r-metrics-gauge-inc": "0",
            "x-r-metrics-gauge-dec": "0",
            "x-r-metrics-hist-inc": "2",
            "x-r-metrics-unknown-inc": "1",
        },
    ),
    Row(
        "proxy_record_metric",
        "metrics",
        x_r={
            "x-r-metrics-counter-record": "0",
            "x-r-metrics-gauge-record": "0",
            "x-r-metrics-hist-record": "0",
        },
    ),
    Row(
        "proxy_get_metric",
        "metrics",
        x_r={
            "x-r-metrics-counter-get": "0",
            "x-r-metrics-gauge-get": "0:42",
            "x-r-metrics-gauge-get2": "0:45",
            "x-r-metrics-gauge-get3": "0:40",
            "x-r-metrics-hist-get": "2",
            "x-r-metrics-unknown-get": "1",
        },
    ),
    # -- shared data ----------------------------------------------------------------------
    Row(
        "proxy_set_shared_data",
        "shared",
        x_r={"x-r-shared-set": "0", "x-r-shared-cas-mismatch": "8", "x-r-shared-cas-ok": "0"},
    ),
    Row("proxy_set_shared_data", "bad-ptr", x_r={"x-r-bad-ptr-shared": "6"}),
    Row(
        "proxy_get_shared_data",
        "shared",
        x_r={
            "x-r-shared-get": "0:v1:cas-nonzero",
            "x-r-shared-get2": "0:v2:cas-changed",
            "x-r-shared-missing": "1",
        },
    ),
    # -- WASI ---------------------------------------------------------------------------
    Row(
        "wasi:clock_time_get",
        "wasi",
        x_r={"x-r-wasi-clock": "0:nonzero,0:nonzero", "x-r-wasi-clock-cputime": "58"},
    ),
    Row("wasi:random_get", "wasi", x_r={"x-r-wasi-random": "0:ok", "x-r-wasi-random-big": "28"}),
    Row("wasi:fd_write", "wasi", x_r={"x-r-wasi-stdio": "ok,ok", "x-r-wasi-fdwrite-bad-fd": "8"}),
    Row(
        "wasi:environ_get",
        "wasi",
        x_r={"x-r-wasi-environ-count": "0:1", "x-r-wasi-environ": "0:v1", "x-r-wasi-getenv": "v1"},
    ),
    Row("wasi:args_sizes_get", "wasi", x_r={"x-r-wasi-args": "0:0:0"}),
    Row("wasi:fd_prestat_get", "wasi", x_r={"x-r-wasi-prestat": "8"}),
    # -- callbacks -----------------------------------------------------------------------
    Row(
        "proxy_on_request_body",
        "body-replace",
        x_r={"x-r-body-status": "0:10:0:size-match"},
        note="buffered (returned 1) until end_of_stream, then called with the whole body",
    ),
    Row("proxy_on_response_body", "resp-body-prepend", body="PRE-upstream body|set=0"),
    Row(
        "proxy_on_response_headers",
        "passthrough",
        client=(("x-up", "1"),),
        client_absent=("x-r-unknown-case",),
        upstream=(("x-plain", "1"),),
        upstream_path="/plain",
    ),
    Row("proxy_on_request_headers", "unknown-xyz", x_r={"x-r-unknown-case": "unknown-xyz"}),
    # -- ABI 0.1.0 (zig_abi010) --------------------------------------------------------
    Row(
        "proxy_get_configuration",
        "config-and-missing-header",
        plugin="zig_abi010",
        upstream=(
            ("x-zig-config", "plugin-cfg"),
            ("x-zig-vm-config", "vm-cfg"),
            ("x-zig-config-size", "10"),
        ),
        note="0.1.0: VM config in on_vm_start, plugin config in on_configure",
    ),
    Row(
        "proxy_get_header_map_value",
        "config-and-missing-header",
        plugin="zig_abi010",
        upstream=(("x-zig-missing", "status=0 len=0"), ("x-zig-many-headers", "yes")),
        note="0.1.0: an absent key is OK with an empty value",
    ),
    Row(
        "proxy_get_header_map_value",
        "present-header-echo",
        plugin="zig_abi010",
        upstream=(("x-zig-in-echo", "status=0 value=val-1"),),
        upstream_body="abc",
        status=201,
    ),
    Row(
        "proxy_get_header_map_value",
        "request-headers-gone-in-response",
        plugin="zig_abi010",
        client=(("x-zig-path-in-response", "status=2 len=0"),),
    ),
    Row(
        "proxy_clear_route_cache",
        "config-and-missing-header",
        plugin="zig_abi010",
        client=(("x-zig-clear-route-cache", "0"),),
    ),
    Row(
        "proxy_continue_request",
        "pause-request-resume-on-tick",
        plugin="zig_abi010",
        upstream=(("x-zig-resumed", "request"),),
        upstream_absent=("x-zig-too-late",),
        client=(("x-zig-continue-request", "0"), ("x-zig-add-after-continue", "2")),
        body="resumed request",
    ),
    Row(
        "proxy_continue_response",
        "pause-response-resume-on-tick",
        plugin="zig_abi010",
        client=(("x-zig-resumed", "response"),),
        body="resumed response|continue_response=0",
    ),
    # -- ABI 0.2.0 (AssemblyScript SDK, WAT) --------------------------------------------
    Row(
        "proxy_get_buffer_bytes",
        "adds-headers",
        plugin="as_add_header",
        upstream=(("x-as-req", "cfg-value"),),
        client=(("x-as-resp", "added"),),
        client_absent=("x-as-echo",),
    ),
    Row(
        "proxy_get_header_map_value",
        "echo-header",
        plugin="as_add_header",
        client=(("x-as-echo", "hi there"),),
    ),
    Row(
        "proxy_add_header_map_value",
        "post-upstream-404",
        plugin="as_add_header",
        upstream_body="payload",
        status=404,
        client=(("x-as-echo", "p"),),
    ),
    Row(
        "proxy_send_local_response",
        "deny",
        plugin="as_local_reply",
        status=403,
        body="denied by as\n",
        local_details="as_denied",
        client=(("x-as-denied", "yes"), ("x-as-seen", "1"), ("content-type", "text/plain")),
    ),
    Row(
        "proxy_get_header_map_value",
        "deny-with-query-is-allowed",
        plugin="as_local_reply",
        status=200,
        client=(("x-as-seen", "1"),),
        upstream_path="/deny?x=1",
    ),
    Row(
        "proxy_set_buffer_bytes",
        "post-both-bodies",
        plugin="as_body_rewrite",
        upstream_body="HELLO REQUEST BODY",
        body="HELLO RESPONSE BODY",
    ),
    Row(
        "proxy_set_buffer_bytes",
        "empty-response-body",
        plugin="as_body_rewrite",
        upstream_body="ABC-XYZ",
        status=201,
        body="",
    ),
    Row(
        "proxy_get_buffer_bytes",
        "config-in-response",
        plugin="as_sdk_default_config",
        client=(("x-as-config", "some-config"),),
    ),
    Row(
        "proxy_add_header_map_value",
        "no-pause-adds-header",
        plugin="wat_abi020_pause",
        upstream=(("x-wat-pause", "no"),),
        body="not paused",
    ),
    Row(
        "proxy_on_request_headers",
        "pause-value-not-1",
        plugin="wat_abi020_pause",
        upstream=(("x-pause", "0"), ("x-wat-pause", "no")),
        upstream_path="/x",
    ),
    # -- ABI 0.2.1 (Rust) ----------------------------------------------------------------
    Row(
        "proxy_get_header_map_pairs",
        "count-two",
        plugin="rust_headers",
        upstream=(("x-rust-count", "2"),),
    ),
    Row(
        "proxy_get_header_map_pairs",
        "count-zero",
        plugin="rust_headers",
        upstream=(("x-rust-count", "0"),),
    ),
    Row(
        "proxy_get_header_map_pairs",
        "count-duplicates",
        plugin="rust_headers",
        upstream=(("x-rust-count", "3"), ("x-count-a", "1"), ("x-count-a", "2")),
        note="repeated headers stay separate pairs",
    ),
    Row(
        "proxy_replace_header_map_value",
        "replace-response-header",
        plugin="rust_headers",
        client=(("x-rust-replace", "replaced"), ("x-keep", "k")),
    ),
    Row(
        "proxy_send_local_response",
        "local-418",
        plugin="rust_headers",
        status=418,
        body="teapot from rust\n",
        local_details="rust_local_reply",
        client=(("x-rust-local", "yes"), ("x-rust-extra", "two")),
    ),
    Row(
        "proxy_replace_header_map_value",
        "local-flag-not-1",
        plugin="rust_headers",
        status=500,
        client=(("x-rust-replace", "replaced"),),
        body="upstream error",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_host_function(row: Row) -> None:
    result, code = outcome(row.plugin, row.case)
    assert code == 0, f"{row.id}: exit {code}: {result['error']}"
    got = results(result)
    for name, want in row.x_r.items():
        assert got.get(name) == want, f"{row.id}: {name} is {got.get(name)!r}, want {want!r}"
    upstream = result["request"]["headers"]
    for name, want in row.upstream:
        assert want in values(upstream, name), f"{row.id}: upstream {name}: {upstream}"
    for name in row.upstream_absent:
        assert first(upstream, name) is None, f"{row.id}: upstream got {name}: {upstream}"
    if row.upstream_path is not None:
        assert first(upstream, ":path") == row.upstream_path
    if row.upstream_body is not None:
        assert result["request"]["body"] == row.upstream_body
    client = result["response"]["headers"]
    for name, want in row.client:
        assert want in values(client, name), f"{row.id}: client {name}: {client}"
    for name in row.client_absent:
        assert first(client, name) is None, f"{row.id}: client got {name}: {client}"
    if row.status is not None:
        assert result["response"]["status"] == row.status
    if row.body is not None:
        assert result["response"]["body"] == row.body
    if row.local_details is not None:
        local = result["local_response"]
        assert local is not None, f"{row.id}: no local response"
        assert local["details"] == row.local_details
        assert local["status"] == result["response"]["status"]
    elif row.status is not None:
        assert result["local_response"] is None


def test_every_conformance_case_is_checked() -> None:
    """A new conformance.c case in the manifest must get a row here."""
    from tests.integration.support import spec

    covered = {r.case for r in ROWS if r.plugin == C}
    missing = [c.name for c in spec(C).cases if c.name not in covered]
    assert not missing, f"c_conformance cases without a conformance row: {missing}"


def test_bad_pairs_deviation_is_declared_in_the_manifest() -> None:
    """The bad-pairs values above differ from Envoy on purpose; the manifest must say so."""
    from tests.integration.support import case

    c = case(C, "bad-pairs")
    assert "BadArgument" in c.deviation
    assert set(c.deviation_headers) == {
        "x-r-bad-pairs-truncated",
        "x-r-bad-pairs-nonul",
        "x-r-bad-pairs-after",
    }


# -- values that depend on the run's configuration ------------------------------------------


@pytest.mark.parametrize(
    ("level", "code"), [("trace", 0), ("debug", 1), ("info", 2), ("error", 4), ("critical", 5)]
)
def test_get_log_level_reports_the_configured_level(level: str, code: int) -> None:
    result, _ = outcome(C, "log-level", level)
    assert results(result)["x-r-log-level"] == f"0:{code}"


def test_proxy_log_levels_below_the_configured_one_are_not_kept() -> None:
    result, _ = outcome(C, "log", "warn")
    kept = [(r["level"], r["message"]) for r in result["logs"]]
    assert kept == [
        ("warn", "conformance: log at level 3"),
        ("error", "conformance: log at level 4"),
        ("critical", "conformance: log at level 5"),
    ]


def test_proxy_log_all_levels_at_trace() -> None:
    result, _ = outcome(C, "log", "trace")
    levels = [r["level"] for r in result["logs"] if r["message"].startswith("conformance: log at")]
    assert levels == ["trace", "debug", "info", "warn", "error", "critical"]


def test_wasi_stdout_and_stderr_become_log_lines() -> None:
    result, _ = outcome(C, "wasi", "info")
    logs = [(r["level"], r["message"]) for r in result["logs"]]
    assert ("info", "conformance: stdout line from printf") in logs
    assert ("error", "conformance: stderr line from fprintf") in logs


def test_lifecycle_callbacks_run_in_order_with_their_configuration() -> None:
    """on_vm_start sees the VM config, on_configure the plugin config, on_log can still
    read the request headers (read-only), as in Envoy."""
    result, _ = outcome(C, "get", "info")
    messages = [r["message"] for r in result["logs"]]
    assert messages[:2] == [
        "conformance: vm start, vm_config(0)=vm-cfg-value",
        "conformance: configured, plugin_config(0)=cfg-value",
    ]
    assert "conformance: on_log ctx case=get (request header read: 0)" in messages


def test_metrics_values_reach_the_result() -> None:
    result, _ = outcome(C, "metrics")
    assert result["metrics"] == {
        "conformance_requests": 6,  # inc 1, then record 5: Envoy's recordMetric adds
        "conformance_gauge": 40,
        "conformance_hist_count": 1,
        "conformance_hist_sum": 7,
    }


def test_close_stream_request_resets_the_stream() -> None:
    """close-request (not in the manifest: Envoy resets the client connection)."""
    from tests.integration.support import config_for, spec
    from workers import trial

    p = spec(C)
    req = trial.TrialRequest(headers=((b"x-test", b"close-request"),))
    result, code = trial.run(p.wasm, config_for(p), req)
    assert code == 3
    assert result["error"] == "the plugin closed (reset) the stream"
    assert result["local_response"] is None


def test_local_reply_from_a_body_callback() -> None:
    """local-body (not in the manifest: in Envoy "upstream reached" is a race there)."""
    from tests.integration.support import config_for, spec
    from workers import trial

    p = spec(C)
    req = trial.TrialRequest(
        method="POST", headers=((b"x-test", b"local-body"),), body=b"some body"
    )
    result, code = trial.run(p.wasm, config_for(p), req)
    assert code == 0, result["error"]
    local = result["local_response"]
    assert local is not None
    assert (local["status"], local["body"], local["details"]) == (
        400,
        "echo:some body",
        "conformance_local_body",
    )
    assert first(local["headers"], "x-r-local-body") == "0"
    assert first(local["headers"], "x-r-local-body-get") == "0"


# -- host functions no corpus plugin calls: a WAT probe ----------------------------------------

QUEUES_AND_STATUS = """
(module
  (import "env" "proxy_register_shared_queue" (func $reg (param i32 i32 i32) (result i32)))
  (import "env" "proxy_resolve_shared_queue"
    (func $res (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_enqueue_shared_queue" (func $enq (param i32 i32 i32) (result i32)))
  (import "env" "proxy_dequeue_shared_queue" (func $deq (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_status" (func $status (param i32 i32 i32) (result i32)))
  (import "env" "proxy_done" (func $done (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 2048) "queue-a")
  (data (i32.const 2064) "probe")
  (data (i32.const 2080) "payload")
  (data (i32.const 2096) "nope")
  (global $heap (mut i32) (i32.const 8192))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $n)))
    (local.get $p))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (i32.store (i32.const 0) (call $reg (i32.const 2048) (i32.const 7) (i32.const 100)))
    (i32.store (i32.const 4) (call $res (i32.const 2064) (i32.const 5) (i32.const 2048)
                                        (i32.const 7) (i32.const 104)))
    (i32.store (i32.const 8) (call $deq (i32.load (i32.const 100)) (i32.const 108) (i32.const 112)))
    (i32.store (i32.const 12) (call $enq (i32.load (i32.const 100)) (i32.const 2080) (i32.const 7)))
    (i32.store (i32.const 16)
      (call $deq (i32.load (i32.const 100)) (i32.const 108) (i32.const 112)))
    (i32.store (i32.const 20) (call $enq (i32.const 999) (i32.const 2080) (i32.const 7)))
    (i32.store (i32.const 24) (call $res (i32.const 2064) (i32.const 5) (i32.const 2096)
                                         (i32.const 4) (i32.const 116)))
    (i32.store (i32.const 28) (call $status (i32.const 120) (i32.const 124) (i32.const 128)))
    (i32.store (i32.const 32) (call $done))
    (i32.const 1)))
"""


def test_shared_queues_get_status_and_done_from_a_wat_probe() -> None:
    from tests.integration.support import wat
    from workers import trial
    from workers.contexts.logsink import LogSink
    from workers.contexts.plugin import PluginVm
    from workers.vm.runtime import Runtime

    with Runtime() as runtime:
        config = trial.plugin_config("probe", vm_id="probe")
        vm = PluginVm(
            runtime, runtime.compile(wat(QUEUES_AND_STATUS)), config, logs=LogSink("probe")
        )
        vm.start()
        try:
            codes = [vm.memory.read_u32(4 * i) for i in range(9)]
            queue_id = vm.memory.read_u32(100)
            assert queue_id != 0
            assert vm.memory.read_u32(104) == queue_id  # resolve finds the registered queue
            ptr, size = vm.memory.read_u32(108), vm.memory.read_u32(112)
            assert vm.memory.read(ptr, size) == b"payload"
        finally:
            vm.close()
    assert codes == [
        0,  # register
        0,  # resolve (vm_id "probe", name "queue-a")
        7,  # dequeue an empty queue: Empty
        0,  # enqueue
        0,  # dequeue
        1,  # enqueue to an unknown id: NotFound
        1,  # resolve an unknown name: NotFound
        1,  # get_status outside a callout callback: NotFound
        1,  # proxy_done outside a pending on_done: NotFound
    ]
