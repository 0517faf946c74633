"""workers/faces/h2core.py against an independent HTTP/2 client (python-hyper's h2).

Every test drives real frames: the h2 client encodes them, the core parses them, and the
client parses what the core answers, so framing, HPACK and flow-control mistakes on either
side show up as protocol errors.
"""

from __future__ import annotations

import struct

import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workers.faces import h2core as core
from workers.faces import hpack_blocks

PATH = b"/envoy.service.ext_proc.v3.ExternalProcessor/Process"
REQUEST_HEADERS = [
    (b":method", b"POST"),
    (b":scheme", b"http"),
    (b":path", PATH),
    (b":authority", b"wasmd"),
    (b"content-type", b"application/grpc"),
    (b"te", b"trailers"),
    (b"x-wasmd-chain", b"default"),
]
RESPONSE = core.encode_literal([(b":status", b"200"), (b"content-type", b"application/grpc")])
TRAILERS = core.encode_literal([(b"grpc-status", b"0")])


def grpc_frame(message: bytes) -> bytes:
    return struct.pack(">BI", 0, len(message)) + message


class Pair:
    """A client (h2) wired to a server core, moving bytes on demand."""

    def __init__(self, initial_window_size: int | None = None) -> None:
        config = h2.config.H2Configuration(client_side=True, header_encoding=None)
        self.client = h2.connection.H2Connection(config)
        self.client.local_settings = h2.settings.Settings(client=True, initial_values=None)
        self.client.initiate_connection()
        if initial_window_size is not None:
            code = h2.settings.SettingCodes.INITIAL_WINDOW_SIZE
            self.client.update_settings({code: initial_window_size})
        self.server = core.H2ServerConnection(max_message_bytes=1 << 16)
        self.server_events: list[core.Event] = []
        self.client_events: list[h2.events.Event] = []
        self.pump()

    def pump(self) -> None:
        """Exchange bytes until both sides are quiet."""
        for _ in range(5000):
            to_server = self.client.data_to_send()
            if to_server:
                self.server_events += self.server.receive(to_server)
            to_client = self.server.data_to_send()
            if to_client:
                for event in self.client.receive_data(to_client):
                    self.client_events.append(event)
                    if isinstance(event, h2.events.DataReceived):
                        self.client.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
            if not to_server and not to_client:
                return
        raise AssertionError("the connection never went quiet")

    def open(self, *, end_stream: bool = False) -> int:
        sid = self.client.get_next_available_stream_id()
        self.client.send_headers(sid, REQUEST_HEADERS, end_stream=end_stream)
        return sid

    def take(self, kind: type) -> list:
        found = [e for e in self.server_events if isinstance(e, kind)]
        self.server_events = [e for e in self.server_events if not isinstance(e, kind)]
        return found

    def client_data(self, sid: int) -> bytes:
        return b"".join(
            e.data
            for e in self.client_events
            if isinstance(e, h2.events.DataReceived) and e.stream_id == sid
        )


def test_a_stream_opens_carries_messages_and_ends() -> None:
    pair = Pair()
    sid = pair.open()
    pair.client.send_data(sid, grpc_frame(b"one") + grpc_frame(b"two"))
    pair.client.send_data(sid, grpc_frame(b"three"), end_stream=True)
    pair.pump()
    (opened,) = pair.take(core.StreamOpened)
    assert opened.stream_id == sid and (b":path", PATH) in opened.headers
    assert [m.message for m in pair.take(core.MessageReceived)] == [b"one", b"two", b"three"]
    assert pair.take(core.StreamEnded) == [core.StreamEnded(sid)]


def test_a_message_split_across_frames_is_reassembled() -> None:
    pair = Pair()
    sid = pair.open()
    framed = grpc_frame(b"x" * 1000)
    for i in range(0, len(framed), 7):
        pair.client.send_data(sid, framed[i : i + 7])
        pair.pump()
    assert [len(m.message) for m in pair.take(core.MessageReceived)] == [1000]


