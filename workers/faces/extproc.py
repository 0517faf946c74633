"""The Envoy face: an ``envoy.service.ext_proc.v3.ExternalProcessor`` server per worker.

One gRPC stream is one HTTP exchange. Each ProcessingRequest phase is fed to the chain's
``AsyncExchange``; the reply carries what the plugins did: header mutations computed as a
diff (values in ``raw_value``), a replaced body (BUFFERED mode), or an ImmediateResponse
for a local reply. A paused plugin holds the reply until it continues (a callout answered,
a timer fired) or the pause timeout passes. ``on_log``/``on_done``/``on_delete`` run when
the gRPC stream ends, however it ends.

Two transports serve it: ``ExtProcServer`` (the default) on wasmd's own HTTP/2 layer
(``h2server``), which runs a phase straight from the socket read, and
``extproc_grpcio.GrpcioExtProcServer`` on grpcio's aio server, kept as a fallback
(``daemon.extproc_transport = "grpcio"``). Both bind a private temporary path and rename it
onto the slot's public path: the takeover is atomic, old connections stay with the old
server, and the old server's stop removes nothing public
(/work/shared/reference/wasmtime-and-ipc.md §5.2-5.3).
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envoy.config.core.v3 import base_pb2 as core
from envoy.extensions.filters.http.ext_proc.v3 import processing_mode_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as ep
from envoy.type.v3 import http_status_pb2
from google.protobuf import wrappers_pb2
from google.protobuf.message import DecodeError

from wasmd.kernel.client_limits import ClientLimits
from wasmd.kernel.errors import WasmdError
from wasmd.kernel.logs import get_logger
from workers.contexts import metadata
from workers.contexts.exchange import FinalResponse, Step
from workers.contexts.maps import Pair
from workers.contexts.metadata import DynamicMetadata
from workers.faces import extproc_wire as wire
from workers.faces.h2server import GrpcServer, GrpcStatus, GrpcStream, HandlerFactory, Headers
from workers.faces.mutations import HeaderMutation, diff_headers
from workers.service import AsyncExchange, UnknownChain, WorkerService

log = get_logger(face="extproc")

CHAIN_METADATA_KEY = "x-wasmd-chain"
# wasmd envoy-config's word that Envoy sends nothing after the response headers on this
# route (wasmd/proxies/envoy.py END_AFTER_*): the worker then ends the stream with its reply.
END_AFTER_METADATA_KEY = b"x-wasmd-end-after"
END_AFTER_RESPONSE_HEADERS = b"response_headers"
# The dynamic metadata namespace that carries what plugins set with proxy_set_property back
# to Envoy (its access logs and later filters read %DYNAMIC_METADATA(wasmd:NAME)%); the
# generated filter lists it in metadata_options.receiving_namespaces.
PROPERTY_NAMESPACE = "wasmd"
_STREAMED = processing_mode_pb2.ProcessingMode.BodySendMode.STREAMED
PROCESS_PATH = b"/envoy.service.ext_proc.v3.ExternalProcessor/Process"
HEALTH_CHECK_PATH = b"/grpc.health.v1.Health/Check"
_OVERWRITE = core.HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD
_APPEND = core.HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD
_I64 = struct.Struct("<q")
# Envoy computes these itself for an ImmediateResponse.
_IMMEDIATE_SKIP = frozenset({b"content-length", b"transfer-encoding"})


def _pairs(header_map: Any) -> list[Pair]:
    return [
        (h.key.encode(), h.raw_value if h.raw_value else h.value.encode())
        for h in header_map.headers
    ]


def _changes(before: Sequence[Pair], after: Sequence[Pair]) -> HeaderMutation | None:
    """The mutation turning ``before`` into ``after``, or None when nothing changed (Envoy
    treats a missing mutation as an empty one)."""
    diff = diff_headers(before, after)
    return diff if diff else None


def _option(key: bytes, value: bytes, *, append: bool) -> Any:
    # As extproc_wire._option: only the deprecated `append` flag appends in Envoy 1.40.
    header = core.HeaderValue(key=key.decode(), raw_value=value)
    return core.HeaderValueOption(
        header=header,
        append=wrappers_pb2.BoolValue(value=append),
        append_action=_APPEND if append else _OVERWRITE,
        keep_empty_value=True,
    )


def immediate(final: FinalResponse) -> ep.ProcessingResponse:
    headers = [_option(k, v, append=True) for k, v in final.headers if k not in _IMMEDIATE_SKIP]
    return ep.ProcessingResponse(
        immediate_response=ep.ImmediateResponse(
            status=http_status_pb2.HttpStatus(code=final.status),
            headers=ep.HeaderMutation(set_headers=headers),
            body=final.body,
            details=final.details,
        )
    )


def _encode_value(value: Any) -> bytes | None:
    """A google.protobuf.Value as Envoy encodes that attribute for proxy_get_property."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return str(value.string_value).encode()
    if kind == "bool_value":
        return b"\x01" if value.bool_value else b"\x00"
    if kind == "number_value":
        number = value.number_value
        return _I64.pack(int(number)) if float(number).is_integer() else struct.pack("<d", number)
    return None


