"""wasmd's HTTP/2 core against python-hyper's ``h2`` (server side), frame by frame.

Hypothesis builds client frame sequences (plus server resets and responses between them)
over a few streams; both implementations get the same bytes, and every frame must have
the same outcome class on both: ok, a stream error with a code, or a connection error
with a code (tests/unit/faces/h2_differential.py). Then the closed-stream and
flow-control scenarios of h2's own test suite (test_closed_streams.py,
test_flow_control_window.py, test_invalid_headers.py), written again here as frame
sequences with the RFC 9113 section each one checks.

Where the two differ on purpose, the test says so (``KNOWN_DIFFERENCES``) and which one
follows the RFC.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.faces.h2_differential import (
    GOOD_REQUEST,
    MAX_STREAMS,
    OK,
    ClientFrame,
    ServerAction,
    Step,
    frame,
    run_h2,
    run_wasmd,
)
from workers.faces import h2core as core

FT = core.FrameType
F = core.Flag
E = core.ErrorCode


def headers(sid: int, fields: list[tuple[bytes, bytes]], *, end_stream: bool = False) -> Step:
    flags = F.END_HEADERS | (F.END_STREAM if end_stream else 0)
    return ClientFrame(
        f"HEADERS({sid})", frame(FT.HEADERS, flags, sid, core.encode_literal(fields))
    )


def data(sid: int, size: int = 5, *, end_stream: bool = False) -> Step:
    flags = F.END_STREAM if end_stream else 0
    return ClientFrame(f"DATA({sid}, {size})", frame(FT.DATA, flags, sid, b"\0" * size))


def rst(sid: int, code: int = E.CANCEL) -> Step:
    return ClientFrame(f"RST_STREAM({sid})", frame(FT.RST_STREAM, 0, sid, struct.pack(">I", code)))


def window_update(sid: int, increment: int) -> Step:
    payload = struct.pack(">I", increment)
    return ClientFrame(
        f"WINDOW_UPDATE({sid}, {increment})", frame(FT.WINDOW_UPDATE, 0, sid, payload)
    )


def ping(length: int = 8, sid: int = 0) -> Step:
    return ClientFrame(f"PING({length}, {sid})", frame(FT.PING, 0, sid, b"\0" * length))


def settings_window(value: int) -> Step:
    payload = struct.pack(">HI", core.Setting.INITIAL_WINDOW_SIZE, value)
    return ClientFrame(f"SETTINGS(window={value})", frame(FT.SETTINGS, 0, 0, payload))


def compare(steps: list[Step]) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    return run_wasmd(steps), run_h2(steps)


# -- hypothesis: random frame sequences ------------------------------------------------------

_sid = st.sampled_from([1, 3, 5])
_bad_requests = [
    [(b":method", b"POST"), (b":path", b"/x")],  # no :scheme
    [*GOOD_REQUEST, (b"Upper", b"1")],  # uppercase name
    [*GOOD_REQUEST, (b"connection", b"close")],  # connection-specific
    [(b"x-a", b"1"), *GOOD_REQUEST],  # regular before pseudo
    [*GOOD_REQUEST[:5], (b"te", b"gzip")],  # te other than trailers
    [*GOOD_REQUEST, (b":method", b"GET")],  # repeated pseudo-header
]
_steps = st.one_of(
    st.builds(lambda s, e: headers(s, GOOD_REQUEST, end_stream=e), _sid, st.booleans()),
    st.builds(lambda s, h: headers(s, h), _sid, st.sampled_from(_bad_requests)),
    st.builds(lambda s: headers(s, [(b"grpc-status", b"0")], end_stream=True), _sid),
    st.builds(lambda s: headers(s, [(b":path", b"/")], end_stream=True), _sid),  # bad trailers
    st.builds(lambda s, n, e: data(s, n, end_stream=e), _sid, st.integers(0, 64), st.booleans()),
    st.builds(rst, _sid),
    st.builds(window_update, st.sampled_from([0, 1, 3]), st.sampled_from([0, 1, 2**31 - 1])),
    st.builds(ping, st.sampled_from([8, 7])),
    st.builds(settings_window, st.sampled_from([0, 100, 2**31 - 1])),
    st.builds(ServerAction, st.sampled_from(["reset", "end"]), _sid),
)


def _normalize(outcomes: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Map the documented differences (KNOWN_DIFFERENCES) to one class."""
    return [KNOWN_DIFFERENCES.get(o, o) for o in outcomes]