def test_the_answer_reaches_the_client_with_headers_messages_and_trailers() -> None:
    pair = Pair()
    sid = pair.open()
    pair.client.send_data(sid, grpc_frame(b"ping"), end_stream=True)
    pair.pump()
    pair.server.send_headers(sid, RESPONSE)
    pair.server.send_message(sid, b"pong")
    pair.server.send_headers(sid, TRAILERS, end_stream=True)
    pair.pump()
    kinds = [type(e) for e in pair.client_events if getattr(e, "stream_id", None) == sid]
    assert h2.events.ResponseReceived in kinds and h2.events.TrailersReceived in kinds
    assert h2.events.StreamEnded in kinds
    assert pair.client_data(sid) == grpc_frame(b"pong")
    assert pair.server.open_streams == 0  # both sides ended: the state is gone


def test_sends_wait_for_the_clients_window_and_respect_its_frame_size() -> None:
    """Rule 4: a 200 KB answer to a client with 1 KB stream windows arrives whole, in frames
    no larger than the client's SETTINGS_MAX_FRAME_SIZE."""
    pair = Pair(initial_window_size=1024)
    sid = pair.open()
    pair.client.send_data(sid, grpc_frame(b"req"))
    pair.pump()
    big = bytes(range(256)) * 800
    pair.server.send_headers(sid, RESPONSE)
    pair.server.send_message(sid, big)
    pair.server.send_headers(sid, TRAILERS, end_stream=True)  # queued behind the data
    pair.pump()
    assert pair.client_data(sid) == grpc_frame(big)
    sizes = [
        e.flow_controlled_length
        for e in pair.client_events
        if isinstance(e, h2.events.DataReceived)
    ]
    assert max(sizes) <= 1024
    ended = [e for e in pair.client_events if isinstance(e, h2.events.StreamEnded)]
    assert [e.stream_id for e in ended] == [sid]


def test_received_data_is_credited_back_so_a_large_body_never_stalls() -> None:
    pair = Pair()
    sid = pair.open()
    body = b"b" * 60_000
    total = 0
    for _ in range(200):  # 12 MB through windows of 8 MiB (stream) and 32 MiB (connection)
        pair.client.send_data(sid, grpc_frame(body))
        pair.pump()
        total += 1
    assert len(pair.take(core.MessageReceived)) == total
    assert pair.client.local_flow_control_window(sid) > 0


def test_ping_is_acknowledged() -> None:
    pair = Pair()
    pair.client.ping(b"12345678")
    pair.pump()
    acks = [e for e in pair.client_events if isinstance(e, h2.events.PingAckReceived)]
    assert [a.ping_data for a in acks] == [b"12345678"]


def test_client_reset_ends_the_stream() -> None:
    pair = Pair()
    sid = pair.open()
    pair.pump()
    pair.client.reset_stream(sid, error_code=8)
    pair.pump()
    assert pair.take(core.StreamReset) == [core.StreamReset(sid, 8)]
    assert pair.server.open_streams == 0


def test_header_blocks_split_into_continuation_frames() -> None:
    pair = Pair()
    sid = pair.client.get_next_available_stream_id()
    big = REQUEST_HEADERS + [(b"x-big-%d" % i, b"v" * 1000) for i in range(40)]
    pair.client.send_headers(sid, big, end_stream=True)  # > 16 KiB: HEADERS + CONTINUATION
    pair.pump()
    (opened,) = pair.take(core.StreamOpened)
    assert len(opened.headers) == len(big)
    assert pair.take(core.StreamEnded) == [core.StreamEnded(sid)]


def test_padded_data_is_unpadded_and_still_counted() -> None:
    pair = Pair()
    sid = pair.open()
    pair.client.send_data(sid, grpc_frame(b"padded"), pad_length=20, end_stream=True)
    pair.pump()
    assert [m.message for m in pair.take(core.MessageReceived)] == [b"padded"]


def test_repeated_header_blocks_decode_the_same_through_the_cache() -> None:
    """Indexed-only blocks are cached; a block that changes the table clears the cache."""
    pair = Pair()
    seen = []
    for i in range(6):
        sid = pair.client.get_next_available_stream_id()
        extra = [(b"x-n", str(i % 2).encode())]
        pair.client.send_headers(sid, REQUEST_HEADERS + extra, end_stream=True)
        pair.pump()
        (opened,) = pair.take(core.StreamOpened)
        seen.append(dict(opened.headers)[b"x-n"])
    assert seen == [b"0", b"1", b"0", b"1", b"0", b"1"]


