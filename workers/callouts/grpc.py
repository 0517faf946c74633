"""gRPC callouts with grpc.aio generic calls (identity serializers: messages are bytes).

One channel per target per worker. A unary call (``proxy_grpc_call``) reports either the
reply message or, on failure, a close with the status (Envoy: ``onSuccess`` ->
``proxy_on_grpc_receive``, ``onFailure`` -> ``proxy_on_grpc_close``). A stream
(``proxy_grpc_stream``) reports initial metadata, each message, trailing metadata and the
close, in that order. Sends are queued and written in order by one writer per stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import grpc
import grpc.aio

from workers.callouts.messages import (
    GrpcCallRequest,
    GrpcClose,
    GrpcEvent,
    GrpcInitialMetadata,
    GrpcMessage,
    GrpcTrailingMetadata,
    Pair,
)

Emit = Callable[[GrpcEvent], None]
StreamKey = tuple[int, int]  # (id of the VM, token)
_END = None  # writer queue sentinel: half-close the stream


# Codes grpcio raises for failures on our side of the wire (no status from the server).
_LOCAL_CODES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED}
)


def close_message(code: grpc.StatusCode, details: str) -> bytes:
    """The proxy_get_status message Envoy 1.40 shows in proxy_on_grpc_close.

    For a status sent by the server Envoy appends its response-code details to the
    grpc-message: "no such thing{via_upstream}", or just "via_upstream" when the server
    sent no message (measured with plugins/c/grpc_callout.c). Local failures keep
    grpcio's text (Envoy's own wording for those was not measured).
    """
    if code in _LOCAL_CODES:
        return details.encode()
    return (f"{details}{{via_upstream}}" if details else "via_upstream").encode()


def metadata_out(pairs: Iterable[Pair]) -> list[tuple[str, str | bytes]]:
    """Plugin pairs -> grpcio metadata (``-bin`` keys carry bytes, others text)."""
    out: list[tuple[str, str | bytes]] = []
    for key, value in pairs:
        name = key.decode("latin-1").lower()
        if name.startswith(":"):
            continue  # pseudo-headers belong to the transport
        out.append((name, value if name.endswith("-bin") else value.decode("latin-1")))
    return out


def metadata_in(md: object) -> tuple[Pair, ...]:
    """grpcio metadata -> pairs as a plugin reads them (bytes both sides)."""
    if not md:
        return ()
    pairs: list[Pair] = []
    for key, value in md:  # type: ignore[attr-defined]
        raw = value if isinstance(value, bytes) else str(value).encode("latin-1")
        pairs.append((str(key).encode("latin-1"), raw))
    return tuple(pairs)


@dataclass(slots=True)
class _Stream:
    call: grpc.aio.StreamStreamCall
    outbox: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class GrpcCallouts:
    """The gRPC client of one worker. Create and close it on the loop that uses it."""

    def __init__(self) -> None:
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._streams: dict[StreamKey, _Stream] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def _channel(self, target: str) -> grpc.aio.Channel:
        channel = self._channels.get(target)
        if channel is None:
            channel = self._channels[target] = grpc.aio.insecure_channel(target)
        return channel

    def _spawn(self, coro: object) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- unary --------------------------------------------------------------------------
    def call(self, request: GrpcCallRequest, emit: Emit) -> asyncio.Task[None]:
        """Start a unary call; ``emit`` gets one GrpcMessage or one GrpcClose."""
        if self._closed:
            raise RuntimeError("GrpcCallouts is closed")
        return self._spawn(self._unary(request, emit))

    async def _unary(self, request: GrpcCallRequest, emit: Emit) -> None:
        method = self._channel(request.upstream.grpc_target).unary_unary(request.path)
        timeout = request.timeout_ms / 1000 if request.timeout_ms > 0 else None
        try:
            reply = await method(
                request.message or b"", timeout=timeout, metadata=metadata_out(request.metadata)
            )
        except grpc.aio.AioRpcError as exc:
            emit(GrpcClose(exc.code().value[0], close_message(exc.code(), exc.details() or "")))
            return
        except (grpc.aio.UsageError, ValueError, TypeError) as exc:  # e.g. bad metadata
            emit(GrpcClose(grpc.StatusCode.INTERNAL.value[0], str(exc).encode()))
            return
        emit(GrpcMessage(bytes(reply)))

    # -- streams ------------------------------------------------------------------------
    def open_stream(self, key: StreamKey, request: GrpcCallRequest, emit: Emit) -> None:
        """Open a bidirectional stream known as ``key``."""
        if self._closed:
            raise RuntimeError("GrpcCallouts is closed")
        method = self._channel(request.upstream.grpc_target).stream_stream(request.path)
        call = method(metadata=metadata_out(request.metadata))
        stream = self._streams[key] = _Stream(call)
        stream.tasks.append(self._spawn(self._write(stream)))
        stream.tasks.append(self._spawn(self._read(key, stream, emit)))

    def send(self, key: StreamKey, message: bytes, end_stream: bool) -> bool:
        """Queue a message (and a half-close if ``end_stream``); False if no such stream."""
        stream = self._streams.get(key)
        if stream is None:
            return False
        stream.outbox.put_nowait(message)
        if end_stream:
            stream.outbox.put_nowait(_END)
        return True

    def close_stream(self, key: StreamKey) -> bool:
        """Half-close (after queued sends) and forget: no more events. False if unknown."""
        stream = self._streams.pop(key, None)
        if stream is None:
            return False
        stream.outbox.put_nowait(_END)
        stream.tasks[1].cancel()  # the reader: nothing is delivered after close
        return True

    def cancel_stream(self, key: StreamKey) -> bool:
        """Reset the stream now; no more events. False if unknown."""
        stream = self._streams.pop(key, None)
        if stream is None:
            return False
        stream.call.cancel()
        for task in stream.tasks:
            task.cancel()
        return True

    async def _write(self, stream: _Stream) -> None:
        try:
            while True:
                message = await stream.outbox.get()
                if message is _END:
                    await stream.call.done_writing()
                    return
                await stream.call.write(message)
        except (grpc.aio.AioRpcError, grpc.aio.UsageError, asyncio.InvalidStateError):
            return  # the call ended; the reader reports how

    async def _read(self, key: StreamKey, stream: _Stream, emit: Emit) -> None:
        call = stream.call
        try:
            initial = await call.initial_metadata()
            emit(GrpcInitialMetadata(metadata_in(initial)))
            while True:
                message = await call.read()
                if message is grpc.aio.EOF:
                    break
                emit(GrpcMessage(bytes(message)))
        except grpc.aio.AioRpcError:
            pass
        code = await call.code()
        emit(GrpcTrailingMetadata(metadata_in(await call.trailing_metadata())))
        self._streams.pop(key, None)
        emit(GrpcClose(code.value[0], close_message(code, await call.details() or "")))

    def stream_keys(self) -> list[StreamKey]:
        """The keys of the open streams."""
        return list(self._streams)

    def forget(self, keys: Iterable[StreamKey]) -> None:
        """Cancel the given streams (their VM is gone)."""
        for key in list(keys):
            self.cancel_stream(key)

    async def aclose(self) -> None:
        """Cancel everything in flight and close every channel; idempotent."""
        self._closed = True
        self.forget(list(self._streams))
        for task in list(self._tasks):
            task.cancel()
        channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            await channel.close()