def properties_from(request: ep.ProcessingRequest) -> dict[str, bytes]:
    """Properties the proxy supplied: the request's ``attributes`` (Envoy attribute names)."""
    out: dict[str, bytes] = {}
    for struct_value in request.attributes.values():
        for name, value in struct_value.fields.items():
            encoded = _encode_value(value)
            if encoded is not None:
                out[name] = encoded
    return out


_BOTH_BODIES = frozenset({"request_body", "response_body"})


def streamed_phases(first: ep.ProcessingRequest, configured: bool) -> frozenset[str]:
    """The body phases Envoy sends chunk by chunk on this stream. Envoy (1.40 does) says so
    in the first message's ``protocol_config``, per route and direction, so a worker whose
    ``extproc_body_mode`` disagrees with the Envoy config still answers right; without it,
    the configured mode is assumed for both directions."""
    if not first.HasField("protocol_config"):
        return _BOTH_BODIES if configured else frozenset()
    mode = first.protocol_config
    return frozenset(
        phase
        for phase, sent in (
            ("request_body", mode.request_body_mode),
            ("response_body", mode.response_body_mode),
        )
        if sent == _STREAMED
    )


class _Supplied(Mapping[str, bytes]):
    """What Envoy told about the stream, as properties, decoded on the first read (encoding
    Envoy's attributes costs ~20 µs per stream, and most plugins never read a property):

    - the ``attributes`` of every message so far: the request's come with the request
      headers, the response's (``response_attributes``) with the response headers;
    - the dynamic metadata of the latest message that carried any (``metadata_context``,
      the namespaces ``metadata_options`` forwards), answering ``metadata`` paths.
    """

    __slots__ = ("_pending", "_decoded", "_context", "_metadata")

    def __init__(self) -> None:
        self._pending: list[ep.ProcessingRequest] = []
        self._decoded: dict[str, bytes] = {}
        self._context: Any = None  # the latest non-empty metadata_context, not yet decoded
        self._metadata: DynamicMetadata | None = None

    def add(self, req: ep.ProcessingRequest) -> None:
        """Take what ``req`` adds; called for every message of the stream."""
        if req.attributes:
            self._pending.append(req)
        context = req.metadata_context
        if context.filter_metadata:
            self._context, self._metadata = context, None

    def _map(self) -> dict[str, bytes]:
        if self._pending:
            for req in self._pending:
                self._decoded.update(properties_from(req))
            self._pending.clear()
        return self._decoded

    def _dynamic(self) -> DynamicMetadata:
        if self._metadata is None:
            context = self._context
            if context is None:
                self._metadata = DynamicMetadata({})
            else:
                namespaces = {
                    name: metadata.from_struct(fields)
                    for name, fields in context.filter_metadata.items()
                }
                self._metadata = DynamicMetadata(namespaces, context.SerializeToString())
        return self._metadata

    def __getitem__(self, name: str) -> bytes:
        return self._dynamic()[name] if metadata.is_path_key(name) else self._map()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._map())  # metadata paths are answered, not listed

    def __len__(self) -> int:
        return len(self._map())


