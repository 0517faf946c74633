"""Feed the same client frames to wasmd's HTTP/2 core and to python-hyper's ``h2`` (server
side) and classify what each does with every frame: ok, a stream error (RST_STREAM and its
code) or a connection error (its code). Used by test_h2_differential.py.

Both sides get the same settings (windows, frame size, stream and header-list limits), so
only the rules differ. Header blocks are stateless literals (``encode_literal``): each
block decodes the same whatever came before it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import h2.config
import h2.connection
import h2.exceptions
import h2.settings

from workers.faces import h2core as core
from workers.faces.h2types import (
    LOCAL_CONNECTION_WINDOW_BYTES,
    LOCAL_MAX_FRAME_BYTES,
    LOCAL_STREAM_WINDOW_BYTES,
)

# One per step, server actions included (always OK), so outcome i belongs to step i.
Outcome = tuple[str, int]  # ("ok", 0) | ("stream", code) | ("connection", code)
OK: Outcome = ("ok", 0)
MAX_STREAMS = 8
MAX_HEADER_LIST = 4096

GOOD_REQUEST = [
    (b":method", b"POST"),
    (b":scheme", b"http"),
    (b":path", b"/svc/Method"),
    (b":authority", b"wasmd"),
    (b"content-type", b"application/grpc"),
    (b"te", b"trailers"),
]


def frame(ftype: int, flags: int, sid: int, payload: bytes = b"") -> bytes:
    n = len(payload)
    return struct.pack(">HBBBI", n >> 8, n & 0xFF, ftype, flags, sid) + payload


@dataclass(frozen=True, slots=True)
class ClientFrame:
    """Bytes of one client frame, and a name for failure messages."""

    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ServerAction:
    """Something the server application does between client frames."""

    name: str  # "reset" (RST_STREAM CANCEL) or "end" (response HEADERS with END_STREAM)
    stream_id: int


Step = ClientFrame | ServerAction


def _rst_codes(data: bytes, skip: set[int]) -> list[tuple[int, int]]:
    """(stream id, code) of every RST_STREAM in ``data``, except on streams in ``skip``."""
    out, pos = [], 0
    while len(data) - pos >= 9:
        hi, lo, ftype, _, sid = struct.unpack_from(">HBBBI", data, pos)
        length = (hi << 8) | lo
        if ftype == core.FrameType.RST_STREAM and sid not in skip:
            out.append((sid & 0x7FFFFFFF, struct.unpack_from(">I", data, pos + 9)[0]))
        pos += 9 + length
    return out


def _classify(resets: list[tuple[int, int]]) -> Outcome:
    if not resets:
        return OK
    return ("stream", resets[-1][1])


def run_wasmd(steps: list[Step]) -> list[Outcome]:
    conn = core.H2ServerConnection(max_streams=MAX_STREAMS, max_header_list_bytes=MAX_HEADER_LIST)
    conn.receive(core.PREFACE + frame(core.FrameType.SETTINGS, 0, 0))
    conn.data_to_send()
    outcomes: list[Outcome] = []
    for step in steps:
        if isinstance(step, ServerAction):
            if step.name == "reset":
                conn.reset(step.stream_id, core.ErrorCode.CANCEL)
            else:
                block = core.encode_literal([(b":status", b"200")])
                conn.send_headers(step.stream_id, block, end_stream=True)
            conn.data_to_send()
            outcomes.append(OK)
            continue
        events = conn.receive(step.data)
        failed = [e for e in events if isinstance(e, core.ConnectionFailed)]
        if failed:
            outcomes.append(("connection", int(failed[0].code)))
            return outcomes
        outcomes.append(_classify(_rst_codes(conn.data_to_send(), skip=set())))
    return outcomes


def _h2_server() -> h2.connection.H2Connection:
    config = h2.config.H2Configuration(client_side=False, header_encoding=None)
    conn = h2.connection.H2Connection(config)
    codes = h2.settings.SettingCodes
    conn.local_settings = h2.settings.Settings(
        client=False,
        initial_values={
            codes.INITIAL_WINDOW_SIZE: LOCAL_STREAM_WINDOW_BYTES,
            codes.MAX_FRAME_SIZE: LOCAL_MAX_FRAME_BYTES,
            codes.MAX_CONCURRENT_STREAMS: MAX_STREAMS,
            codes.MAX_HEADER_LIST_SIZE: MAX_HEADER_LIST,
        },
    )
    conn.max_inbound_frame_size = LOCAL_MAX_FRAME_BYTES
    conn.initiate_connection()
    conn.increment_flow_control_window(LOCAL_CONNECTION_WINDOW_BYTES - 65_535)
    conn.receive_data(core.PREFACE + frame(core.FrameType.SETTINGS, 0, 0))
    conn.data_to_send()
    return conn


def run_h2(steps: list[Step]) -> list[Outcome]:
    conn = _h2_server()
    outcomes: list[Outcome] = []
    for step in steps:
        if isinstance(step, ServerAction):
            outcomes.append(OK)  # server actions have no outcome; keeps indices aligned
            stream = conn.streams.get(step.stream_id)
            if stream is None or stream.closed:
                continue  # h2 would make the idle stream exist; wasmd ignores the action
            try:
                if step.name == "reset":
                    conn.reset_stream(step.stream_id, h2.errors.ErrorCodes.CANCEL)
                else:
                    conn.send_headers(step.stream_id, [(b":status", b"200")], end_stream=True)
            except h2.exceptions.H2Error:
                pass  # not open on the server: wasmd's core ignores it too
            conn.data_to_send()
            continue
        try:
            conn.receive_data(step.data)
        except h2.exceptions.ProtocolError as exc:
            outcomes.append(("connection", int(exc.error_code)))
            return outcomes
        outcomes.append(_classify(_rst_codes(conn.data_to_send(), skip=set())))
    return outcomes
