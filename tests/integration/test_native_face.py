"""The native face end to end: real plugins in a real WorkerService, served on a real Unix
socket by NativeServer (in a background thread with its own loop), driven by wasmd.clients.native
or by raw bytes on a socket."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import threading
from collections.abc import Awaitable, Coroutine, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import msgpack
import pytest

from tests.helpers.procs import wait_for
from wasmd.clients.native import Client, ServerError, StreamRefused
from wasmd.kernel import native_protocol as p
from wasmd.kernel.config import REPO_PLUGINS_DIR
from workers.contexts.plugin import PluginConfig
from workers.faces.native import NativeServer
from workers.service import PluginSource, WorkerService
from workers.vm.runtime import Runtime

pytestmark = pytest.mark.timeout(60)
T = TypeVar("T")
BUILD = REPO_PLUGINS_DIR / "as" / "build"
REQUEST = ((b":authority", b"x"), (b":path", b"/"), (b":method", b"GET"), (b":scheme", b"http"))
RESPONSE = ((b":status", b"200"),)
MAX_FRAME_BYTES = 4096


def plugin(name: str, wasm: str, root_id: str, configuration: bytes = b"") -> PluginSource:
    config = PluginConfig(name=name, root_id=root_id, configuration=configuration)
    return PluginSource(config, (BUILD / wasm).read_bytes())


class Worker:
    """WorkerService + NativeServers on a background loop, all on one listening socket."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(16)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runtime = Runtime()
        self.service = WorkerService(
            self.runtime,
            [
                plugin("add-header", "add_header.wasm", "as_add_header", b"cfg-value"),
                plugin("local-reply", "local_reply.wasm", "as_local_reply"),
                plugin("body-rewrite", "body_rewrite.wasm", "as_body_rewrite"),
            ],
            {
                "default": ["add-header"],
                "local": ["local-reply"],
                "body": ["body-rewrite"],
                "two": ["add-header", "local-reply"],
            },
            "default",
        )
        self.call(self._start_service())
        self.servers: list[NativeServer] = []

    async def _start_service(self) -> None:
        self.service.start(asyncio.get_running_loop())

    def call(self, coro: Coroutine[Any, Any, T], timeout_s: float = 20.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def serve(self) -> NativeServer:
        """Another server on a dup of the listening fd, as a second worker process would."""
        server = NativeServer(self.service, max_frame_bytes=MAX_FRAME_BYTES)
        sock = socket.socket(fileno=os.dup(self.listener.fileno()))
        self.call(server.start(sock, backlog=16))
        self.servers.append(server)
        return server

    def close(self) -> None:
        for server in self.servers:
            self.call(server.close())
        self.call(self._close_service())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
        self.runtime.close()
        self.listener.close()

    async def _close_service(self) -> None:
        self.service.close()


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Worker]:
    w = Worker(tmp_path / "wasmd.sock")
    try:
        w.serve()
        yield w
    finally:
        w.close()


def run(coro: Awaitable[T], timeout_s: float = 30.0) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout_s)

    return asyncio.run(bounded())


def names(pairs: tuple[p.Pair, ...]) -> dict[bytes, bytes]:
    return dict(pairs)


# -- exchanges -----------------------------------------------------------------------------
def test_header_mutations(worker: Worker) -> None:
    async def go() -> None:
        async with await Client.connect(worker.path) as client:
            r = await client.exchange(
                request_headers=REQUEST + ((b"x-echo", b"hi"),), response_headers=RESPONSE
            )
        assert names(r.request_headers)[b"x-as-req"] == b"cfg-value"
        assert names(r.response_headers)[b"x-as-resp"] == b"added"
        assert names(r.response_headers)[b"x-as-echo"] == b"hi"
        first = r.actions[0][1]
        assert isinstance(first, p.Continue) and first.set_headers == ((b"x-as-req", b"cfg-value"),)

    run(go())


def test_local_response(worker: Worker) -> None:
    async def go() -> None:
        async with await Client.connect(worker.path) as client:
            deny = tuple((k, b"/deny" if k == b":path" else v) for k, v in REQUEST)
            r = await client.exchange(
                chain="local", request_headers=deny, response_headers=RESPONSE
            )
            ok = await client.exchange(
                chain="local", request_headers=REQUEST, response_headers=RESPONSE
            )
        assert r.local_response is not None and r.local_response.status == 403
        assert r.local_response.body == b"denied by as\n"
        assert r.local_response.details == "as_denied"
        assert names(r.local_response.headers)[b"x-as-denied"] == b"yes"
        assert names(r.local_response.headers)[b"x-as-seen"] == b"1"
        assert [phase for phase, _ in r.actions] == ["request_headers"]
        assert ok.local_response is None and names(ok.response_headers)[b"x-as-seen"] == b"1"

    run(go())