@dataclass(slots=True)
class FaceStats:
    streams: int = 0
    in_flight: int = 0
    errors: int = 0
    messages: int = 0  # ProcessingRequests received


class ExtProcStream:
    """One gRPC stream = one HTTP exchange; keeps what Envoy currently holds, to diff against.

    A phase is ``begin`` (synchronous: runs the plugins, may return PAUSE), then, once the
    step is settled, ``reply``. Phases of one stream never overlap.
    """

    def __init__(
        self,
        ax: AsyncExchange,
        supplied: _Supplied,
        *,
        streamed: frozenset[str] = frozenset(),
    ) -> None:
        self.ax = ax
        self.supplied = supplied  # the properties the exchange reads, fed by every message
        self.streamed = streamed  # body phases Envoy sends in STREAMED mode, chunk by chunk
        self.request_headers: list[Pair] = []
        self.response_headers: list[Pair] = []
        self.answered_locally = False
        self._forwarded = {"request_body": 0, "response_body": 0}  # body bytes passed on
        self._trailers: list[Pair] = []
        self._published: dict[str, bytes] = {}  # set properties already sent to Envoy

    @classmethod
    def open(
        cls,
        service: WorkerService,
        chain: str | None,
        first: ep.ProcessingRequest,
        *,
        streamed_bodies: bool,
    ) -> ExtProcStream:
        """The exchange for a gRPC stream whose first message is ``first``: the chain's
        plugins, the request's properties, the body modes Envoy announces (or, failing
        that, ``streamed_bodies``). Raises UnknownChain."""
        supplied = _Supplied()
        ax = service.open(chain, supplied)
        return cls(ax, supplied, streamed=streamed_phases(first, streamed_bodies))

    def begin(self, kind: str, req: ep.ProcessingRequest) -> Step:
        """Feed one message to the chain; ``kind`` is ``req.WhichOneof("request")``."""
        self.supplied.add(req)
        ex = self.ax.exchange
        if kind == "request_headers":
            self.request_headers = _pairs(req.request_headers.headers)
            return ex.on_request_headers(self.request_headers, req.request_headers.end_of_stream)
        if kind == "response_headers":
            self.response_headers = _pairs(req.response_headers.headers)
            msg = req.response_headers
            return ex.on_response_headers(self.response_headers, msg.end_of_stream)
        if kind == "request_body":
            return ex.on_request_body(req.request_body.body, req.request_body.end_of_stream)
        if kind == "response_body":
            return ex.on_response_body(req.response_body.body, req.response_body.end_of_stream)
        if kind == "request_trailers":
            self._trailers = _pairs(req.request_trailers.trailers)
            return ex.on_request_trailers(self._trailers)
        if kind == "response_trailers":
            self._trailers = _pairs(req.response_trailers.trailers)
            return ex.on_response_trailers(self._trailers)
        raise WasmdError(f"unexpected ext_proc message {kind!r}")

    def reply(self, kind: str, req: ep.ProcessingRequest, step: Step) -> bytes | None:
        """The serialized reply for the phase ``begin`` started, or None when the plugin
        reset the stream; with the properties the plugins set since the last reply, as
        dynamic metadata."""
        reply = self._reply(kind, req, step)
        if reply is not None and self.ax.exchange.assigned:
            reply += self._set_properties()
        return reply

    def _set_properties(self) -> bytes:
        """``dynamic_metadata`` for the proxy_set_property values Envoy has not seen (UTF-8
        ones: a Struct holds strings), or nothing."""
        changed = {}
        for name, value in self.ax.exchange.assigned.items():
            if self._published.get(name) != value:
                self._published[name] = value
                try:
                    changed[name] = value.decode()
                except UnicodeDecodeError:
                    continue
        return wire.dynamic_metadata(PROPERTY_NAMESPACE, changed) if changed else b""

    def _reply(self, kind: str, req: ep.ProcessingRequest, step: Step) -> bytes | None:
        ex = self.ax.exchange
        if kind == "request_headers":
            return self._headers_reply(step, kind, self.request_headers, ex.request_headers.pairs())
        if kind == "response_headers":
            after = ex.response_headers.pairs()
            return self._headers_reply(step, kind, self.response_headers, after)
        if kind == "request_body":
            return self._body_reply(step, kind, req.request_body, ex.request_body)
        if kind == "response_body":
            return self._body_reply(step, kind, req.response_body, ex.response_body)
        trailers = ex.request_trailers if kind == "request_trailers" else ex.response_trailers
        after = trailers.pairs() if trailers is not None else self._trailers
        return self._trailers_reply(step, kind, self._trailers, after)

    async def handle(self, req: ep.ProcessingRequest) -> bytes | None:
        """``begin``, wait out a pause, ``reply``."""
        kind = str(req.WhichOneof("request"))
        step = await self.ax.settle(self.begin(kind, req))
        return self.reply(kind, req, step)

    def _special(self, step: Step) -> tuple[bool, bytes | None]:
        """(True, reply) for LOCAL/PAUSE/RESET (None: reset); (False, None) to continue."""
        if step is Step.LOCAL and self.ax.exchange.final is not None:
            self.answered_locally = True
            return True, immediate(self.ax.exchange.final).SerializeToString()
        if step is Step.RESET:
            return True, None
        if step in (Step.PAUSE, Step.BUFFER):
            self.answered_locally = True
            timeout = FinalResponse(504, [], b"", "wasmd_plugin_pause_timeout", local=True)
            return True, immediate(timeout).SerializeToString()
        return False, None

    def _headers_reply(
        self, step: Step, field: str, before: list[Pair], after: list[Pair]
    ) -> bytes | None:
        handled, reply = self._special(step)
        if handled:
            return reply
        if field == "request_headers":
            self.request_headers = after
        else:
            self.response_headers = after
        return wire.phase_reply(field, _changes(before, after))

    def _body_reply(self, step: Step, field: str, msg: Any, body: Any) -> bytes | None:
        """``msg``: the HttpBody Envoy sent; ``body``: the exchange's buffer for it."""
        chunk: bytes = msg.body
        if step is Step.BUFFER and field in self.streamed and not msg.end_of_stream:
            # STREAMED: hold the chunk back (Envoy injects nothing for an emptied chunk);
            # what the plugin buffered goes out with the chunk on which it continues.
            return wire.phase_reply(field, None, b"" if chunk else None)
        handled, reply = self._special(step)
        if handled:
            return reply
        start = self._forwarded[field]
        passed = bytes(body[start:])
        self._forwarded[field] = len(body)
        ex = self.ax.exchange
        # In BUFFERED mode the headers are still held: mutations made while handling the
        # body (content-length above all) apply too.
        if field == "request_body":
            current = ex.request_headers.pairs()
            mutation = _changes(self.request_headers, current)
            self.request_headers = current
        else:
            current = ex.response_headers.pairs()
            mutation = _changes(self.response_headers, current)
            self.response_headers = current
        return wire.phase_reply(field, mutation, None if passed == chunk else passed)

    def _trailers_reply(
        self, step: Step, field: str, before: list[Pair], after: list[Pair]
    ) -> bytes | None:
        handled, reply = self._special(step)
        if handled:
            return reply
        return wire.phase_reply(field, _changes(before, after))