# Where h2 and RFC 9113 part ways, wasmd follows the RFC:
# - a malformed request (8.1.1) and a zero WINDOW_UPDATE on a stream (6.9) are stream
#   errors PROTOCOL_ERROR; h2 makes both connection errors. Compared as one class.
# - frames on a stream the server reset are ignored (5.1: "MUST ignore"); h2 answers them
#   RST_STREAM STREAM_CLOSED (``_ignored_closed``).
# - RST_STREAM on an idle stream is a connection error PROTOCOL_ERROR (6.4); h2 ignores one
#   above its highest stream id once a stream is open (``_rst_on_idle``).
KNOWN_DIFFERENCES = {("connection", int(E.PROTOCOL_ERROR)): ("error", int(E.PROTOCOL_ERROR))}
KNOWN_DIFFERENCES[("stream", int(E.PROTOCOL_ERROR))] = ("error", int(E.PROTOCOL_ERROR))
# - a frame after both END_STREAMs is a connection error STREAM_CLOSED (5.1 closed: "MUST
#   treat that as a connection error"); h2 resets just the stream. Same code, one class.
KNOWN_DIFFERENCES[("connection", int(E.STREAM_CLOSED))] = ("error", int(E.STREAM_CLOSED))
KNOWN_DIFFERENCES[("stream", int(E.STREAM_CLOSED))] = ("error", int(E.STREAM_CLOSED))


def _frame_of(step: Step) -> tuple[int, int] | None:
    """(type, stream id) of a client frame step."""
    if not isinstance(step, ClientFrame):
        return None
    return step.data[3], struct.unpack_from(">I", step.data, 5)[0] & 0x7FFFFFFF


def _second_headers(
    steps: list[Step], i: int, ours: tuple[str, int], theirs: tuple[str, int]
) -> bool:
    """A second HEADERS without END_STREAM on an open stream is malformed (8.1): wasmd
    resets the stream (PROTOCOL_ERROR); h2 fails the connection (STREAM_CLOSED when the
    server already ended its side)."""
    kind = _frame_of(steps[i])
    opened = {f[1] for s in steps[:i] if (f := _frame_of(s)) and f[0] == FT.HEADERS}
    return (
        kind is not None
        and kind[0] == FT.HEADERS
        and kind[1] in opened
        and ours == ("stream", E.PROTOCOL_ERROR)
        and theirs[0] == "connection"
    )


def _after_client_reset(
    steps: list[Step], i: int, ours: tuple[str, int], theirs: tuple[str, int]
) -> bool:
    """Any frame after the client's own RST_STREAM is a stream error STREAM_CLOSED (5.1
    closed); h2 checks a zero WINDOW_UPDATE first and fails the connection."""
    kind = _frame_of(steps[i])
    reset = {f[1] for s in steps[:i] if (f := _frame_of(s)) and f[0] == FT.RST_STREAM}
    return (
        kind is not None
        and kind[1] in reset
        and ours == ("stream", E.STREAM_CLOSED)
        and theirs[0] == "connection"
    )


def _rst_on_idle(steps: list[Step], i: int, ours: tuple[str, int], theirs: tuple[str, int]) -> bool:
    kind = _frame_of(steps[i])
    opened = [f[1] for s in steps[:i] if (f := _frame_of(s)) and f[0] == FT.HEADERS]
    return (
        kind is not None
        and kind[0] == FT.RST_STREAM
        and kind[1] > max(opened, default=0)
        and ours == ("connection", E.PROTOCOL_ERROR)
        and theirs == OK
    )


