"""The private control channel between the supervisor and one worker: framing and messages.

A frame is a 4-byte big-endian length followed by one msgpack map with a ``"t"`` key (the
message type). Workers send READY once (plugins loaded and configured, socket served),
then HEARTBEAT every heartbeat interval; the supervisor sends DRAIN or STOP. The framing
is pure (bytes in, messages out) so both ends and the tests share it; the worker side
imports it from here (workers may import wasmd, never the other way round).
"""

from __future__ import annotations

import struct
from typing import Any

import msgpack

from wasmd.errors import ProtocolError

HEADER = struct.Struct(">I")
MAX_CONTROL_FRAME_BYTES = 16 << 20  # heartbeats with per-plugin histograms stay far below

READY = "ready"  # {pid, generation, plugins: {name: sha256}}
HEARTBEAT = "heartbeat"  # {requests, in_flight, plugins: {name: stats}}
DRAIN = "drain"  # {timeout_s}: stop accepting, finish in-flight streams, GOAWAY, exit 0
STOP = "stop"  # {}: exit now


def encode(message: dict[str, Any]) -> bytes:
    """One frame for ``message`` (a map with a ``"t"`` key)."""
    body: bytes = msgpack.packb(message, use_bin_type=True)
    return HEADER.pack(len(body)) + body


class FrameReader:
    """Accumulates bytes; ``feed`` returns the complete messages so far, in order."""

    def __init__(self, max_frame_bytes: int = MAX_CONTROL_FRAME_BYTES) -> None:
        self._buf = bytearray()
        self._max = max_frame_bytes

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Raises ProtocolError on an oversized frame or a body that is not a msgpack map."""
        self._buf += data
        out: list[dict[str, Any]] = []
        while len(self._buf) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buf)
            if size > self._max:
                raise ProtocolError(f"control frame of {size} bytes exceeds {self._max}")
            if len(self._buf) < HEADER.size + size:
                break
            body = bytes(self._buf[HEADER.size : HEADER.size + size])
            del self._buf[: HEADER.size + size]
            out.append(decode_body(body))
        return out


def decode_body(body: bytes) -> dict[str, Any]:
    """The message in one frame body; raises ProtocolError when it is not a typed map."""
    try:
        message = msgpack.unpackb(body, raw=False, strict_map_key=False)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise ProtocolError(f"malformed control frame: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        raise ProtocolError("control frame is not a map with a string 't'")
    return message