class ExtProcHandler:
    """One ext_proc stream on the h2server transport.

    A phase runs synchronously from the socket read; only a phase a plugin paused moves to a
    task, and the messages Envoy sends meanwhile wait in ``backlog`` so phases stay in order.
    """

    def __init__(
        self,
        face: ExtProcServer,
        out: GrpcStream,
        chain: str | None,
        end_after_response_headers: bool = False,
    ) -> None:
        self.face = face
        self.out = out
        self.chain = chain
        self.end_after_response_headers = end_after_response_headers
        self.stream: ExtProcStream | None = None
        self.task: asyncio.Task[None] | None = None
        self.backlog: deque[bytes] = deque()
        self.ended = False
        self.closed = False
        face.counters.streams += 1
        face.counters.in_flight += 1

    # -- Handler ------------------------------------------------------------------------------
    def on_message(self, message: bytes) -> None:
        self.face.counters.messages += 1
        if self.task is not None or self.backlog:
            self.backlog.append(message)
            return
        self._guarded(message)

    def on_end(self) -> None:
        self.ended = True
        if self.task is None and not self.backlog:
            self._finish(GrpcStatus.OK)

    def on_reset(self) -> None:
        if self.task is not None:
            self.task.cancel()  # the task closes the exchange once it unwinds
        else:
            self._close()

    # -- phases -------------------------------------------------------------------------------
    def _guarded(self, message: bytes) -> None:
        try:
            self._process(message)
        except Exception as exc:  # a bug here must cost one stream, not the connection
            log.exception("ext_proc phase failed")
            self._finish(GrpcStatus.INTERNAL, f"internal error: {type(exc).__name__}")

    def _process(self, message: bytes) -> None:
        if self.closed:
            return
        try:
            req = ep.ProcessingRequest.FromString(message)
        except DecodeError:
            self._finish(GrpcStatus.INVALID_ARGUMENT, "not a ProcessingRequest")
            return
        stream = self.stream
        if stream is None:
            face = self.face
            try:
                stream = self.stream = ExtProcStream.open(
                    face.service, self.chain, req, streamed_bodies=face.streamed_bodies
                )
            except UnknownChain as exc:
                face.counters.errors += 1
                self._finish(GrpcStatus.NOT_FOUND, str(exc))
                return
        if stream.answered_locally:
            return  # Envoy ignores anything after an ImmediateResponse
        kind = req.WhichOneof("request")
        if kind is None:
            self._finish(GrpcStatus.INVALID_ARGUMENT, "a ProcessingRequest without a phase")
            return
        step = stream.begin(kind, req)
        if step is Step.PAUSE:
            self.task = asyncio.get_running_loop().create_task(self._settle(kind, req, step))
            return
        self._answer(stream.reply(kind, req, step))
        self._end_if_last(kind)

    def _end_if_last(self, kind: str) -> None:
        """End the stream (OK) with the reply to its last phase: Envoy proceeds without the
        processor, and on_log/on_done run now, not after an end-of-stream round trip."""
        if (
            kind == "response_headers"
            and self.end_after_response_headers
            and not self.closed
            and self.task is None
            and not self.backlog
            and not (self.stream is not None and self.stream.answered_locally)
        ):
            self._finish(GrpcStatus.OK)

    async def _settle(self, kind: str, req: ep.ProcessingRequest, step: Step) -> None:
        assert self.stream is not None
        try:
            step = await self.stream.ax.settle(step)
            reply = self.stream.reply(kind, req, step)
        except asyncio.CancelledError:
            self.task = None
            self._close()
            return
        except Exception as exc:
            self.task = None
            log.exception("ext_proc phase failed")
            self._finish(GrpcStatus.INTERNAL, f"internal error: {type(exc).__name__}")
            return
        self.task = None
        self._answer(reply)
        self._end_if_last(kind)
        while self.backlog and self.task is None and not self.closed:
            self._guarded(self.backlog.popleft())
        if self.ended and self.task is None and not self.backlog:
            self._finish(GrpcStatus.OK)

    def _answer(self, reply: bytes | None) -> None:
        if reply is None:
            self._finish(GrpcStatus.ABORTED, "the plugin reset the stream")
            return
        self.out.send(reply)

    # -- ends ---------------------------------------------------------------------------------
    def _finish(self, status: int, message: str = "") -> None:
        self.out.finish(status, message)
        self._close()

    def _close(self) -> None:
        """on_log/on_done/on_delete, once, however the stream ended."""
        if self.closed:
            return
        self.closed = True
        self.backlog.clear()
        self.face.counters.in_flight -= 1
        if self.stream is not None:
            self.stream.ax.finish()


