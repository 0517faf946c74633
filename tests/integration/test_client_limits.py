"""One client cannot hurt other clients (issue 12 §3): each attack, against the real daemon.

Every test starts ``wasmd serve`` with one worker (tests.helpers.daemon: its own process
group, killed at teardown), connects a well-behaved bystander first, runs one attack from
a raw socket (tests.helpers.raw_clients), and checks that

- the attacker's stream or connection paid (ERROR, RST_STREAM, GOAWAY, 413/431),
- the worker is the same process, never restarted, and stays READY,
- the bystander's existing connection still completes exchanges, and new ones do too.

Each attack is bounded (a fixed number of frames or bytes), so a worker without the limit
answers wrongly (or dies) instead of making the test hang. The heartbeat timeout is the
helpers' short one (2 s): a loop stalled by one client gets the worker killed, which the
pid and restart checks catch.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import hpack
import pytest

from tests.helpers import raw_clients as raw
from tests.helpers.daemon import (
    CONFORMANCE,
    Daemon,
    DaemonFactory,
    PluginEntry,
    daemons,
    write_config,
)
from tests.helpers.procs import wait_for
from wasmd.admin.model import DaemonStatus, SlotState
from wasmd.kernel import native_protocol as p

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[DaemonFactory]:
    with daemons(tmp_path) as start:
        yield start


def start(tmp_path: Path, factory: DaemonFactory, **daemon: Any) -> tuple[Daemon, DaemonStatus]:
    config = write_config(tmp_path, workers=1, **daemon)
    d = factory(config)
    return d, d.all_ready()


def extproc_socket(d: Daemon) -> Path:
    return d.runtime_dir / "extproc-0.sock"


def assert_unharmed(d: Daemon, before: DaemonStatus) -> None:
    """Same worker pid, no restart, READY with fresh heartbeats, and new clients served."""
    after = d.all_ready()
    assert [w.pid for w in after.workers] == [w.pid for w in before.workers], after
    assert all(w.restarts == 0 and w.state is SlotState.READY for w in after.workers), after
    fresh = raw.NativeRaw(d.socket)
    try:
        assert isinstance(fresh.exchange()[0], p.Continue)
    finally:
        fresh.close()
    health = raw.H2Health(extproc_socket(d))
    try:
        assert health.check() == 0
    finally:
        health.close()


@contextmanager
def bystanders(d: Daemon) -> Iterator[tuple[raw.NativeRaw, raw.H2Health]]:
    """A native client and a gRPC client, connected before the attack; checked after it."""
    native = raw.NativeRaw(d.socket)
    health = raw.H2Health(extproc_socket(d))
    assert isinstance(native.exchange()[0], p.Continue)
    assert health.check() == 0
    try:
        yield native, health
        reply = native.exchange()
        assert isinstance(reply[0], p.Continue), reply
        assert health.check() == 0
    finally:
        native.close()
        health.close()


# -- native face ----------------------------------------------------------------------------


def test_native_stream_flood_gets_limit_exceeded_and_the_loop_keeps_beating(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    """22 000 OPENs in one write: ERROR LIMIT_EXCEEDED past client_max_streams (default
    1024); before, every OPEN made an exchange in one loop turn, past the heartbeat."""
    d, before = start(tmp_path, daemon_factory)
    with bystanders(d):
        attack = raw.connect(d.socket)
        data = p.encode(p.Hello(p.PROTOCOL_VERSIONS))
        data += b"".join(p.encode(p.Open(2 * i + 1)) for i in range(22_000))
        sender = threading.Thread(target=raw.send_ignoring_close, args=(attack, data))
        sender.start()
        answer = raw.read_until_closed(attack)
        sender.join(raw.READ_TIMEOUT_S)
        attack.close()
        assert raw.native_errors(answer) == [p.ErrorCode.LIMIT_EXCEEDED]
    assert_unharmed(d, before)


def test_native_connection_flood_is_refused_past_the_cap_and_costs_little(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    """Idle connections past client_max_connections get ERROR LIMIT_EXCEEDED; the ones
    held cost the worker little memory each (VmData), so thousands cannot reach
    RLIMIT_DATA (before: a 256 KiB msgpack buffer per connection)."""
    held_n, cap = 600, 500
    d, before = start(tmp_path, daemon_factory, client_max_connections=cap)
    pid = before.workers[0].pid
    assert pid is not None
    with bystanders(d):
        data_before = _vm_data_kib(pid)
        hello = p.Connection(p.Role.CLIENT).send(p.Hello(p.PROTOCOL_VERSIONS))
        held: list[socket.socket] = []
        try:
            for _ in range(held_n):
                sock = raw.connect(d.socket)
                sock.sendall(hello)
                held.append(sock)
            refused = sum(_refused(sock) for sock in held)
            grown_kib = _vm_data_kib(pid) - data_before
        finally:
            for sock in held:
                sock.close()
        # the native bystander holds one of the cap's places
        assert refused == held_n - (cap - 1), refused
        assert grown_kib < 64 * 1024, f"{cap} idle connections grew VmData by {grown_kib} KiB"
    assert_unharmed(d, before)


def _refused(sock: socket.socket) -> bool:
    """Read the server's first frame: ERROR LIMIT_EXCEEDED (refused) or HELLO (held)."""
    frames: list[list[object]] = []
    data = b""
    while not frames:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        frames = raw.native_frames(data)
    return bool(frames) and frames[0][0] == p.MsgType.ERROR and frames[0][2] == 9


