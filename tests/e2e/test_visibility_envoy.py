"""The visibility policy behind a real Envoy: the real daemon (2 workers), Envoy configured by
``wasmd envoy-config --bootstrap``, the Python test upstream. What the plugins saw (header_echo's
x-seen-* headers, which reach the upstream) and what the upstream got.

- Envoy "secure" runs chain ``secure`` (echo + tamper, both inheriting a default that hides
  ``authorization``): envoy-config adds ext_proc ``forward_rules`` so Envoy never sends that
  header to wasmd, and asks for no ``source.*`` attribute. A route the test adds by hand
  (``/open``, chain ``open``: a plugin without a policy, behind the same filter) proves it:
  that plugin does not see the header either, and the upstream still gets it.
- Envoy "mixed" runs chain ``mixed`` (echo, then echo-open without a policy): nothing can be
  withheld, Envoy sends the header, the worker hides it from echo only.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.envoy_config import connection_manager
from tests.e2e.test_daemon_envoy import (
    EnvoyFront,
    Reply,
    WasmdDaemon,
    envoy_front,
    exchange,
    wasmd_daemon,
    write_config,
)
from tests.helpers.daemon import PLUGINS, PluginEntry
from tests.helpers.procs import run
from tests.helpers.upstream import Answer, Upstream
from wasmd.proxies.envoy import Phases, RouteChain, per_route_override

pytestmark = [pytest.mark.envoy, pytest.mark.timeout(240)]

ECHO = PLUGINS / "c" / "build" / "header_echo.wasm"
TAMPER = PLUGINS / "c" / "build" / "header_tamper.wasm"
SECRET = "Bearer s3cret-token"
DEFAULT_POLICY = """
[visibility]
hide_headers = ["authorization", "set-cookie"]
redact_headers = ["cookie"]
hide_properties = ["source"]
"""
CLIENT_HEADERS = (("authorization", SECRET), ("cookie", "sid=42"))


@dataclass(frozen=True, slots=True)
class Stack:
    daemon: WasmdDaemon
    secure: EnvoyFront
    mixed: EnvoyFront
    upstream: Upstream
    secure_doc: dict[str, Any]


def _add_open_route(doc: dict[str, Any]) -> None:
    """A ``/open`` route running chain ``open`` behind the same ext_proc filter."""
    routes = connection_manager(doc)["route_config"]["virtual_hosts"][0]["routes"]
    override = per_route_override(RouteChain("/open", "open", Phases()))
    route: dict[str, Any] = {
        "match": {"prefix": "/open"},
        "route": {"cluster": "upstream"},
        "typed_per_filter_config": {"envoy.filters.http.ext_proc": override},
    }
    routes.insert(0, route)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("visibility-envoy")
    with contextlib.ExitStack() as es:
        upstream = es.enter_context(Upstream())
        answer = (("content-type", "text/plain"), ("set-cookie", "sid=43"))
        upstream.set_answer(Answer(200, answer, b"ok"))
        plugins = [
            PluginEntry("echo", ECHO),
            PluginEntry("tamper", TAMPER, configuration="authorization"),
            PluginEntry("echo-open", ECHO, settings={"inherit_visibility": False}),
        ]
        chains = {
            "default": ["echo"],
            "secure": ["echo", "tamper"],
            "mixed": ["echo", "echo-open"],
            "open": ["echo-open"],
        }
        runtime = work / "run"
        config = write_config(work / "wasmd.toml", runtime, work / "cache", plugins, chains)
        config.write_text(config.read_text() + DEFAULT_POLICY)
        daemon = es.enter_context(wasmd_daemon(config, runtime, work / "wasmd.log"))
        secure_doc = _bootstrap(config, upstream.port, "secure")
        _add_open_route(secure_doc)
        secure = es.enter_context(envoy_front(secure_doc, work, "secure", slots=2))
        mixed_doc = _bootstrap(config, upstream.port, "mixed")
        mixed = es.enter_context(envoy_front(mixed_doc, work, "mixed", slots=2))
        yield Stack(daemon, secure, mixed, upstream, secure_doc)


def _bootstrap(config: Path, port: int, chain: str) -> dict[str, Any]:
    """``wasmd envoy-config --bootstrap --chain CHAIN``, ports set to 0 (as the sibling
    module's ``generated_bootstrap`` does for the default chain)."""
    argv = [sys.executable, "-m", "wasmd", "envoy-config", "--config", str(config)]
    argv += ["--bootstrap", "--chain", chain, "--listen", "127.0.0.1:1", "--admin-port", "1"]
    argv += ["--upstream", f"127.0.0.1:{port}"]
    done = run(argv, timeout_s=30)
    assert done.returncode == 0, done.describe()
    doc: dict[str, Any] = json.loads(done.stdout)
    doc["admin"]["address"]["socket_address"]["port_value"] = 0
    for listener in doc["static_resources"]["listeners"]:
        listener["address"]["socket_address"]["port_value"] = 0
    return doc


def _request(stack: Stack, front: EnvoyFront, path: str) -> tuple[Reply, list[tuple[str, str]]]:
    before = stack.upstream.request_count()
    reply = exchange(front.port, path, headers=CLIENT_HEADERS)
    assert reply.status == 200, reply
    assert stack.upstream.request_count() == before + 1
    return reply, [(k.lower(), v) for k, v in stack.upstream.requests()[-1].headers]


def _values(pairs: list[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in pairs if k == name]


def test_the_generated_filter_withholds_what_every_plugin_hides(stack: Stack) -> None:
    typed = connection_manager(stack.secure_doc)["http_filters"][0]["typed_config"]
    assert typed["forward_rules"]["disallowed_headers"]["patterns"] == [
        {"exact": "authorization", "ignore_case": True},
        {"exact": "set-cookie", "ignore_case": True},
    ]
    assert not [a for a in typed["request_attributes"] if a.startswith("source.")]


def test_hidden_headers_are_not_sent_and_reach_the_upstream_unchanged(stack: Stack) -> None:
    reply, up = _request(stack, stack.secure, "/x")
    assert "set-cookie" not in reply.headers["x-seen-response-headers"]
    assert _values(list(reply.pairs), "set-cookie") == ["sid=43"]
    assert _values(up, "x-seen-get-authorization") == ["1"]
    assert _values(up, "x-tamper") == ["2,2,2,2,0"]
    assert _values(up, "x-seen-get-cookie")[0].startswith("0:redacted:")
    assert _values(up, "x-seen-source-address") == ["1"]
    assert _values(up, "authorization") == [SECRET]
    assert _values(up, "cookie") == ["sid=42"]
    assert _values(up, "x-whole") == ["replaced"]


def test_envoy_never_sent_the_withheld_header(stack: Stack) -> None:
    """A plugin without any policy, behind the same filter, does not see it either
    (request and response headers)."""
    reply, up = _request(stack, stack.secure, "/open/x")
    assert "set-cookie" not in reply.headers["x-seen-response-headers"]
    assert _values(list(reply.pairs), "set-cookie") == ["sid=43"]
    assert _values(up, "x-seen-get-authorization") == ["1"]
    assert "authorization" not in _values(up, "x-seen-headers")[0]
    assert _values(up, "x-seen-get-cookie") == ["0:sid=42"]  # redacted is not withheld
    assert _values(up, "x-seen-source-address") == ["1"]  # the attribute was not asked for
    assert _values(up, "authorization") == [SECRET]


def test_the_worker_hides_what_envoy_must_send(stack: Stack) -> None:
    reply, up = _request(stack, stack.mixed, "/x")
    # Response phases run in reverse: echo-open (sees set-cookie) first, then echo.
    open_seen, echo_seen = _values(list(reply.pairs), "x-seen-response-headers")
    assert "set-cookie=sid=43" in open_seen
    # echo also sees echo-open's x-seen-response-headers (which names set-cookie): only
    # what comes before it is echo's view of the upstream's headers.
    assert "set-cookie" not in echo_seen.split("x-seen-response-headers=")[0]
    assert _values(list(reply.pairs), "set-cookie") == ["sid=43"]
    # echo runs first and adds its x-seen-* headers first; echo-open sees everything.
    assert _values(up, "x-seen-get-authorization") == ["1", f"0:{SECRET}"]
    assert _values(up, "x-seen-source-address")[0] == "1"
    assert _values(up, "x-seen-source-address")[1].startswith("0:127.0.0.1:")
    echo_cookie, open_cookie = _values(up, "x-seen-get-cookie")
    assert echo_cookie.startswith("0:redacted:") and open_cookie == "0:sid=42"
    assert _values(up, "authorization") == [SECRET]