def _ignored_closed(
    steps: list[Step], i: int, ours: tuple[str, int], theirs: tuple[str, int]
) -> bool:
    """wasmd ignored a frame on a closed stream that h2 answered with an error: one the
    server reset (5.1: MUST ignore), or one never opened below an opened id (closed by
    5.1.1; 5.1 lets the receiver ignore it or fail the connection)."""
    kind = _frame_of(steps[i])
    if kind is None or ours != OK or theirs == OK:
        return False
    reset = {s.stream_id for s in steps[:i] if isinstance(s, ServerAction) and s.name == "reset"}
    opened = {f[1] for s in steps[:i] if (f := _frame_of(s)) and f[0] == FT.HEADERS}
    return kind[1] in reset or (kind[1] not in opened and kind[1] < max(opened, default=0))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_steps, min_size=1, max_size=12))
def test_random_frame_sequences_get_the_same_outcome_class_as_h2(steps: list[Step]) -> None:
    ours, theirs = compare(steps)
    # After the first error of class "error" the two connections may be in different
    # states (one closed, one not): compare up to and including it.
    n = min(len(ours), len(theirs))
    for i in range(n):
        if _rst_on_idle(steps, i, ours[i], theirs[i]):
            return
        accepted = (_ignored_closed, _second_headers, _after_client_reset)
        if any(rule(steps, i, ours[i], theirs[i]) for rule in accepted):
            return  # from here the two disagree on that stream's state
        a, b = _normalize([ours[i]])[0], _normalize([theirs[i]])[0]
        assert a == b, _explain(steps, ours, theirs, i)
        if a[0] != "ok":
            return
    assert len(ours) == len(theirs), _explain(steps, ours, theirs, n)


def _explain(steps: list[Step], ours: list, theirs: list, i: int) -> str:  # type: ignore[type-arg]
    names = [
        s.name if isinstance(s, ClientFrame) else f"server {s.name}({s.stream_id})" for s in steps
    ]
    return f"step {i}: {names}\nwasmd: {ours}\nh2:    {theirs}"


# -- closed streams (RFC 9113 5.1; h2's test_closed_streams.py) -------------------------------


@pytest.mark.parametrize(
    ("late", "h2_answer"),
    [
        (data(1), ("stream", E.STREAM_CLOSED)),
        (headers(1, [(b"grpc-status", b"0")], end_stream=True), ("stream", E.STREAM_CLOSED)),
        (window_update(1, 10), OK),
        (rst(1), OK),
    ],
    ids=["data", "trailers", "window_update", "rst_stream"],
)
def test_frames_after_the_server_reset_a_stream_are_ignored(
    late: Step, h2_answer: tuple[str, int]
) -> None:
    """5.1 closed: "An endpoint MUST ignore frames that it receives on closed streams after
    it has sent a RST_STREAM frame" (late trailers used to cost the whole connection). h2
    answers DATA and HEADERS with RST_STREAM STREAM_CLOSED instead."""
    steps = [headers(1, GOOD_REQUEST), ServerAction("reset", 1), late, headers(3, GOOD_REQUEST)]
    ours, theirs = compare(steps)
    assert ours == [OK, OK, OK, OK]  # the server action's place holds OK
    assert theirs == [OK, OK, h2_answer, OK]


def test_data_after_the_client_reset_the_stream_is_a_stream_closed_error() -> None:
    ours, theirs = compare([headers(1, GOOD_REQUEST), rst(1), data(1)])
    assert ours == theirs == [OK, OK, ("stream", E.STREAM_CLOSED)]


def test_data_after_end_stream_is_a_stream_closed_error() -> None:
    """5.1 half-closed (remote): a second END_STREAM (or any DATA) is STREAM_CLOSED."""
    steps = [headers(1, GOOD_REQUEST), data(1, end_stream=True), data(1, end_stream=True)]
    ours, theirs = compare(steps)
    assert ours == theirs == [OK, OK, ("stream", E.STREAM_CLOSED)]


def test_data_on_a_stream_closed_both_ways_is_stream_closed() -> None:
    steps = [headers(1, GOOD_REQUEST, end_stream=True), ServerAction("end", 1), data(1)]
    ours, theirs = compare(steps)
    assert ours[:2] == theirs[:2] == [OK, OK]
    assert ours[2] == ("connection", E.STREAM_CLOSED)  # 5.1 closed: a connection error
    assert theirs[2] == ("stream", E.STREAM_CLOSED)


