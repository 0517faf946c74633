"""wasmd.kernel.native_protocol: framing, codec round trips, per-stream rules, decoder fuzzing."""

from __future__ import annotations

import struct
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasmd.kernel import native_protocol as p
from wasmd.kernel.native_protocol import Connection, ErrorCode, MsgType, Role

HEADERS = ((b":path", b"/"), (b"x-a", b"1"))


def handshake(max_frame_bytes: int = p.DEFAULT_MAX_FRAME_BYTES) -> tuple[Connection, Connection]:
    client = Connection(Role.CLIENT, max_frame_bytes=max_frame_bytes)
    server = Connection(Role.SERVER, max_frame_bytes=max_frame_bytes)
    (hello,) = server.receive_data(client.send(p.Hello(p.PROTOCOL_VERSIONS, max_frame_bytes)))
    assert isinstance(hello, p.Hello) and server.version == 1
    assert client.receive_data(server.send(p.Hello((1,), max_frame_bytes)))
    return client, server


def relay(src: Connection, dst: Connection, *msgs: p.Message) -> list[p.Message]:
    return dst.receive_data(b"".join(src.send(m) for m in msgs))


def frame(body: Any) -> bytes:
    payload = msgpack.packb(body, use_bin_type=True)
    return struct.pack(">I", len(payload)) + payload


# -- codec ---------------------------------------------------------------------------------
EXAMPLES: list[p.Message] = [
    p.Hello((1, 2), 4096),
    p.Open(1, "edge", {"source.address": b"10.0.0.1"}),
    p.RequestHeaders(1, HEADERS, True),
    p.RequestBody(1, b"\x00body", False),
    p.RequestTrailers(1, ((b"grpc-status", b"0"),)),
    p.ResponseHeaders(3, ((b":status", b"200"),), False),
    p.ResponseBody(3, b"", True),
    p.ResponseTrailers(3, ()),
    p.Close(7),
    p.Continue(1, ((b"x-b", b"2"),), (b"x-c",), None),
    p.Continue(1, (), (), b"NEW"),
    p.LocalResponse(1, 403, ((b"x-d", b"y"),), b"denied", "as_denied"),
    p.Reset(9),
    p.Error(0, ErrorCode.MALFORMED, "bad"),
    p.GoAway(12),
]


@pytest.mark.parametrize("msg", EXAMPLES, ids=[type(m).__name__ for m in EXAMPLES])
def test_every_message_round_trips(msg: p.Message) -> None:
    data = p.encode(msg)
    (length,) = struct.unpack(">I", data[:4])
    assert length == len(data) - 4
    assert p.decode_payload(data[4:]) == msg


def test_doc_example_bytes() -> None:
    """The byte-level examples in docs/protocol.md."""
    assert p.encode(p.Hello((1,), 1048576)).hex() == "0000000993019101ce00100000"
    assert p.encode(p.Close(1)).hex() == "00000003920901"
    assert p.encode(p.GoAway(5)).hex() == "00000003922105"


def test_text_header_values_are_accepted_as_bytes() -> None:
    msg = p.decode_payload(frame([3, 1, [["x-a", "1"]], False])[4:])
    assert msg == p.RequestHeaders(1, ((b"x-a", b"1"),), False)


BAD_PAYLOADS: list[tuple[str, Any, ErrorCode]] = [
    ("not-array", {"t": 1}, ErrorCode.MALFORMED),
    ("empty-array", [], ErrorCode.MALFORMED),
    ("type-not-int", ["OPEN", 1], ErrorCode.MALFORMED),
    ("unknown-type", [99, 1], ErrorCode.UNKNOWN_MESSAGE),
    ("too-few-fields", [2, 1, "c"], ErrorCode.MALFORMED),
    ("too-many-fields", [9, 1, 2], ErrorCode.MALFORMED),
    ("stream-zero", [9, 0], ErrorCode.MALFORMED),
    ("stream-negative", [9, -1], ErrorCode.MALFORMED),
    ("stream-bool", [9, True], ErrorCode.MALFORMED),
    ("headers-not-list", [3, 1, {"a": "b"}, False], ErrorCode.MALFORMED),
    ("header-not-pair", [3, 1, [[b"a"]], False], ErrorCode.MALFORMED),
    ("header-int", [3, 1, [[b"a", 1]], False], ErrorCode.MALFORMED),
    ("eos-int", [4, 1, b"x", 1], ErrorCode.MALFORMED),
    ("props-not-map", [2, 1, "", []], ErrorCode.MALFORMED),
    ("prop-key-bin", [2, 1, "", {b"k": b"v"}], ErrorCode.MALFORMED),
    ("chain-bin", [2, 1, b"c", {}], ErrorCode.MALFORMED),
    ("hello-no-versions", [1, [], 100], ErrorCode.MALFORMED),
    ("status-range", [17, 1, 42, [], b"", ""], ErrorCode.MALFORMED),
    ("error-code", [32, 0, 999, "x"], ErrorCode.MALFORMED),
]


