"""The ext_proc face against a real gRPC client (grpcio's C-core) over a Unix socket.

Envoy is the production client (tests/e2e cover it); grpcio is a second, independent
HTTP/2 + gRPC implementation, and lets a test drive the edges Envoy never shows on demand:
unknown methods, unknown chains, oversized messages, a drain with a stream in flight. Both
transports (wasmd's own HTTP/2 layer and the grpcio fallback) must answer alike.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from envoy.config.core.v3 import base_pb2 as core
from envoy.service.ext_proc.v3 import external_processor_pb2 as ep
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as ep_grpc

from tests.e2e.extproc_server import serving
from tests.helpers.manifest import PluginSpec, load_all
from tests.helpers.procs import wait_for
from workers.faces.extproc import ExtProcServer

pytestmark = pytest.mark.timeout(120)

TRANSPORTS = ("wasmd", "grpcio")
RPC_TIMEOUT_S = 10.0


def _spec(name: str) -> PluginSpec:
    return next(s for s in load_all() if s.name == name)


def _headers(pairs: list[tuple[str, str]], *, end_of_stream: bool) -> ep.HttpHeaders:
    values = [core.HeaderValue(key=k, raw_value=v.encode()) for k, v in pairs]
    return ep.HttpHeaders(headers=core.HeaderMap(headers=values), end_of_stream=end_of_stream)


REQUEST = ep.ProcessingRequest(
    request_headers=_headers(
        [(":method", "GET"), (":path", "/"), (":authority", "x"), (":scheme", "http")],
        end_of_stream=True,
    )
)
RESPONSE = ep.ProcessingRequest(response_headers=_headers([(":status", "200")], end_of_stream=True))


@pytest.fixture(params=TRANSPORTS)
def add_header(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """The AS add_header plugin served on a socket by the parametrized transport."""
    path = tmp_path / "extproc-0.sock"
    with serving(_spec("as_add_header"), path, transport=request.param):
        yield path


@pytest.fixture
def channel(add_header: Path) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"unix:{add_header}") as ch:
        yield ch


def _set_headers(reply: ep.ProcessingResponse, field: str) -> dict[str, bytes]:
    common = getattr(reply, field).response
    return {o.header.key: o.header.raw_value for o in common.header_mutation.set_headers}


def test_a_stream_runs_the_plugin_on_both_header_phases(channel: grpc.Channel) -> None:
    stub = ep_grpc.ExternalProcessorStub(channel)
    replies = list(stub.Process(iter([REQUEST, RESPONSE]), timeout=RPC_TIMEOUT_S))
    assert [r.WhichOneof("response") for r in replies] == ["request_headers", "response_headers"]
    assert _set_headers(replies[1], "response_headers").get("x-as-resp") == b"added"


def test_many_streams_on_one_connection_each_get_their_own_exchange(
    channel: grpc.Channel,
) -> None:
    stub = ep_grpc.ExternalProcessorStub(channel)
    for _ in range(30):
        replies = list(stub.Process(iter([REQUEST, RESPONSE]), timeout=RPC_TIMEOUT_S))
        assert _set_headers(replies[1], "response_headers").get("x-as-resp") == b"added"


def test_nothing_is_left_behind_after_streams_end_every_way(tmp_path: Path) -> None:
    """Streams that complete, that the client cancels mid-way, that hit an unknown chain
    or carry garbage: afterwards no handler, HTTP/2 stream or exchange is left open."""
    path = tmp_path / "extproc-0.sock"
    with (
        serving(_spec("as_add_header"), path) as served,
        grpc.insecure_channel(f"unix:{path}") as ch,
    ):
        stub = ep_grpc.ExternalProcessorStub(ch)
        raw = ch.stream_stream("/envoy.service.ext_proc.v3.ExternalProcessor/Process")
        for _ in range(20):
            assert len(list(stub.Process(iter([REQUEST, RESPONSE]), timeout=RPC_TIMEOUT_S))) == 2
            call = stub.Process(iter([REQUEST, RESPONSE]), timeout=RPC_TIMEOUT_S)
            next(call)
            call.cancel()  # RST_STREAM mid-exchange
            with pytest.raises(grpc.RpcError):
                metadata = (("x-wasmd-chain", "nope"),)
                list(stub.Process(iter([REQUEST]), metadata=metadata, timeout=RPC_TIMEOUT_S))
            with pytest.raises(grpc.RpcError):
                list(raw(iter([b"\xff\xff"]), timeout=RPC_TIMEOUT_S))
        server = served.server
        assert isinstance(server, ExtProcServer)
        wait_for(
            lambda: server.open_streams() == (0, 0) and server.stats().in_flight == 0,
            RPC_TIMEOUT_S,
            what="every stream to end",
            diagnostics=lambda: f"open {server.open_streams()}, {server.stats()}",
        )
        assert server.stats().streams == 80


def test_concurrent_streams_are_answered_in_order_per_stream(add_header: Path) -> None:
    async def main() -> None:
        async with grpc.aio.insecure_channel(f"unix:{add_header}") as ch:
            stub = ep_grpc.ExternalProcessorStub(ch)

            async def one() -> list[str | None]:
                call = stub.Process(timeout=RPC_TIMEOUT_S)
                await call.write(REQUEST)
                first = await call.read()
                await call.write(RESPONSE)
                second = await call.read()
                await call.done_writing()
                assert await call.read() is grpc.aio.EOF
                return [first.WhichOneof("response"), second.WhichOneof("response")]

            results = await asyncio.gather(*(one() for _ in range(20)))
            assert all(r == ["request_headers", "response_headers"] for r in results)

    asyncio.run(main())


def test_health_check_answers_serving(channel: grpc.Channel) -> None:
    check = channel.unary_unary("/grpc.health.v1.Health/Check")
    assert check(b"", timeout=RPC_TIMEOUT_S) == b"\x08\x01"


@pytest.mark.parametrize("end_after", ["response_headers", "any", None])
def test_the_worker_ends_the_stream_after_the_phase_envoy_config_says_is_last(
    tmp_path: Path, end_after: str | None
) -> None:
    """``x-wasmd-end-after: response_headers`` (a header-only chain): the reply to the
    response headers comes with the stream's OK end, while the client has not half-closed
    (Envoy then proceeds without the processor). Otherwise the stream waits for the client.
    (The grpcio fallback transport ignores the key.)"""
    sock = tmp_path / "extproc-0.sock"
    sent = threading.Event()  # the client's side stays open until the test says

    def requests() -> Iterator[ep.ProcessingRequest]:
        yield REQUEST
        yield RESPONSE
        sent.wait(RPC_TIMEOUT_S)

    metadata = () if end_after is None else (("x-wasmd-end-after", end_after),)
    with serving(_spec("as_add_header"), sock), grpc.insecure_channel(f"unix:{sock}") as ch:
        stub = ep_grpc.ExternalProcessorStub(ch)
        call = stub.Process(requests(), metadata=metadata, timeout=RPC_TIMEOUT_S)
        replies = [next(call), next(call)]
        assert _set_headers(replies[1], "response_headers").get("x-as-resp") == b"added"
        ended = threading.Thread(target=lambda: list(call))
        ended.start()
        ended.join(1.0 if end_after != "response_headers" else RPC_TIMEOUT_S)
        ends_early = not ended.is_alive()
        sent.set()
        ended.join(RPC_TIMEOUT_S)
    assert call.code() is grpc.StatusCode.OK
    assert ends_early is (end_after == "response_headers")


def test_an_unknown_method_is_unimplemented(channel: grpc.Channel) -> None:
    call = channel.unary_unary("/wasmd.Nothing/Here")
    with pytest.raises(grpc.RpcError) as info:
        call(b"", timeout=RPC_TIMEOUT_S)
    assert info.value.code() is grpc.StatusCode.UNIMPLEMENTED


def test_an_unknown_chain_is_not_found(channel: grpc.Channel) -> None:
    stub = ep_grpc.ExternalProcessorStub(channel)
    metadata = (("x-wasmd-chain", "no-such-chain"),)
    with pytest.raises(grpc.RpcError) as info:
        list(stub.Process(iter([REQUEST]), metadata=metadata, timeout=RPC_TIMEOUT_S))
    assert info.value.code() is grpc.StatusCode.NOT_FOUND
    assert "no-such-chain" in str(info.value.details())


def test_a_message_over_4_mib_is_refused_and_the_connection_keeps_serving(
    channel: grpc.Channel,
) -> None:
    stub = ep_grpc.ExternalProcessorStub(channel)
    big = ep.ProcessingRequest(request_body=ep.HttpBody(body=b"x" * (5 << 20)))
    with pytest.raises(grpc.RpcError) as info:
        list(stub.Process(iter([REQUEST, big]), timeout=RPC_TIMEOUT_S))
    assert info.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    replies = list(stub.Process(iter([REQUEST, RESPONSE]), timeout=RPC_TIMEOUT_S))
    assert len(replies) == 2


def test_garbage_instead_of_a_processing_request_costs_only_that_stream(
    channel: grpc.Channel,
) -> None:
    raw = channel.stream_stream("/envoy.service.ext_proc.v3.ExternalProcessor/Process")
    with pytest.raises(grpc.RpcError) as info:
        list(raw(iter([b"\xff\xff\xff\xff"]), timeout=RPC_TIMEOUT_S))
    assert info.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNKNOWN)
    stub = ep_grpc.ExternalProcessorStub(channel)
    assert len(list(stub.Process(iter([REQUEST, RESPONSE]), timeout=RPC_TIMEOUT_S))) == 2


def test_drain_lets_the_stream_in_flight_finish(tmp_path: Path) -> None:
    """A drain that starts between two phases of a stream: the stream still completes."""
    path = tmp_path / "extproc-0.sock"
    drained = threading.Event()
    with serving(_spec("as_add_header"), path) as served:

        async def main() -> None:
            async with grpc.aio.insecure_channel(f"unix:{path}") as ch:
                call = ep_grpc.ExternalProcessorStub(ch).Process(timeout=RPC_TIMEOUT_S)
                await call.write(REQUEST)
                await call.read()
                drain = asyncio.run_coroutine_threadsafe(served.server.drain(10.0), served.loop)
                await call.write(RESPONSE)
                reply = await call.read()
                await call.done_writing()
                assert await call.code() is grpc.StatusCode.OK
                await asyncio.wrap_future(drain)
                drained.set()
                assert _set_headers(reply, "response_headers").get("x-as-resp") == b"added"

        asyncio.run(main())
    assert drained.is_set()


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", id="http1"),
        pytest.param(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\xff" * 64, id="bad-frames"),
        pytest.param(
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x03\x01\x05\x00\x00\x00\x01\xff\xff\xff",
            id="bad-hpack",
        ),
    ],
)
def test_garbage_on_the_socket_closes_that_connection_only(
    add_header: Path, channel: grpc.Channel, garbage: bytes
) -> None:
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
        raw.settimeout(RPC_TIMEOUT_S)
        raw.connect(str(add_header))
        raw.sendall(garbage)
        received = b""
        while chunk := raw.recv(65536):  # the server closes: recv returns b""
            received += chunk
    stub = ep_grpc.ExternalProcessorStub(channel)
    assert len(list(stub.Process(iter([REQUEST, RESPONSE]), timeout=RPC_TIMEOUT_S))) == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_daemon_serves_ext_proc_on_the_configured_transport(
    tmp_path: Path, transport: str
) -> None:
    """``daemon.extproc_transport`` picks what each worker serves ext_proc with; both answer
    health checks and streams on every slot's public socket."""
    from tests.helpers.daemon import daemons, write_config

    config = write_config(tmp_path, workers=2, extproc_transport=transport)
    with daemons(tmp_path) as start:
        daemon = start(config)
        daemon.all_ready()
        # Each worker logs what it serves ext_proc with before it reports READY.
        lines = [ln for ln in daemon.proc.log_tail(200).splitlines() if "extproc_serving" in ln]
        assert len(lines) == 2 and all(f'"transport": "{transport}"' in ln for ln in lines), (
            daemon.proc.describe()
        )
        for slot in range(2):
            path = daemon.runtime_dir / f"extproc-{slot}.sock"
            with grpc.insecure_channel(f"unix:{path}") as ch:
                check = ch.unary_unary("/grpc.health.v1.Health/Check")
                assert check(b"", timeout=RPC_TIMEOUT_S) == b"\x08\x01"
                stub = ep_grpc.ExternalProcessorStub(ch)
                replies = list(stub.Process(iter([REQUEST, RESPONSE]), timeout=RPC_TIMEOUT_S))
                assert _set_headers(replies[0], "request_headers").get("x-as-req") == b"v1"