def test_window_update_after_both_end_streams_is_ignored() -> None:
    steps = [headers(1, GOOD_REQUEST, end_stream=True), ServerAction("end", 1)]
    ours, theirs = compare([*steps, window_update(1, 5), rst(1)])
    assert ours == theirs == [OK, OK, OK, OK]


@pytest.mark.parametrize(
    "step",
    [data(1), rst(1), window_update(1, 1), window_update(2, 1)],
    ids=["data", "rst_stream", "window_update", "window_update_even"],
)
def test_frames_on_an_idle_stream_are_a_connection_protocol_error(step: Step) -> None:
    ours, theirs = compare([step])
    assert ours == theirs == [("connection", E.PROTOCOL_ERROR)]


def test_headers_on_a_lower_unused_stream_id_is_a_connection_error() -> None:
    ours, theirs = compare([headers(5, GOOD_REQUEST), headers(3, GOOD_REQUEST)])
    assert ours == theirs == [OK, ("connection", E.PROTOCOL_ERROR)]


def test_repeated_rst_stream_frames_reset_the_stream_once() -> None:
    ours, theirs = compare([headers(1, GOOD_REQUEST), rst(1), rst(1), rst(1)])
    assert ours == theirs == [OK, OK, OK, OK]


def test_every_frame_after_the_client_reset_gets_stream_closed() -> None:
    late = [data(1), headers(1, GOOD_REQUEST), data(1)]
    ours, theirs = compare([headers(1, GOOD_REQUEST), rst(1), *late])
    closed = ("stream", E.STREAM_CLOSED)
    assert ours == theirs == [OK, OK, closed, closed, closed]


def test_headers_after_both_end_streams_is_a_connection_stream_closed_error() -> None:
    steps = [headers(1, GOOD_REQUEST, end_stream=True), ServerAction("end", 1)]
    ours, theirs = compare([*steps, headers(1, GOOD_REQUEST, end_stream=True)])
    assert ours == theirs == [OK, OK, ("connection", E.STREAM_CLOSED)]


# -- flow control (6.9; h2's test_flow_control_window.py) ----------------------------------------


def test_padding_counts_against_the_receive_window() -> None:
    """6.9.1: the whole DATA payload counts, padding and its length byte included. Eight
    1 MiB payloads with 255 bytes of padding each fill the 8 MiB stream window while
    carrying less than 8 MiB of data; one more frame of padding alone overruns it."""
    size = core.LOCAL_MAX_FRAME_BYTES
    full = frame(FT.DATA, F.PADDED, 1, bytes([255]) + b"\0" * (size - 256) + b"\0" * 255)
    only_padding = frame(FT.DATA, F.PADDED, 1, bytes([255]) + b"\0" * 255)
    overrun = ClientFrame("8 padded MiB + padding", full * 8 + only_padding)
    ours, theirs = compare([headers(1, GOOD_REQUEST), overrun])
    assert ours == theirs == [OK, ("connection", E.FLOW_CONTROL_ERROR)]


def test_zero_window_update_on_a_stream_is_a_stream_error() -> None:
    """6.9: a stream error PROTOCOL_ERROR (h2: a connection error)."""
    ours, theirs = compare([headers(1, GOOD_REQUEST), window_update(1, 0)])
    assert ours == [OK, ("stream", E.PROTOCOL_ERROR)]
    assert theirs == [OK, ("connection", E.PROTOCOL_ERROR)]


def test_rst_stream_on_an_idle_stream_above_an_open_one_is_a_connection_error() -> None:
    """6.4: RST_STREAM on an idle stream is a connection error PROTOCOL_ERROR (h2 lets one
    above its highest stream id through once a stream is open)."""
    ours, theirs = compare([headers(1, GOOD_REQUEST), rst(3)])
    assert ours == [OK, ("connection", E.PROTOCOL_ERROR)]
    assert theirs == [OK, OK]


def test_zero_window_update_on_the_connection_is_a_connection_error() -> None:
    ours, theirs = compare([window_update(0, 0)])
    assert ours == theirs == [("connection", E.PROTOCOL_ERROR)]


