"""Control-channel framing, bytes in and messages out (no sockets)."""

from __future__ import annotations

import msgpack
import pytest

from wasmd.kernel.control import HEADER, FrameReader, encode
from wasmd.kernel.errors import ProtocolError


def test_frames_split_anywhere_decode_in_order() -> None:
    data = encode({"t": "ready", "pid": 1}) + encode({"t": "heartbeat", "requests": 5})
    for cut in range(len(data) + 1):
        reader = FrameReader()
        got = reader.feed(data[:cut]) + reader.feed(data[cut:])
        assert [m["t"] for m in got] == ["ready", "heartbeat"]


@pytest.mark.parametrize(
    "frame",
    [
        HEADER.pack(100) + b"x",  # oversized for the limit below
        HEADER.pack(1) + b"\xc1",  # reserved msgpack byte
        HEADER.pack(2) + msgpack.packb([1]),  # not a map
        encode({"no": "type"}),  # type missing (encode does not check)
    ],
)
def test_bad_frames_raise_protocol_error(frame: bytes) -> None:
    with pytest.raises(ProtocolError):
        FrameReader(max_frame_bytes=50).feed(frame)