# grpc.health.v1.HealthCheckResponse{status: SERVING}, serialized (field 1, varint 1).
HEALTH_SERVING = b"\x08\x01"


class HealthHandler:
    """``grpc.health.v1.Health/Check``, answered from the worker's event loop.

    Envoy's gRPC health check uses it: unlike a TCP connect (which the kernel accepts for a
    stopped or stuck process), it fails when the loop cannot answer, so a hung worker's slot
    leaves Envoy's rotation within one check instead of eating requests until its heartbeat
    kill.
    """

    def __init__(self, out: GrpcStream, headers: Headers) -> None:
        self.out = out

    def on_message(self, message: bytes) -> None:
        self.out.send(HEALTH_SERVING)
        self.out.finish(GrpcStatus.OK)

    def on_end(self) -> None:
        self.out.finish(GrpcStatus.OK)

    def on_reset(self) -> None:
        pass


class ExtProcServer:
    """The ext_proc face on one worker slot's public ``extproc-<slot>.sock``."""

    def __init__(
        self,
        service: WorkerService,
        public_path: Path,
        *,
        streamed_bodies: bool = False,
        limits: ClientLimits | None = None,
    ) -> None:
        self.service = service
        self.limits = limits  # daemon.client_* (None: ClientLimits' defaults)
        self.public_path = public_path
        self.streamed_bodies = streamed_bodies  # daemon.extproc_body_mode = "streamed"
        self.counters = FaceStats()
        self._server: GrpcServer | None = None

    def _open(self, out: GrpcStream, headers: Headers) -> ExtProcHandler:
        chain = end_after = None
        for k, v in headers:  # the first value of each: a per-route one comes first
            if k == CHAIN_METADATA_KEY_BYTES and chain is None:
                chain = v.decode()
            elif k == END_AFTER_METADATA_KEY and end_after is None:
                end_after = v
        return ExtProcHandler(self, out, chain, end_after == END_AFTER_RESPONSE_HEADERS)

    async def start(
        self, mode: int = 0o660, *, sock: socket.socket | None = None, backlog: int = 1024
    ) -> None:
        """Serve ``sock`` (a listening socket the supervisor holds for this slot, so it
        outlives this worker) or else bind a private path and rename it onto the public
        path (atomic takeover)."""
        routes: dict[bytes, HandlerFactory] = {
            PROCESS_PATH: self._open,
            HEALTH_CHECK_PATH: HealthHandler,
        }
        server = GrpcServer(routes, limits=self.limits)
        if sock is not None:
            await server.start_on(sock, backlog=backlog)
        else:
            private = private_path(self.public_path)
            await server.start(str(private))
            publish(private, self.public_path, mode)
        self._server = server

    def stats(self) -> FaceStats:
        return self.counters

    def open_streams(self) -> tuple[int, int]:
        """See ``GrpcServer.open_streams``; (0, 0) when not serving."""
        return self._server.open_streams() if self._server is not None else (0, 0)

    async def drain(self, timeout_s: float) -> None:
        """Stop taking new streams (GOAWAY), let in-flight ones finish up to ``timeout_s``."""
        if self._server is not None:
            server, self._server = self._server, None
            await server.drain(timeout_s)

    async def close(self) -> None:
        await self.drain(0)


CHAIN_METADATA_KEY_BYTES = CHAIN_METADATA_KEY.encode()


def private_path(public_path: Path) -> Path:
    """The per-process path a server binds before renaming it onto ``public_path``."""
    public_path.parent.mkdir(parents=True, exist_ok=True)
    private = public_path.with_name(f".{public_path.name}.{os.getpid()}.tmp")
    private.unlink(missing_ok=True)
    return private


def publish(private: Path, public_path: Path, mode: int) -> None:
    """Give the bound socket its mode, then rename it onto the public path: the takeover
    is atomic, and the previous server's connections stay with it."""
    os.chmod(private, mode)
    os.rename(private, public_path)
