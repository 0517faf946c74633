"""A header-only chain behind Envoy: two messages per request, and the stream ends with the
reply to the response headers (``x-wasmd-end-after``), while a route whose chain needs the
bodies still gets them.

The real daemon (1 worker) behind a real Envoy on ``wasmd envoy-config --bootstrap``:
add_header with ``skip_phases`` (the AS SDK exports every body and trailer callback) on the
default route, body_rewrite on ``/upper``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.test_daemon_envoy import (
    ADD_HEADER,
    BODY_REWRITE,
    EnvoyFront,
    envoy_front,
    exchange,
    generated_bootstrap,
    wasmd_daemon,
    write_config,
)
from tests.helpers.daemon import PluginEntry
from tests.helpers.procs import wait_for
from tests.helpers.upstream import Answer, Upstream

pytestmark = [pytest.mark.envoy, pytest.mark.timeout(180)]

SKIP_ALL = ["request_body", "response_body", "request_trailers", "response_trailers"]
STATS = "http.ingress.ext_proc."


@dataclass(frozen=True, slots=True)
class Stack:
    envoy: EnvoyFront
    upstream: Upstream


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("end-early")
    with contextlib.ExitStack() as es:
        upstream = es.enter_context(Upstream())
        plugins = [
            PluginEntry("add-header", ADD_HEADER, "as_add_header", "v1", {"skip_phases": SKIP_ALL}),
            PluginEntry("body-rewrite", BODY_REWRITE, "as_body_rewrite"),
        ]
        chains = {"default": ["add-header"], "bodies": ["body-rewrite"]}
        runtime = work / "run"
        config = write_config(
            work / "wasmd.toml", runtime, work / "cache", plugins, chains, workers=1
        )
        es.enter_context(wasmd_daemon(config, runtime, work / "wasmd.log"))
        doc = generated_bootstrap(config, upstream.port, routes=["/upper=bodies"])
        envoy = es.enter_context(envoy_front(doc, work, "envoy", slots=1))
        yield Stack(envoy, upstream)


def _counts(envoy: EnvoyFront) -> dict[str, int]:
    names = ("streams_started", "stream_msgs_sent", "streams_closed", "streams_failed")
    return {n: envoy.stat(STATS + n) for n in names}


def _settled(envoy: EnvoyFront, before: dict[str, int], streams: int) -> dict[str, int]:
    """The counters once Envoy counted ``streams`` more closed streams."""

    def done() -> dict[str, int] | None:
        now = _counts(envoy)
        return now if now["streams_closed"] >= before["streams_closed"] + streams else None

    counts = wait_for(done, 10, what=f"{streams} ext_proc streams closed")
    assert isinstance(counts, dict)
    return counts


def test_header_only_chain_takes_two_messages_and_the_worker_ends_the_stream(
    stack: Stack,
) -> None:
    body = b"hello upstream, a body Envoy never sends to the worker"
    stack.upstream.set_answer(Answer(200, (("content-type", "text/plain"),), body))
    before = _counts(stack.envoy)
    for _ in range(3):
        reply = exchange(stack.envoy.port, "/hello", headers=[("x-echo", "e")])
        assert reply.status == 200 and reply.body == body
        assert reply.headers["x-as-resp"] == "added" and reply.headers["x-as-echo"] == "e"
    after = _settled(stack.envoy, before, 3)
    assert after["streams_started"] - before["streams_started"] == 3
    assert after["stream_msgs_sent"] - before["stream_msgs_sent"] == 6  # headers only
    assert after["streams_failed"] == before["streams_failed"]


def test_a_route_whose_chain_needs_bodies_still_gets_them(stack: Stack) -> None:
    stack.upstream.set_answer(Answer(200, (("content-type", "text/plain"),), b"response body"))
    reply = exchange(
        stack.envoy.port,
        "/upper",
        method="POST",
        headers=[("content-type", "text/plain")],
        body=b"request body",
    )
    assert reply.status == 200
    assert reply.body == b"RESPONSE BODY"
    assert stack.upstream.requests()[-1].body == b"REQUEST BODY"