@pytest.mark.parametrize(("case", "body", "code"), BAD_PAYLOADS, ids=[b[0] for b in BAD_PAYLOADS])
def test_bad_payloads_are_named(case: str, body: Any, code: ErrorCode) -> None:
    with pytest.raises(p.RemoteProtocolError) as info:
        p.decode_payload(msgpack.packb(body, use_bin_type=True))
    assert info.value.code is code


def test_garbage_is_malformed_and_closes_the_connection() -> None:
    _, server = handshake()
    with pytest.raises(p.RemoteProtocolError) as info:
        server.receive_data(b"\x00\x00\x00\x02\xc1\xc1")  # 0xc1 is never valid msgpack
    assert info.value.code is ErrorCode.MALFORMED
    assert server.state is p.ConnState.CLOSED
    assert server.receive_data(p.encode(p.Close(1))) == []


def test_oversized_frame_is_refused_from_its_length_alone() -> None:
    _, server = handshake(max_frame_bytes=100)
    with pytest.raises(p.RemoteProtocolError) as info:
        server.receive_data(struct.pack(">I", 101))
    assert info.value.code is ErrorCode.FRAME_TOO_LARGE


def test_frames_split_at_every_byte_boundary() -> None:
    client, server = handshake()
    data = client.send(p.Open(1)) + client.send(p.RequestHeaders(1, HEADERS, True))
    got: list[p.Message] = []
    for i in range(len(data)):
        got += server.receive_data(data[i : i + 1])
    assert got == [p.Open(1, "", {}), p.RequestHeaders(1, HEADERS, True)]


def test_a_big_frame_in_many_reads_arrives_whole_once_complete() -> None:
    """The receiver buffers an incomplete frame and parses it only when its last byte came."""
    client, server = handshake()
    relay(client, server, p.Open(1), p.RequestHeaders(1, HEADERS, False))
    relay(server, client, p.Continue(1))
    body = p.RequestBody(1, bytes(range(256)) * 256, True)
    data = client.send(body) + client.send(p.Close(1))
    got = [server.receive_data(data[i : i + 1000]) for i in range(0, len(data), 1000)]
    assert [m for out in got for m in out] == [body, p.Close(1)]
    assert all(out == [] for out in got[:-1])


def test_sending_a_frame_bigger_than_the_peer_accepts_raises_and_changes_nothing() -> None:
    client, server = handshake(max_frame_bytes=100)
    relay(client, server, p.Open(1), p.RequestHeaders(1, HEADERS, False))
    with pytest.raises(p.LocalProtocolError) as info:
        server.send(p.Continue(1, body=b"x" * 200))
    assert info.value.code is ErrorCode.FRAME_TOO_LARGE
    assert server.send(p.Reset(1))  # the stream still awaits a reply


# -- the rules -----------------------------------------------------------------------------
def test_a_full_exchange_follows_the_rules() -> None:
    client, server = handshake()
    steps: list[tuple[p.Message, p.Message]] = [
        (p.RequestHeaders(1, HEADERS, False), p.Continue(1, ((b"x-b", b"2"),))),
        (p.RequestBody(1, b"a", False), p.Continue(1, body=b"")),
        (p.RequestBody(1, b"b", True), p.Continue(1, body=b"AB")),
        (p.ResponseHeaders(1, ((b":status", b"200"),), False), p.Continue(1)),
        (p.ResponseBody(1, b"c", False), p.Continue(1)),
        (p.ResponseTrailers(1, ()), p.Continue(1)),
    ]
    assert relay(client, server, p.Open(1, "c", {"k": b"v"})) == [p.Open(1, "c", {"k": b"v"})]
    for phase, reply in steps:
        assert relay(client, server, phase) == [phase]
        assert server.stream_state(1) is p.StreamState.WAITING
        assert relay(server, client, reply) == [reply]
    assert relay(client, server, p.Close(1)) == [p.Close(1)]
    assert server.open_streams == 0 and client.open_streams == 0