def test_envoy_attributes_become_properties_when_a_plugin_reads_one() -> None:
    """The first message's ``attributes`` are the exchange's supplied properties, encoded
    as Envoy encodes them for proxy_get_property; they are decoded only on first read."""
    from google.protobuf import struct_pb2

    from tests.integration.support import config_for
    from workers.faces.extproc import ExtProcStream
    from workers.service import PluginSource, WorkerService
    from workers.vm.runtime import Runtime

    attributes = struct_pb2.Struct()
    attributes.update({"source.address": "127.0.0.1:5555", "destination.port": 10000})
    first = ep.ProcessingRequest(request_headers=REQUEST.request_headers)
    first.attributes["envoy.filters.http.ext_proc"].CopyFrom(attributes)
    spec = _spec("as_add_header")

    async def main() -> None:
        runtime = Runtime()
        source = PluginSource(config_for(spec), spec.wasm.read_bytes())
        service = WorkerService(runtime, [source], {"default": [spec.name]}, "default")
        service.start(asyncio.get_running_loop())
        try:
            stream = ExtProcStream.open(service, None, first, streamed_bodies=False)
            stream.reply("request_headers", first, stream.begin("request_headers", first))
            supplied = stream.ax.exchange.filters[0].supplied
            assert supplied._pending and not supplied._decoded  # nothing read it yet
            assert supplied["source.address"] == b"127.0.0.1:5555"
            assert supplied["destination.port"] == (10000).to_bytes(8, "little")
            stream.ax.finish()
        finally:
            service.close()
            runtime.close()

    asyncio.run(main())