def test_a_message_over_the_limit_is_reported_and_dropped() -> None:
    pair = Pair()
    sid = pair.open()
    pair.client.send_data(sid, grpc_frame(b"z" * (1 << 17)))
    pair.pump()
    assert pair.take(core.MessageTooLarge) == [core.MessageTooLarge(sid, 1 << 17)]
    assert pair.take(core.MessageReceived) == []


def test_graceful_shutdown_finishes_open_streams_and_refuses_new_ones() -> None:
    """Rule 7: GOAWAY(max), PING, then GOAWAY(last id) on the PING's ACK; the stream opened
    before still completes. (Raw frames: h2's client closes on any GOAWAY, Envoy does not.)"""
    pair = Pair()
    sid = pair.open()
    pair.pump()
    server = pair.server
    server.start_shutdown()
    goaway, ping = _frames(server.data_to_send())
    assert goaway[0] == core.FrameType.GOAWAY
    assert struct.unpack(">II", goaway[3]) == (2**31 - 1, 0)
    assert ping[0] == core.FrameType.PING and ping[1] == 0
    events = server.receive(_frame(core.FrameType.PING, core.Flag.ACK, 0, ping[3]))
    assert events == [core.ShutdownAcknowledged()]
    (final,) = _frames(server.data_to_send())
    assert final[0] == core.FrameType.GOAWAY and struct.unpack(">II", final[3]) == (sid, 0)
    server.send_headers(sid, RESPONSE)
    server.send_message(sid, b"late")
    server.send_headers(sid, TRAILERS, end_stream=True)
    sent = _frames(server.data_to_send())
    assert [(f[0], f[2]) for f in sent] == [
        (core.FrameType.HEADERS, sid),
        (core.FrameType.DATA, sid),
        (core.FrameType.HEADERS, sid),
    ]
    assert sent[1][3] == grpc_frame(b"late")


def test_a_stream_opened_after_the_final_goaway_is_refused() -> None:
    server = core.H2ServerConnection()
    server.receive(core.PREFACE + _frame(core.FrameType.SETTINGS, 0, 0, b""))
    server.finish_shutdown()
    block = core.encode_literal([(b":path", PATH)])
    events = server.receive(_frame(core.FrameType.HEADERS, core.Flag.END_HEADERS, 1, block))
    assert events == []
    assert _frames(server.data_to_send())[-1][:3] == (core.FrameType.RST_STREAM, 0, 1)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(b"GET / HTTP/1.1\r\n\r\n", core.ErrorCode.PROTOCOL_ERROR, id="http1"),
        pytest.param(
            core.PREFACE + struct.pack(">HBBBI", 0, 4, core.FrameType.DATA, 0, 0) + b"abcd",
            core.ErrorCode.PROTOCOL_ERROR,
            id="data-on-stream-0",
        ),
        pytest.param(
            core.PREFACE + struct.pack(">HBBBI", 0, 8, core.FrameType.PING, 0, 1) + b"x" * 8,
            core.ErrorCode.PROTOCOL_ERROR,
            id="ping-on-a-stream",
        ),
        pytest.param(
            core.PREFACE + struct.pack(">HBBBI", 0x1001, 0, core.FrameType.DATA, 0, 1),
            core.ErrorCode.FRAME_SIZE_ERROR,
            id="frame-over-max-size",
        ),
        pytest.param(
            core.PREFACE
            + struct.pack(">HBBBI", 0, 3, core.FrameType.HEADERS, core.Flag.END_HEADERS, 1)
            + b"\xff\xff\xff",
            core.ErrorCode.COMPRESSION_ERROR,
            id="bad-hpack",
        ),
        pytest.param(
            core.PREFACE + struct.pack(">HBBBI", 0, 0, core.FrameType.CONTINUATION, 4, 1),
            core.ErrorCode.PROTOCOL_ERROR,
            id="stray-continuation",
        ),
    ],
)
def test_connection_errors_answer_goaway_and_close(data: bytes, code: core.ErrorCode) -> None:
    server = core.H2ServerConnection()
    events = server.receive(data)
    assert isinstance(events[-1], core.ConnectionFailed) and events[-1].code == code
    assert server.closed
    last = _frames(server.data_to_send())[-1]
    assert last[0] == core.FrameType.GOAWAY
    assert struct.unpack(">II", last[3][:8])[1] == code
    assert server.receive(b"anything") == []  # a closed connection reads nothing more


