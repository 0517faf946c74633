"""HAProxy -> wasmd end to end: real HAProxy (Debian's 2.6, Lua 5.3) running the configuration
``wasmd haproxy-config`` prints, the real daemon behind its native socket, the Python test
upstream behind HAProxy.

One daemon serves the module; each HAProxy runs one chain. Cases mirror
tests/e2e/test_daemon_envoy.py where HAProxy can do them; docs/haproxy.md lists what differs
from Envoy and why.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.lua_proxies import (
    FakeWasmd,
    Front,
    broken_wasmd,
    config_elsewhere,
    failed,
    haproxy_front,
    load_around,
    reload_with,
    shared_cache,
)
from tests.e2e.test_daemon_envoy import Reply, WasmdDaemon, exchange, wasmd_daemon, write_config
from tests.helpers.daemon import PluginEntry
from tests.helpers.procs import wait_for
from tests.helpers.upstream import Answer, Upstream
from wasmd.kernel import native_protocol as p

pytestmark = [pytest.mark.timeout(180)]

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
ADD_HEADER = PLUGINS / "as" / "build" / "add_header.wasm"
LOCAL_REPLY = PLUGINS / "as" / "build" / "local_reply.wasm"
BODY_REWRITE = PLUGINS / "as" / "build" / "body_rewrite.wasm"
CONFORMANCE = PLUGINS / "c" / "build" / "conformance.wasm"
RUST_HEADERS = PLUGINS / "rust" / "build" / "headers.wasm"
LOAD_REQUESTS = 150


@dataclass(frozen=True, slots=True)
class Stack:
    daemon: WasmdDaemon
    upstream: Upstream
    guard: Front  # chain guard (local-reply, add-header)
    bodies: Front  # chain bodies (body-rewrite)
    props: Front  # chain props (conformance); under /deny: chain guard
    config: Path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("haproxy")
    with contextlib.ExitStack() as es:
        upstream = es.enter_context(Upstream())
        plugins = [
            PluginEntry("add-header", ADD_HEADER, "as_add_header", "v1"),
            PluginEntry("local-reply", LOCAL_REPLY, "as_local_reply"),
            PluginEntry("body-rewrite", BODY_REWRITE, "as_body_rewrite"),
            PluginEntry("props", CONFORMANCE),
        ]
        chains = {
            "default": ["add-header"],
            "guard": ["local-reply", "add-header"],
            "bodies": ["body-rewrite"],
            "props": ["props"],
        }
        runtime = work / "run"
        config = write_config(
            work / "wasmd.toml", runtime, shared_cache(tmp_path_factory), plugins, chains
        )
        daemon = es.enter_context(wasmd_daemon(config, runtime, work / "wasmd.log"))

        def front(name: str, *args: str) -> Front:
            return es.enter_context(haproxy_front(work, name, config, upstream.port, args))

        yield Stack(
            daemon,
            upstream,
            guard=front("guard", "--chain", "guard"),
            bodies=front("bodies", "--chain", "bodies"),
            props=front("props", "--chain", "props", "--route", "/deny=guard"),
            config=config,
        )


@pytest.fixture
def up(stack: Stack) -> Upstream:
    stack.upstream.set_answer(Answer(200, (("content-type", "text/plain"),), b"hello upstream"))
    return stack.upstream


def _last_request_headers(upstream: Upstream) -> dict[str, str]:
    return {k.lower(): v for k, v in upstream.requests()[-1].headers}


def test_headers_in_both_directions(stack: Stack, up: Upstream) -> None:
    reply = exchange(stack.guard.port, "/hello", headers=[("x-echo", "hi there")])
    assert reply.status == 200 and reply.body == b"hello upstream"
    assert reply.headers["x-as-resp"] == "added"
    assert reply.headers["x-as-echo"] == "hi there"
    assert reply.headers["x-as-seen"] == "1"
    seen = _last_request_headers(up)
    assert seen["x-as-req"] == "v1"
    assert seen["x-forwarded-proto"] == "http"
    assert len(seen["x-request-id"]) == 36  # a UUID, as Envoy's


def test_local_reply_never_reaches_upstream(stack: Stack, up: Upstream) -> None:
    before = up.request_count()
    reply = exchange(stack.guard.port, "/deny")
    assert reply.status == 403
    assert reply.body == b"denied by as\n"
    assert reply.headers["x-as-denied"] == "yes"
    assert up.request_count() == before


def test_response_body_rewrite(stack: Stack, up: Upstream) -> None:
    up.set_answer(Answer(200, (("content-type", "text/plain"),), b"quiet upstream"))
    reply = exchange(stack.bodies.port, "/upper")
    assert reply.status == 200
    assert reply.body == b"QUIET UPSTREAM"
    assert reply.headers["content-type"] == "text/plain"


def test_request_body_replacement_is_a_failure_not_a_silent_pass(
    stack: Stack, up: Upstream
) -> None:
    """HAProxy's actions cannot replace a request body: the chain's failure policy applies
    (closed: 503) instead of sending the upstream what the plugin meant to replace."""
    before = up.request_count()
    reply = exchange(stack.bodies.port, "/upper", method="POST", body=b"make me loud")
    assert reply.status == 503
    assert up.request_count() == before
    assert "cannot forward" in stack.bodies.proc.log_tail()


def test_request_body_is_read(stack: Stack, up: Upstream) -> None:
    """A plugin that reads (not changes) the request body: conformance's body-status case."""
    reply = exchange(
        stack.props.port, "/b", method="POST", body=b"abcdef", headers=[("x-test", "local-body")]
    )
    assert reply.status == 400
    assert reply.body == b"echo:abcdef"