def test_body_rewrite_in_chunks(worker: Worker) -> None:
    async def go() -> None:
        async with await Client.connect(worker.path) as client:
            stream = await client.open("body")
            headers = REQUEST + ((b"content-length", b"11"),)
            first = await stream.request_headers(headers, False)
            held = await stream.request_body(b"hello ", False)
            done = await stream.request_body(b"world", True)
            stream.close()
            r = await client.exchange(
                chain="body",
                request_headers=REQUEST,
                request_body=b"abc",
                response_headers=RESPONSE,
                response_body=b"xyz",
            )
        assert first == p.Continue(stream.stream_id, (), (b"content-length",))
        assert held == p.Continue(stream.stream_id, body=b"")  # buffered: forward nothing yet
        assert done == p.Continue(stream.stream_id, body=b"HELLO WORLD")
        assert (r.request_body, r.response_body) == (b"ABC", b"XYZ")

    run(go())


def test_chain_of_two_plugins(worker: Worker) -> None:
    async def go() -> None:
        async with await Client.connect(worker.path) as client:
            deny = tuple((k, b"/deny" if k == b":path" else v) for k, v in REQUEST)
            denied = await client.exchange(chain="two", request_headers=deny)
            ok = await client.exchange(
                chain="two", request_headers=REQUEST, response_headers=RESPONSE
            )
        assert denied.local_response is not None
        local = names(denied.local_response.headers)
        assert local[b"x-as-seen"] == b"1" and local[b"x-as-resp"] == b"added"
        assert names(ok.request_headers)[b"x-as-req"] == b"cfg-value"
        assert {b"x-as-seen", b"x-as-resp"} <= set(names(ok.response_headers))

    run(go())


def test_many_concurrent_streams(worker: Worker) -> None:
    count = 200

    async def one(client: Client, i: int) -> bytes:
        r = await client.exchange(
            request_headers=REQUEST + ((b"x-echo", str(i).encode()),), response_headers=RESPONSE
        )
        return names(r.response_headers)[b"x-as-echo"]

    async def go() -> list[bytes]:
        async with await Client.connect(worker.path) as client:
            return await asyncio.gather(*(one(client, i) for i in range(count)))

    assert run(go()) == [str(i).encode() for i in range(count)]
    server = worker.servers[0]
    wait_for(lambda: server.stats().in_flight == 0, 5, what="streams finished")
    assert server.stats().requests == count


def test_the_client_keeps_nothing_per_finished_exchange(worker: Worker) -> None:
    """Regression: the client's link remembered the id of every stream that got a reply,
    one more int per exchange for the life of the connection."""

    async def go() -> None:
        async with await Client.connect(worker.path) as client:
            for _ in range(5):
                await client.exchange(request_headers=REQUEST, response_headers=RESPONSE)
            link = client._link
            assert link is not None
            assert not link.answered and not link.waiters and not link.conn.streams

    run(go())


def test_unknown_chain_is_an_error(worker: Worker) -> None:
    async def go() -> None:
        async with await Client.connect(worker.path, retries=0) as client:
            with pytest.raises(ServerError) as info:
                await client.exchange(chain="nope", request_headers=REQUEST)
        assert info.value.code is p.ErrorCode.UNKNOWN_CHAIN
        assert "configured chains: body, default, local, two" in str(info.value)

    run(go())


def test_client_disconnect_mid_stream_finishes_the_exchange(worker: Worker) -> None:
    vm = worker.service.handles["add-header"].vm
    assert vm is not None

    async def go() -> None:
        client = await Client.connect(worker.path)
        stream = await client.open()
        await stream.request_headers(REQUEST, True)
        assert len(vm.contexts) == 2  # root + this stream
        await client.close()

    run(go())
    server = worker.servers[0]
    wait_for(lambda: server.stats().connections == 0, 5, what="the connection to go")
    assert server.stats().in_flight == 0 and server.stats().requests == 1
    assert list(vm.contexts) == [1]  # on_delete ran: only the root context is left


