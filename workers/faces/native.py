"""The worker's native face: the msgpack protocol (wasmd.kernel.native_protocol), Unix socket.

One ``AsyncExchange`` per stream. Each phase message runs that phase through the chain
and answers with what the plugins decided: CONTINUE with the header mutations (by diff)
and the body to forward, LOCAL_RESPONSE, or RESET. A stream's exchange is finished
(on_log, on_done, on_delete) when the client closes it, and also when the connection
drops mid-stream. Anything a client sends that breaks the protocol gets an ERROR frame
and its connection closed; other connections and the worker carry on.

Socket sharing: the supervisor binds the public path and every worker accepts on the
inherited fd. ``start(sock, backlog=...)`` passes ``backlog`` explicitly because asyncio
re-listens an adopted socket with its default of 100, overriding the supervisor's value.
``drain`` closes only this process's copy of the listening socket, so queued connections
stay with the other workers.

Client limits (``ClientLimits``, docs/limits.md): connections past ``max_connections`` get
ERROR LIMIT_EXCEEDED; streams per connection are capped in the protocol core; header lists
and body bytes per stream in ``native_limits``; the frames of one read are handled in
batches with the loop free in between; a client that does not read stops being read; the
HELLO exchange, half-received frames and idle connections time out (``client_guard``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from wasmd.kernel import native_protocol as p
from wasmd.kernel.client_limits import ClientLimits
from wasmd.kernel.errors import WasmdError
from wasmd.kernel.logs import get_logger
from workers.contexts.exchange import Step
from workers.faces import native_limits
from workers.faces.client_guard import Activity, ReadGate, Sweeper
from workers.faces.mutations import diff_headers, forwarded_body
from workers.faces.native_guard import GuardedPeer
from workers.service import AsyncExchange, UnknownChain, WorkerService

DEFAULT_BACKLOG = 100  # asyncio's own default, stated so callers see it
PAUSE_TIMEOUT_STATUS = 504  # a paused phase that no plugin resumed: the gateway timed out
LINGER_S = 1.0  # after our last frame, how long a client gets to read it and hang up
DISPATCH_BATCH = 128  # messages handled per loop turn: one read cannot starve the loop

log = get_logger(face="native")


@dataclass(frozen=True, slots=True)
class FaceStats:
    requests: int  # streams finished since start
    in_flight: int  # streams open now
    connections: int  # connections open now
    refused_connections: int = 0  # over client_max_connections since start


@dataclass(slots=True)
class _Stream:
    exchange: AsyncExchange
    task: asyncio.Task[None] | None = None
    closed: bool = False
    request_offset: int = 0  # bytes of exchange.request_body already forwarded
    response_offset: int = 0
    bodies: native_limits.BodyCount = field(default_factory=native_limits.BodyCount)


@dataclass(slots=True)
class _Counters:
    requests: int = 0
    in_flight: int = 0
    refused_connections: int = 0


class NativeServer:
    """Serves the native protocol for one WorkerService. One event loop owns it."""

    def __init__(
        self,
        service: WorkerService,
        *,
        max_frame_bytes: int = p.DEFAULT_MAX_FRAME_BYTES,
        limits: ClientLimits | None = None,
    ) -> None:
        self.service = service
        self.max_frame_bytes = max_frame_bytes
        self.limits = limits or ClientLimits()
        self._sweeper = Sweeper(self.limits, lambda: self._peers)
        self.draining = False
        self._server: asyncio.AbstractServer | None = None
        self._peers: set[_Peer] = set()
        self._counters = _Counters()
        self._idle: asyncio.Event | None = None
        self._path: str | None = None

    async def start(self, sock: socket.socket | str | os.PathLike[str], *, backlog: int) -> None:
        """Serve on a listening socket (e.g. inherited from the supervisor) or bind a path."""
        loop = asyncio.get_running_loop()
        self._idle = asyncio.Event()
        kwargs: dict[str, Any] = {"backlog": backlog}
        if sys.version_info >= (3, 13):
            kwargs["cleanup_socket"] = False  # never unlink the supervisor's public path
        if isinstance(sock, socket.socket):
            self._server = await loop.create_unix_server(self._new_peer, sock=sock, **kwargs)
        else:
            self._path = os.fspath(sock)
            self._server = await loop.create_unix_server(self._new_peer, self._path, **kwargs)
        self._sweeper.start()

    def _new_peer(self) -> _Peer:
        return _Peer(self)

    def stats(self) -> FaceStats:
        """Requests served, streams in flight, connections open."""
        c = self._counters
        return FaceStats(c.requests, c.in_flight, len(self._peers), c.refused_connections)

    async def drain(self, timeout_s: float) -> None:
        """Stop accepting, GOAWAY every connection, and wait (up to ``timeout_s``) until
        their in-flight streams finish and they close; then close what is left."""
        self.draining = True
        self._stop_listening()
        for peer in list(self._peers):
            peer.go_away()
        await self._wait_idle(timeout_s)
        for peer in list(self._peers):
            peer.abort()
        await self._wait_idle(1.0)

    async def close(self) -> None:
        """Stop listening and drop every connection (their streams are finished); idempotent."""
        self._stop_listening()
        for peer in list(self._peers):
            peer.abort()
        await self._wait_idle(1.0)

    async def __aenter__(self) -> NativeServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _stop_listening(self) -> None:
        self._sweeper.stop()
        if self._server is not None:
            self._server.close()  # closes this process's fd only
            self._server = None
            if self._path is not None:
                with contextlib.suppress(OSError):
                    os.unlink(self._path)

    async def _wait_idle(self, timeout_s: float) -> None:
        if not self._peers or self._idle is None:
            return
        self._idle.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout_s)

    def _peer_gone(self, peer: _Peer) -> None:
        self._peers.discard(peer)
        if not self._peers and self._idle is not None:
            self._idle.set()


class _Peer(GuardedPeer, asyncio.Protocol):
    """One client connection: bytes -> protocol core -> exchanges -> replies."""

    def __init__(self, server: NativeServer) -> None:
        self.server = server
        self.conn = p.Connection(
            p.Role.SERVER,
            max_frame_bytes=server.max_frame_bytes,
            max_streams=server.limits.max_streams,
        )
        self.streams: dict[int, _Stream] = {}
        self.transport: asyncio.Transport | None = None
        self.counters = self.refusals = server._counters
        self.limits = server.limits
        self.lingering = False
        self._batch: list[bytes] | None = None
        self._backlog: deque[p.Message] = deque()  # decoded, not yet handled (DISPATCH_BATCH)
        self._activity = Activity(asyncio.get_running_loop().time())
        self._gate: ReadGate | None = None

    # -- asyncio.Protocol -----------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self.transport = cast(asyncio.Transport, transport)
        self._gate = ReadGate(self.transport)
        if self.refuse_if_full(len(self.server._peers)):
            return
        self.server._peers.add(self)
        if self.server.draining:  # accepted in the instant before drain closed the socket
            transport.close()

    def data_received(self, data: bytes) -> None:
        # Replies to the frames of one read leave in one write: one wake-up of the client.
        self._batch = []
        try:
            self._receive(data)
        finally:
            self._flush_batch()
            self._batch = None

    def _flush_batch(self) -> None:
        batch = self._batch
        if batch:
            self._batch = []
            if self.transport is not None and not self.transport.is_closing():
                self.transport.write(b"".join(batch))

    def _receive(self, data: bytes) -> None:
        if self.lingering:
            return  # closing: the client's frames are read only to drain the socket
        try:
            messages = self.conn.receive_data(data)
        except p.RemoteProtocolError as exc:
            self.fail(exc.code, str(exc), exc.stream_id)
            return
        self.read_done(progressed=bool(messages))
        self._backlog.extend(messages)
        self._dispatch_backlog()

    def _dispatch_backlog(self) -> None:
        """Handle up to DISPATCH_BATCH messages; the rest wait for the next loop turn, with
        reading paused, so the heartbeat and other connections get the loop in between."""
        backlog = self._backlog
        for _ in range(min(len(backlog), DISPATCH_BATCH)):
            try:
                self._dispatch(backlog.popleft())
            except Exception as exc:  # a bug here must cost one connection, not the worker
                log.exception("dispatch failed")
                self.fail(p.ErrorCode.INTERNAL, f"internal error: {type(exc).__name__}")
            if self.lingering or self.transport is None or self.transport.is_closing():
                backlog.clear()
                return
        if self._gate is None:
            return
        if backlog:
            self._gate.hold(ReadGate.BACKLOG)
            asyncio.get_running_loop().call_soon(self._next_batch)
            return
        self._gate.release(ReadGate.BACKLOG)
        if self.conn.pending_error is not None:
            self._receive(b"")

    def _next_batch(self) -> None:
        self._batch = []
        try:
            self._dispatch_backlog()
        finally:
            self._flush_batch()
            self._batch = None

    def eof_received(self) -> bool:
        return False  # the client hung up: close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._backlog.clear()
        for sid in list(self.streams):
            self._close_stream(sid, cancel=True)
        self.server._peer_gone(self)

    # -- messages -------------------------------------------------------------------------
    def _dispatch(self, msg: p.Message) -> None:
        _HANDLERS.get(type(msg), _Peer._start_phase)(self, msg)

    def _hello(self, msg: p.Hello) -> None:
        self._write(p.Hello((self.conn.version or 1,), self.server.max_frame_bytes))
        if self.server.draining:
            self.go_away()

    def _close(self, msg: p.Close) -> None:
        self._close_stream(msg.stream_id, cancel=False)
        self._maybe_done()

    def _error(self, msg: p.Error) -> None:
        log.info("client sent an error", code=msg.code.name, message=msg.message)
        self.abort()

    def _open(self, msg: p.Open) -> None:
        try:
            exchange = self.server.service.open(msg.chain or None, dict(msg.properties))
        except UnknownChain as exc:
            self.fail(p.ErrorCode.UNKNOWN_CHAIN, str(exc), msg.stream_id)
            return
        self.streams[msg.stream_id] = _Stream(exchange)
        self.counters.in_flight += 1

    def _start_phase(self, msg: p.PhaseMessage) -> None:
        """Run the phase at once; only a phase a plugin paused waits in a task."""
        sid = msg.stream_id
        stream = self.streams[sid]  # the core already checked the stream is open
        refused = native_limits.refusal(msg, stream.bodies, self.server.limits)
        if refused is not None:
            self._reply(refused)
            return
        step = begin_phase(stream, msg)
        if step is Step.PAUSE:
            task = asyncio.get_running_loop().create_task(self._phase(sid, stream, msg, step))
            stream.task = task
            return
        self._reply(finish_phase(sid, stream, msg, step))

    async def _phase(self, sid: int, stream: _Stream, msg: p.Message, step: Step) -> None:
        try:
            step = await stream.exchange.settle(step)
            reply = finish_phase(sid, stream, msg, step)
        except asyncio.CancelledError:
            return
        except Exception as exc:  # a bug here must cost one connection, not the worker
            log.exception("phase failed", stream=sid)
            self.fail(p.ErrorCode.INTERNAL, f"internal error: {type(exc).__name__}", sid)
            return
        finally:
            stream.task = None
            if stream.closed:
                self._finish(stream)
        if not stream.closed:
            self._reply(reply)

    def _reply(self, reply: p.Reply) -> None:
        try:
            self._write(reply)
        except p.LocalProtocolError as exc:
            if exc.code is not p.ErrorCode.FRAME_TOO_LARGE:
                raise
            log.warning("reply too large for the client; resetting", stream=reply.stream_id)
            self._write(p.Reset(reply.stream_id))

    # -- stream ends ----------------------------------------------------------------------
    def _close_stream(self, sid: int, *, cancel: bool) -> None:
        stream = self.streams.pop(sid, None)
        if stream is None:
            return
        stream.closed = True
        self.counters.in_flight -= 1
        if stream.task is None:
            self._finish(stream)
        elif cancel:
            stream.task.cancel()  # its finally runs _finish once the phase unwinds

    def _finish(self, stream: _Stream) -> None:
        """on_log, on_done, on_delete for every plugin of the stream's chain."""
        self.counters.requests += 1
        try:
            stream.exchange.finish()
        except WasmdError as exc:
            log.warning("finishing a stream failed", error=str(exc))
        except Exception:
            log.exception("finishing a stream failed")

    # -- connection ends ------------------------------------------------------------------
    def go_away(self) -> None:
        """GOAWAY (rule 7); the connection closes once its streams are finished."""
        if self.transport is None or self.transport.is_closing():
            return
        if self.conn.state is p.ConnState.HANDSHAKE:
            self.transport.close()  # nothing started here yet: the client reconnects elsewhere
            return
        if self.conn.state is p.ConnState.ACTIVE:
            self._write(p.GoAway(self.conn.last_stream_id))
        self._maybe_done()

    def _maybe_done(self) -> None:
        if self.conn.state is p.ConnState.GOING_AWAY and not self.streams:
            self._linger_close()

    def fail(self, code: p.ErrorCode, message: str, stream_id: int = 0) -> None:
        """Send ERROR and close the connection (rule 8)."""
        log.info("closing a connection for a protocol error", code=code.name, error=message)
        with contextlib.suppress(p.LocalProtocolError):
            self._write(p.Error(stream_id, code, message))
        self._linger_close()

    def _linger_close(self) -> None:
        """Half-close, then close once the client does (or LINGER_S passes).

        Closing a Unix socket with unread input makes the peer's next read fail with
        ECONNRESET, which can discard our last frames (ERROR, GOAWAY) before the client
        reads them; a client that pipelined frames after ours would lose that frame.
        """
        self._flush_batch()  # our last frames go out before the half-close
        transport = self.transport
        if transport is None or transport.is_closing() or self.lingering:
            return
        self.lingering = True
        if transport.can_write_eof():
            transport.write_eof()
        asyncio.get_running_loop().call_later(LINGER_S, transport.close)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _write(self, msg: p.Message) -> None:
        data = self.conn.send(msg)
        if not data:
            return
        if self._batch is not None:
            self._batch.append(data)
        elif self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


