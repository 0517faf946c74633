"""The private control channel between the supervisor and one worker: framing and messages.

A frame is a 4-byte big-endian length followed by one msgpack map with a ``"t"`` key (the
message type). Workers send READY once (plugins loaded and configured, socket served),
then HEARTBEAT every heartbeat interval; the supervisor sends DRAIN or STOP. The framing
is pure (bytes in, messages out) so both ends and the tests share it; the worker side
imports it from here (both sides import ``wasmd.kernel``, never each other).
"""

from __future__ import annotations

import struct
from typing import Any

import msgpack

from wasmd.kernel.errors import ProtocolError

HEADER = struct.Struct(">I")
MAX_CONTROL_FRAME_BYTES = 16 << 20  # heartbeats with per-plugin histograms stay far below

READY = "ready"  # {pid, generation, plugins: {name: sha256}}
HEARTBEAT = "heartbeat"  # {requests, in_flight, plugins: {name: stats}, metrics?: snapshot}
# Each plugins[name] stats map also carries "state" ("loaded" | "failed" | "quarantined")
# and "error" (why it is failed or quarantined, else None): a plugin that fails to load
# no longer stops the worker, it is reported here.
DRAIN = "drain"  # {timeout_s}: stop accepting, finish in-flight streams, GOAWAY, exit 0
STOP = "stop"  # {}: exit now
REFRESH = "refresh"  # {}: send a HEARTBEAT now (status/metrics asked for fresh numbers)
LOAD_FAILED = "load_failed"  # {plugin, error}: sent before exit 2 when a plugin cannot load


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


# -- the shared channel: a second socketpair per worker, for shared data and queues -------
# Frames use the same 4-byte length prefix, but the body is a msgpack *array* (positional
# fields are cheaper to pack and unpack than maps; these calls run inside guest calls).
# Worker -> supervisor requests, each answered by one REPLY before the next is sent:
SHARED_GET = 1  # [op, vm_id, key] -> [REPLY, OK, value, cas] | [REPLY, NOT_FOUND]
SHARED_SET = 2  # [op, vm_id, key, value, cas] -> [REPLY, result]
SHARED_REGISTER = 3  # [op, vm_id, name, token] -> [REPLY, queue_id]
SHARED_RESOLVE = 4  # [op, vm_id, name] -> [REPLY, queue_id or 0]
SHARED_ENQUEUE = 5  # [op, queue_id, value] -> [REPLY, result, own token or 0]
SHARED_DEQUEUE = 6  # [op, queue_id] -> [REPLY, result, value]
# Supervisor -> worker, unsolicited, read by the worker's loop between guest calls:
SHARED_REPLY = 0  # prefixes every reply
SHARED_QUEUE_READY = 7  # [op, queue_id, token]: deliver proxy_on_queue_ready to token's VM
# Daemon-wide plugin metrics (wasmd/supervisor/metric_store.py). METRIC_UPDATE is one-way:
# it gets NO reply (increments stay off the request path's round trips).
SHARED_METRIC_UPDATE = 8  # [op, [[plugin, kind, name, mode (0 add, 1 set), value], ...]]
SHARED_METRIC_GET = 9  # [op, plugin, kind, name] -> [REPLY, value]
SHARED_ONE_WAY = frozenset({SHARED_METRIC_UPDATE})  # requests the supervisor never answers
MAX_SHARED_FRAME_BYTES = 64 << 20  # a shared-data value is bounded by guest memory anyway


def encode_shared(items: list[Any]) -> bytes:
    """One shared-channel frame for ``items`` (a request, reply or push array)."""
    body: bytes = msgpack.packb(items, use_bin_type=True)
    return HEADER.pack(len(body)) + body


class SharedFrameReader:
    """Accumulates shared-channel bytes; ``feed`` returns the complete arrays, in order."""

    def __init__(self, max_frame_bytes: int = MAX_SHARED_FRAME_BYTES) -> None:
        self._buf = bytearray()
        self._max = max_frame_bytes

    def feed(self, data: bytes) -> list[list[Any]]:
        """Raises ProtocolError on an oversized frame or a body that is not an array."""
        self._buf += data
        out: list[list[Any]] = []
        while len(self._buf) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buf)
            if size > self._max:
                raise ProtocolError(f"shared frame of {size} bytes exceeds {self._max}")
            end = HEADER.size + size
            if len(self._buf) < end:
                break
            try:
                items = msgpack.unpackb(self._buf[HEADER.size : end], raw=False)
            except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
                raise ProtocolError(f"malformed shared frame: {exc}") from None
            del self._buf[:end]
            if not isinstance(items, list) or not items or not isinstance(items[0], int):
                raise ProtocolError("shared frame is not an array starting with an op code")
            out.append(items)
        return out
