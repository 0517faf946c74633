"""nginx -> wasmd end to end: real nginx (Debian's, with lua-nginx-module) running the
configuration ``wasmd nginx-config`` prints, the real daemon behind its native socket, the
Python test upstream behind nginx.

One daemon serves the module; each nginx runs one chain in one mode (a few ms to start).
Cases mirror tests/e2e/test_daemon_envoy.py where nginx can do them; docs/nginx.md lists
what differs from Envoy and why.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.lua_proxies import (
    Front,
    broken_wasmd,
    config_elsewhere,
    failed,
    load_around,
    nginx_front,
    reload_with,
    shared_cache,
)
from tests.e2e.test_daemon_envoy import Reply, WasmdDaemon, exchange, wasmd_daemon, write_config
from tests.helpers.daemon import PluginEntry
from tests.helpers.procs import wait_for
from tests.helpers.upstream import Answer, Upstream

pytestmark = [pytest.mark.timeout(180)]

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
ADD_HEADER = PLUGINS / "as" / "build" / "add_header.wasm"
LOCAL_REPLY = PLUGINS / "as" / "build" / "local_reply.wasm"
BODY_REWRITE = PLUGINS / "as" / "build" / "body_rewrite.wasm"
CONFORMANCE = PLUGINS / "c" / "build" / "conformance.wasm"
LOAD_REQUESTS = 150  # per fault test: enough to straddle a worker's kill and restart
LOAD_THREADS = 4


@dataclass(frozen=True, slots=True)
class Stack:
    daemon: WasmdDaemon
    upstream: Upstream
    access: Front  # chain default (add-header), --mode access
    guard: Front  # chain guard (local-reply, add-header), content mode (auto)
    bodies: Front  # chain bodies (body-rewrite), content mode with both bodies
    props: Front  # chain props (conformance); under /deny: chain guard
    work: Path
    config: Path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("nginx")
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
            return es.enter_context(nginx_front(work, name, config, upstream.port, args))

        yield Stack(
            daemon,
            upstream,
            access=front("access", "--mode", "access"),
            guard=front("guard", "--chain", "guard"),
            bodies=front("bodies", "--chain", "bodies"),
            props=front("props", "--chain", "props", "--route", "/deny=guard"),
            work=work,
            config=config,
        )


@pytest.fixture
def up(stack: Stack) -> Upstream:
    stack.upstream.set_answer(Answer(200, (("content-type", "text/plain"),), b"hello upstream"))
    return stack.upstream


def _last_request_headers(upstream: Upstream) -> dict[str, str]:
    return {k.lower(): v for k, v in upstream.requests()[-1].headers}


def test_generated_config_picks_the_mode_from_the_plugins(stack: Stack) -> None:
    assert "access_by_lua_block" in stack.access.config.read_text()
    assert "content_by_lua_block" in stack.guard.config.read_text()  # add-header has on_response


def test_access_mode_request_headers_reach_upstream(stack: Stack, up: Upstream) -> None:
    reply = exchange(stack.access.port, "/hello", headers=[("x-echo", "hi there")])
    assert reply.status == 200 and reply.body == b"hello upstream"
    seen = _last_request_headers(up)
    assert seen["x-as-req"] == "v1"
    assert seen["x-forwarded-proto"] == "http"  # as Envoy's connection manager adds it
    assert len(seen["x-request-id"]) == 32
    assert "x-as-resp" not in reply.headers  # access mode never shows plugins the response


def test_content_mode_runs_both_directions(stack: Stack, up: Upstream) -> None:
    reply = exchange(stack.guard.port, "/hello", headers=[("x-echo", "hi there")])
    assert reply.status == 200 and reply.body == b"hello upstream"
    assert reply.headers["x-as-resp"] == "added"
    assert reply.headers["x-as-echo"] == "hi there"
    assert reply.headers["x-as-seen"] == "1"
    assert _last_request_headers(up)["x-as-req"] == "v1"


def test_local_reply_never_reaches_upstream(stack: Stack, up: Upstream) -> None:
    before = up.request_count()
    reply = exchange(stack.guard.port, "/deny")
    assert reply.status == 403
    assert reply.body == b"denied by as\n"
    assert reply.headers["x-as-denied"] == "yes"
    assert up.request_count() == before


def test_body_rewrite_in_both_directions(stack: Stack, up: Upstream) -> None:
    up.set_answer(Answer(200, (("content-type", "text/plain"),), b"quiet upstream"))
    reply = exchange(stack.bodies.port, "/upper", method="POST", body=b"make me loud")
    assert reply.status == 200
    assert reply.body == b"QUIET UPSTREAM"
    assert reply.headers["content-length"] == str(len(b"QUIET UPSTREAM"))
    assert up.requests()[-1].body == b"MAKE ME LOUD"


def test_response_callbacks_see_the_status_and_change_headers(stack: Stack, up: Upstream) -> None:
    reply = exchange(stack.props.port, "/orig?q=1", headers=[("x-test", "resp-headers")])
    assert reply.status == 200
    assert reply.headers["x-r-resp-status"] == "0:200"
    assert reply.headers["x-r-resp-add"] == "0"


def _prop(reply: Reply, index: int) -> str:
    return reply.headers[f"x-r-prop-{index}"]


def test_properties_come_from_nginx_variables(stack: Stack, up: Upstream) -> None:
    """source/destination address and port, request.id: what Envoy's attributes give."""
    paths = "source/address,source/port,destination/address,destination/port,request/id"
    reply = exchange(stack.props.port, "/p", headers=[("x-test", "prop-read"), ("x-prop", paths)])
    assert reply.status == 200
    status, source = _prop(reply, 0).split(":", 1)
    assert status == "0"
    host, port = bytes.fromhex(source).decode().rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    assert _prop(reply, 1) == "0:" + int(port).to_bytes(8, "little").hex()
    dest = f"127.0.0.1:{stack.props.port}".encode().hex()
    assert _prop(reply, 2) == "0:" + dest
    assert _prop(reply, 3) == "0:" + stack.props.port.to_bytes(8, "little").hex()
    request_id = _last_request_headers(up)["x-request-id"]
    assert _prop(reply, 4) == "0:" + request_id.encode().hex()