# -- phases: AsyncExchange results -> replies ----------------------------------------------


def begin_phase(stream: _Stream, msg: p.Message) -> Step:
    """Feed one phase message to the stream's exchange (synchronous; may return PAUSE).

    The message's tuples go as they are: the exchange copies them into its HeaderMap."""
    ex = stream.exchange.exchange
    if isinstance(msg, p.RequestHeaders):
        return ex.on_request_headers(msg.headers, msg.end_of_stream)
    if isinstance(msg, p.ResponseHeaders):
        return ex.on_response_headers(msg.headers, msg.end_of_stream)
    if isinstance(msg, p.RequestBody):
        return ex.on_request_body(msg.data, msg.end_of_stream)
    if isinstance(msg, p.ResponseBody):
        return ex.on_response_body(msg.data, msg.end_of_stream)
    if isinstance(msg, p.RequestTrailers):
        return ex.on_request_trailers(msg.trailers)
    if isinstance(msg, p.ResponseTrailers):
        return ex.on_response_trailers(msg.trailers)
    raise TypeError(f"not a phase message: {msg!r}")


def finish_phase(sid: int, stream: _Stream, msg: p.Message, step: Step) -> p.Reply:
    """The reply for a phase that ended with ``step``."""
    ax = stream.exchange
    ex = ax.exchange
    if isinstance(msg, p.RequestHeaders):
        return _headers_reply(sid, step, ax, msg.headers, ex.request_headers.pairs())
    if isinstance(msg, p.ResponseHeaders):
        return _headers_reply(sid, step, ax, msg.headers, ex.response_headers.pairs())
    if isinstance(msg, p.RequestBody):
        passed = bytes(ex.request_body[stream.request_offset :])
        stream.request_offset = len(ex.request_body)
        return _body_reply(sid, step, ax, msg.data, passed)
    if isinstance(msg, p.ResponseBody):
        passed = bytes(ex.response_body[stream.response_offset :])
        stream.response_offset = len(ex.response_body)
        return _body_reply(sid, step, ax, msg.data, passed)
    if isinstance(msg, p.RequestTrailers):
        after = ex.request_trailers.pairs() if ex.request_trailers is not None else []
        return _headers_reply(sid, step, ax, msg.trailers, after)
    if isinstance(msg, p.ResponseTrailers):
        after = ex.response_trailers.pairs() if ex.response_trailers is not None else []
        return _headers_reply(sid, step, ax, msg.trailers, after)
    raise TypeError(f"not a phase message: {msg!r}")


