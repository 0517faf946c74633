"""The pure parts of the client limits (issue 12 §3): the HTTP/2 core's caps and header
block splitting, the native protocol core's stream cap and small per-connection state,
the native face's per-stream refusals, and the timeout rules of ``client_guard``. The
attacks themselves run against the real daemon in tests/integration/test_client_limits.py.
"""

from __future__ import annotations

import struct

import h2.events
import hpack

from tests.unit.faces.test_h2core import PATH, REQUEST_HEADERS, Pair
from wasmd.kernel import native_protocol as p
from wasmd.kernel.client_limits import ClientLimits
from workers.faces import h2core as core
from workers.faces import native_limits
from workers.faces.client_guard import Activity, Expiry, expiry


def _frame(ftype: int, flags: int, sid: int, payload: bytes) -> bytes:
    n = len(payload)
    return struct.pack(">HBBBI", n >> 8, n & 0xFF, ftype, flags, sid) + payload


def _server(**kwargs: int) -> core.H2ServerConnection:
    server = core.H2ServerConnection(**kwargs)
    server.receive(core.PREFACE + _frame(core.FrameType.SETTINGS, 0, 0, b""))
    server.data_to_send()
    return server


# -- HTTP/2 ---------------------------------------------------------------------------------


def test_the_first_settings_advertise_the_stream_and_header_list_limits() -> None:
    server = core.H2ServerConnection(max_streams=7, max_header_list_bytes=5000)
    out = server.data_to_send()
    length = int.from_bytes(out[:3], "big")
    payload = out[9 : 9 + length]
    settings = dict(struct.unpack_from(">HI", payload, i) for i in range(0, length, 6))
    assert settings[core.Setting.MAX_CONCURRENT_STREAMS] == 7
    assert settings[core.Setting.MAX_HEADER_LIST_SIZE] == 5000


def test_a_continuation_flood_fails_the_connection_before_it_is_buffered() -> None:
    server = _server(max_header_list_bytes=8192)
    block = hpack.Encoder().encode(REQUEST_HEADERS)
    events = server.receive(_frame(core.FrameType.HEADERS, 0, 1, block))
    assert events == []
    chunk = _frame(core.FrameType.CONTINUATION, 0, 1, b"\x40" * 4096)
    events = server.receive(chunk + chunk)
    (failed,) = events
    assert isinstance(failed, core.ConnectionFailed)
    assert failed.code is core.ErrorCode.ENHANCE_YOUR_CALM
    assert "SETTINGS_MAX_HEADER_LIST_SIZE" in failed.reason
    assert server.receive(chunk) == []  # closed: nothing more is read


def test_a_decoded_header_list_past_the_limit_is_a_compression_error() -> None:
    """A small block that decodes big (a long value indexed once, referenced again)."""
    server = _server(max_header_list_bytes=8192)
    encoder = hpack.Encoder()
    big = [*REQUEST_HEADERS, (b"x-big", b"v" * 3000)]
    block = encoder.encode(big)
    assert server.receive(_frame(core.FrameType.HEADERS, 5, 1, block))
    again = encoder.encode(big + [(b"x-big", b"v" * 3000)] * 2)  # indexed: a few bytes
    (failed,) = server.receive(_frame(core.FrameType.HEADERS, 5, 3, again))
    assert isinstance(failed, core.ConnectionFailed)
    assert failed.code is core.ErrorCode.COMPRESSION_ERROR


def test_header_blocks_longer_than_the_clients_max_frame_go_in_continuations() -> None:
    pair = Pair()
    sid = pair.open(end_stream=True)
    pair.pump()
    fields = [(b":status", b"200"), (b"content-type", b"application/grpc")]
    fields += [(b"x-long-%d" % i, b"v" * 1000) for i in range(40)]  # ~40 KB > 16 KiB
    pair.server.send_headers(sid, core.encode_literal(fields), end_stream=True)
    pair.pump()
    (response,) = [e for e in pair.client_events if isinstance(e, h2.events.ResponseReceived)]
    assert dict(response.headers)[b"x-long-39"] == b"v" * 1000
    assert any(isinstance(e, h2.events.StreamEnded) for e in pair.client_events)