# -- GOAWAY and retries --------------------------------------------------------------------
def test_drain_sends_goaway_and_the_client_moves_to_another_server(worker: Worker) -> None:
    old = worker.servers[0]

    async def go() -> tuple[p.Reply, int]:
        async with await Client.connect(worker.path) as client:
            stream = await client.open()
            await stream.request_headers(REQUEST, True)
            new = worker.serve()  # a second "worker" on the same listening socket
            draining = worker.submit(old.drain(10.0))
            await asyncio.to_thread(wait_for, lambda: old.draining, 5)
            # the in-flight stream finishes on the old connection
            reply = await stream.response_headers(RESPONSE, True)
            stream.close()
            await asyncio.wrap_future(draining)
            r = await client.exchange(request_headers=REQUEST, response_headers=RESPONSE)
            assert names(r.response_headers)[b"x-as-resp"] == b"added"
            await asyncio.to_thread(wait_for, lambda: new.stats().requests == 1, 5)
            return reply, client.connections_opened

    reply, connections = run(go())
    assert isinstance(reply, p.Continue) and reply.set_headers
    assert connections == 2
    assert old.stats().connections == 0 and old.stats().requests == 1


async def fake_server(path: Path, drop_first: int) -> asyncio.AbstractServer:
    """A protocol-core server that closes the first ``drop_first`` connections as soon as a
    phase arrives (no reply), and answers CONTINUE on later ones."""
    seen = {"connections": 0}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen["connections"] += 1
        conn = p.Connection(p.Role.SERVER)
        while data := await reader.read(65536):
            for msg in conn.receive_data(data):
                if isinstance(msg, p.Hello):
                    writer.write(conn.send(p.Hello((1,))))
                elif isinstance(msg, p.RequestHeaders):
                    if seen["connections"] <= drop_first:
                        writer.close()
                        return
                    writer.write(conn.send(p.Continue(msg.stream_id)))
        writer.close()

    return await asyncio.start_unix_server(handle, str(path))


def test_unanswered_exchange_is_retried_on_a_fresh_connection(tmp_path: Path) -> None:
    path = tmp_path / "fake.sock"

    async def go() -> None:
        server = await fake_server(path, drop_first=2)
        async with server, await Client.connect(path, retries=2) as client:
            r = await client.exchange(request_headers=REQUEST)
            assert r.attempts == 3 and client.connections_opened == 3
        server = await fake_server(tmp_path / "f2.sock", drop_first=5)
        async with server, await Client.connect(tmp_path / "f2.sock", retries=1) as client:
            with pytest.raises(StreamRefused):
                await client.exchange(request_headers=REQUEST)

    run(go())


# -- bad input on a raw socket -------------------------------------------------------------
def frame(body: Any) -> bytes:
    payload = msgpack.packb(body, use_bin_type=True)
    return struct.pack(">I", len(payload)) + payload


def raw_session(path: Path, *frames: bytes) -> list[Any]:
    """Handshake, send ``frames``, and read until the server closes; return decoded bodies."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(path))
        s.sendall(frame([1, [1], 1 << 20]) + b"".join(frames))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    bodies = []
    while data:
        (n,) = struct.unpack(">I", data[:4])
        bodies.append(msgpack.unpackb(data[4 : 4 + n], raw=False))
        data = data[4 + n :]
    return bodies


BAD_INPUT: list[tuple[str, list[bytes], p.ErrorCode]] = [
    (
        "oversized-frame",
        [struct.pack(">I", MAX_FRAME_BYTES + 1) + b"x" * 10],
        p.ErrorCode.FRAME_TOO_LARGE,
    ),
    ("malformed-msgpack", [b"\x00\x00\x00\x03\xc1\xc1\xc1"], p.ErrorCode.MALFORMED),
    ("wrong-shape", [frame([2, 1, 7, {}])], p.ErrorCode.MALFORMED),
    ("unknown-type", [frame([77, 1])], p.ErrorCode.UNKNOWN_MESSAGE),
    ("out-of-order", [frame([2, 1, "", {}]), frame([7, 1, b"x", True])], p.ErrorCode.OUT_OF_ORDER),
    ("unknown-stream", [frame([9, 4])], p.ErrorCode.UNKNOWN_STREAM),
    ("unknown-chain", [frame([2, 1, "missing", {}])], p.ErrorCode.UNKNOWN_CHAIN),
]


@pytest.mark.parametrize(("case", "frames", "code"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_bad_input_gets_an_error_frame_and_the_connection_closed(
    worker: Worker, case: str, frames: list[bytes], code: p.ErrorCode
) -> None:
    bodies = raw_session(worker.path, *frames)
    assert bodies[0][0] == p.MsgType.HELLO
    assert bodies[-1][0] == p.MsgType.ERROR and bodies[-1][2] == code, bodies
    # the worker is unharmed: a well-behaved client is still served
    run(_one_exchange(worker.path))


async def _one_exchange(path: Path) -> None:
    async with await Client.connect(path) as client:
        r = await client.exchange(request_headers=REQUEST)
        assert names(r.request_headers)[b"x-as-req"] == b"cfg-value"
