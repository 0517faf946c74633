"""Large buffered bodies through Envoy -> ext_proc -> wasmd, against Envoy's own Wasm filter.

The corpus cases carry bodies of a few bytes; these carry hundreds of KiB, so the HTTP/2
layer has to reassemble messages from many DATA frames, split its replies to Envoy's
SETTINGS_MAX_FRAME_SIZE and keep both flow-control windows moving (workers/faces/h2core.py
rule 4). The AS body_rewrite plugin uppercases both bodies: every byte must come back.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.e2e.envoy_config import bootstrap
from tests.e2e.envoy_harness import EnvoyHarness
from tests.e2e.extproc_server import extproc_bootstrap, serving
from tests.helpers.manifest import CaseSpec, PluginSpec, load_all
from tests.helpers.outcome import diff
from tests.helpers.procs import wait_for
from tests.helpers.upstream import Answer

pytestmark = [pytest.mark.envoy, pytest.mark.timeout(180)]

# Under Envoy's default 1 MiB per-connection buffer limit, which BUFFERED mode must hold.
SIZES_BYTES = (70_000, 400_000, 900_000)


def _spec() -> PluginSpec:
    return next(s for s in load_all() if s.name == "as_body_rewrite")


def _case(size: int) -> CaseSpec:
    text = "".join(chr(ord("a") + i % 26) for i in range(size))
    return CaseSpec(
        name=f"post-{size}",
        method="POST",
        path="/upper",
        headers=(("content-type", "text/plain"),),
        body=text,
        response_headers=(("content-type", "text/plain"),),
        response_body=text[::-1],
    )


@pytest.mark.parametrize(
    ("transport", "streamed"),
    [("wasmd", False), ("grpcio", False), ("wasmd", True), ("grpcio", True)],
    ids=["wasmd-buffered", "grpcio-buffered", "wasmd-streamed", "grpcio-streamed"],
)
def test_large_bodies_match_envoy_in_process(
    transport: str, streamed: bool, tmp_path: Path
) -> None:
    """In STREAMED mode Envoy sends the body in many chunks; the plugin buffers until the
    end, so wasmd holds every chunk back and sends the whole rewritten body on the last."""
    spec = _spec()
    cases = [_case(size) for size in SIZES_BYTES]
    with EnvoyHarness(spec, tmp_path / "v8") as envoy:
        want = [envoy.run_case(case) for case in cases]
    for case, outcome in zip(cases, want, strict=True):  # the reference did rewrite them
        assert outcome.status == 200, outcome.status
        assert outcome.response_body == case.response_body.upper()
        assert outcome.upstream_body == case.body.upper()
    socket_path = tmp_path / "extproc-0.sock"

    def config(plugin: PluginSpec, upstream_port: int) -> dict[str, object]:
        base = bootstrap(plugin, upstream_port)
        return extproc_bootstrap(base, plugin, socket_path, streamed_bodies=streamed)

    with (
        serving(spec, socket_path, transport=transport, streamed_bodies=streamed),
        EnvoyHarness(spec, tmp_path / "extproc", config) as envoy,
    ):
        got = [envoy.run_case(case) for case in cases]
    problems = [
        f"{case.name}:\n{diff(w, g, ('in-process', 'ext_proc'))}"
        for case, w, g in zip(cases, want, got, strict=True)
        if w != g
    ]
    assert not problems, "\n\n".join(problems)


CHUNKS = 5
CHUNK_TIMEOUT_S = 10.0


@pytest.mark.parametrize(
    ("transport", "worker_streamed"),
    [("wasmd", True), ("grpcio", True), ("wasmd", False)],
    ids=["wasmd", "grpcio", "worker-configured-buffered"],
)
def test_streamed_chunks_are_held_until_the_plugin_continues(
    transport: str, worker_streamed: bool, tmp_path: Path
) -> None:
    """A chunked upload sent one chunk at a time (each waits until wasmd has seen the
    previous one), so Envoy's STREAMED mode delivers separate chunks. body_rewrite buffers
    until the last: wasmd empties every earlier chunk and sends the whole uppercased body
    with the last, which is what the upstream must receive. A worker configured for
    buffered bodies learns the stream's real mode from Envoy's ``protocol_config``."""
    spec = _spec()
    socket_path = tmp_path / "extproc-0.sock"
    parts = [f"chunk-{i}-".encode() * 500 for i in range(CHUNKS)]

    def config(plugin: PluginSpec, upstream_port: int) -> dict[str, object]:
        base = bootstrap(plugin, upstream_port)
        return extproc_bootstrap(base, plugin, socket_path, streamed_bodies=True)

    with (
        serving(spec, socket_path, transport=transport, streamed_bodies=worker_streamed) as served,
        EnvoyHarness(spec, tmp_path / "extproc", config) as envoy,
    ):
        assert envoy.upstream is not None
        envoy.upstream.set_answer(Answer(200, (("content-type", "text/plain"),), b"ok"))
        stats = served.server.stats
        with socket.create_connection(("127.0.0.1", envoy.listener_port), 10) as conn:
            conn.sendall(
                b"POST /upper HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            for part in parts:
                seen = stats().messages
                conn.sendall(b"%x\r\n%s\r\n" % (len(part), part))
                wait_for(lambda s=seen: stats().messages > s, CHUNK_TIMEOUT_S, what="chunk")
            conn.sendall(b"0\r\n\r\n")
            head = conn.makefile("rb").readline()
        assert head.startswith(b"HTTP/1.1 200"), head
        wait_for(lambda: envoy.upstream.requests(), CHUNK_TIMEOUT_S, what="upstream request")
        (request,) = envoy.upstream.requests()
    assert request.body == b"".join(parts).upper()
    # request headers + at least one message per chunk sent separately
    assert stats().messages >= 1 + CHUNKS
