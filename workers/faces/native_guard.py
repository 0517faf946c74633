"""The native face's connection-level limits, as a mixin for ``native._Peer``: write
back-pressure, the handshake/frame/idle timeouts (``client_guard``), and refusing a
connection past ``client_max_connections``. Kept apart from the face so the face's own
code (phases, streams) stays about the protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Protocol

from wasmd.kernel import native_protocol as p
from wasmd.kernel.client_limits import ClientLimits
from wasmd.kernel.logs import get_logger
from workers.faces.client_guard import Activity, Expiry, ReadGate, expiry

log = get_logger(face="native")


class _RefusalCounter(Protocol):
    refused_connections: int


class GuardedPeer:
    """What a native connection does about client limits. The peer sets the attributes
    below and implements ``go_away`` and ``fail``."""

    conn: p.Connection
    streams: Mapping[int, object]
    transport: asyncio.Transport | None
    lingering: bool
    limits: ClientLimits
    refusals: _RefusalCounter
    _gate: ReadGate | None
    _activity: Activity

    def go_away(self) -> None:
        raise NotImplementedError

    def fail(self, code: p.ErrorCode, message: str, stream_id: int = 0) -> None:
        raise NotImplementedError

    def pause_writing(self) -> None:
        """The client is not reading our replies: stop reading it until it catches up."""
        if self._gate is not None:
            self._gate.hold(ReadGate.WRITE)

    def resume_writing(self) -> None:
        if self._gate is not None:
            self._gate.release(ReadGate.WRITE)

    def check_expiry(self, now_s: float) -> Expiry | None:
        if self.lingering:
            return None
        return expiry(
            self._activity,
            self.limits,
            now_s,
            handshake_done=self.conn.state is not p.ConnState.HANDSHAKE,
            busy=bool(self.streams),
            reading=self._gate is None or self._gate.reading,
        )

    def expire(self, why: Expiry) -> None:
        """Idle: GOAWAY (the client reconnects when it needs to); else ERROR TIMEOUT."""
        if why is Expiry.IDLE:
            self.go_away()
        else:
            self.fail(p.ErrorCode.TIMEOUT, why.value)

    def refuse_if_full(self, connections: int) -> bool:
        """Past client_max_connections: ERROR LIMIT_EXCEEDED and close (nothing is kept
        for the connection), and True. Also sets the write buffer limit."""
        assert self.transport is not None
        self.transport.set_write_buffer_limits(high=self.limits.write_buffer_bytes)
        limit = self.limits.max_connections
        if connections < limit:
            return False
        self.refusals.refused_connections += 1
        log.warning("refusing a connection", limit=limit)
        message = f"the worker has {limit} connections (daemon.client_max_connections)"
        self.transport.write(self.conn.send(p.Error(0, p.ErrorCode.LIMIT_EXCEEDED, message)))
        self.transport.close()
        return True

    def read_done(self, progressed: bool) -> None:
        """After a read: note the time, whether a frame completed, whether one is half in."""
        now_s = asyncio.get_running_loop().time()
        self._activity.read(now_s, progressed=progressed, partial=self.conn.partial_input)