def test_streams_past_the_limit_are_refused_and_later_ones_open_again() -> None:
    server = _server(max_streams=2)
    block = hpack.Encoder().encode(REQUEST_HEADERS)
    opened = []
    for sid in (1, 3, 5):
        events = server.receive(_frame(core.FrameType.HEADERS, 4, sid, block))
        opened += [e.stream_id for e in events if isinstance(e, core.StreamOpened)]
    assert opened == [1, 3]
    assert struct.pack(">I", core.ErrorCode.REFUSED_STREAM) in server.data_to_send()
    server.receive(_frame(core.FrameType.RST_STREAM, 0, 1, struct.pack(">I", 8)))
    events = server.receive(_frame(core.FrameType.HEADERS, 4, 7, block))
    assert [e.stream_id for e in events if isinstance(e, core.StreamOpened)] == [7]
    assert (b":path", PATH) in REQUEST_HEADERS


# -- native protocol core and face ------------------------------------------------------------


def _native_server(**kwargs: int) -> p.Connection:
    conn = p.Connection(p.Role.SERVER, **kwargs)
    conn.receive_data(p.encode(p.Hello((1,))))
    conn.send(p.Hello((1,)))
    return conn


def test_an_open_past_max_streams_is_limit_exceeded() -> None:
    conn = _native_server(max_streams=2)
    conn.receive_data(p.encode(p.Open(1)) + p.encode(p.Open(3)))
    try:
        conn.receive_data(p.encode(p.Open(5)))
    except p.RemoteProtocolError as exc:
        assert exc.code is p.ErrorCode.LIMIT_EXCEEDED and exc.stream_id == 5
        assert "client_max_streams" in str(exc)
    else:
        raise AssertionError("no error")


def test_a_closed_stream_frees_its_place() -> None:
    conn = _native_server(max_streams=1)
    msgs = conn.receive_data(p.encode(p.Open(1)) + p.encode(p.Close(1)) + p.encode(p.Open(3)))
    assert [type(m) for m in msgs] == [p.Open, p.Close, p.Open]


def test_header_and_body_refusals_cost_only_the_stream() -> None:
    limits = ClientLimits(max_header_count=4, max_header_bytes=64, max_body_bytes=10)
    bodies = native_limits.BodyCount()
    many = tuple((b"x", b"y") for _ in range(5))
    reply = native_limits.refusal(p.RequestHeaders(1, many), bodies, limits)
    assert isinstance(reply, p.LocalResponse) and reply.status == 431
    big = ((b"x", b"y" * 100),)
    assert isinstance(native_limits.refusal(p.ResponseHeaders(1, big), bodies, limits), p.Reset)
    assert native_limits.refusal(p.RequestHeaders(1, ((b"a", b"b"),)), bodies, limits) is None
    assert native_limits.refusal(p.RequestBody(1, b"x" * 10), bodies, limits) is None
    reply = native_limits.refusal(p.RequestBody(1, b"x"), bodies, limits)
    assert isinstance(reply, p.LocalResponse) and reply.status == 413
    assert "client_max_body_bytes" in reply.details
    assert isinstance(native_limits.refusal(p.ResponseBody(1, b"x" * 11), bodies, limits), p.Reset)


# -- timeouts -----------------------------------------------------------------------------------

LIMITS = ClientLimits(handshake_timeout_s=1.0, frame_timeout_s=2.0, idle_timeout_s=3.0)


def _expiry(activity: Activity, now: float, **kw: bool) -> Expiry | None:
    state = {"handshake_done": True, "busy": False, "reading": True, **kw}
    return expiry(activity, LIMITS, now, **state)


def test_handshake_frame_and_idle_timeouts() -> None:
    a = Activity(0.0)
    assert _expiry(a, 0.9, handshake_done=False) is None
    assert _expiry(a, 1.0, handshake_done=False) is Expiry.HANDSHAKE
    a.read(0.5, progressed=False, partial=True)  # a frame starts arriving
    a.read(1.5, progressed=False, partial=True)  # a byte more, still incomplete
    assert _expiry(a, 2.4, busy=True) is None
    assert _expiry(a, 2.5, busy=True) is Expiry.FRAME  # 2 s since the frame's first byte
    a.read(2.6, progressed=True, partial=True)  # a frame completed, the next started
    assert _expiry(a, 4.5, busy=True) is None
    a.read(5.0, progressed=True, partial=False)
    assert _expiry(a, 7.9) is None
    assert _expiry(a, 8.0) is Expiry.IDLE
    assert _expiry(a, 8.0, busy=True) is None  # open streams: not idle
    assert _expiry(a, 100.0, reading=False) is None  # we paused reading: not its fault
