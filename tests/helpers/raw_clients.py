"""Blocking, byte-level clients for attack tests: they send exactly the frames a test
builds (well-formed or not) and read what the worker answers until it closes.

- ``NativeRaw``: the native protocol over a Unix socket, through the protocol core
  (``wasmd.kernel.native_protocol.Connection``, client role) for well-formed traffic, or
  raw bytes for anything else.
- ``H2Raw``: HTTP/2 frames over a Unix socket (``h2frame`` builds one), and a gRPC
  health check through python-hyper's ``h2`` as a well-behaved bystander.
Every socket has a timeout: a test never blocks forever on a worker that stopped answering.
"""

from __future__ import annotations

import socket
import struct
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import hpack

from wasmd.kernel import native_protocol as p

READ_TIMEOUT_S = 30.0
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
HEALTH_PATH = b"/grpc.health.v1.Health/Check"
PROCESS_PATH = b"/envoy.service.ext_proc.v3.ExternalProcessor/Process"


def connect(path: Path, timeout_s: float = READ_TIMEOUT_S) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(path))  # blocking: waits while the listen backlog is full
    sock.settimeout(timeout_s)
    return sock


def read_until_closed(sock: socket.socket, limit_bytes: int = 64 << 20) -> bytes:
    """Everything the peer sends until it closes (or resets) the connection."""
    received = bytearray()
    while len(received) < limit_bytes:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    return bytes(received)


def send_ignoring_close(sock: socket.socket, data: bytes) -> int:
    """Send ``data``; stop quietly when the peer has closed. Returns the bytes sent."""
    sent = 0
    view = memoryview(data)
    try:
        while sent < len(data):
            sent += sock.send(view[sent : sent + 65536])
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


# -- native --------------------------------------------------------------------------------


def native_frames(data: bytes) -> list[list[object]]:
    """The native frames in ``data`` as decoded msgpack arrays."""
    import msgpack

    frames, pos = [], 0
    while len(data) - pos >= 4:
        (length,) = struct.unpack_from(">I", data, pos)
        if len(data) - pos - 4 < length:
            break
        frames.append(msgpack.unpackb(data[pos + 4 : pos + 4 + length]))
        pos += 4 + length
    return frames


def native_errors(data: bytes) -> list[p.ErrorCode]:
    return [p.ErrorCode(f[2]) for f in native_frames(data) if f and f[0] == p.MsgType.ERROR]


class NativeRaw:
    """A native-protocol client on one connection; ``exchange`` runs one request."""

    def __init__(self, path: Path) -> None:
        self.sock = connect(path)
        self.conn = p.Connection(p.Role.CLIENT)
        self.pending: deque[p.Message] = deque()
        self.next_sid = 1
        self.send(p.Hello(p.PROTOCOL_VERSIONS))
        self.read_one()  # the server's HELLO

    def send(self, msg: p.Message) -> None:
        self.sock.sendall(self.conn.send(msg))

    def read_one(self) -> p.Message:
        """The server's next message (several may arrive in one read)."""
        while not self.pending:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self.pending.extend(self.conn.receive_data(chunk))
        return self.pending.popleft()

    def exchange(self, headers: tuple[p.Pair, ...] = ((b":path", b"/"),)) -> list[p.Message]:
        """OPEN, request headers, response headers, CLOSE: the two replies."""
        sid, self.next_sid = self.next_sid, self.next_sid + 2
        self.send(p.Open(sid))
        self.send(p.RequestHeaders(sid, headers, True))
        replies = [self.read_one()]
        if isinstance(replies[0], p.Continue):
            self.send(p.ResponseHeaders(sid, ((b":status", b"200"),), True))
            replies.append(self.read_one())
        self.send(p.Close(sid))
        return replies

    def close(self) -> None:
        self.sock.close()


# -- HTTP/2 --------------------------------------------------------------------------------

END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    0x0,
    0x1,
    0x3,
    0x4,
    0x6,
    0x7,
    0x8,
    0x9,
)


def h2frame(ftype: int, flags: int, sid: int, payload: bytes = b"") -> bytes:
    n = len(payload)
    return struct.pack(">HBBBI", n >> 8, n & 0xFF, ftype, flags, sid) + payload


@dataclass(frozen=True, slots=True)
class H2Frame:
    type: int
    flags: int
    stream_id: int
    payload: bytes

    @property
    def error_code(self) -> int:
        """RST_STREAM's code, or GOAWAY's."""
        offset = 4 if self.type == GOAWAY else 0
        return int(struct.unpack_from(">I", self.payload, offset)[0])


def h2frames(data: bytes) -> list[H2Frame]:
    out, pos = [], 0
    while len(data) - pos >= 9:
        hi, lo, ftype, flags, sid = struct.unpack_from(">HBBBI", data, pos)
        length = (hi << 8) | lo
        if len(data) - pos - 9 < length:
            break
        out.append(H2Frame(ftype, flags, sid & 0x7FFFFFFF, data[pos + 9 : pos + 9 + length]))
        pos += 9 + length
    return out


def request_block(encoder: hpack.Encoder, path: bytes = PROCESS_PATH) -> bytes:
    """A gRPC request header block as Envoy sends one."""
    return bytes(
        encoder.encode(
            [
                (b":method", b"POST"),
                (b":scheme", b"http"),
                (b":path", path),
                (b":authority", b"wasmd"),
                (b"content-type", b"application/grpc"),
                (b"te", b"trailers"),
            ]
        )
    )


def h2_handshake() -> bytes:
    return H2_PREFACE + h2frame(SETTINGS, 0, 0)


class H2Health:
    """A well-behaved gRPC client (python-hyper h2) on its own connection: health checks."""

    def __init__(self, path: Path) -> None:
        self.sock = connect(path)
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding=None)
        )
        self.h2.initiate_connection()
        self.sock.sendall(self.h2.data_to_send())

    def check(self) -> int:
        """One Health/Check RPC; its grpc-status."""
        sid = self.h2.get_next_available_stream_id()
        headers = [
            (b":method", b"POST"),
            (b":scheme", b"http"),
            (b":path", HEALTH_PATH),
            (b":authority", b"wasmd"),
            (b"content-type", b"application/grpc"),
            (b"te", b"trailers"),
        ]
        self.h2.send_headers(sid, headers)
        self.h2.send_data(sid, b"\0\0\0\0\0", end_stream=True)
        self.sock.sendall(self.h2.data_to_send())
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            for event in self.h2.receive_data(chunk):
                if isinstance(event, h2.events.TrailersReceived) and event.stream_id == sid:
                    status = dict(event.headers).get(b"grpc-status", b"-1")
                    self.sock.sendall(self.h2.data_to_send())
                    return int(status)
                if isinstance(event, h2.events.StreamReset) and event.stream_id == sid:
                    raise ConnectionError(f"stream reset: {event.error_code}")
            self.sock.sendall(self.h2.data_to_send())

    def close(self) -> None:
        self.sock.close()
