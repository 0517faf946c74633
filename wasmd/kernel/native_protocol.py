"""The native wire protocol (msgpack over a Unix socket), as a pure object: bytes in, messages out.

A ``Connection`` holds one side's view of one socket connection. Feed it what the socket
read (``receive_data``) and it returns the peer's messages or raises RemoteProtocolError;
ask it to ``send`` a message and it returns the bytes to write or raises
LocalProtocolError. It never touches a socket, a clock or a loop, so the same object
serves the worker (``workers/faces/native.py``) and the client (``wasmd/client.py``).
Framing and every message, with byte-level examples, are in docs/protocol.md.

Frame: 4-byte big-endian payload length, then one msgpack array ``[type, field...]``.

Rules, enforced on both sides (a peer that breaks one gets ERROR and the connection closes):
  1. The client sends HELLO first, listing the versions it speaks; the server answers HELLO
     with exactly one of them (or ERROR UNSUPPORTED_VERSION). Nothing else comes before.
  2. OPEN starts a stream; its id is greater than every stream id opened before on this
     connection (ids are never reused, so GOAWAY can name a boundary).
  3. Phase messages follow NEXT_PHASES below; a phase with end_of_stream set ends its
     direction (after the request only RESPONSE_HEADERS may follow, after the response
     nothing but CLOSE).
  4. Each phase message gets exactly one reply (CONTINUE, LOCAL_RESPONSE or RESET) before
     the client sends that stream's next phase. Streams interleave freely.
  5. After LOCAL_RESPONSE or RESET the stream takes only CLOSE.
  6. The client may CLOSE an open stream at any time, even with a reply outstanding; the
     server then never sends that reply (``send`` drops it), and a client drops a reply
     that crossed its CLOSE on the wire.
  7. GOAWAY(last_stream_id): the server finishes streams up to last_stream_id and ignores
     later OPENs and their frames; the client opens no more streams on this connection
     and may retry streams above last_stream_id elsewhere (they were never seen).
  8. ERROR ends the connection: its sender closes the connection right after it.
"""

from __future__ import annotations

import enum
import operator
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import msgpack

from wasmd.kernel.errors import ProtocolError

PROTOCOL_VERSIONS = (1,)  # what this code speaks, oldest first
DEFAULT_MAX_FRAME_BYTES = 1 << 20  # bigger bodies go in several REQUEST_BODY/RESPONSE_BODY frames
FRAME_HEADER_BYTES = 4
_LENGTH = struct.Struct(">I")

Pair = tuple[bytes, bytes]


class MsgType(enum.IntEnum):
    HELLO = 1
    OPEN = 2
    REQUEST_HEADERS = 3
    REQUEST_BODY = 4
    REQUEST_TRAILERS = 5
    RESPONSE_HEADERS = 6
    RESPONSE_BODY = 7
    RESPONSE_TRAILERS = 8
    CLOSE = 9
    CONTINUE = 16
    LOCAL_RESPONSE = 17
    RESET = 18
    ERROR = 32
    GOAWAY = 33


class ErrorCode(enum.IntEnum):
    FRAME_TOO_LARGE = 1
    MALFORMED = 2  # not msgpack, or a message with the wrong shape
    UNKNOWN_MESSAGE = 3
    UNKNOWN_CHAIN = 4
    OUT_OF_ORDER = 5
    UNKNOWN_STREAM = 6
    UNSUPPORTED_VERSION = 7
    INTERNAL = 8  # the server failed; the request itself may be fine
    LIMIT_EXCEEDED = 9  # a client limit (daemon.client_*) was passed: connections, streams
    TIMEOUT = 10  # the HELLO exchange or a frame did not complete in time


_PHASES_REQUEST = (MsgType.REQUEST_HEADERS, MsgType.REQUEST_BODY, MsgType.REQUEST_TRAILERS)
_PHASES_RESPONSE = (MsgType.RESPONSE_HEADERS, MsgType.RESPONSE_BODY, MsgType.RESPONSE_TRAILERS)
PHASES = frozenset(_PHASES_REQUEST + _PHASES_RESPONSE)
REPLIES = frozenset({MsgType.CONTINUE, MsgType.LOCAL_RESPONSE, MsgType.RESET})