# -- failure policies -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def nowhere(stack: Stack) -> Path:
    """A config like the stack's whose native socket nothing listens on."""
    return config_elsewhere(stack.config, "nowhere")[0]


@pytest.mark.parametrize("mode", ["access", "content"])
def test_fail_closed_answers_503_and_never_passes_the_request(
    stack: Stack, up: Upstream, nowhere: Path, mode: str
) -> None:
    args = ("--mode", mode, "--failure", "closed")
    with nginx_front(stack.work, f"closed-{mode}", nowhere, up.port, args) as front:
        before = up.request_count()
        reply = exchange(front.port, "/hello")
        assert reply.status == 503
        assert up.request_count() == before
        log = front.proc.log_tail()
    assert "cannot connect to wasmd" in log


@pytest.mark.parametrize("mode", ["access", "content"])
def test_fail_open_passes_the_request_unprocessed(
    stack: Stack, up: Upstream, nowhere: Path, mode: str
) -> None:
    args = ("--mode", mode, "--failure", "open")
    with nginx_front(stack.work, f"open-{mode}", nowhere, up.port, args) as front:
        reply = exchange(front.port, "/hello")
    assert reply.status == 200 and reply.body == b"hello upstream"
    assert "x-as-req" not in _last_request_headers(up)


def test_protocol_failure_is_a_failure_not_a_pass(stack: Stack, up: Upstream) -> None:
    path, runtime = config_elsewhere(stack.config, "broken")
    broken = broken_wasmd(runtime / "wasmd.sock")
    try:
        args = ("--mode", "access", "--failure", "closed")
        with nginx_front(stack.work, "broken", path, up.port, args) as front:
            before = up.request_count()
            assert exchange(front.port, "/hello").status == 503
            assert up.request_count() == before
            assert "unsupported version" in front.proc.log_tail()
    finally:
        broken.close()


# -- the daemon's workers die or roll under load ---------------------------------------------


def test_kill9_of_a_worker_under_load_fails_no_request(stack: Stack, up: Upstream) -> None:
    """Access mode has one phase per stream: a stream the dead worker never answered is
    retried on a fresh connection (another worker), so no request fails."""
    daemon = stack.daemon
    victim = daemon.pid_of(0)
    results = load_around(
        stack.access.port, LOAD_REQUESTS, up, lambda: os.kill(victim, signal.SIGKILL)
    )
    assert len(results) == LOAD_REQUESTS
    assert failed(results) == []
    daemon.all_ready()
    assert daemon.pid_of(0) != victim


def test_rolling_reload_under_load_fails_no_request(stack: Stack, up: Upstream) -> None:
    """GOAWAY from draining workers: pooled connections are dropped, new streams go to
    the new workers; every request sees the old or the new configuration."""
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