# (case, messages the client sends after HELLO; the last one breaks rule N, expected code)
VIOLATIONS: list[tuple[str, list[Any], ErrorCode]] = [
    ("phase-before-open", [[3, 1, [], True]], ErrorCode.UNKNOWN_STREAM),
    ("body-first", [[2, 1, "", {}], [4, 1, b"", True]], ErrorCode.OUT_OF_ORDER),
    ("reused-id", [[2, 2, "", {}], [2, 2, "", {}]], ErrorCode.OUT_OF_ORDER),
    ("lower-id", [[2, 5, "", {}], [2, 3, "", {}]], ErrorCode.OUT_OF_ORDER),
    (
        "no-wait-for-reply",
        [[2, 1, "", {}], [3, 1, [], False], [4, 1, b"x", True]],
        ErrorCode.OUT_OF_ORDER,
    ),
    ("close-twice", [[2, 1, "", {}], [9, 1], [9, 1]], ErrorCode.UNKNOWN_STREAM),
    ("server-message", [[16, 1, [], [], None]], ErrorCode.OUT_OF_ORDER),
    ("hello-twice", [[1, [1], 100]], ErrorCode.OUT_OF_ORDER),
    ("goaway-from-client", [[33, 0]], ErrorCode.OUT_OF_ORDER),
]


@pytest.mark.parametrize(("case", "bodies", "code"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_out_of_order_messages(case: str, bodies: list[Any], code: ErrorCode) -> None:
    _, server = handshake()
    *fine, bad = bodies
    for body in fine:
        assert server.receive_data(frame(body))
    with pytest.raises(p.RemoteProtocolError) as info:
        server.receive_data(frame(bad))
    assert info.value.code is code


PHASE_ORDER: list[tuple[str, list[p.Message], p.Message]] = [
    ("body-after-eos-body", [p.RequestBody(1, b"", True)], p.RequestBody(1, b"", True)),
    ("trailers-after-eos-body", [p.RequestBody(1, b"", True)], p.RequestTrailers(1, ())),
    ("request-after-response", [p.ResponseHeaders(1, (), False)], p.RequestBody(1, b"", True)),
    ("anything-after-response-eos", [p.ResponseHeaders(1, (), True)], p.ResponseTrailers(1, ())),
    ("headers-twice", [p.ResponseHeaders(1, (), False)], p.ResponseHeaders(1, (), False)),
    ("body-before-response-headers", [], p.ResponseBody(1, b"", True)),
]


@pytest.mark.parametrize(("case", "before", "bad"), PHASE_ORDER, ids=[c[0] for c in PHASE_ORDER])
def test_phase_order_table(case: str, before: list[p.Message], bad: p.Message) -> None:
    client, server = handshake()
    relay(client, server, p.Open(1), p.RequestHeaders(1, (), False))
    relay(server, client, p.Continue(1))
    for msg in before:
        relay(client, server, msg)
        relay(server, client, p.Continue(1))
    with pytest.raises(p.LocalProtocolError):
        client.send(bad)
    with pytest.raises(p.RemoteProtocolError) as info:
        server.receive_data(p.encode(bad))
    assert info.value.code is ErrorCode.OUT_OF_ORDER


def test_after_a_local_response_only_close() -> None:
    client, server = handshake()
    relay(client, server, p.Open(1), p.RequestHeaders(1, (), True))
    relay(server, client, p.LocalResponse(1, 403))
    assert client.stream_state(1) is p.StreamState.ANSWERED
    with pytest.raises(p.LocalProtocolError):
        client.send(p.ResponseHeaders(1, (), True))
    assert relay(client, server, p.Close(1)) == [p.Close(1)]


def test_reply_to_a_stream_the_client_closed_is_dropped_on_both_sides() -> None:
    client, server = handshake()
    relay(client, server, p.Open(1), p.RequestHeaders(1, (), True))
    reply = p.encode(p.Continue(1))  # already on the wire when the client closes
    relay(client, server, p.Close(1))
    assert server.send(p.Continue(1)) == b""
    assert client.receive_data(reply) == []


def test_nothing_but_hello_before_the_handshake() -> None:
    client = Connection(Role.CLIENT)
    with pytest.raises(p.LocalProtocolError):
        client.send(p.Open(1))
    server = Connection(Role.SERVER)
    with pytest.raises(p.RemoteProtocolError) as info:
        server.receive_data(p.encode(p.Open(1)))
    assert info.value.code is ErrorCode.OUT_OF_ORDER
    server = Connection(Role.SERVER)
    server.receive_data(p.encode(p.Hello((1,))))
    with pytest.raises(p.LocalProtocolError):
        server.send(p.Continue(1))  # its own HELLO first


def test_version_negotiation_picks_the_highest_common_version() -> None:
    server = Connection(Role.SERVER, versions=(1, 2, 3))
    server.receive_data(p.encode(p.Hello((2, 3, 4))))
    assert server.version == 3
    with pytest.raises(p.LocalProtocolError):
        server.send(p.Hello((1,)))
    server = Connection(Role.SERVER)
    with pytest.raises(p.RemoteProtocolError) as info:
        server.receive_data(p.encode(p.Hello((7, 8))))
    assert info.value.code is ErrorCode.UNSUPPORTED_VERSION
    client = Connection(Role.CLIENT)
    client.send(p.Hello((1,)))
    with pytest.raises(p.RemoteProtocolError):
        client.receive_data(p.encode(p.Hello((1, 2))))  # the server must choose one


def test_goaway_ignores_later_streams_and_stops_the_client_opening() -> None:
    client, server = handshake()
    relay(client, server, p.Open(1), p.RequestHeaders(1, (), True))
    late = client.send(p.Open(3)) + client.send(p.RequestHeaders(3, (), True))
    assert relay(server, client, p.GoAway(1)) == [p.GoAway(1)]
    assert server.receive_data(late) == []  # rule 7: stream 3 was never seen
    assert server.open_streams == 1
    with pytest.raises(p.LocalProtocolError):
        client.send(p.Open(5))
    assert relay(server, client, p.Continue(1)) == [p.Continue(1)]
    assert relay(client, server, p.Close(1)) == [p.Close(1)]


def test_error_ends_the_connection_both_ways() -> None:
    client, server = handshake()
    assert relay(server, client, p.Error(0, ErrorCode.INTERNAL, "x"))
    assert client.state is p.ConnState.CLOSED and server.state is p.ConnState.CLOSED
    with pytest.raises(p.LocalProtocolError):
        server.send(p.GoAway(0))
    with pytest.raises(p.LocalProtocolError):
        server.send(p.Error(0, ErrorCode.INTERNAL, "twice"))


def test_error_can_be_sent_after_the_peer_broke_a_rule() -> None:
    _, server = handshake()
    with pytest.raises(p.RemoteProtocolError) as info:
        server.receive_data(frame([99, 1]))
    assert server.send(p.Error(0, info.value.code, str(info.value)))


def test_apply_mutation() -> None:
    headers = [(b"A", b"1"), (b"b", b"2"), (b"b", b"3"), (b"c", b"4")]
    out = p.apply_mutation(headers, [(b"b", b"9"), (b"d", b"5")], [b"a"])
    assert out == [(b"c", b"4"), (b"b", b"9"), (b"d", b"5")]


# -- fuzzing -------------------------------------------------------------------------------
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-3, max_value=5)
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=6)
    | st.binary(max_size=6)
)
msgpack_values = (
    scalars
    | st.lists(scalars, max_size=3)
    | st.lists(st.lists(st.binary(max_size=3) | st.text(max_size=3), max_size=3), max_size=3)
    | st.dictionaries(st.text(max_size=3) | st.binary(max_size=3), scalars, max_size=2)
)
message_like = st.builds(
    lambda t, rest: [t, *rest],
    st.sampled_from([int(t) for t in MsgType] + [0, 10, 99]),
    st.lists(msgpack_values, max_size=6),
)