# Rule 3: which phase may follow which on one stream (None: right after OPEN).
NEXT_PHASES: dict[MsgType | None, frozenset[MsgType]] = {
    None: frozenset({MsgType.REQUEST_HEADERS}),
    MsgType.REQUEST_HEADERS: frozenset(
        {MsgType.REQUEST_BODY, MsgType.REQUEST_TRAILERS, MsgType.RESPONSE_HEADERS}
    ),
    MsgType.REQUEST_BODY: frozenset(
        {MsgType.REQUEST_BODY, MsgType.REQUEST_TRAILERS, MsgType.RESPONSE_HEADERS}
    ),
    MsgType.REQUEST_TRAILERS: frozenset({MsgType.RESPONSE_HEADERS}),
    MsgType.RESPONSE_HEADERS: frozenset({MsgType.RESPONSE_BODY, MsgType.RESPONSE_TRAILERS}),
    MsgType.RESPONSE_BODY: frozenset({MsgType.RESPONSE_BODY, MsgType.RESPONSE_TRAILERS}),
    MsgType.RESPONSE_TRAILERS: frozenset(),
}
_AFTER_END_OF_STREAM: dict[MsgType, frozenset[MsgType]] = {
    **{p: frozenset({MsgType.RESPONSE_HEADERS}) for p in _PHASES_REQUEST},
    **{p: frozenset() for p in _PHASES_RESPONSE},
}

# Module constants: a member looked up on the enum class costs more than a global.
_HELLO, _OPEN, _CLOSE = MsgType.HELLO, MsgType.OPEN, MsgType.CLOSE
_ERROR, _GOAWAY = MsgType.ERROR, MsgType.GOAWAY
_ENDS_STREAM = frozenset({MsgType.LOCAL_RESPONSE, MsgType.RESET})  # rule 5

CLIENT_SENDS = frozenset({MsgType.HELLO, MsgType.OPEN, MsgType.CLOSE, MsgType.ERROR} | PHASES)
SERVER_SENDS = frozenset({MsgType.HELLO, MsgType.ERROR, MsgType.GOAWAY} | REPLIES)


# -- messages ------------------------------------------------------------------------------
# Wire form of every message: [type, *fields in declaration order].


@dataclass(frozen=True, slots=True)
class Hello:
    versions: tuple[int, ...]
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES


@dataclass(frozen=True, slots=True)
class Open:
    stream_id: int
    chain: str = ""  # "" = the daemon's default chain
    properties: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RequestHeaders:
    stream_id: int
    headers: tuple[Pair, ...]
    end_of_stream: bool = False


@dataclass(frozen=True, slots=True)
class RequestBody:
    stream_id: int
    data: bytes
    end_of_stream: bool = False


@dataclass(frozen=True, slots=True)
class RequestTrailers:
    stream_id: int
    trailers: tuple[Pair, ...]


@dataclass(frozen=True, slots=True)
class ResponseHeaders:
    stream_id: int
    headers: tuple[Pair, ...]
    end_of_stream: bool = False


@dataclass(frozen=True, slots=True)
class ResponseBody:
    stream_id: int
    data: bytes
    end_of_stream: bool = False


@dataclass(frozen=True, slots=True)
class ResponseTrailers:
    stream_id: int
    trailers: tuple[Pair, ...]


@dataclass(frozen=True, slots=True)
class Close:
    stream_id: int


@dataclass(frozen=True, slots=True)
class Continue:
    """Go on with the phase, after applying these header (or trailer) mutations.

    ``body``: None forwards the chunk as sent; bytes replace it (b"" = hold nothing back
    yet: the plugin is buffering, the bytes come in a later reply).
    """

    stream_id: int
    set_headers: tuple[Pair, ...] = ()
    remove_headers: tuple[bytes, ...] = ()
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class LocalResponse:
    """Answer the client with this response instead of the upstream's."""

    stream_id: int
    status: int
    headers: tuple[Pair, ...] = ()
    body: bytes = b""
    details: str = ""


@dataclass(frozen=True, slots=True)
class Reset:
    """Abort the stream (the plugin closed it, or its reply could not be sent)."""

    stream_id: int


@dataclass(frozen=True, slots=True)
class Error:
    """Fatal for the connection (rule 8); ``stream_id`` 0 when no stream is to blame."""

    stream_id: int
    code: ErrorCode
    message: str


@dataclass(frozen=True, slots=True)
class GoAway:
    last_stream_id: int