def _c_props_request(extra: list[tuple[str, str]]) -> ep.ProcessingRequest:
    """Request headers for the conformance module's ``prop-read`` case, plus ``extra``."""
    headers = [(":method", "GET"), (":path", "/"), (":authority", "x"), ("x-test", "prop-read")]
    return ep.ProcessingRequest(request_headers=_headers(headers + extra, end_of_stream=True))


def _c_props_stream(
    transport: str, tmp_path: Path, messages: list[ep.ProcessingRequest]
) -> list[ep.ProcessingResponse]:
    """One ext_proc stream of ``messages`` to c_props served on ``transport``: the replies."""
    path = tmp_path / "extproc-0.sock"
    with (
        serving(_spec("c_props"), path, transport=transport),
        grpc.insecure_channel(f"unix:{path}") as ch,
    ):
        stub = ep_grpc.ExternalProcessorStub(ch)
        return list(stub.Process(iter(messages), timeout=RPC_TIMEOUT_S))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_metadata_context_and_response_attributes_reach_the_plugin(
    transport: str, tmp_path: Path
) -> None:
    """A plugin reads ``metadata.filter_metadata.*`` from each message's metadata_context
    (the latest one: metadata can change between phases) and, in the response phase, the
    attributes Envoy sends with the response headers (``response_attributes``)."""
    from google.protobuf import struct_pb2

    def with_metadata(req: ep.ProcessingRequest, value: str) -> ep.ProcessingRequest:
        req = ep.ProcessingRequest.FromString(req.SerializeToString())
        fields = struct_pb2.Struct()
        fields.update({"k": value, "n": 7})
        req.metadata_context.filter_metadata["ns.x"].CopyFrom(fields)
        return req

    reads = [("x-prop", "metadata/filter_metadata/ns.x/k")]
    reads.append(("x-prop-resp", "response/code_details,metadata/filter_metadata/ns.x/k"))
    first = with_metadata(_c_props_request(reads), "before")
    response = with_metadata(RESPONSE, "after")
    code_details = struct_pb2.Struct()
    code_details.update({"response.code_details": "via_upstream"})
    response.attributes["envoy.filters.http.ext_proc"].CopyFrom(code_details)

    replies = _c_props_stream(transport, tmp_path, [first, response])
    results = _set_headers(replies[1], "response_headers")
    assert results["x-r-prop-0"] == b"0:" + b"before".hex().encode()
    assert results["x-r-resp-prop-0"] == b"0:" + b"via_upstream".hex().encode()
    assert results["x-r-resp-prop-1"] == b"0:" + b"after".hex().encode()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_set_properties_go_back_to_envoy_as_dynamic_metadata(
    transport: str, tmp_path: Path
) -> None:
    """What a plugin sets with proxy_set_property rides on the reply of the phase that set
    it, as dynamic metadata in the "wasmd" namespace, once."""
    request = _c_props_request([("x-prop-set-once", "chain_user=alice")])
    first, second = _c_props_stream(transport, tmp_path, [request, RESPONSE])
    fields = first.dynamic_metadata.fields["wasmd"].struct_value.fields
    assert {k: v.string_value for k, v in fields.items()} == {"chain_user": "alice"}
    assert not second.HasField("dynamic_metadata")  # unchanged since: not sent again