# What _Peer does with each client message; phase messages go to _Peer._start_phase.
_HANDLERS: dict[type[Any], Callable[[_Peer, Any], None]] = {
    p.Hello: _Peer._hello,
    p.Open: _Peer._open,
    p.Close: _Peer._close,
    p.Error: _Peer._error,
}


async def run_phase(sid: int, stream: _Stream, msg: p.Message) -> p.Reply:
    """Run one phase message through the stream's exchange and build the reply."""
    step = await stream.exchange.settle(begin_phase(stream, msg))
    return finish_phase(sid, stream, msg, step)


def _headers_reply(
    sid: int, step: Step, ax: AsyncExchange, before: Any, after: list[p.Pair]
) -> p.Reply:
    if step is not Step.CONTINUE:
        return _stopped(sid, step, ax)
    mutation = diff_headers(before, after)
    return p.Continue(sid, mutation.set, mutation.remove)


def _body_reply(sid: int, step: Step, ax: AsyncExchange, chunk: bytes, passed: bytes) -> p.Reply:
    if step is Step.BUFFER:
        return p.Continue(sid, body=forwarded_body(chunk, b""))
    if step is not Step.CONTINUE:
        return _stopped(sid, step, ax)
    return p.Continue(sid, body=forwarded_body(chunk, passed))


def _stopped(sid: int, step: Step, ax: AsyncExchange) -> p.Reply:
    """LOCAL (incl. fail_closed), RESET, or a pause nobody resumed in time."""
    if step is Step.RESET:
        return p.Reset(sid)
    final = ax.exchange.final
    if step in (Step.LOCAL, Step.FAIL) and final is not None:
        return p.LocalResponse(sid, final.status, tuple(final.headers), final.body, final.details)
    if step is Step.PAUSE:
        return p.LocalResponse(sid, PAUSE_TIMEOUT_STATUS, details="wasmd_pause_timeout")
    return p.LocalResponse(sid, 503, details="wasm_fail_stream")


__all__ = ["DEFAULT_BACKLOG", "FaceStats", "NativeServer", "run_phase"]
