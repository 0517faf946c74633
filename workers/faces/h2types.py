"""HTTP/2 vocabulary for ``h2core``: frame types, flags, error codes, settings, the sizes
wasmd advertises, and the events the connection reports (RFC 9113)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
FRAME_HEADER = struct.Struct(">HBBBI")  # length as 16+8 bits, type, flags, stream id
U32 = struct.Struct(">I")
SETTING = struct.Struct(">HI")
GRPC_PREFIX = struct.Struct(">BI")

DEFAULT_WINDOW_BYTES = 65_535  # RFC 9113 6.9.2: every window starts here
DEFAULT_MAX_FRAME_BYTES = 16_384  # RFC 9113 6.5.2
MAX_WINDOW_BYTES = 2**31 - 1
# What we advertise. Bigger frames mean fewer frames to parse for a buffered body; the
# windows are credited back as soon as data arrives, so they only bound one burst.
LOCAL_MAX_FRAME_BYTES = 1 << 20
LOCAL_STREAM_WINDOW_BYTES = 8 << 20
LOCAL_CONNECTION_WINDOW_BYTES = 32 << 20
# grpcio's default limit for one received message (grpc.max_receive_message_length).
DEFAULT_MAX_MESSAGE_BYTES = 4 << 20
# Per-connection caps a client cannot raise (daemon.client_max_streams and
# daemon.client_max_header_bytes set them in a worker; these are the same defaults).
DEFAULT_MAX_STREAMS = 1024
DEFAULT_MAX_HEADER_LIST_BYTES = 96 << 10


class FrameType(IntEnum):
    DATA = 0x0
    HEADERS = 0x1
    PRIORITY = 0x2
    RST_STREAM = 0x3
    SETTINGS = 0x4
    PUSH_PROMISE = 0x5
    PING = 0x6
    GOAWAY = 0x7
    WINDOW_UPDATE = 0x8
    CONTINUATION = 0x9


class Flag:
    END_STREAM = 0x1
    ACK = 0x1
    END_HEADERS = 0x4
    PADDED = 0x8
    PRIORITY = 0x20


class ErrorCode(IntEnum):
    NO_ERROR = 0x0
    PROTOCOL_ERROR = 0x1
    INTERNAL_ERROR = 0x2
    FLOW_CONTROL_ERROR = 0x3
    STREAM_CLOSED = 0x5
    FRAME_SIZE_ERROR = 0x6
    REFUSED_STREAM = 0x7
    CANCEL = 0x8
    COMPRESSION_ERROR = 0x9
    ENHANCE_YOUR_CALM = 0xB


class Setting(IntEnum):
    HEADER_TABLE_SIZE = 0x1
    ENABLE_PUSH = 0x2
    MAX_CONCURRENT_STREAMS = 0x3
    INITIAL_WINDOW_SIZE = 0x4
    MAX_FRAME_SIZE = 0x5
    MAX_HEADER_LIST_SIZE = 0x6


class H2ConnectionError(Exception):
    """A connection error (RFC 9113 5.4.1): the connection answers GOAWAY and closes."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class H2StreamError(Exception):
    """A stream error (RFC 9113 5.4.2): RST_STREAM with ``code``; the connection goes on."""

    def __init__(self, stream_id: int, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.stream_id = stream_id
        self.code = code


# -- events ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamOpened:
    stream_id: int
    headers: list[tuple[bytes, bytes]]
    end_stream: bool


@dataclass(frozen=True, slots=True)
class MessageReceived:
    stream_id: int
    message: bytes


@dataclass(frozen=True, slots=True)
class StreamEnded:
    """The client half-closed the stream: it sends nothing more."""

    stream_id: int


@dataclass(frozen=True, slots=True)
class StreamReset:
    """The stream is gone (client RST_STREAM, or a stream error we raised)."""

    stream_id: int
    code: int


@dataclass(frozen=True, slots=True)
class MessageTooLarge:
    """A message above ``max_message_bytes``: the stream was reset with it unread."""

    stream_id: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class ShutdownAcknowledged:
    """The client saw our first GOAWAY; the final one (with the last stream id) is out."""


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """Fatal: GOAWAY with ``code`` is queued; close the transport after sending it."""

    code: ErrorCode
    reason: str


@dataclass(frozen=True, slots=True)
class PeerGoingAway:
    last_stream_id: int
    code: int


Event = (
    StreamOpened
    | MessageReceived
    | StreamEnded
    | StreamReset
    | MessageTooLarge
    | ShutdownAcknowledged
    | ConnectionFailed
    | PeerGoingAway
)


# -- the connection ---------------------------------------------------------------------------
