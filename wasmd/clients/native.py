"""An asyncio client for the native protocol, for proxies and tests.

``await Client.connect(path)``, then ``await client.exchange(...)`` runs the phases of one
HTTP exchange and returns every reply plus the request and response as the plugins left
them; ``await client.open()`` gives a ``Stream`` for phase-by-phase control.

Connections: one at a time, multiplexing every stream. After GOAWAY new streams go to a
fresh connection (the kernel hands it to a worker that is not draining) while streams in
flight finish on the old one. ``exchange`` retries, on a fresh connection, a stream that
never got a reply because the connection died or the server refused it (GOAWAY): the
server never ran a phase of it that produced an answer, so repeating it is safe. A stream
that was partly answered fails with ConnectionLost instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, cast

from wasmd.clients import withhold as withhold_
from wasmd.kernel import native_protocol as p
from wasmd.kernel.errors import ProtocolError, WorkerUnavailable

DEFAULT_RETRIES = 3  # a kill -9 loop can refuse the same exchange more than once
CONNECT_TIMEOUT_S = 5.0
CONNECT_RETRY_S = 0.02  # the socket may be between owners for a moment during restarts


class StreamRefused(WorkerUnavailable):
    """The stream got no reply before its connection died or went away: safe to retry."""


class ConnectionLost(WorkerUnavailable):
    """The connection died after the server had answered part of this stream."""


class ServerError(ProtocolError):
    """The server sent ERROR (the connection is closed); ``code`` says why."""

    def __init__(self, code: p.ErrorCode, message: str) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code


@dataclass(frozen=True, slots=True)
class ExchangeResult:
    """Every reply (phase name, reply) and the exchange as the plugins left it."""

    actions: tuple[tuple[str, p.Reply], ...]
    request_headers: tuple[p.Pair, ...]
    request_body: bytes
    response_headers: tuple[p.Pair, ...]
    response_body: bytes
    request_trailers: tuple[p.Pair, ...] = ()
    response_trailers: tuple[p.Pair, ...] = ()
    local_response: p.LocalResponse | None = None
    reset: bool = False
    attempts: int = 1


_REPLIES = (p.Continue, p.LocalResponse, p.Reset)  # a tuple: ``A | B`` builds a union per call


class _Waiter(Protocol):
    """What awaits a stream's reply: a Future (``Stream``) or an ``_ExchangeDriver``."""

    def done(self) -> bool: ...

    def set_result(self, reply: p.Reply, /) -> None: ...

    def set_exception(self, error: BaseException, /) -> None: ...