def test_encode_literal_round_trips_through_hpack() -> None:
    import hpack

    fields = [(b"grpc-status", b"13"), (b"grpc-message", b"x" * 300)]
    assert hpack.Decoder().decode(core.encode_literal(fields), raw=True) == fields


def _frame(ftype: int, flags: int, sid: int, payload: bytes) -> bytes:
    n = len(payload)
    return struct.pack(">HBBBI", n >> 8, n & 0xFF, ftype, flags, sid) + payload


def _frames(data: bytes) -> list[tuple[int, int, int, bytes]]:
    out, pos = [], 0
    while pos < len(data):
        hi, lo, ftype, flags, sid = struct.unpack_from(">HBBBI", data, pos)
        n = (hi << 8) | lo
        out.append((ftype, flags, sid, data[pos + 9 : pos + 9 + n]))
        pos += 9 + n
    return out


def test_blocks_with_unindexed_literals_are_cached_and_decode_the_same() -> None:
    """Envoy sends ``:path`` as a literal without indexing on every ext_proc stream: such a
    block leaves the table alone, so its decoding may be reused; one that indexes may not."""
    import hpack

    encoder = hpack.Encoder()
    server = core.H2ServerConnection()
    server.receive(core.PREFACE)
    plain = [
        (b":method", b"POST"),
        (b":scheme", b"http"),
        hpack.NeverIndexedHeaderTuple(b":path", PATH),
    ]
    indexing = [*plain, (b"x-new", b"1")]
    results = []
    for sid, fields in [(1, plain), (3, plain), (5, indexing), (7, plain)]:
        block = encoder.encode(fields)
        assert hpack_blocks.table_neutral(block) is (sid != 5)
        frame = _frame(core.FrameType.HEADERS, core.Flag.END_HEADERS, sid, block)
        (opened,) = [e for e in server.receive(frame) if isinstance(e, core.StreamOpened)]
        results.append(opened.headers)
    decoded = [(b":method", b"POST"), (b":scheme", b"http"), (b":path", PATH)]
    assert results[0] == results[1] == results[3] == decoded
    assert results[2] == [*decoded, (b"x-new", b"1")]


def test_a_table_size_update_is_never_cached() -> None:
    assert not hpack_blocks.table_neutral(b"\x20\x82")  # size update to 0, then :method GET
    assert not hpack_blocks.table_neutral(b"\x82\x04")  # truncated literal


# -- fuzzing: nothing a client sends makes the core raise ----------------------------------

_frame_types = st.integers(min_value=0, max_value=12)
_flags = st.sampled_from([0, 0x1, 0x4, 0x5, 0x8, 0x9, 0x20, 0x24, 0x2D, 0xFF])
_stream_ids = st.sampled_from([0, 1, 2, 3, 5, 7, 2**31 - 1])
_payloads = st.one_of(
    st.binary(max_size=64),
    st.just(core.encode_literal([(b":path", PATH)])),
    st.just(struct.pack(">BI", 0, 3) + b"abc"),
    st.just(struct.pack(">HI", 4, 2**31)),  # SETTINGS: a window too large
    st.just(struct.pack(">HI", 5, 1)),  # SETTINGS: a frame size too small
    st.just(struct.pack(">I", 0)),  # WINDOW_UPDATE of 0
)
_frames_st = st.lists(st.tuples(_frame_types, _flags, _stream_ids, _payloads), max_size=12)


@given(_frames_st, st.integers(min_value=1, max_value=40))
def test_random_frames_never_raise_and_a_failure_closes(frames: list, chunk: int) -> None:
    """Any frame sequence, delivered in any chunking: events or a ConnectionFailed, never
    an exception; after a failure the connection reads nothing more."""
    server = core.H2ServerConnection(max_message_bytes=1024)
    data = core.PREFACE + b"".join(_frame(t, f, s, p) for t, f, s, p in frames)
    failed = False
    for i in range(0, len(data), chunk):
        events = server.receive(data[i : i + chunk])
        if failed:
            assert events == []
        failed = failed or any(isinstance(e, core.ConnectionFailed) for e in events)
        server.data_to_send()
    assert failed == server.closed


@given(st.binary(max_size=200))
def test_random_bytes_after_the_preface_never_raise(data: bytes) -> None:
    server = core.H2ServerConnection()
    server.receive(core.PREFACE + data)
    server.data_to_send()