def _prop(reply: Reply, index: int) -> str:
    return reply.headers[f"x-r-prop-{index}"]


def test_properties_come_from_haproxy_fetches(stack: Stack, up: Upstream) -> None:
    paths = "source/address,source/port,destination/address,destination/port,request/id"
    reply = exchange(stack.props.port, "/p", headers=[("x-test", "prop-read"), ("x-prop", paths)])
    assert reply.status == 200
    status, source = _prop(reply, 0).split(":", 1)
    assert status == "0"
    host, port = bytes.fromhex(source).decode().rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    assert _prop(reply, 1) == "0:" + int(port).to_bytes(8, "little").hex()
    assert _prop(reply, 2) == "0:" + f"127.0.0.1:{stack.props.port}".encode().hex()
    assert _prop(reply, 3) == "0:" + stack.props.port.to_bytes(8, "little").hex()
    request_id = _last_request_headers(up)["x-request-id"]
    assert _prop(reply, 4) == "0:" + request_id.encode().hex()


# -- failure policies -----------------------------------------------------------------------


def test_fail_closed_answers_503_and_never_passes_the_request(
    stack: Stack, up: Upstream, tmp_path: Path
) -> None:
    nowhere, _ = config_elsewhere(stack.config, "nowhere")
    with haproxy_front(tmp_path, "closed", nowhere, up.port, ("--failure", "closed")) as front:
        before = up.request_count()
        assert exchange(front.port, "/hello").status == 503
        assert up.request_count() == before
        assert "cannot connect to wasmd" in front.proc.log_tail()


def test_fail_open_passes_the_request_unprocessed(
    stack: Stack, up: Upstream, tmp_path: Path
) -> None:
    nowhere, _ = config_elsewhere(stack.config, "nowhere")
    with haproxy_front(tmp_path, "open", nowhere, up.port, ("--failure", "open")) as front:
        reply = exchange(front.port, "/hello")
    assert reply.status == 200 and reply.body == b"hello upstream"
    assert "x-as-req" not in _last_request_headers(up)
    assert "x-as-resp" not in reply.headers


def test_protocol_failure_is_a_failure_not_a_pass(
    stack: Stack, up: Upstream, tmp_path: Path
) -> None:
    path, runtime = config_elsewhere(stack.config, "broken")
    broken = broken_wasmd(runtime / "wasmd.sock")
    try:
        with haproxy_front(tmp_path, "broken", path, up.port) as front:
            before = up.request_count()
            assert exchange(front.port, "/hello").status == 503
            assert up.request_count() == before
            assert "unsupported version" in front.proc.log_tail()
    finally:
        broken.close()


# -- the daemon's workers die or roll under load ---------------------------------------------