def _feed_server(chunks: list[bytes], after_hello: bool) -> None:
    server = Connection(Role.SERVER, max_frame_bytes=256)
    if after_hello:
        server.receive_data(p.encode(p.Hello((1,))))
        server.send(p.Hello((1,), 256))
    for chunk in chunks:
        try:
            out = server.receive_data(chunk)
        except p.RemoteProtocolError as exc:
            assert isinstance(exc.code, ErrorCode)
            return
        assert all(type(m) in p.TYPE_OF for m in out)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=64), max_size=6), st.booleans())
def test_fuzz_raw_bytes(chunks: list[bytes], after_hello: bool) -> None:
    _feed_server(chunks, after_hello)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(message_like, min_size=1, max_size=4), st.booleans())
def test_fuzz_well_framed_msgpack(bodies: list[Any], after_hello: bool) -> None:
    data = b"".join(frame(b) for b in bodies)
    _feed_server([data[: len(data) // 2], data[len(data) // 2 :]], after_hello)


@settings(max_examples=200)
@given(st.sampled_from(EXAMPLES), st.integers(min_value=0, max_value=40), st.binary(max_size=4))
def test_fuzz_mutated_valid_frames(msg: p.Message, index: int, junk: bytes) -> None:
    data = bytearray(p.encode(msg))
    data[index % len(data) : index % len(data) + len(junk)] = junk
    _feed_server([bytes(data)], True)


def test_good_messages_before_a_violation_are_delivered_first() -> None:
    """Regression: a HELLO and an oversized frame in one read lost the HELLO, so the server
    never answered it and the client saw no HELLO before the ERROR."""
    server = Connection(Role.SERVER, max_frame_bytes=100)
    data = p.encode(p.Hello((1,))) + struct.pack(">I", 101)
    assert server.receive_data(data) == [p.Hello((1,))]
    with pytest.raises(p.RemoteProtocolError) as info:
        server.receive_data(b"")
    assert info.value.code is ErrorCode.FRAME_TOO_LARGE
    assert server.receive_data(b"") == []
