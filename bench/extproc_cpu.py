"""CPU of one Envoy request in the ext_proc face, without sockets: mapping + plugin.

    python3 bench/extproc_cpu.py [--requests 3000] [--repeats 5] [--profile] [--headers-only]

Feeds serialized ProcessingRequests, shaped like the ones Envoy 1.40 sends for a GET through
the AS add_header plugin (request headers with 10 headers, response headers with 5, a
buffered 20-byte response body), to ``ExtProcHandler`` as the HTTP/2 layer would, with a
stand-in ``GrpcStream`` that keeps the serialized replies. Reported: µs of CPU per request
(min over batches), split into the whole face and the plugin exchange alone (the same
phases driven on ``Exchange`` directly). The difference is the face's mapping: protobuf
parse and build, header lists, the mutation diff, properties. ``--headers-only``: the two
header messages only (the plugin with ``skip_phases``, the stream ended by the worker).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from envoy.config.core.v3 import base_pb2 as core  # noqa: E402
from envoy.service.ext_proc.v3 import external_processor_pb2 as ep  # noqa: E402

from workers.contexts.plugin import PluginConfig  # noqa: E402
from workers.faces.extproc import ExtProcHandler, ExtProcServer  # noqa: E402
from workers.service import PluginSource, WorkerService  # noqa: E402
from workers.vm.runtime import Runtime  # noqa: E402

PLUGIN = REPO / "plugins/as/build/add_header.wasm"
REQUEST_HEADERS = [
    (":authority", "127.0.0.1:10000"),
    (":path", "/"),
    (":method", "GET"),
    (":scheme", "http"),
    ("user-agent", "wrk"),
    ("accept", "*/*"),
    ("x-forwarded-proto", "http"),
    ("x-request-id", "8d1f0c4e-2f55-4b0e-9a43-3c1d7e9e2b11"),
    ("x-envoy-expected-rq-timeout-ms", "15000"),
    ("x-custom", "value"),
]
RESPONSE_HEADERS = [
    (":status", "200"),
    ("content-length", "20"),
    ("content-type", "text/plain"),
    ("date", "Fri, 27 Nov 2026 03:00:00 GMT"),
    ("server", "envoy"),
]


def _headers(pairs: list[tuple[str, str]], eos: bool) -> ep.HttpHeaders:
    values = [core.HeaderValue(key=k, raw_value=v.encode()) for k, v in pairs]
    return ep.HttpHeaders(headers=core.HeaderMap(headers=values), end_of_stream=eos)


MESSAGES = [
    ep.ProcessingRequest(request_headers=_headers(REQUEST_HEADERS, True)).SerializeToString(),
    ep.ProcessingRequest(response_headers=_headers(RESPONSE_HEADERS, False)).SerializeToString(),
    ep.ProcessingRequest(
        response_body=ep.HttpBody(body=b"hello from upstream\n", end_of_stream=True)
    ).SerializeToString(),
]


class Sink:
    """Stands in for h2server.GrpcStream: keeps what the handler answers."""

    def __init__(self) -> None:
        self.replies: list[bytes] = []
        self.status: int | None = None

    def send(self, message: bytes) -> None:
        self.replies.append(message)

    def finish(self, status: int = 0, message: str = "") -> None:
        self.status = status


async def run(requests: int, repeats: int, profile: bool, messages: list[bytes]) -> None:
    config = PluginConfig(name="add-header", root_id="as_add_header", configuration=b"v1")
    runtime = Runtime()
    service = WorkerService(
        runtime, [PluginSource(config, PLUGIN.read_bytes())], {"default": ["add-header"]}, "default"
    )
    service.start(asyncio.get_running_loop())
    face = ExtProcServer(service, Path("/nonexistent"))

    def one_request() -> Sink:
        sink = Sink()
        handler = ExtProcHandler(face, sink, None, len(messages) == 2)  # type: ignore[arg-type]
        for message in messages:
            handler.on_message(message)
        handler.on_end()
        return sink

    check = one_request()
    assert check.status == 0 and len(check.replies) == len(messages), check.replies
    assert b"x-as-resp" in check.replies[1], "the plugin's header is missing"
    for _ in range(200):
        one_request()

    if profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(requests):
            one_request()
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
        return
    runs = []
    for _ in range(repeats):
        t0 = time.process_time()
        for _ in range(requests):
            one_request()
        runs.append((time.process_time() - t0) / requests * 1e6)
    listed = ", ".join(f"{r:.0f}" for r in runs)
    print(f"ext_proc face + plugin: {min(runs):.1f} us/request min (runs {listed})")
    service.close()
    runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--headers-only", action="store_true", help="2 messages, not 3")
    args = parser.parse_args()
    messages = MESSAGES[:2] if args.headers_only else MESSAGES
    asyncio.run(run(args.requests, args.repeats, args.profile, messages))


if __name__ == "__main__":
    main()