def test_kill9_of_a_worker_under_load_fails_only_answered_streams(
    stack: Stack, up: Upstream
) -> None:
    """A transaction the dead worker never answered is retried on a fresh connection; one it
    had answered (its request headers) and that then lost the connection before the
    response phase fails closed, as behind Envoy. At most one per client in flight."""
    daemon = stack.daemon
    victim = daemon.pid_of(0)
    results = load_around(
        stack.guard.port, LOAD_REQUESTS, up, lambda: os.kill(victim, signal.SIGKILL)
    )
    assert len(results) == LOAD_REQUESTS
    bad = failed(results)
    assert len(bad) <= 4, bad
    assert all(isinstance(r, Reply) and r.status == 503 for r in bad)
    daemon.all_ready()
    assert daemon.pid_of(0) != victim


def test_rolling_reload_under_load_fails_no_request(stack: Stack, up: Upstream) -> None:
    start = up.request_count()

    def reload() -> None:
        reload_with(stack.config, stack.daemon.admin_socket, '"v1"', '"v2"')

    results = load_around(stack.guard.port, LOAD_REQUESTS, up, reload)
    assert failed(results) == []
    seen = [dict(r.headers).get("x-as-req") for r in up.requests()[start:]]
    assert set(seen) <= {"v1", "v2"}

    def new_config_served() -> bool:
        assert exchange(stack.guard.port, "/after").status == 200
        return _last_request_headers(up)["x-as-req"] == "v2"

    wait_for(new_config_served, 10, what="a request served by the new generation")


def test_a_lua_error_applying_a_reply_fails_closed(
    stack: Stack, up: Upstream, tmp_path: Path
) -> None:
    """A reply the adapter cannot apply (a non-numeric :status) raises inside it: caught,
    logged, and the client gets 503 instead of the unprocessed response."""
    path, runtime = config_elsewhere(stack.config, "lua-error")
    bad = p.Continue(0, ((b":status", b"abc"),))

    def reply(sid: int) -> p.Reply:
        return dataclasses.replace(bad, stream_id=sid)

    fake = FakeWasmd(runtime / "wasmd.sock", reply=reply)
    try:
        with haproxy_front(tmp_path, "lua-error", path, up.port, ("--chain", "guard")) as front:
            reply_seen = exchange(front.port, "/hello")
            assert reply_seen.status == 503
            assert reply_seen.body != b"hello upstream"
            assert "Lua error" in front.proc.log_tail()
    finally:
        fake.close()


def test_a_response_body_beyond_the_buffer_fails_closed(stack: Stack, up: Upstream) -> None:
    """wait-for-body stops at tune.bufsize: the plugin would see a cut body, so the
    adapter fails the request (closed: 503) instead of rewriting part of it."""
    up.set_answer(Answer(200, (("content-type", "text/plain"),), b"x" * (2 << 20)))
    reply = exchange(stack.bodies.port, "/big")
    assert reply.status == 503
    assert "exceeds tune.bufsize" in stack.bodies.proc.log_tail()


def test_a_plugin_rewrites_the_path(stack: Stack, up: Upstream) -> None:
    reply = exchange(stack.props.port, "/orig/p?q=1", headers=[("x-test", "path")])
    assert reply.status == 200
    assert reply.headers["x-r-path-orig"] == "0:/orig/p?q=1"
    assert up.requests()[-1].path == "/rewritten/orig/p?q=1"


def test_a_route_runs_its_own_chain_in_both_directions(stack: Stack, up: Upstream) -> None:
    """--route /deny=guard on the props front: /deny is the guard chain's local reply;
    /deny-not (same prefix) passes guard's add-header in both directions; / stays props."""
    denied = exchange(stack.props.port, "/deny")
    assert denied.status == 403 and denied.headers["x-as-denied"] == "yes"
    passed = exchange(stack.props.port, "/deny-not")
    assert passed.status == 200 and passed.headers["x-as-resp"] == "added"
    assert "x-as-req" in _last_request_headers(up)  # v1, or v2 after the reload test
    other = exchange(stack.props.port, "/", headers=[("x-test", "resp-headers")])
    assert other.headers["x-r-resp-add"] == "0" and "x-as-resp" not in other.headers