def _vm_data_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmData:"):
            return int(line.split()[1])
    raise AssertionError("no VmData in /proc/PID/status")


def test_native_request_body_past_the_cap_gets_413_and_other_streams_go_on(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    """A request body past client_max_body_bytes: LOCAL_RESPONSE 413 for that stream; a
    stream opened before it on the same connection still completes."""
    d, before = start(tmp_path, daemon_factory, client_max_body_bytes=4 << 20)
    with bystanders(d):
        c = raw.NativeRaw(d.socket)
        c.send(p.Open(1))  # an innocent stream, left open across the attack
        c.send(p.Open(3))
        c.send(p.RequestHeaders(3, ((b":path", b"/upload"),)))
        assert isinstance(c.read_one(), p.Continue)
        chunk = b"x" * ((1 << 20) - 64)  # one frame each: max_frame_bytes is 1 MiB
        answer: p.Message | None = None
        for _ in range(400):  # up to ~400 MiB, as in the report
            c.send(p.RequestBody(3, chunk))
            answer = c.read_one()
            if not isinstance(answer, p.Continue):
                break
        assert isinstance(answer, p.LocalResponse), answer
        assert answer.status == 413 and "client_max_body_bytes" in answer.details
        c.send(p.Close(3))
        c.send(p.RequestHeaders(1, ((b":path", b"/"),), True))
        assert isinstance(c.read_one(), p.Continue)
        c.close()
    assert_unharmed(d, before)


def test_native_sixty_thousand_headers_get_431_for_that_stream_only(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    d, before = start(tmp_path, daemon_factory)
    with bystanders(d):
        c = raw.NativeRaw(d.socket)
        c.send(p.Open(1))
        c.send(p.Open(3))
        flood = tuple((b"x-%d" % i, b"v") for i in range(60_000))
        c.send(p.RequestHeaders(3, flood, True))
        answer = c.read_one()
        assert isinstance(answer, p.LocalResponse), answer
        assert answer.status == 431 and "client_max_header_count" in answer.details
        c.send(p.Close(3))
        c.send(p.RequestHeaders(1, ((b":path", b"/"),), True))
        assert isinstance(c.read_one(), p.Continue)
        c.close()
    assert_unharmed(d, before)


def test_native_client_that_never_reads_big_replies_stops_being_read(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    """Body phases whose replies carry the (plugin-modified) body, ~900 KiB each, on 100
    streams, never read: the worker stops reading that client once its replies back up
    (client_write_buffer_bytes), so it cannot make the worker hold ~90 MiB of replies."""
    plugins = [PluginEntry("conf", CONFORMANCE, settings={"log_level": "warn"})]
    config = write_config(tmp_path, workers=1, plugins=plugins)
    d = daemon_factory(config)
    before = d.all_ready()
    with bystanders(d):
        c = raw.NativeRaw(d.socket)
        c.sock.settimeout(5.0)
        sids = range(1, 201, 2)
        for sid in sids:  # open each stream and have its headers answered first (rule 4)
            c.send(p.Open(sid))
            c.send(p.RequestHeaders(sid, ((b":path", b"/"), (b"x-test", b"body-append"))))
        for _ in sids:
            assert isinstance(c.read_one(), p.Continue)
        chunk = b"b" * (900 << 10)
        sent, blocked = 0, False
        for sid in sids:
            try:
                c.sock.sendall(p.encode(p.RequestBody(sid, chunk, True)))
            except TimeoutError:
                blocked = True
                break
            sent += len(chunk)
        c.close()
        assert blocked, f"the worker read {sent} body bytes whose big replies nobody read"
    assert_unharmed(d, before)


# -- timeouts (both faces) ------------------------------------------------------------------

TIMEOUTS = {
    "client_handshake_timeout_s": 0.5,
    "client_frame_timeout_s": 0.5,
    "client_idle_timeout_s": 0.5,
}


def test_bare_and_half_sent_connections_time_out_on_both_faces(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    d, before = start(tmp_path, daemon_factory, **TIMEOUTS)
    hello = p.Connection(p.Role.CLIENT).send(p.Hello(p.PROTOCOL_VERSIONS))
    # native: nothing at all; half a HELLO; HELLO then half a frame; HELLO then silence
    cases = {
        "bare": (b"", [p.ErrorCode.TIMEOUT]),
        "half hello": (hello[:3], [p.ErrorCode.TIMEOUT]),
        "half frame": (hello + b"\0\0\0\x10\x93", [p.ErrorCode.TIMEOUT]),
    }
    for name, (data, errors) in cases.items():
        sock = raw.connect(d.socket)
        sock.sendall(data)
        answer = raw.read_until_closed(sock)
        sock.close()
        assert raw.native_errors(answer) == errors, (name, raw.native_frames(answer))
    sock = raw.connect(d.socket)
    sock.sendall(hello)
    frames = raw.native_frames(raw.read_until_closed(sock))
    sock.close()
    assert [f[0] for f in frames] == [p.MsgType.HELLO, p.MsgType.GOAWAY], frames
    # HTTP/2: nothing; half a preface; a frame header without its payload; then idle
    h2_cases = {
        "bare": (b"", raw.GOAWAY),
        "half preface": (raw.H2_PREFACE[:10], raw.GOAWAY),
        "half frame": (raw.h2_handshake() + raw.h2frame(raw.PING, 0, 0, b"\0" * 8)[:12], None),
    }
    for name, (data, _) in h2_cases.items():
        sock = raw.connect(extproc_socket(d))
        sock.sendall(data)
        frames_h2 = raw.h2frames(raw.read_until_closed(sock))
        sock.close()
        goaways = [f for f in frames_h2 if f.type == raw.GOAWAY]
        assert goaways and goaways[-1].error_code != 0, (name, frames_h2)
    sock = raw.connect(extproc_socket(d))
    sock.sendall(raw.h2_handshake())
    frames_h2 = raw.h2frames(raw.read_until_closed(sock))
    sock.close()
    goaways = [f for f in frames_h2 if f.type == raw.GOAWAY]
    assert goaways and goaways[-1].error_code == 0, frames_h2
    wait_for(lambda: d.status().workers[0].heartbeat_age_s is not None, 10.0)
    assert_unharmed(d, before)


# -- ext_proc face (HTTP/2) -------------------------------------------------------------------


def test_h2_continuation_flood_gets_goaway_before_it_is_buffered(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    """HEADERS without END_HEADERS, then 1 MiB CONTINUATIONs (CVE-2024-27316): GOAWAY
    ENHANCE_YOUR_CALM once the block passes SETTINGS_MAX_HEADER_LIST_SIZE, which the worker
    advertised in its first SETTINGS."""
    d, before = start(tmp_path, daemon_factory)
    with bystanders(d):
        sock = raw.connect(extproc_socket(d))
        block = raw.request_block(hpack.Encoder())
        data = raw.h2_handshake() + raw.h2frame(raw.HEADERS, 0, 1, block)
        megabyte = raw.h2frame(raw.CONTINUATION, 0, 1, b"\x40" * ((1 << 20) - 16))
        sender = threading.Thread(
            target=raw.send_ignoring_close, args=(sock, data + megabyte * 400)
        )
        sender.start()
        frames = raw.h2frames(raw.read_until_closed(sock))
        sender.join(raw.READ_TIMEOUT_S)
        sock.close()
        settings = _settings(next(f for f in frames if f.type == raw.SETTINGS))
        assert settings[0x6] == 96 << 10  # MAX_HEADER_LIST_SIZE
        goaways = [f for f in frames if f.type == raw.GOAWAY]
        assert [g.error_code for g in goaways] == [0xB], frames  # ENHANCE_YOUR_CALM
    assert_unharmed(d, before)


def _settings(frame: raw.H2Frame) -> dict[int, int]:
    pairs = [struct.unpack_from(">HI", frame.payload, i) for i in range(0, len(frame.payload), 6)]
    return dict(pairs)


def test_h2_stream_flood_is_refused_past_max_concurrent_streams(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    """100 000 HEADERS opening streams: the worker advertises MAX_CONCURRENT_STREAMS and
    answers the streams past it RST_STREAM REFUSED_STREAM; the connection itself lives."""
    d, before = start(tmp_path, daemon_factory, client_max_streams=256)
    with bystanders(d):
        sock = raw.connect(extproc_socket(d))
        encoder = hpack.Encoder()
        block = raw.request_block(encoder)  # indexed after the first: a few bytes each
        first = raw.h2frame(raw.HEADERS, raw.END_HEADERS, 1, block)
        rest = raw.request_block(encoder)
        data = raw.h2_handshake() + first
        data += b"".join(
            raw.h2frame(raw.HEADERS, raw.END_HEADERS, 2 * i + 1, rest) for i in range(1, 100_000)
        )
        data += raw.h2frame(raw.PING, 0, 0, b"lastping")
        reader = _Reader(sock, stop=lambda f: f.type == raw.PING and f.payload == b"lastping")
        reader.start()
        raw.send_ignoring_close(sock, data)
        frames = reader.join()
        sock.close()
        settings = _settings(next(f for f in frames if f.type == raw.SETTINGS))
        assert settings[0x3] == 256  # MAX_CONCURRENT_STREAMS
        refused = [f for f in frames if f.type == raw.RST_STREAM and f.error_code == 0x7]
        assert len(refused) == 100_000 - 256, len(refused)
        assert not [f for f in frames if f.type == raw.GOAWAY]
    assert_unharmed(d, before)


class _Reader(threading.Thread):
    """Reads HTTP/2 frames from ``sock`` until ``stop(frame)`` or the connection closes."""

    def __init__(self, sock: socket.socket, stop: Any) -> None:
        super().__init__(daemon=True)
        self.sock, self.stop, self.frames = sock, stop, []  # type: ignore[var-annotated]
        self.buf = b""

    def run(self) -> None:
        data = bytearray()
        pos = 0
        while True:
            try:
                chunk = self.sock.recv(1 << 20)
            except OSError:
                return
            if not chunk:
                return
            data += chunk
            while len(data) - pos >= 9:
                hi, lo = struct.unpack_from(">HB", data, pos)
                length = (hi << 8) | lo
                if len(data) - pos - 9 < length:
                    break
                (frame,) = raw.h2frames(bytes(data[pos : pos + 9 + length]))
                pos += 9 + length
                self.frames.append(frame)
                if self.stop(frame):
                    return

    def join(self, timeout: float | None = raw.READ_TIMEOUT_S) -> list[raw.H2Frame]:  # type: ignore[override]
        super().join(timeout)
        assert not self.is_alive(), "no answer in time"
        return self.frames


def test_h2_ping_flood_never_read_stops_being_read(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    """PINGs whose ACKs are never read: the worker stops reading once the ACKs back up
    (pause_writing), so the client cannot push more than a bounded amount."""
    d, before = start(tmp_path, daemon_factory)
    with bystanders(d):
        sock = raw.connect(extproc_socket(d), timeout_s=2.0)
        sock.sendall(raw.h2_handshake())
        pings = raw.h2frame(raw.PING, 0, 0, b"\0" * 8) * 4096  # 68 KiB
        sent, limit = 0, 64 << 20
        blocked = False
        while sent < limit:
            try:
                sock.sendall(pings)
            except TimeoutError:
                blocked = True
                break
            sent += len(pings)
        sock.close()
        assert blocked, f"the worker read {sent} bytes of PINGs whose ACKs nobody read"
    assert_unharmed(d, before)


def test_h2_late_trailers_after_a_reset_are_ignored(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    """RFC 9113 5.1: after the worker resets a stream (a message over the 4 MiB limit),
    the client's trailers for it are ignored; the connection and its other streams live."""
    d, before = start(tmp_path, daemon_factory)
    sock = raw.connect(extproc_socket(d))
    encoder = hpack.Encoder()
    head = raw.h2_handshake() + raw.h2frame(
        raw.HEADERS, raw.END_HEADERS, 1, raw.request_block(encoder)
    )
    too_big = struct.pack(">BI", 0, 5 << 20)  # a gRPC message prefix announcing 5 MiB
    reader = _Reader(sock, stop=lambda f: f.type == raw.RST_STREAM and f.stream_id == 1)
    reader.start()
    sock.sendall(head + raw.h2frame(raw.DATA, 0, 1, too_big + b"\0" * 1000))
    reset = reader.join()[-1]
    assert reset.type == raw.RST_STREAM
    trailers = raw.h2frame(
        raw.HEADERS, raw.END_HEADERS | raw.END_STREAM, 1, bytes(encoder.encode([(b"x-late", b"1")]))
    )
    health_block = raw.request_block(encoder, raw.HEALTH_PATH)
    health = raw.h2frame(raw.HEADERS, raw.END_HEADERS, 3, health_block)
    health += raw.h2frame(raw.DATA, raw.END_STREAM, 3, b"\0\0\0\0\0")
    reader = _Reader(sock, stop=lambda f: f.stream_id == 3 and bool(f.flags & raw.END_STREAM))
    reader.start()
    sock.sendall(trailers + health)
    frames = reader.join()
    sock.close()
    assert not [f for f in frames if f.type == raw.GOAWAY], frames
    assert frames[-1].type == raw.HEADERS and frames[-1].stream_id == 3
    assert_unharmed(d, before)
