"""A gRPC server on a Unix socket: the asyncio shell around ``h2core``.

It routes each stream by ``:path`` to a handler factory and gives the handler a
``GrpcStream`` to answer on. Handlers are called synchronously from ``data_received``; the
replies produced during one read leave in one write. A handler that has to wait (a paused
plugin) starts its own task and answers later; that write goes out at once.

The listening socket is either inherited (the supervisor holds each slot's socket so it
outlives any one worker: ``start_on``) or bound on a private path and renamed onto the
public one by the caller; nothing here ever unlinks a path (see extproc.py for why).

Client limits (``ClientLimits``, docs/limits.md): connections past ``max_connections`` get
GOAWAY and are closed at once; streams and header lists are capped in ``h2core``; a client
that does not read our replies stops being read (``client_guard.ReadGate``); the
handshake, half-received frames and idle connections time out (``client_guard.Sweeper``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from enum import IntEnum
from typing import Protocol, cast
from urllib.parse import quote

from wasmd.kernel.client_limits import ClientLimits
from wasmd.kernel.logs import get_logger
from workers.faces import h2core as h2
from workers.faces.client_guard import Activity, Expiry, ReadGate, Sweeper, expiry

log = get_logger(face="grpc")

Headers = list[tuple[bytes, bytes]]


class GrpcStatus(IntEnum):
    """The gRPC status codes this server answers with (grpc/doc/statuscodes.md)."""

    OK = 0
    INVALID_ARGUMENT = 3
    NOT_FOUND = 5
    RESOURCE_EXHAUSTED = 8
    ABORTED = 10
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14


_RESPONSE_HEADERS = h2.encode_literal(
    [(b":status", b"200"), (b"content-type", b"application/grpc")]
)
_OK_TRAILERS = h2.encode_literal([(b"grpc-status", b"0")])


def _trailers(status: int, message: str, *, trailers_only: bool) -> bytes:
    if status == GrpcStatus.OK and not message and not trailers_only:
        return _OK_TRAILERS
    fields = [(b":status", b"200"), (b"content-type", b"application/grpc")] if trailers_only else []
    fields.append((b"grpc-status", str(int(status)).encode()))
    if message:  # gRPC percent-encodes grpc-message
        fields.append((b"grpc-message", quote(message, safe=" ").encode()))
    return h2.encode_literal(fields)


class Handler(Protocol):
    """One RPC. Calls arrive in stream order; none after ``on_end`` or ``on_reset``."""

    def on_message(self, message: bytes) -> None: ...

    def on_end(self) -> None:
        """The client sent its last message."""

    def on_reset(self) -> None:
        """The stream is gone (client reset, connection lost, shutdown): clean up."""


class GrpcStream:
    """The answering side of one RPC: ``send`` messages, then ``finish`` once."""

    __slots__ = ("_conn", "stream_id", "_headers_sent", "finished")

    def __init__(self, conn: GrpcConnection, stream_id: int) -> None:
        self._conn = conn
        self.stream_id = stream_id
        self._headers_sent = False
        self.finished = False

    def send(self, message: bytes) -> None:
        if self.finished:
            return
        core = self._conn.core
        if not self._headers_sent:
            self._headers_sent = True
            core.send_headers(self.stream_id, _RESPONSE_HEADERS)
        core.send_message(self.stream_id, message)
        self._conn.flush_soon()

    def finish(self, status: int = GrpcStatus.OK, message: str = "") -> None:
        """Trailers with ``status`` (idempotent)."""
        if self.finished:
            return
        self.finished = True
        block = _trailers(status, message, trailers_only=not self._headers_sent)
        self._conn.core.send_headers(self.stream_id, block, end_stream=True)
        self._conn.stream_done(self.stream_id)
        self._conn.flush_soon()


HandlerFactory = Callable[[GrpcStream, Headers], Handler]


class _Unimplemented:
    def __init__(self, stream: GrpcStream, path: bytes) -> None:
        stream.finish(GrpcStatus.UNIMPLEMENTED, f"unknown method {path.decode(errors='replace')}")

    def on_message(self, message: bytes) -> None:
        pass

    def on_end(self) -> None:
        pass

    def on_reset(self) -> None:
        pass


class GrpcConnection(asyncio.Protocol):
    """One client connection: bytes -> h2core events -> handlers; replies -> one write."""

    def __init__(self, server: GrpcServer) -> None:
        self.server = server
        limits = server.limits
        self.core = h2.H2ServerConnection(
            server.max_message_bytes,
            max_streams=limits.max_streams,
            max_header_list_bytes=limits.max_header_bytes,
        )
        self.handlers: dict[int, Handler] = {}
        self.transport: asyncio.Transport | None = None
        self._in_read = False
        self._activity = Activity(asyncio.get_running_loop().time())
        self._gate: ReadGate | None = None
        self._idle_notified = False  # the first GOAWAY of an idle close is out

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self.transport = cast(asyncio.Transport, transport)
        self._gate = ReadGate(self.transport)
        limits = self.server.limits
        self.transport.set_write_buffer_limits(high=limits.write_buffer_bytes)
        if len(self.server.connections) >= limits.max_connections:
            self._refuse()
            return
        self.server.connections.add(self)
        if self.server.shutting_down:
            self.core.start_shutdown()
        self._flush()

    def _refuse(self) -> None:
        """Over ``max_connections``: our SETTINGS, GOAWAY, close; nothing is held for it."""
        self.server.refused_connections += 1
        log.warning("refusing an HTTP/2 connection", limit=self.server.limits.max_connections)
        self.core.finish_shutdown()
        self._close_after_flush()

    def data_received(self, data: bytes) -> None:
        self._in_read = True
        frames = self.core.frames_received
        try:
            for event in self.core.receive(data):
                self._event(event)
        finally:
            self._in_read = False
            self._flush()
        self._activity.read(
            asyncio.get_running_loop().time(),
            progressed=self.core.frames_received != frames,
            partial=self.core.partial_input,
        )

    # -- limits -------------------------------------------------------------------------------
    def pause_writing(self) -> None:
        """The client is not reading: stop reading it until it catches up."""
        if self._gate is not None:
            self._gate.hold(ReadGate.WRITE)

    def resume_writing(self) -> None:
        if self._gate is not None:
            self._gate.release(ReadGate.WRITE)

    def check_expiry(self, now_s: float) -> Expiry | None:
        return expiry(
            self._activity,
            self.server.limits,
            now_s,
            handshake_done=self.core.settings_received,
            busy=bool(self.handlers) or self.core.open_streams > 0,
            reading=self._gate is None or self._gate.reading,
        )

    def expire(self, why: Expiry) -> None:
        """A timeout passed: idle gets the graceful two-step GOAWAY (h2core rule 7, so a
        stream Envoy opens meanwhile is still served) and, if still idle one timeout
        later, the final GOAWAY and close; the others a GOAWAY with an error and close."""
        if why is Expiry.IDLE and not self._idle_notified:
            log.info("closing an idle HTTP/2 connection")
            self._idle_notified = True
            self.core.start_shutdown()
            self._flush()
            return
        if why is Expiry.IDLE:
            self.core.finish_shutdown()
        else:
            log.warning("closing an HTTP/2 connection", reason=why.value)
            self.core.fail(h2.ErrorCode.PROTOCOL_ERROR, why.value)
        self._close_after_flush()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        handlers, self.handlers = self.handlers, {}
        for handler in handlers.values():
            self._call(handler.on_reset)
        self.server.connection_gone(self)

    # -- events -------------------------------------------------------------------------------
    def _event(self, event: h2.Event) -> None:
        if isinstance(event, h2.MessageReceived):
            handler = self.handlers.get(event.stream_id)
            if handler is not None:
                self._call(handler.on_message, event.message)
        elif isinstance(event, h2.StreamOpened):
            self._open(event.stream_id, event.headers)
        elif isinstance(event, h2.StreamEnded):
            handler = self.handlers.get(event.stream_id)
            if handler is not None:
                self._call(handler.on_end)
        elif isinstance(event, h2.StreamReset):
            self._gone(event.stream_id)
        elif isinstance(event, h2.MessageTooLarge):
            self._too_large(event)
        elif isinstance(event, h2.ConnectionFailed):
            log.warning("closing an HTTP/2 connection", code=event.code.name, reason=event.reason)
            self._close_after_flush()
        elif isinstance(event, h2.ShutdownAcknowledged):
            self._close_if_idle()
        # PeerGoingAway: the streams in flight simply finish.

    def _open(self, stream_id: int, headers: Headers) -> None:
        stream = GrpcStream(self, stream_id)
        path = next((v for k, v in headers if k == b":path"), b"")
        factory = self.server.routes.get(path)
        try:
            handler = factory(stream, headers) if factory else _Unimplemented(stream, path)
        except Exception:
            log.exception("opening a stream failed", path=path.decode(errors="replace"))
            stream.finish(GrpcStatus.INTERNAL, "internal error")
            return
        if not stream.finished:  # a handler that answered at once is done already
            self.handlers[stream_id] = handler

    def _too_large(self, event: h2.MessageTooLarge) -> None:
        handler = self.handlers.pop(event.stream_id, None)
        limit = self.server.max_message_bytes
        stream = GrpcStream(self, event.stream_id)
        stream.finish(
            GrpcStatus.RESOURCE_EXHAUSTED,
            f"message of {event.size_bytes} bytes is over the limit of {limit}",
        )
        # The answer is complete; NO_ERROR asks the client to stop sending the rest of the
        # request without failing the response (RFC 9113 8.1).
        self.core.reset(event.stream_id, h2.ErrorCode.NO_ERROR)
        if handler is not None:
            self._call(handler.on_reset)

    def _gone(self, stream_id: int) -> None:
        handler = self.handlers.pop(stream_id, None)
        if handler is not None:
            self._call(handler.on_reset)

    def _call(self, fn: Callable[..., None], *args: bytes) -> None:
        try:
            fn(*args)
        except Exception:  # a handler bug costs its stream, never the connection
            log.exception("gRPC handler failed")

    def stream_done(self, stream_id: int) -> None:
        """The handler finished: it gets no more calls (the core keeps the HTTP/2 state
        until the client ends its side)."""
        self.handlers.pop(stream_id, None)
        self._close_if_idle()

    def _close_if_idle(self) -> None:
        """During a drain, close once no stream can still arrive and none is open."""
        if self.core.refusing_new_streams and not self.handlers:
            self._close_after_flush()

    # -- output -------------------------------------------------------------------------------
    def flush_soon(self) -> None:
        if not self._in_read:
            self._flush()

    def _flush(self) -> None:
        data = self.core.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)
        if self.core.closed:
            self._close_after_flush()

    def _close_after_flush(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            data = self.core.data_to_send()
            if data:
                self.transport.write(data)
            self.transport.close()

    def shutdown(self) -> None:
        """GOAWAY (graceful); the connection closes once its streams are done."""
        self.core.start_shutdown()
        self._flush()


class GrpcServer:
    """Routes ``:path`` -> handler factory on one listening Unix socket."""

    def __init__(
        self,
        routes: dict[bytes, HandlerFactory],
        max_message_bytes: int = h2.DEFAULT_MAX_MESSAGE_BYTES,
        limits: ClientLimits | None = None,
    ) -> None:
        self.routes = routes
        self.max_message_bytes = max_message_bytes
        self.limits = limits or ClientLimits()
        self.refused_connections = 0  # over limits.max_connections since start
        self.connections: set[GrpcConnection] = set()
        self._sweeper = Sweeper(self.limits, lambda: self.connections)
        self.shutting_down = False
        self._server: asyncio.AbstractServer | None = None
        self._idle = asyncio.Event()

    async def start(self, path: str, *, backlog: int = 128) -> None:
        """Listen on ``path`` (which must not exist)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)
            sock.listen(backlog)
        except OSError:
            sock.close()
            raise
        await self.start_on(sock, backlog=backlog)

    async def start_on(self, sock: socket.socket, *, backlog: int = 128) -> None:
        """Accept on ``sock``, already listening (maybe inherited: asyncio listen()s again
        with ``backlog``, which sets the queue length of the one socket every holder
        shares, so pass the length its owner chose)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(
            lambda: GrpcConnection(self), sock=sock, backlog=backlog
        )
        self._sweeper.start()

    def open_streams(self) -> tuple[int, int]:
        """(handlers still running, HTTP/2 streams still open) over every connection; both
        return to 0 once every RPC has ended, however it ended."""
        conns = list(self.connections)
        return sum(len(c.handlers) for c in conns), sum(c.core.open_streams for c in conns)

    def connection_gone(self, conn: GrpcConnection) -> None:
        self.connections.discard(conn)
        if not self.connections:
            self._idle.set()

    async def drain(self, timeout_s: float) -> None:
        """Stop accepting, GOAWAY every connection, wait up to ``timeout_s`` for their
        streams to finish, then close what is left (idempotent)."""
        self.shutting_down = True
        if self._server is not None:
            self._server.close()
            self._server = None
        for conn in list(self.connections):
            conn.shutdown()
        if self.connections:
            self._idle.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), timeout_s)
        self._sweeper.stop()
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.abort()