Message = (
    Hello
    | Open
    | RequestHeaders
    | RequestBody
    | RequestTrailers
    | ResponseHeaders
    | ResponseBody
    | ResponseTrailers
    | Close
    | Continue
    | LocalResponse
    | Reset
    | Error
    | GoAway
)
PhaseMessage = (
    RequestHeaders
    | RequestBody
    | RequestTrailers
    | ResponseHeaders
    | ResponseBody
    | ResponseTrailers
)
Reply = Continue | LocalResponse | Reset


class RemoteProtocolError(ProtocolError):
    """The peer broke the protocol; answer with ``Error(stream_id, code, str(self))``."""

    def __init__(self, code: ErrorCode, message: str, stream_id: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.stream_id = stream_id


class LocalProtocolError(ProtocolError):
    """This side tried to send something the protocol forbids (a bug, or a too-big frame)."""

    def __init__(self, code: ErrorCode, message: str, stream_id: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.stream_id = stream_id


# -- codec ---------------------------------------------------------------------------------
# Arrays decode as tuples (``use_list=False``): the field checks below then hand msgpack's
# own tuples to the messages instead of rebuilding them, which is most of the decoding cost
# of a header phase. Each check has a fast path for well-formed values and falls back to a
# slow one that converts lenient input or names what is wrong.
_Check = Callable[[Any], Any]


class _Malformed(Exception):
    """A field has the wrong type or value; becomes RemoteProtocolError(MALFORMED)."""


def _uint(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise _Malformed(f"expected a non-negative integer, got {_kind(value)}")
    return value


def _stream_id(value: Any) -> int:
    if type(value) is int and value > 0:
        return value
    if _uint(value) == 0:
        raise _Malformed("stream ids start at 1")
    return int(value)


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise _Malformed(f"expected a boolean, got {_kind(value)}")
    return value


def _bytes(value: Any) -> bytes:
    if type(value) is bytes:
        return value
    if type(value) is str:  # lenient: clients in other languages often send text
        return value.encode()
    raise _Malformed(f"expected bin, got {_kind(value)}")


def _opt_bytes(value: Any) -> bytes | None:
    return None if value is None else _bytes(value)


def _str(value: Any) -> str:
    if type(value) is not str:
        raise _Malformed(f"expected a string, got {_kind(value)}")
    return value


def _pairs(value: Any) -> tuple[Pair, ...]:
    if type(value) is not tuple:
        raise _Malformed(f"expected an array of [name, value] pairs, got {_kind(value)}")
    for item in value:
        if type(item) is not tuple or len(item) != 2:
            return _lenient_pairs(value)
        if type(item[0]) is not bytes or type(item[1]) is not bytes:
            return _lenient_pairs(value)
    return value  # already a tuple of (bytes, bytes) tuples


def _lenient_pairs(value: tuple[Any, ...]) -> tuple[Pair, ...]:
    out: list[Pair] = []
    for item in value:
        if type(item) is not tuple or len(item) != 2:
            raise _Malformed("each header must be a [name, value] array")
        out.append((_bytes(item[0]), _bytes(item[1])))
    return tuple(out)


def _names(value: Any) -> tuple[bytes, ...]:
    if type(value) is not tuple:
        raise _Malformed(f"expected an array of header names, got {_kind(value)}")
    return tuple(_bytes(v) for v in value)


def _properties(value: Any) -> dict[str, bytes]:
    if type(value) is not dict:
        raise _Malformed(f"expected a map of properties, got {_kind(value)}")
    return {_str(k): _bytes(v) for k, v in value.items()}


def _versions(value: Any) -> tuple[int, ...]:
    if type(value) is not tuple or not value:
        raise _Malformed("expected a non-empty array of versions")
    return tuple(_uint(v) for v in value)


def _status(value: Any) -> int:
    if type(value) is not int or not 100 <= value <= 999:
        raise _Malformed(f"expected an HTTP status 100..999, got {value!r}")
    return value


def _code(value: Any) -> ErrorCode:
    try:
        return ErrorCode(_uint(value))
    except ValueError:
        raise _Malformed(f"unknown error code {value}") from None


def _kind(value: Any) -> str:
    return "list" if type(value) is tuple else type(value).__name__  # msgpack arrays


_SCHEMA: dict[MsgType, tuple[type[Any], tuple[_Check, ...]]] = {
    MsgType.HELLO: (Hello, (_versions, _uint)),
    MsgType.OPEN: (Open, (_stream_id, _str, _properties)),
    MsgType.REQUEST_HEADERS: (RequestHeaders, (_stream_id, _pairs, _bool)),
    MsgType.REQUEST_BODY: (RequestBody, (_stream_id, _bytes, _bool)),
    MsgType.REQUEST_TRAILERS: (RequestTrailers, (_stream_id, _pairs)),
    MsgType.RESPONSE_HEADERS: (ResponseHeaders, (_stream_id, _pairs, _bool)),
    MsgType.RESPONSE_BODY: (ResponseBody, (_stream_id, _bytes, _bool)),
    MsgType.RESPONSE_TRAILERS: (ResponseTrailers, (_stream_id, _pairs)),
    MsgType.CLOSE: (Close, (_stream_id,)),
    MsgType.CONTINUE: (Continue, (_stream_id, _pairs, _names, _opt_bytes)),
    MsgType.LOCAL_RESPONSE: (LocalResponse, (_stream_id, _status, _pairs, _bytes, _str)),
    MsgType.RESET: (Reset, (_stream_id,)),
    MsgType.ERROR: (Error, (_uint, _code, _str)),
    MsgType.GOAWAY: (GoAway, (_uint,)),
}
TYPE_OF: dict[type[Any], MsgType] = {cls: t for t, (cls, _) in _SCHEMA.items()}
_FIELDS: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(f.name for f in fields(cls)) for cls, _ in _SCHEMA.values()
}


def _field_getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A function returning a message's fields as a tuple, in wire order."""
    if len(names) == 1:
        (name,) = names
        return lambda msg: (getattr(msg, name),)
    return operator.attrgetter(*names)


def _builder(cls: type[Any], checks: tuple[_Check, ...]) -> Callable[[tuple[Any, ...]], Any]:
    """A function building ``cls`` from a decoded ``(type, field...)`` tuple, checking each
    field (spelled out per arity: a generator over the checks costs ~1 us more per message).

    The message is filled through its slots' descriptors, not ``__init__``: a frozen
    dataclass's ``__init__`` sets each field with ``object.__setattr__``, about twice the
    cost (0.45 against 0.82 us for three fields). Every field is set, as ``__init__`` would."""
    new = object.__new__
    setters = tuple(getattr(cls, name).__set__ for name in _FIELDS[cls])
    if len(checks) == 1:
        (c1,), (s1,) = checks, setters

        def build1(b: tuple[Any, ...]) -> Any:
            msg = new(cls)
            s1(msg, c1(b[1]))
            return msg

        return build1
    if len(checks) == 2:
        c1, c2 = checks
        s1, s2 = setters

        def build2(b: tuple[Any, ...]) -> Any:
            v1, v2 = c1(b[1]), c2(b[2])
            msg = new(cls)
            s1(msg, v1)
            s2(msg, v2)
            return msg

        return build2
    if len(checks) == 3:
        c1, c2, c3 = checks
        s1, s2, s3 = setters

        def build3(b: tuple[Any, ...]) -> Any:
            v1, v2, v3 = c1(b[1]), c2(b[2]), c3(b[3])
            msg = new(cls)
            s1(msg, v1)
            s2(msg, v2)
            s3(msg, v3)
            return msg

        return build3
    if len(checks) == 4:  # CONTINUE, the reply to nearly every phase
        c1, c2, c3, c4 = checks
        s1, s2, s3, s4 = setters

        def build4(b: tuple[Any, ...]) -> Any:
            v1, v2, v3, v4 = c1(b[1]), c2(b[2]), c3(b[3]), c4(b[4])
            msg = new(cls)
            s1(msg, v1)
            s2(msg, v2)
            s3(msg, v3)
            s4(msg, v4)
            return msg

        return build4
    return lambda b: cls(*[check(v) for check, v in zip(checks, b[1:], strict=True)])


@dataclass(frozen=True, slots=True)
class _Codec:
    """How one message type is encoded and decoded."""

    type: MsgType
    number: int  # int(type), on the wire (an enum's .value is a slow descriptor)
    arity: int  # fields after the type
    build: Callable[[tuple[Any, ...]], Any]  # decoded array -> message (raises _Malformed)
    values: Callable[[Any], tuple[Any, ...]]  # message -> its fields in wire order


_CODECS: dict[int, _Codec] = {
    int(t): _Codec(t, int(t), len(checks), _builder(cls, checks), _field_getter(_FIELDS[cls]))
    for t, (cls, checks) in _SCHEMA.items()
}
_CODEC_OF: dict[type[Any], _Codec] = {cls: _CODECS[t] for t, (cls, _) in _SCHEMA.items()}


def encode(msg: Message) -> bytes:
    """One frame (length prefix + msgpack payload) for ``msg``; no protocol checks."""
    return _encode(msg, msgpack.Packer(use_bin_type=True))


def _encode(msg: Message, packer: Any) -> bytes:
    return _encode_as(_CODEC_OF[type(msg)], msg, packer)


def _encode_as(codec: _Codec, msg: Message, packer: Any) -> bytes:
    payload: bytes = packer.pack((codec.number, *codec.values(msg)))
    return _LENGTH.pack(len(payload)) + payload


def decode_payload(payload: bytes | memoryview) -> Message:
    """The message in one payload; raises RemoteProtocolError (MALFORMED, UNKNOWN_MESSAGE)."""
    return _decode(payload)[1]


def _decode(payload: bytes | memoryview) -> tuple[MsgType, Message]:
    """``decode_payload``, with the message's type (known from the codec: no lookup)."""
    try:
        body = msgpack.unpackb(payload, use_list=False)  # also: raw=False, strict_map_key
    except Exception as exc:  # msgpack raises many types (ExtraData, FormatError, ValueError...)
        raise RemoteProtocolError(ErrorCode.MALFORMED, f"not a msgpack value: {exc}") from None
    if type(body) is not tuple or not body or type(body[0]) is not int:
        raise RemoteProtocolError(ErrorCode.MALFORMED, "a message is an array [type, field...]")
    codec = _CODECS.get(body[0])
    if codec is None:
        raise RemoteProtocolError(ErrorCode.UNKNOWN_MESSAGE, f"unknown message type {body[0]}")
    if len(body) != codec.arity + 1:
        raise RemoteProtocolError(
            ErrorCode.MALFORMED,
            f"{codec.type.name} has {codec.arity} fields, got {len(body) - 1}",
        )
    try:
        return codec.type, codec.build(body)
    except _Malformed as exc:
        raise RemoteProtocolError(ErrorCode.MALFORMED, f"{codec.type.name}: {exc}") from None


def apply_mutation(
    headers: Sequence[Pair], set_headers: Sequence[Pair], remove_headers: Sequence[bytes]
) -> list[Pair]:
    """Headers after a CONTINUE: names in ``remove_headers`` go; every name in ``set_headers``
    gets exactly the values listed there (appended in order). Names compare case-insensitively."""
    if not set_headers and not remove_headers:
        return list(headers)
    gone = {n.lower() for n in remove_headers} | {n.lower() for n, _ in set_headers}
    kept = [(n, v) for n, v in headers if n.lower() not in gone]
    return kept + [(n.lower(), v) for n, v in set_headers]


# -- the state machine ---------------------------------------------------------------------
MIN_FRAME_BYTES = 64  # a peer must accept at least HELLO, ERROR and small replies
_PACKER_START_BYTES = 1024


class Role(enum.Enum):
    CLIENT = "client"
    SERVER = "server"


class ConnState(enum.Enum):
    HANDSHAKE = "handshake"  # before the HELLO exchange completed (rule 1)
    ACTIVE = "active"
    GOING_AWAY = "going_away"  # GOAWAY sent or received (rule 7)
    CLOSED = "closed"  # ERROR sent or received, or the peer broke a rule (rule 8)


class StreamState(enum.Enum):
    READY = "ready"  # the client may send the next phase
    WAITING = "waiting"  # a phase awaits its reply (rule 4)
    ANSWERED = "answered"  # LOCAL_RESPONSE or RESET came: only CLOSE (rule 5)


@dataclass(slots=True)
class _Stream:
    state: StreamState = StreamState.READY
    last_phase: MsgType | None = None
    ended: bool = False  # the last phase carried end_of_stream (or was trailers)


_ProtoError = type[RemoteProtocolError] | type[LocalProtocolError]


def _advance(stream: _Stream, t: MsgType, msg: Message, sid: int, err: _ProtoError) -> None:
    """Apply rules 3-5 to a phase message on ``stream``; raise ``err`` if it breaks one."""
    if stream.state is StreamState.WAITING:
        raise err(ErrorCode.OUT_OF_ORDER, f"{t.name} while a reply is outstanding", sid)
    if stream.state is StreamState.ANSWERED:
        raise err(ErrorCode.OUT_OF_ORDER, f"{t.name} after the stream was answered", sid)
    allowed = (_AFTER_END_OF_STREAM if stream.ended else NEXT_PHASES)[stream.last_phase]  # type: ignore[index]
    if t not in allowed:
        after = stream.last_phase.name if stream.last_phase else "OPEN"
        eos = " with end_of_stream" if stream.ended else ""
        raise err(ErrorCode.OUT_OF_ORDER, f"{t.name} may not follow {after}{eos}", sid)
    stream.last_phase = t
    stream.ended = bool(getattr(msg, "end_of_stream", True))
    stream.state = StreamState.WAITING


class Connection:
    """One side of one native-protocol connection. Pure: no I/O, no clock, no loop."""

    def __init__(
        self,
        role: Role,
        *,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        versions: Sequence[int] = PROTOCOL_VERSIONS,
        max_streams: int | None = None,
    ) -> None:
        """``max_streams``: streams the peer may have open at once (server side; None =
        no limit); an OPEN past it is ERROR LIMIT_EXCEEDED."""
        self.role = role
        self.max_streams = max_streams
        self._is_server = role is Role.SERVER
        self._peer_sends = CLIENT_SENDS if self._is_server else SERVER_SENDS
        self._own_sends = SERVER_SENDS if self._is_server else CLIENT_SENDS
        self.max_frame_bytes = max_frame_bytes  # what we accept
        self.peer_max_frame_bytes = DEFAULT_MAX_FRAME_BYTES  # what the peer accepts (its HELLO)
        self.versions = tuple(versions)
        self.version: int | None = None
        self.state = ConnState.HANDSHAKE
        self.streams: dict[int, _Stream] = {}
        self.last_stream_id = 0  # highest stream id opened so far
        self.goaway_id: int | None = None
        self._hello_sent = False
        self._error_sent = False
        self.pending_error: RemoteProtocolError | None = None
        self._buffer = bytearray()  # the start of a frame not yet complete
        self._needed = FRAME_HEADER_BYTES  # bytes _buffer must hold before it is worth parsing
        # Reused (packb builds one per call). Its buffer starts small and grows with the
        # largest frame sent: msgpack's default of 256 KiB per connection made thousands of
        # idle connections a MemoryError (issue 12).
        self._packer = msgpack.Packer(use_bin_type=True, buf_size=_PACKER_START_BYTES)

    @property
    def open_streams(self) -> int:
        return len(self.streams)

    @property
    def partial_input(self) -> bool:
        """A frame has started arriving and is not complete yet."""
        return bool(self._buffer)

    def stream_state(self, stream_id: int) -> StreamState | None:
        stream = self.streams.get(stream_id)
        return None if stream is None else stream.state

    # -- bytes in -------------------------------------------------------------------------
    def receive_data(self, data: bytes) -> list[Message]:
        """The peer's complete messages in ``data`` (plus what was buffered before).

        Raises RemoteProtocolError when the peer broke the protocol; the connection is then
        CLOSED and the caller should send ``Error`` and close the socket. If good messages
        came before the violation in the same data, they are returned first and the error
        is kept in ``pending_error``: it is raised by the next call (``receive_data(b"")``).
        """
        if self.pending_error is not None:
            error, self.pending_error = self.pending_error, None
            self.state = ConnState.CLOSED
            raise error
        if self.state is ConnState.CLOSED:
            return []
        buf = self._buffer
        if buf:
            buf += data
            if len(buf) < self._needed:
                return []  # a frame still incomplete: parse once, not on every read
            data = bytes(buf)
            buf.clear()
        out: list[Message] = []
        try:
            self._parse(data, out)
        except RemoteProtocolError as exc:
            buf.clear()
            if not out:
                self.state = ConnState.CLOSED
                raise
            self.pending_error = exc  # deliver the good messages first; raised next call
        return out

    def _parse(self, data: bytes, out: list[Message]) -> None:
        """Decode and check every whole frame in ``data`` into ``out``; buffer the rest."""
        size, start, limit = len(data), 0, self.max_frame_bytes
        self._needed = FRAME_HEADER_BYTES
        while size - start >= FRAME_HEADER_BYTES:
            (length,) = _LENGTH.unpack_from(data, start)
            if length > limit:
                raise RemoteProtocolError(
                    ErrorCode.FRAME_TOO_LARGE,
                    f"frame of {length} bytes exceeds max_frame_bytes={limit}",
                )
            end = start + FRAME_HEADER_BYTES + length
            if end > size:
                self._needed = end - start
                break
            t, msg = _decode(data[start + FRAME_HEADER_BYTES : end])
            start = end
            if self._accept(msg, t):
                out.append(msg)
        if start < size:
            self._buffer += memoryview(data)[start:]

    def _accept(self, msg: Message, t: MsgType) -> bool:
        """Check ``msg`` (of type ``t``) against the rules; False means drop it silently
        (rules 6, 7). Types are compared by identity: an isinstance chain cost ~0.3 us."""
        if t not in self._peer_sends:
            peer = "client" if self._is_server else "server"
            raise RemoteProtocolError(ErrorCode.OUT_OF_ORDER, f"a {peer} never sends {t.name}")
        if t is _ERROR:
            self.state = ConnState.CLOSED
            return True
        if t is _HELLO:
            self._receive_hello(msg)  # type: ignore[arg-type]
            return True
        if self.state is ConnState.HANDSHAKE:
            raise RemoteProtocolError(ErrorCode.OUT_OF_ORDER, f"{t.name} before HELLO")
        if t is _GOAWAY:
            self.state, self.goaway_id = ConnState.GOING_AWAY, msg.last_stream_id  # type: ignore[union-attr]
            return True
        if self._is_server:
            return self._server_receives(msg, t)
        return self._client_receives(msg, t)

    def _receive_hello(self, msg: Hello) -> None:
        if self.state is not ConnState.HANDSHAKE or (
            self.role is Role.CLIENT and not self._hello_sent
        ):
            raise RemoteProtocolError(ErrorCode.OUT_OF_ORDER, "unexpected HELLO")
        if msg.max_frame_bytes < MIN_FRAME_BYTES:
            raise RemoteProtocolError(
                ErrorCode.MALFORMED, f"max_frame_bytes must be at least {MIN_FRAME_BYTES}"
            )
        common = set(msg.versions) & set(self.versions)
        if not common or (self.role is Role.CLIENT and len(msg.versions) != 1):
            raise RemoteProtocolError(
                ErrorCode.UNSUPPORTED_VERSION,
                f"no common protocol version: peer offers {list(msg.versions)}, "
                f"this side speaks {list(self.versions)}",
            )
        self.version = max(common)
        self.peer_max_frame_bytes = msg.max_frame_bytes
        self.state = ConnState.ACTIVE

    def _server_receives(self, msg: Message, t: MsgType) -> bool:
        sid: int = getattr(msg, "stream_id")  # noqa: B009 - every client message but HELLO has one
        if self.goaway_id is not None and sid > self.goaway_id:
            return False  # rule 7: after GOAWAY, later streams are ignored
        if t is _OPEN:
            if sid <= self.last_stream_id:
                raise RemoteProtocolError(
                    ErrorCode.OUT_OF_ORDER,
                    f"stream id {sid} is not above the last one ({self.last_stream_id})",
                    sid,
                )
            if self.max_streams is not None and len(self.streams) >= self.max_streams:
                raise RemoteProtocolError(
                    ErrorCode.LIMIT_EXCEEDED,
                    f"stream {sid} would be over the {self.max_streams} streams a connection "
                    "may have open (daemon.client_max_streams): close streams or connect again",
                    sid,
                )
            self.streams[sid] = _Stream()
            self.last_stream_id = sid
            return True
        stream = self.streams.get(sid)
        if stream is None:
            raise RemoteProtocolError(ErrorCode.UNKNOWN_STREAM, f"no open stream {sid}", sid)
        if t is _CLOSE:
            del self.streams[sid]
            return True
        _advance(stream, t, msg, sid, RemoteProtocolError)
        return True

    def _client_receives(self, msg: Message, t: MsgType) -> bool:
        sid: int = getattr(msg, "stream_id")  # noqa: B009 - replies all carry a stream id
        stream = self.streams.get(sid)
        if stream is None:
            if 0 < sid <= self.last_stream_id:
                return False  # rule 6: the reply crossed our CLOSE
            raise RemoteProtocolError(ErrorCode.UNKNOWN_STREAM, f"no open stream {sid}", sid)
        if stream.state is not StreamState.WAITING:
            raise RemoteProtocolError(
                ErrorCode.OUT_OF_ORDER, f"{t.name} but no phase awaits a reply", sid
            )
        answered = t in _ENDS_STREAM
        stream.state = StreamState.ANSWERED if answered else StreamState.READY
        return True

    # -- messages out ---------------------------------------------------------------------
    def send(self, msg: Message) -> bytes:
        """The frame to write for ``msg``; b"" when rule 6 drops a reply to a closed stream.

        Raises LocalProtocolError if this side may not send ``msg`` now, or if the frame
        exceeds the peer's max_frame_bytes (nothing changes then: send something else).
        """
        codec = _CODEC_OF[type(msg)]
        t = codec.type
        if t not in self._own_sends:
            raise LocalProtocolError(
                ErrorCode.OUT_OF_ORDER, f"a {self.role.value} never sends {t.name}"
            )
        if t is _ERROR and not self._error_sent:  # rule 8, also after a violation
            self.state, self._error_sent = ConnState.CLOSED, True
            return _encode_as(codec, msg, self._packer)
        if self.state is ConnState.CLOSED:
            raise LocalProtocolError(ErrorCode.OUT_OF_ORDER, "the connection is closed")
        frame = _encode_as(codec, msg, self._packer)
        if len(frame) - FRAME_HEADER_BYTES > self.peer_max_frame_bytes:
            raise LocalProtocolError(
                ErrorCode.FRAME_TOO_LARGE,
                f"{t.name} frame of {len(frame) - FRAME_HEADER_BYTES} bytes exceeds the peer's "
                f"max_frame_bytes={self.peer_max_frame_bytes}",
                getattr(msg, "stream_id", 0),
            )
        if t is _HELLO:
            self._send_hello(msg)  # type: ignore[arg-type]
        elif self.state is ConnState.HANDSHAKE or (self._is_server and not self._hello_sent):
            raise LocalProtocolError(ErrorCode.OUT_OF_ORDER, f"{t.name} before the HELLO exchange")
        elif t is _GOAWAY:
            self.state, self.goaway_id = ConnState.GOING_AWAY, msg.last_stream_id  # type: ignore[union-attr]
        elif not self._is_server:
            self._client_sends(msg, t)
        elif not self._server_sends(msg, t):
            return b""
        return frame

    def _send_hello(self, msg: Hello) -> None:
        if self._hello_sent:
            raise LocalProtocolError(ErrorCode.OUT_OF_ORDER, "HELLO was already sent")
        if self.role is Role.SERVER and msg.versions != (self.version,):
            raise LocalProtocolError(
                ErrorCode.OUT_OF_ORDER, f"the server's HELLO must carry exactly ({self.version},)"
            )
        self._hello_sent = True

    def _client_sends(self, msg: Message, t: MsgType) -> None:
        sid: int = getattr(msg, "stream_id")  # noqa: B009
        if t is _OPEN:
            if self.state is ConnState.GOING_AWAY:
                raise LocalProtocolError(ErrorCode.OUT_OF_ORDER, "the server sent GOAWAY", sid)
            if sid <= self.last_stream_id:
                raise LocalProtocolError(ErrorCode.OUT_OF_ORDER, f"stream id {sid} reused", sid)
            self.streams[sid] = _Stream()
            self.last_stream_id = sid
            return
        stream = self.streams.get(sid)
        if stream is None:
            raise LocalProtocolError(ErrorCode.UNKNOWN_STREAM, f"no open stream {sid}", sid)
        if t is _CLOSE:
            del self.streams[sid]
            return
        _advance(stream, t, msg, sid, LocalProtocolError)

    def _server_sends(self, msg: Message, t: MsgType) -> bool:
        sid: int = getattr(msg, "stream_id")  # noqa: B009 - replies all carry a stream id
        stream = self.streams.get(sid)
        if stream is None:
            if 0 < sid <= self.last_stream_id:
                return False  # rule 6: the client closed the stream; drop the reply
            raise LocalProtocolError(ErrorCode.UNKNOWN_STREAM, f"no open stream {sid}", sid)
        if stream.state is not StreamState.WAITING:
            raise LocalProtocolError(ErrorCode.OUT_OF_ORDER, "no phase awaits a reply", sid)
        answered = t in _ENDS_STREAM
        stream.state = StreamState.ANSWERED if answered else StreamState.READY
        return True