def test_stream_window_overflow_is_a_stream_flow_control_error() -> None:
    ours, theirs = compare([headers(1, GOOD_REQUEST), window_update(1, 2**31 - 1)])
    assert ours == theirs == [OK, ("stream", E.FLOW_CONTROL_ERROR)]


def test_connection_window_overflow_is_a_connection_flow_control_error() -> None:
    ours, theirs = compare([window_update(0, 2**31 - 1)])
    assert ours == theirs == [("connection", E.FLOW_CONTROL_ERROR)]


def test_initial_window_size_overflowing_an_open_stream_is_a_connection_error() -> None:
    steps = [headers(1, GOOD_REQUEST), window_update(1, 2**31 - 1 - 65_535)]
    ours, theirs = compare([*steps, settings_window(2**31 - 1)])
    assert ours == theirs == [OK, OK, ("connection", E.FLOW_CONTROL_ERROR)]


def test_a_receive_window_overrun_is_a_flow_control_error() -> None:
    """More DATA than the stream window we advertised, in one read (before any credit)."""
    megabyte = core.LOCAL_MAX_FRAME_BYTES
    frames = b"".join(frame(FT.DATA, 0, 1, b"\0" * megabyte) for _ in range(9))
    overrun = ClientFrame("9 MiB of DATA", frames)
    ours, theirs = compare([headers(1, GOOD_REQUEST), overrun])
    assert ours == theirs == [OK, ("connection", E.FLOW_CONTROL_ERROR)]


# -- frame sizes and streams ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "code"),
    [
        (ping(7), E.FRAME_SIZE_ERROR),
        (ping(8, sid=1), E.PROTOCOL_ERROR),
        (
            ClientFrame("RST_STREAM(3 bytes)", frame(FT.RST_STREAM, 0, 1, b"\0\0\0")),
            E.FRAME_SIZE_ERROR,
        ),
        (
            ClientFrame("WINDOW_UPDATE(3 bytes)", frame(FT.WINDOW_UPDATE, 0, 0, b"\0\0\1")),
            E.FRAME_SIZE_ERROR,
        ),
    ],
    ids=["ping_length", "ping_on_stream", "rst_length", "window_update_length"],
)
def test_malformed_control_frames_get_the_rfc_code(step: Step, code: int) -> None:
    ours, theirs = compare([headers(1, GOOD_REQUEST), step])
    assert ours == theirs == [OK, ("connection", code)]


def test_streams_past_max_concurrent_streams_are_refused() -> None:
    """5.1.2: wasmd refuses the stream (REFUSED_STREAM) and the connection goes on; h2
    makes it a connection error PROTOCOL_ERROR. Both are allowed; REFUSED_STREAM lets a
    client retry the stream elsewhere."""
    steps = [headers(2 * i + 1, GOOD_REQUEST) for i in range(MAX_STREAMS + 1)]
    ours, theirs = compare(steps)
    assert ours == [OK] * MAX_STREAMS + [("stream", E.REFUSED_STREAM)]
    assert theirs == [OK] * MAX_STREAMS + [("connection", E.PROTOCOL_ERROR)]


def test_settings_ack_with_a_payload_is_a_frame_size_error() -> None:
    """6.5: FRAME_SIZE_ERROR (h2 says PROTOCOL_ERROR)."""
    ack = ClientFrame("SETTINGS ACK with payload", frame(FT.SETTINGS, F.ACK, 0, b"\0" * 6))
    ours, theirs = compare([ack])
    assert ours == [("connection", E.FRAME_SIZE_ERROR)]
    assert theirs == [("connection", E.PROTOCOL_ERROR)]


@pytest.mark.parametrize("bad", _bad_requests, ids=lambda h: repr(h[-1][0]))
def test_a_malformed_request_is_a_stream_protocol_error(bad: list) -> None:  # type: ignore[type-arg]
    """8.1.1: malformed requests are stream errors PROTOCOL_ERROR (h2: connection error)."""
    ours, theirs = compare([headers(1, bad), headers(3, GOOD_REQUEST)])
    assert ours == [("stream", E.PROTOCOL_ERROR), OK]
    assert theirs == [("connection", E.PROTOCOL_ERROR)]