class _Link(asyncio.Protocol):
    """One connection: the protocol core plus a waiter per stream awaiting a reply."""

    def __init__(self, max_frame_bytes: int) -> None:
        self.conn = p.Connection(p.Role.CLIENT, max_frame_bytes=max_frame_bytes)
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()
        self.hello: asyncio.Future[None] = self.loop.create_future()
        self.waiters: dict[int, _Waiter] = {}
        self.answered: set[int] = set()  # open streams that got a reply (for StreamRefused)
        self.dead: Exception | None = None
        self.next_stream_id = 1
        self._outbox: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(
            self.conn.send(p.Hello(p.PROTOCOL_VERSIONS, self.conn.max_frame_bytes))
        )

    def data_received(self, data: bytes) -> None:
        try:
            messages = self.conn.receive_data(data)
        except p.RemoteProtocolError as exc:
            with contextlib.suppress(p.LocalProtocolError):
                self._write(p.Error(exc.stream_id, exc.code, str(exc)))
            self._die(ServerError(exc.code, f"the server broke the protocol: {exc}"))
            return
        for msg in messages:
            self._dispatch(msg)
        if self.conn.pending_error is not None:
            self.data_received(b"")

    def _dispatch(self, msg: p.Message) -> None:
        if isinstance(msg, _REPLIES):  # the common case first
            self.answered.add(msg.stream_id)
            waiter = self.waiters.pop(msg.stream_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(msg)
        elif isinstance(msg, p.Hello):
            if not self.hello.done():
                self.hello.set_result(None)
        elif isinstance(msg, p.GoAway):
            for sid, fut in list(self.waiters.items()):
                if sid > msg.last_stream_id:  # rule 7: never seen by the server
                    self._fail(sid, fut, StreamRefused("the server went away before the stream"))
            self._close_if_idle()
        elif isinstance(msg, p.Error):
            self._die(ServerError(msg.code, msg.message))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._die(ConnectionLost("the connection to wasmd closed"))

    def _die(self, error: Exception) -> None:
        if self.dead is None:
            self.dead = error
        if not self.hello.done():
            self.hello.set_exception(StreamRefused(f"handshake failed: {error}"))
        for sid, fut in list(self.waiters.items()):
            self._fail(sid, fut, error)
        if self.transport is not None:
            self.transport.close()

    def _fail(self, sid: int, fut: _Waiter, error: Exception) -> None:
        self.waiters.pop(sid, None)
        if isinstance(error, ConnectionLost) and sid not in self.answered:
            error = StreamRefused(f"stream {sid} got no reply before the connection closed")
        if not fut.done():
            fut.set_exception(error)

    @property
    def usable(self) -> bool:
        return self.dead is None and self.conn.state is p.ConnState.ACTIVE

    def _write(self, msg: p.Message, *, now: bool = False) -> None:
        """Queue a frame; frames queued in one loop iteration go out in one write.

        An exchange's CLOSE, the next one's OPEN and its REQUEST_HEADERS then cost the
        worker one wake-up instead of three. ``now`` writes at once, with whatever is
        queued: for a phase on a connection with no other stream open, whose frame no
        other stream's could join (saves the loop iteration that would run the flush).
        """
        data = self.conn.send(msg)
        if not data or self.transport is None:
            return
        if now:
            self._outbox.append(data)
            self._flush()
            return
        if not self._outbox:
            self.loop.call_soon(self._flush)
        self._outbox.append(data)

    def _flush(self) -> None:
        data, self._outbox = b"".join(self._outbox), []
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _close_if_idle(self) -> None:
        idle = self.conn.state is p.ConnState.GOING_AWAY and not self.conn.streams
        if idle and self.transport is not None:
            self._flush()
            self.transport.close()

    # -- used by Stream -------------------------------------------------------------------
    def open(self, chain: str, properties: Mapping[str, bytes]) -> int:
        sid = self.next_stream_id
        self.next_stream_id += 1
        try:
            self._write(p.Open(sid, chain, dict(properties)))
        except p.LocalProtocolError as exc:
            raise StreamRefused(f"cannot open a stream here: {exc}") from None
        return sid

    async def call(self, msg: p.PhaseMessage) -> p.Reply:
        fut: asyncio.Future[p.Reply] = self.loop.create_future()
        self.send_phase(msg, fut)
        return await fut

    def send_phase(self, msg: p.PhaseMessage, waiter: _Waiter) -> None:
        """Send a phase; its reply (or the stream's failure) goes to ``waiter``.

        Raises what the stream would fail with (StreamRefused, ServerError, ...) if the
        connection cannot carry it, and LocalProtocolError if the phase breaks a rule."""
        sid = msg.stream_id
        if self.dead is not None:
            raise self._error_for(sid)
        if self.conn.goaway_id is not None and sid > self.conn.goaway_id:
            raise StreamRefused("the server went away before the stream")
        self.waiters[sid] = waiter
        self._write(msg, now=len(self.conn.streams) == 1)

    def _error_for(self, sid: int) -> Exception:
        if isinstance(self.dead, ConnectionLost) and sid not in self.answered:
            return StreamRefused(f"stream {sid} got no reply before the connection closed")
        assert self.dead is not None
        return self.dead

    def close_stream(self, sid: int) -> None:
        self.waiters.pop(sid, None)
        self.answered.discard(sid)  # a closed stream is never retried: forget it
        if self.dead is None and sid in self.conn.streams:
            self._write(p.Close(sid))
        self._close_if_idle()


class Stream:
    """One HTTP exchange on the wire; each phase returns the server's reply."""

    def __init__(self, link: _Link, stream_id: int) -> None:
        self._link = link
        self.stream_id = stream_id

    async def request_headers(self, headers: Sequence[p.Pair], end_of_stream: bool) -> p.Reply:
        return await self._link.call(
            p.RequestHeaders(self.stream_id, tuple(headers), end_of_stream)
        )

    async def request_body(self, data: bytes, end_of_stream: bool) -> p.Reply:
        return await self._link.call(p.RequestBody(self.stream_id, data, end_of_stream))

    async def request_trailers(self, trailers: Sequence[p.Pair]) -> p.Reply:
        return await self._link.call(p.RequestTrailers(self.stream_id, tuple(trailers)))

    async def response_headers(self, headers: Sequence[p.Pair], end_of_stream: bool) -> p.Reply:
        return await self._link.call(
            p.ResponseHeaders(self.stream_id, tuple(headers), end_of_stream)
        )

    async def response_body(self, data: bytes, end_of_stream: bool) -> p.Reply:
        return await self._link.call(p.ResponseBody(self.stream_id, data, end_of_stream))

    async def response_trailers(self, trailers: Sequence[p.Pair]) -> p.Reply:
        return await self._link.call(p.ResponseTrailers(self.stream_id, tuple(trailers)))

    def close(self) -> None:
        """End the stream (the server runs on_log/on_done); idempotent, never raises."""
        self._link.close_stream(self.stream_id)


@dataclass(slots=True)
class _Outcome:
    """What one exchange looks like so far, replies applied."""

    request_headers: list[p.Pair]
    request_body: bytes = b""
    request_trailers: list[p.Pair] = field(default_factory=list)
    response_headers: list[p.Pair] = field(default_factory=list)
    response_body: bytes = b""
    response_trailers: list[p.Pair] = field(default_factory=list)
    actions: list[tuple[str, p.Reply]] = field(default_factory=list)
    local: p.LocalResponse | None = None
    reset: bool = False

    def apply(self, phase: str, reply: p.Reply, sent: Sequence[p.Pair] | bytes) -> bool:
        """Record ``reply`` to ``phase``; False when the exchange ends here."""
        self.actions.append((phase, reply))
        if isinstance(reply, p.LocalResponse):
            self.local = reply
            return False
        if isinstance(reply, p.Reset):
            self.reset = True
            return False
        if isinstance(sent, bytes):
            data = sent if reply.body is None else reply.body
            setattr(self, phase, getattr(self, phase) + data)
        else:
            setattr(self, phase, p.apply_mutation(sent, reply.set_headers, reply.remove_headers))
        return True

    def result(self, attempts: int) -> ExchangeResult:
        return ExchangeResult(
            tuple(self.actions),
            tuple(self.request_headers),
            self.request_body,
            tuple(self.response_headers),
            self.response_body,
            tuple(self.request_trailers),
            tuple(self.response_trailers),
            self.local,
            self.reset,
            attempts,
        )


class _Phase(NamedTuple):  # a tuple: built twice per exchange, ~3x cheaper than a dataclass
    """One phase of a planned exchange: its name, what is sent, the message for a stream id."""

    name: str  # an _Outcome field
    sent: Sequence[p.Pair] | bytes
    message: Callable[[int], p.PhaseMessage]


def _plan(
    request_headers: Sequence[p.Pair],
    request_body: bytes,
    request_trailers: Sequence[p.Pair] | None,
    response_headers: Sequence[p.Pair] | None,
    response_body: bytes,
    response_trailers: Sequence[p.Pair] | None,
) -> list[_Phase]:
    """The phases ``Client.exchange`` sends, in order, end_of_stream set on each direction's
    last one (messages are built per attempt: a retry uses a new stream id)."""
    req_h, req_t = tuple(request_headers), request_trailers
    eos = not request_body and req_t is None
    phases = [_Phase("request_headers", req_h, lambda sid: p.RequestHeaders(sid, req_h, eos))]
    if request_body:
        end = req_t is None
        phases.append(
            _Phase("request_body", request_body, lambda sid: p.RequestBody(sid, request_body, end))
        )
    if req_t is not None:
        trailers = tuple(req_t)
        phases.append(
            _Phase("request_trailers", trailers, lambda sid: p.RequestTrailers(sid, trailers))
        )
    if response_headers is not None:
        phases += _plan_response(tuple(response_headers), response_body, response_trailers)
    return phases


def _plan_response(
    headers: tuple[p.Pair, ...], body: bytes, trailers: Sequence[p.Pair] | None
) -> list[_Phase]:
    eos = not body and trailers is None
    phases = [_Phase("response_headers", headers, lambda sid: p.ResponseHeaders(sid, headers, eos))]
    if body:
        end = trailers is None
        phases.append(_Phase("response_body", body, lambda sid: p.ResponseBody(sid, body, end)))
    if trailers is not None:
        rt = tuple(trailers)
        phases.append(_Phase("response_trailers", rt, lambda sid: p.ResponseTrailers(sid, rt)))
    return phases


class _ExchangeDriver:
    """Runs a planned exchange from the connection's reads: each reply is applied and the
    next phase sent in the same callback, so a phase costs no task wake-up (a Future per
    phase cost a loop iteration each); ``outcome`` resolves once, when the exchange ends.
    A waiter for ``_Link.send_phase``."""

    def __init__(self, link: _Link, sid: int, phases: list[_Phase]) -> None:
        self.link = link
        self.sid = sid
        self.phases = phases
        self.next = 0  # index of the phase awaiting its reply
        self.state = _Outcome(list(phases[0].sent))  # type: ignore[arg-type]
        self.outcome: asyncio.Future[_Outcome] = link.loop.create_future()

    def start(self) -> None:
        """Send the first phase; raises as ``_Link.send_phase`` does."""
        self.link.send_phase(self.phases[0].message(self.sid), self)

    def done(self) -> bool:
        return self.outcome.done()

    def set_result(self, reply: p.Reply, /) -> None:
        if self.outcome.done():  # the awaiting task was cancelled
            return
        phase = self.phases[self.next]
        self.next += 1
        if not self.state.apply(phase.name, reply, phase.sent) or self.next == len(self.phases):
            self.outcome.set_result(self.state)
            return
        try:
            self.link.send_phase(self.phases[self.next].message(self.sid), self)
        except Exception as exc:  # the caller of exchange() gets it, as from an await
            self.outcome.set_exception(exc)

    def set_exception(self, error: BaseException, /) -> None:
        if not self.outcome.done():
            self.outcome.set_exception(error)


class Client:
    """Native-protocol client; one event loop owns it. Use ``async with`` or ``close()``."""

    def __init__(self, path: str | os.PathLike[str], *, max_frame_bytes: int, retries: int):
        self.path = os.fspath(path)
        self.max_frame_bytes = max_frame_bytes
        self.retries = retries
        self.connections_opened = 0
        self._link: _Link | None = None
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(
        cls,
        path: str | os.PathLike[str],
        *,
        max_frame_bytes: int = p.DEFAULT_MAX_FRAME_BYTES,
        retries: int = DEFAULT_RETRIES,
    ) -> Client:
        """Connect and handshake; raises WorkerUnavailable if nobody answers in time."""
        client = cls(path, max_frame_bytes=max_frame_bytes, retries=retries)
        await client._current()
        return client

    def _ready_link(self) -> _Link | None:
        """The connection, if it takes new streams (checked without a coroutine per stream)."""
        link = self._link
        return link if link is not None and link.usable else None

    async def _current(self) -> _Link:
        link = self._link
        if link is not None and link.usable:
            return link
        async with self._lock:
            if self._link is None or not self._link.usable:
                self._link = await self._dial()
            return self._link

    async def _dial(self) -> _Link:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONNECT_TIMEOUT_S
        while True:
            try:
                _, link = await loop.create_unix_connection(
                    lambda: _Link(self.max_frame_bytes), self.path
                )
                await asyncio.wait_for(link.hello, max(0.01, deadline - loop.time()))
                self.connections_opened += 1
                return link
            except (OSError, StreamRefused, TimeoutError) as exc:
                if loop.time() >= deadline:
                    raise WorkerUnavailable(f"cannot reach wasmd at {self.path}: {exc}") from exc
                await asyncio.sleep(CONNECT_RETRY_S)

    async def open(self, chain: str = "", properties: Mapping[str, bytes] | None = None) -> Stream:
        """A new stream on the current connection (a fresh one after GOAWAY)."""
        link = self._ready_link() or await self._current()
        return Stream(link, link.open(chain, properties or {}))

    async def exchange(
        self,
        *,
        chain: str = "",
        properties: Mapping[str, bytes] | None = None,
        request_headers: Sequence[p.Pair],
        request_body: bytes = b"",
        request_trailers: Sequence[p.Pair] | None = None,
        response_headers: Sequence[p.Pair] | None = None,
        response_body: bytes = b"",
        response_trailers: Sequence[p.Pair] | None = None,
        withhold: Collection[bytes | str] = (),
    ) -> ExchangeResult:
        """Run every given phase in order; stop at a local response or reset.

        Retries (up to ``retries`` times) only a stream that got no reply at all.
        Raises ServerError (e.g. UNKNOWN_CHAIN), ConnectionLost, or WorkerUnavailable.
        ``withhold``: header names not sent at all (no plugin of the chain may see them,
        docs/visibility.md); the result has them back, unchanged.
        """
        if withhold:
            return await self._withholding(
                withhold, chain, properties, request_headers, request_body, request_trailers,
                response_headers, response_body, response_trailers,
            )  # fmt: skip
        phases = _plan(
            request_headers,
            request_body,
            request_trailers,
            response_headers,
            response_body,
            response_trailers,
        )
        for attempt in range(1, self.retries + 2):
            try:
                outcome = await self._run(chain, properties, phases)
            except StreamRefused:
                if attempt > self.retries:
                    raise
                continue
            return outcome.result(attempt)
        raise AssertionError("unreachable")

    async def _withholding(
        self,
        withhold: Collection[bytes | str],
        chain: str,
        properties: Mapping[str, bytes] | None,
        *phases: Any,
    ) -> ExchangeResult:
        """``exchange`` without the withheld headers on the wire (wasmd/clients/withhold.py)."""
        names = withhold_.names(withhold)
        req_h, req_body, req_t, resp_h, resp_body, resp_t = phases
        sent: list[Any] = []
        kept: list[tuple[p.Pair, ...]] = []
        for pairs in (req_h, req_t, resp_h, resp_t):
            out, back = withhold_.split(pairs, names) if pairs is not None else (None, ())
            sent.append(out)
            kept.append(back)
        result = await self.exchange(
            chain=chain,
            properties=properties,
            request_headers=sent[0],
            request_body=req_body,
            request_trailers=sent[1],
            response_headers=sent[2],
            response_body=resp_body,
            response_trailers=sent[3],
        )
        # Only the phases that went on (a local reply or a reset ends the exchange early).
        went_on = {name for name, reply in result.actions if isinstance(reply, p.Continue)}
        fields = ("request_headers", "request_trailers", "response_headers", "response_trailers")
        restored: dict[str, Any] = {
            name: withhold_.restore(getattr(result, name), back, names)
            for name, back in zip(fields, kept, strict=True)
            if back and (name in went_on or name == "request_headers")
        }
        return dataclasses.replace(result, **restored)

    async def _run(
        self, chain: str, properties: Mapping[str, bytes] | None, phases: list[_Phase]
    ) -> _Outcome:
        link = self._ready_link() or await self._current()
        sid = link.open(chain, properties or {})
        driver = _ExchangeDriver(link, sid, phases)
        try:
            driver.start()
            return await driver.outcome
        finally:
            link.close_stream(sid)

    async def close(self) -> None:
        """Close the connection; streams still open fail with ConnectionLost. Idempotent."""
        link, self._link = self._link, None
        if link is not None and link.transport is not None:
            link._flush()  # CLOSE frames still queued: the server runs on_log/on_done
            link.transport.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
