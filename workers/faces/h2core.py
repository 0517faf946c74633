"""HTTP/2 for a gRPC server, without I/O: bytes in, events out (the server side only).

Why not a library: grpcio's server costs 150-480 µs of CPU per streamed message here and
python-hyper's h2 about 110-150 µs (both measured, docs/design-notes.md), while one ext_proc
message through a plugin costs under 100 µs. This core does the part of RFC 9113 a gRPC server
for one trusted client kind (Envoy) needs, and leaves header compression to the ``hpack``
library.

Rules it keeps (numbers are RFC 9113 sections):

1. The connection starts with the client preface, then SETTINGS both ways; every SETTINGS
   without ACK is acknowledged (6.5.3).
2. Streams are opened by the client with odd, increasing ids (5.1.1); a HEADERS frame on a
   new id opens one, and every header block is decoded, even for a refused stream, because
   HPACK state is per connection (4.3). CONTINUATION must follow its HEADERS (6.10).
3. DATA carries gRPC messages (a 1-byte compressed flag, a 4-byte length, the payload).
   END_STREAM on DATA or HEADERS half-closes the client side: ``StreamEnded``.
4. Flow control (5.2, 6.9): received DATA (padding included) is credited back at once with
   WINDOW_UPDATE once a quarter of the window is used, so the receive window never stalls the
   client; sent DATA never exceeds the client's connection and stream windows nor its
   SETTINGS_MAX_FRAME_SIZE, and waits in a per-stream queue for WINDOW_UPDATE.
5. A stream ends when both sides have sent END_STREAM, or on RST_STREAM either way.
6. PING is answered with ACK (6.7). A client GOAWAY ends the connection once its streams end.
7. Graceful shutdown (6.8): GOAWAY with the largest id, a PING, and on its ACK the final
   GOAWAY with the last stream id we saw; later streams are refused.
8. Any connection error answers GOAWAY with its code and closes (``ConnectionFailed``); a
   stream error answers RST_STREAM and the connection goes on (5.4).
9. Limits a client cannot raise (issue 12): SETTINGS_MAX_CONCURRENT_STREAMS (a stream past
   it is refused with REFUSED_STREAM, 5.1.2) and SETTINGS_MAX_HEADER_LIST_SIZE, advertised;
   a header block (HEADERS + CONTINUATION, compressed) longer than the header list limit
   is a connection error ENHANCE_YOUR_CALM before it is buffered any further (the
   CVE-2024-27316 CONTINUATION flood), and a decoded list past it a COMPRESSION_ERROR
   (the decoder stopped mid-block, so the HPACK state is lost).
10. Closed streams (5.1): frames for a stream we reset are ignored; after the client's
   RST_STREAM they are a stream error STREAM_CLOSED; after both END_STREAMs a connection
   error STREAM_CLOSED (WINDOW_UPDATE and RST_STREAM excepted). Any frame but HEADERS and
   PRIORITY on an idle stream is a connection error PROTOCOL_ERROR. A receive-window
   overrun is a FLOW_CONTROL_ERROR (6.9.1); request headers are checked (8.2, 8.3;
   ``h2rules``). Header blocks we send are split to the client's MAX_FRAME_SIZE (6.10).
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass, field

import hpack

from workers.faces.h2rules import Closed, ClosedStreams, request_problem, trailers_problem
from workers.faces.h2types import (
    DEFAULT_MAX_FRAME_BYTES,
    DEFAULT_MAX_HEADER_LIST_BYTES,
    DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_MAX_STREAMS,
    DEFAULT_WINDOW_BYTES,
    FRAME_HEADER,
    GRPC_PREFIX,
    LOCAL_CONNECTION_WINDOW_BYTES,
    LOCAL_MAX_FRAME_BYTES,
    LOCAL_STREAM_WINDOW_BYTES,
    MAX_WINDOW_BYTES,
    PREFACE,
    SETTING,
    U32,
    ConnectionFailed,
    ErrorCode,
    Event,
    Flag,
    FrameType,
    H2ConnectionError,
    H2StreamError,
    MessageReceived,
    MessageTooLarge,
    PeerGoingAway,
    Setting,
    ShutdownAcknowledged,
    StreamEnded,
    StreamOpened,
    StreamReset,
)
from workers.faces.hpack_blocks import encode_literal, table_neutral

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "PREFACE",
    "ConnectionFailed",
    "ErrorCode",
    "Event",
    "Flag",
    "FrameType",
    "H2ConnectionError",
    "H2ServerConnection",
    "MessageReceived",
    "MessageTooLarge",
    "PeerGoingAway",
    "Setting",
    "ShutdownAcknowledged",
    "StreamEnded",
    "StreamOpened",
    "StreamReset",
    "encode_literal",
]


@dataclass(slots=True)
class _Stream:
    send_window: int
    recv_window: int = LOCAL_STREAM_WINDOW_BYTES  # what the client may still send (6.9.1)
    recv_unacked: int = 0
    message: bytearray = field(default_factory=bytearray)
    remote_closed: bool = False
    local_closed: bool = False
    pending: deque[bytes] = field(default_factory=deque)  # DATA payloads waiting for window
    pending_trailers: bytes | None = None  # sent once ``pending`` is empty
    discarding: bool = False  # reset by us for a too-large message: frames are dropped


_SHUTDOWN_PING = b"wasmd-gA"  # 8 opaque bytes for rule 7


class H2ServerConnection:
    """One server-side HTTP/2 connection: ``receive(data)`` -> events; ``send_*`` queue
    frames; ``data_to_send()`` takes them. Never raises for anything the client sends."""

    def __init__(
        self,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        *,
        max_streams: int = DEFAULT_MAX_STREAMS,
        max_header_list_bytes: int = DEFAULT_MAX_HEADER_LIST_BYTES,
    ) -> None:
        self.max_message_bytes = max_message_bytes
        self.max_streams = max_streams
        self.max_header_list_bytes = max_header_list_bytes
        self._decoder = hpack.Decoder()
        self._decoder.max_header_list_size = max_header_list_bytes
        self._closed = ClosedStreams(4 * max_streams)
        self.settings_received = False  # the client's first SETTINGS came (handshake done)
        self.frames_received = 0
        self._indexed_blocks: dict[bytes, list[tuple[bytes, bytes]]] = {}
        self._buf = bytearray()
        self._preface_seen = False
        self._out: list[bytes] = []
        self._streams: dict[int, _Stream] = {}
        self._last_stream_id = 0
        self._peer_initial_window = DEFAULT_WINDOW_BYTES
        self._peer_max_frame = DEFAULT_MAX_FRAME_BYTES
        self._send_window = DEFAULT_WINDOW_BYTES
        self._recv_window = LOCAL_CONNECTION_WINDOW_BYTES  # after _queue_settings' update
        self._recv_unacked = 0
        self._continuation: tuple[int, int, bytearray] | None = None  # (sid, flags, block)
        self._refuse_above: int | None = None  # set by the final GOAWAY
        self._shutting_down = False
        self.closed = False
        self._queue_settings()

    # -- public: state ------------------------------------------------------------------------
    @property
    def open_streams(self) -> int:
        return len(self._streams)

    @property
    def refusing_new_streams(self) -> bool:
        """The final GOAWAY is out: no stream can open any more (rule 7)."""
        return self._refuse_above is not None

    @property
    def last_stream_id(self) -> int:
        return self._last_stream_id

    @property
    def partial_input(self) -> bool:
        """A frame or a header block has started arriving and is not complete yet."""
        return bool(self._buf) or self._continuation is not None

    def data_to_send(self) -> bytes:
        out = b"".join(self._out)
        self._out.clear()
        return out

    # -- public: input ------------------------------------------------------------------------
    def receive(self, data: bytes) -> list[Event]:
        """Parse ``data``; events in the order the frames arrived."""
        if self.closed:
            return []
        events: list[Event] = []
        try:
            self._receive(data, events)
        except H2ConnectionError as exc:
            events.append(self._fail(exc.code, str(exc)))
        except hpack.HPACKError as exc:
            events.append(self._fail(ErrorCode.COMPRESSION_ERROR, f"HPACK: {exc}"))
        self._credit()
        return events

    # -- public: output -----------------------------------------------------------------------
    def send_headers(self, stream_id: int, block: bytes, *, end_stream: bool = False) -> None:
        """A pre-encoded header block (see ``encode_literal``) on an open stream; a block
        longer than the client's MAX_FRAME_SIZE goes as HEADERS + CONTINUATION (6.10)."""
        stream = self._streams.get(stream_id)
        if stream is None or stream.local_closed:
            return
        if end_stream and stream.pending:
            stream.pending_trailers = block  # trailers go after the queued DATA
            return
        size = self._peer_max_frame
        first, rest = block[:size], block[size:]
        flags = (0 if rest else Flag.END_HEADERS) | (Flag.END_STREAM if end_stream else 0)
        self._frame(FrameType.HEADERS, flags, stream_id, first)
        while rest:
            chunk, rest = rest[:size], rest[size:]
            self._frame(FrameType.CONTINUATION, 0 if rest else Flag.END_HEADERS, stream_id, chunk)
        if end_stream:
            self._local_close(stream_id, stream)

    def send_message(self, stream_id: int, message: bytes) -> None:
        """One gRPC message (uncompressed) as DATA, within the client's windows."""
        stream = self._streams.get(stream_id)
        if stream is None or stream.local_closed or stream.pending_trailers is not None:
            return
        payload = GRPC_PREFIX.pack(0, len(message)) + message
        stream.pending.append(payload)
        self._flush_stream(stream_id, stream)

    def reset(self, stream_id: int, code: ErrorCode) -> None:
        if self._streams.pop(stream_id, None) is not None:
            self._send_reset(stream_id, code)

    def start_shutdown(self) -> None:
        """Rule 7, first half: GOAWAY(max id) + PING; ``ShutdownAcknowledged`` follows."""
        if self._shutting_down or self.closed:
            return
        self._shutting_down = True
        self._goaway(MAX_WINDOW_BYTES, ErrorCode.NO_ERROR)
        self._frame(FrameType.PING, 0, 0, _SHUTDOWN_PING)

    def finish_shutdown(self) -> None:
        """Rule 7, second half (also the fallback if the PING is never answered)."""
        if self._refuse_above is None and not self.closed:
            self._refuse_above = self._last_stream_id
            self._goaway(self._last_stream_id, ErrorCode.NO_ERROR)

    # -- frames in ----------------------------------------------------------------------------
    def _receive(self, data: bytes, events: list[Event]) -> None:
        buf = self._buf
        buf += data
        if not self._preface_seen:
            if len(buf) < len(PREFACE):
                if not PREFACE.startswith(bytes(buf)):
                    raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "not an HTTP/2 preface")
                return
            if not buf.startswith(PREFACE):
                raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "not an HTTP/2 preface")
            del buf[: len(PREFACE)]
            self._preface_seen = True
        pos, end = 0, len(buf)
        try:
            while end - pos >= 9 and not self.closed:
                hi, lo, ftype, flags, sid = FRAME_HEADER.unpack_from(buf, pos)
                length = (hi << 8) | lo
                if length > LOCAL_MAX_FRAME_BYTES:
                    raise H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, f"{length}-byte frame")
                if end - pos - 9 < length:
                    break
                payload = bytes(buf[pos + 9 : pos + 9 + length])
                pos += 9 + length
                self.frames_received += 1
                try:
                    self._frame_in(ftype, flags, sid & 0x7FFFFFFF, payload, events)
                except H2StreamError as exc:
                    self._stream_error(exc, events)
        finally:
            del buf[:pos]

    def _stream_error(self, exc: H2StreamError, events: list[Event]) -> None:
        """5.4.2: RST_STREAM; the stream's handler learns it is gone."""
        if self._streams.pop(exc.stream_id, None) is not None:
            events.append(StreamReset(exc.stream_id, exc.code))
        if self._closed.get(exc.stream_id) is Closed.RESET_BY_PEER:
            # Keep it so: each later frame gets STREAM_CLOSED again (as h2 does).
            self._frame(FrameType.RST_STREAM, 0, exc.stream_id, U32.pack(exc.code))
            return
        self._send_reset(exc.stream_id, exc.code)

    def _send_reset(self, sid: int, code: ErrorCode) -> None:
        self._closed.add(sid, Closed.RESET_BY_US)
        self._frame(FrameType.RST_STREAM, 0, sid, U32.pack(code))

    def _idle(self, sid: int) -> bool:
        """5.1: a stream id the client has not used yet (even ids are ours; we never push)."""
        return sid % 2 == 0 or sid > self._last_stream_id

    def _on_gone_stream(self, sid: int, what: str, *, tolerated: bool = False) -> None:
        """A frame for a stream that is not open: 5.1's answer for its state (returns when
        the frame is to be ignored). ``tolerated``: WINDOW_UPDATE and RST_STREAM, which may
        cross our END_STREAM or RST_STREAM on the wire."""
        if self._idle(sid):
            raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, f"{what} on idle stream {sid}")
        how = self._closed.get(sid)
        if how is Closed.RESET_BY_PEER and what != "RST_STREAM":  # never RST for a RST (5.4.2)
            raise H2StreamError(sid, ErrorCode.STREAM_CLOSED, f"{what} after RST_STREAM")
        if tolerated or how is None or how is Closed.RESET_BY_US:
            return  # late frames of a stream we reset (or long forgotten) are dropped
        raise H2ConnectionError(ErrorCode.STREAM_CLOSED, f"{what} on closed stream {sid}")

    def _frame_in(
        self, ftype: int, flags: int, sid: int, payload: bytes, events: list[Event]
    ) -> None:
        if self._continuation is not None and ftype != FrameType.CONTINUATION:
            raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "expected CONTINUATION")
        if ftype == FrameType.DATA:
            self._data(flags, sid, payload, events)
        elif ftype == FrameType.HEADERS:
            self._headers(flags, sid, payload, events)
        elif ftype == FrameType.CONTINUATION:
            self._continuation_in(flags, sid, payload, events)
        elif ftype == FrameType.SETTINGS:
            self._settings(flags, sid, payload)
        elif ftype == FrameType.WINDOW_UPDATE:
            self._window_update(sid, payload)
        elif ftype == FrameType.PING:
            self._ping(flags, sid, payload, events)
        elif ftype == FrameType.RST_STREAM:
            self._rst_stream(sid, payload, events)
        elif ftype == FrameType.GOAWAY:
            self._peer_goaway(sid, payload, events)
        elif ftype == FrameType.PUSH_PROMISE:
            raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "a client sent PUSH_PROMISE")
        elif ftype == FrameType.PRIORITY and sid == 0:
            raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "PRIORITY on stream 0")
        # PRIORITY and unknown frame types are ignored (RFC 9113 5.5).

    def _data(self, flags: int, sid: int, payload: bytes, events: list[Event]) -> None:
        if sid == 0:
            raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "DATA on stream 0")
        size = len(payload)  # padding counts too (6.9.1)
        if size > self._recv_window:
            raise H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window overrun")
        self._recv_window -= size
        self._recv_unacked += size
        stream = self._streams.get(sid)
        if stream is None:
            self._on_gone_stream(sid, "DATA")
            return
        if stream.remote_closed:
            raise H2StreamError(sid, ErrorCode.STREAM_CLOSED, "DATA after END_STREAM")
        if size > stream.recv_window:
            raise H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, f"stream {sid} window overrun")
        stream.recv_window -= size
        stream.recv_unacked += size
        data = _unpad(flags, payload)
        if not stream.discarding:
            stream.message += data
            self._messages(sid, stream, events)
        if flags & Flag.END_STREAM:
            self._remote_close(sid, stream, events)

    def _messages(self, sid: int, stream: _Stream, events: list[Event]) -> None:
        buf = stream.message
        pos = 0
        while len(buf) - pos >= 5:
            compressed, size = GRPC_PREFIX.unpack_from(buf, pos)
            if size > self.max_message_bytes:
                stream.discarding = True
                buf.clear()
                events.append(MessageTooLarge(sid, size))
                return
            if len(buf) - pos - 5 < size:
                break
            if compressed:
                raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "compressed gRPC message")
            events.append(MessageReceived(sid, bytes(buf[pos + 5 : pos + 5 + size])))
            pos += 5 + size
        del buf[:pos]

    def _headers(self, flags: int, sid: int, payload: bytes, events: list[Event]) -> None:
        if sid == 0:
            raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "HEADERS on stream 0")
        block = _unpad(flags, payload)
        if flags & Flag.PRIORITY:
            if len(block) < 5:
                raise H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "HEADERS priority fields")
            if U32.unpack_from(block)[0] & 0x7FFFFFFF == sid:
                raise H2StreamError(sid, ErrorCode.PROTOCOL_ERROR, "stream depends on itself")
            block = block[5:]
        self._check_block_size(len(block))
        if flags & Flag.END_HEADERS:
            self._header_block(flags, sid, block, events)
        else:
            self._continuation = (sid, flags, bytearray(block))

    def _check_block_size(self, size: int) -> None:
        """Rule 9: stop buffering a header block the moment it is too long to accept."""
        if size > self.max_header_list_bytes:
            raise H2ConnectionError(
                ErrorCode.ENHANCE_YOUR_CALM,
                f"header block of {size} bytes is over SETTINGS_MAX_HEADER_LIST_SIZE "
                f"({self.max_header_list_bytes})",
            )

    def _continuation_in(self, flags: int, sid: int, payload: bytes, events: list[Event]) -> None:
        if self._continuation is None or self._continuation[0] != sid:
            raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "unexpected CONTINUATION")
        _, first_flags, block = self._continuation
        self._check_block_size(len(block) + len(payload))
        block += payload
        if flags & Flag.END_HEADERS:
            self._continuation = None
            self._header_block(first_flags, sid, bytes(block), events)

    def _header_block(self, flags: int, sid: int, block: bytes, events: list[Event]) -> None:
        headers = self._decode(block)  # always: HPACK state is per connection (rule 2)
        end_stream = bool(flags & Flag.END_STREAM)
        stream = self._streams.get(sid)
        if stream is not None:  # trailers from the client
            self._trailers(sid, stream, headers, end_stream, events)
            return
        if sid % 2 == 0:
            raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, f"HEADERS on even stream {sid}")
        if sid <= self._last_stream_id:
            if self._closed.get(sid) is None:  # never opened: ids must increase (5.1.1)
                raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, f"HEADERS on stream {sid}")
            self._on_gone_stream(sid, "HEADERS")
            return
        self._last_stream_id = sid
        if self._refuse_above is not None:  # after the final GOAWAY (rule 7)
            self._send_reset(sid, ErrorCode.REFUSED_STREAM)
            return
        if len(self._streams) >= self.max_streams:  # rule 9 (5.1.2)
            self._send_reset(sid, ErrorCode.REFUSED_STREAM)
            return
        problem = request_problem(headers)
        if problem is not None:
            raise H2StreamError(sid, ErrorCode.PROTOCOL_ERROR, f"malformed request: {problem}")
        self._streams[sid] = _Stream(send_window=self._peer_initial_window)
        events.append(StreamOpened(sid, headers, end_stream))
        if end_stream:
            self._remote_close(sid, self._streams[sid], events)

    def _trailers(
        self,
        sid: int,
        stream: _Stream,
        headers: list[tuple[bytes, bytes]],
        end_stream: bool,
        events: list[Event],
    ) -> None:
        if stream.remote_closed:
            raise H2StreamError(sid, ErrorCode.STREAM_CLOSED, "HEADERS after END_STREAM")
        if not end_stream:
            raise H2StreamError(sid, ErrorCode.PROTOCOL_ERROR, "trailers without END_STREAM")
        problem = trailers_problem(headers)
        if problem is not None:
            raise H2StreamError(sid, ErrorCode.PROTOCOL_ERROR, f"malformed trailers: {problem}")
        self._remote_close(sid, stream, events)

    def _decode(self, block: bytes) -> list[tuple[bytes, bytes]]:
        """HPACK-decode; a block that leaves the table as it was (``_table_neutral``) is
        cached until a block that may change the table arrives. Envoy sends the same block
        for every ext_proc stream once its first one has filled the table."""
        cached = self._indexed_blocks.get(block)
        if cached is not None:
            return cached
        headers = [(bytes(k), bytes(v)) for k, v in self._decoder.decode(block, raw=True)]
        if table_neutral(block):
            if len(self._indexed_blocks) >= 64:
                self._indexed_blocks.clear()
            self._indexed_blocks[block] = headers
        else:
            self._indexed_blocks.clear()
        return headers

    def _settings(self, flags: int, sid: int, payload: bytes) -> None:
        if sid != 0:
            raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "SETTINGS on a stream")
        if flags & Flag.ACK:
            if payload:
                raise H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload")
            return
        if len(payload) % 6:
            raise H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS length")
        for off in range(0, len(payload), 6):
            key, value = SETTING.unpack_from(payload, off)
            self._setting(key, value)
        self.settings_received = True
        self._frame(FrameType.SETTINGS, Flag.ACK, 0, b"")

    def _setting(self, key: int, value: int) -> None:
        if key == Setting.INITIAL_WINDOW_SIZE:
            if value > MAX_WINDOW_BYTES:
                raise H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE")
            delta = value - self._peer_initial_window
            self._peer_initial_window = value
            for stream in self._streams.values():
                stream.send_window += delta
                if stream.send_window > MAX_WINDOW_BYTES:  # 6.9.2
                    raise H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "window overflow")
            self._flush_all()
        elif key == Setting.ENABLE_PUSH:
            if value > 1:
                raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "ENABLE_PUSH")
        elif key == Setting.MAX_FRAME_SIZE:
            if not DEFAULT_MAX_FRAME_BYTES <= value <= (1 << 24) - 1:
                raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "MAX_FRAME_SIZE")
            self._peer_max_frame = value
        # HEADER_TABLE_SIZE bounds the client's decoder: we never index what we send.

    def _window_update(self, sid: int, payload: bytes) -> None:
        if len(payload) != 4:
            raise H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "WINDOW_UPDATE length")
        increment = U32.unpack(payload)[0] & 0x7FFFFFFF
        if sid == 0:
            if increment == 0:
                raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "zero WINDOW_UPDATE")
            self._send_window += increment
            if self._send_window > MAX_WINDOW_BYTES:
                raise H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "window overflow")
            self._flush_all()
            return
        stream = self._streams.get(sid)
        if stream is None:
            self._on_gone_stream(sid, "WINDOW_UPDATE", tolerated=True)
            return
        if increment == 0:
            raise H2StreamError(sid, ErrorCode.PROTOCOL_ERROR, "zero WINDOW_UPDATE")
        stream.send_window += increment
        if stream.send_window > MAX_WINDOW_BYTES:
            raise H2StreamError(sid, ErrorCode.FLOW_CONTROL_ERROR, "window overflow")
        self._flush_stream(sid, stream)

    def _ping(self, flags: int, sid: int, payload: bytes, events: list[Event]) -> None:
        if sid != 0:
            raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "PING on a stream")
        if len(payload) != 8:
            raise H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "PING length")
        if not flags & Flag.ACK:
            self._frame(FrameType.PING, Flag.ACK, 0, payload)
        elif payload == _SHUTDOWN_PING and self._shutting_down:
            self.finish_shutdown()
            events.append(ShutdownAcknowledged())

    def _rst_stream(self, sid: int, payload: bytes, events: list[Event]) -> None:
        if sid == 0:
            raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on stream 0")
        if len(payload) != 4:
            raise H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "RST_STREAM length")
        if self._streams.pop(sid, None) is not None:
            self._closed.add(sid, Closed.RESET_BY_PEER)
            events.append(StreamReset(sid, U32.unpack(payload)[0]))
        else:
            self._on_gone_stream(sid, "RST_STREAM", tolerated=True)

    def _peer_goaway(self, sid: int, payload: bytes, events: list[Event]) -> None:
        if sid != 0 or len(payload) < 8:
            raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "malformed GOAWAY")
        last, code = struct.unpack_from(">II", payload)
        events.append(PeerGoingAway(last & 0x7FFFFFFF, code))

    # -- stream ends ----------------------------------------------------------------------------
    def _remote_close(self, sid: int, stream: _Stream, events: list[Event]) -> None:
        stream.remote_closed = True
        events.append(StreamEnded(sid))
        if stream.local_closed:
            self._streams.pop(sid, None)
            self._closed.add(sid, Closed.ENDED)

    def _local_close(self, sid: int, stream: _Stream) -> None:
        stream.local_closed = True
        if stream.remote_closed:
            self._streams.pop(sid, None)
            self._closed.add(sid, Closed.ENDED)

    # -- frames out -----------------------------------------------------------------------------
    def _frame(self, ftype: int, flags: int, sid: int, payload: bytes) -> None:
        n = len(payload)
        self._out.append(FRAME_HEADER.pack(n >> 8, n & 0xFF, ftype, flags, sid))
        if n:
            self._out.append(payload)

    def _queue_settings(self) -> None:
        settings = SETTING.pack(Setting.ENABLE_PUSH, 0)
        settings += SETTING.pack(Setting.MAX_CONCURRENT_STREAMS, self.max_streams)
        settings += SETTING.pack(Setting.MAX_HEADER_LIST_SIZE, self.max_header_list_bytes)
        settings += SETTING.pack(Setting.INITIAL_WINDOW_SIZE, LOCAL_STREAM_WINDOW_BYTES)
        settings += SETTING.pack(Setting.MAX_FRAME_SIZE, LOCAL_MAX_FRAME_BYTES)
        self._frame(FrameType.SETTINGS, 0, 0, settings)
        grow = LOCAL_CONNECTION_WINDOW_BYTES - DEFAULT_WINDOW_BYTES
        self._frame(FrameType.WINDOW_UPDATE, 0, 0, U32.pack(grow))

    def _credit(self) -> None:
        """Rule 4: hand back receive window once a quarter of it is used."""
        if self.closed:
            return
        if self._recv_unacked >= LOCAL_CONNECTION_WINDOW_BYTES // 4:
            self._frame(FrameType.WINDOW_UPDATE, 0, 0, U32.pack(self._recv_unacked))
            self._recv_window += self._recv_unacked
            self._recv_unacked = 0
        for sid, stream in self._streams.items():
            if stream.recv_unacked >= LOCAL_STREAM_WINDOW_BYTES // 4 and not stream.remote_closed:
                self._frame(FrameType.WINDOW_UPDATE, 0, sid, U32.pack(stream.recv_unacked))
                stream.recv_window += stream.recv_unacked
                stream.recv_unacked = 0

    def _flush_all(self) -> None:
        for sid, stream in list(self._streams.items()):
            if stream.pending:
                self._flush_stream(sid, stream)

    def _flush_stream(self, sid: int, stream: _Stream) -> None:
        pending = stream.pending
        while pending:
            room = min(self._send_window, stream.send_window, self._peer_max_frame)
            if room <= 0:
                return
            chunk = pending[0]
            if len(chunk) > room:
                pending[0] = chunk[room:]
                chunk = chunk[:room]
            else:
                pending.popleft()
            self._send_window -= len(chunk)
            stream.send_window -= len(chunk)
            self._frame(FrameType.DATA, 0, sid, chunk)
        if stream.pending_trailers is not None:
            block, stream.pending_trailers = stream.pending_trailers, None
            self.send_headers(sid, block, end_stream=True)

    def _goaway(self, last_stream_id: int, code: ErrorCode, reason: bytes = b"") -> None:
        self._frame(FrameType.GOAWAY, 0, 0, struct.pack(">II", last_stream_id, code) + reason)

    def fail(self, code: ErrorCode, reason: str) -> None:
        """End the connection from our side (a timeout): GOAWAY with ``code``."""
        if not self.closed:
            self._fail(code, reason)

    def _fail(self, code: ErrorCode, reason: str) -> ConnectionFailed:
        self._goaway(self._last_stream_id, code, reason.encode()[:256])
        self.closed = True
        return ConnectionFailed(code, reason)


def _unpad(flags: int, payload: bytes) -> bytes:
    if not flags & Flag.PADDED:
        return payload
    if not payload or payload[0] >= len(payload):
        raise H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "bad padding")
    return payload[1 : len(payload) - payload[0]]
