"""Server-side CPU of one ext_proc-shaped gRPC stream: wasmd's h2core vs python-hyper's h2.

    python3 bench/h2_transport.py [--streams 3000] [--repeats 3]

No sockets: an h2 client encodes the frames in memory and only the server's work is timed
(``time.perf_counter`` around the server calls). One stream is what Envoy's ext_proc filter
sends for a GET through a plugin with body callbacks: HEADERS + one message, then two more
messages and END_STREAM; the server answers each message and ends with trailers. This is
the number that made wasmd write its own framing (docs/design-notes.md); grpcio's own cost
per streamed message is in /work/shared/reference/wasmtime-and-ipc.md §4 (150-480 µs).
"""

from __future__ import annotations

import argparse
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path

import h2.config
import h2.connection
import h2.events

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from workers.faces import h2core  # noqa: E402

HEADERS = [
    (b":method", b"POST"),
    (b":scheme", b"http"),
    (b":path", b"/envoy.service.ext_proc.v3.ExternalProcessor/Process"),
    (b":authority", b"wasmd_extproc"),
    (b"content-type", b"application/grpc"),
    (b"te", b"trailers"),
    (b"x-wasmd-chain", b"default"),
]
PAYLOAD = b"x" * 300
MESSAGE = struct.pack(">BI", 0, len(PAYLOAD)) + PAYLOAD


class Client:
    def __init__(self) -> None:
        config = h2.config.H2Configuration(client_side=True, header_encoding=None)
        self.conn = h2.connection.H2Connection(config)
        self.conn.initiate_connection()

    def take(self) -> bytes:
        return bytes(self.conn.data_to_send())

    def give(self, data: bytes) -> None:
        for event in self.conn.receive_data(data):
            if isinstance(event, h2.events.DataReceived):
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)


def core_server() -> tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]:
    server = h2core.H2ServerConnection()
    response = h2core.encode_literal([(b":status", b"200"), (b"content-type", b"application/grpc")])
    trailers = h2core.encode_literal([(b"grpc-status", b"0")])
    started: set[int] = set()

    def feed(data: bytes) -> bytes:
        for event in server.receive(data):
            if isinstance(event, h2core.MessageReceived):
                if event.stream_id not in started:
                    started.add(event.stream_id)
                    server.send_headers(event.stream_id, response)
                server.send_message(event.stream_id, PAYLOAD)
            elif isinstance(event, h2core.StreamEnded):
                server.send_headers(event.stream_id, trailers, end_stream=True)
        return server.data_to_send()

    return feed, feed


def h2_server() -> tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]:
    config = h2.config.H2Configuration(client_side=False, header_encoding=None)
    server = h2.connection.H2Connection(config)
    server.initiate_connection()
    started: set[int] = set()

    def feed(data: bytes) -> bytes:
        for event in server.receive_data(data):
            if isinstance(event, h2.events.DataReceived):
                sid = event.stream_id
                server.acknowledge_received_data(event.flow_controlled_length, sid)
                if sid not in started:
                    started.add(sid)
                    server.send_headers(sid, [(b":status", b"200")])
                server.send_data(sid, MESSAGE)
            elif isinstance(event, h2.events.StreamEnded):
                server.send_headers(event.stream_id, [(b"grpc-status", b"0")], end_stream=True)
        return bytes(server.data_to_send())

    return feed, feed


def run(
    make: Callable[[], tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]], n: int
) -> float:
    """Mean server seconds per stream over ``n`` streams on one connection."""
    client = Client()
    feed, _ = make()
    client.give(feed(client.take()))
    feed(client.take())  # the client's SETTINGS ACK
    spent = 0.0
    for i in range(n):
        sid = 1 + 2 * i
        client.conn.send_headers(sid, HEADERS)
        client.conn.send_data(sid, MESSAGE)
        data = client.take()
        t0 = time.perf_counter()
        out = feed(data)
        spent += time.perf_counter() - t0
        client.give(out)
        client.conn.send_data(sid, MESSAGE)
        client.conn.send_data(sid, MESSAGE, end_stream=True)
        data = client.take()
        t0 = time.perf_counter()
        out = feed(data)
        spent += time.perf_counter() - t0
        client.give(out)
    return spent / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for name, make in (("h2core", core_server), ("h2 (python-hyper)", h2_server)):
        runs = [run(make, args.streams) * 1e6 for _ in range(args.repeats)]
        listed = ", ".join(f"{r:.0f}" for r in runs)
        print(f"{name:>18}: {min(runs):7.1f} us/stream min, runs {listed}")


if __name__ == "__main__":
    main()
