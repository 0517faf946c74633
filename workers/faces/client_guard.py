"""What both faces do so that one client cannot hold a worker: timeouts and read gating.

- ``Activity`` records, per connection, when it was accepted, when it last sent bytes and
  since when a frame has been half-received; ``expiry`` says which timeout it passed.
- ``Sweeper`` checks every connection of a face a few times per shortest timeout (one
  timer per face, not one per connection) and calls ``expire`` on those past a limit.
- ``ReadGate`` pauses reading from a connection while any reason holds: replies the client
  does not read (asyncio's ``pause_writing``), or frames of an earlier read still being
  handled. A client that does not read then stops being read, and its unread replies stay
  bounded by ``ClientLimits.write_buffer_bytes`` plus one read's worth.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Iterable
from typing import Protocol

from wasmd.kernel.client_limits import ClientLimits


class Expiry(enum.Enum):
    HANDSHAKE = "the handshake did not complete within client_handshake_timeout_s"
    FRAME = "a frame did not complete within client_frame_timeout_s"
    IDLE = "no stream and nothing received within client_idle_timeout_s"


class Activity:
    """Timestamps (loop time) of one connection's input."""

    __slots__ = ("accepted_s", "last_read_s", "partial_since_s")

    def __init__(self, now_s: float) -> None:
        self.accepted_s = now_s
        self.last_read_s = now_s
        self.partial_since_s: float | None = None

    def read(self, now_s: float, *, progressed: bool, partial: bool) -> None:
        """After handling a read: ``progressed`` if a whole frame completed in it,
        ``partial`` if a frame is still half-received."""
        self.last_read_s = now_s
        if not partial:
            self.partial_since_s = None
        elif progressed or self.partial_since_s is None:
            self.partial_since_s = now_s


def expiry(
    activity: Activity,
    limits: ClientLimits,
    now_s: float,
    *,
    handshake_done: bool,
    busy: bool,
    reading: bool,
) -> Expiry | None:
    """Which timeout the connection passed, if any. ``busy``: streams are open (not idle);
    ``reading``: we are reading from it (a paused read is our doing, not the client's)."""
    if not handshake_done:
        if now_s - activity.accepted_s >= limits.handshake_timeout_s:
            return Expiry.HANDSHAKE
        return None
    if not reading:
        return None
    partial = activity.partial_since_s
    if partial is not None and now_s - partial >= limits.frame_timeout_s:
        return Expiry.FRAME
    if not busy and now_s - activity.last_read_s >= limits.idle_timeout_s:
        return Expiry.IDLE
    return None


class Guarded(Protocol):
    """A connection the sweeper watches."""

    def check_expiry(self, now_s: float) -> Expiry | None: ...

    def expire(self, why: Expiry) -> None: ...


class Sweeper:
    """Runs ``check_expiry`` on every connection ``connections()`` lists, every
    ``limits.sweep_interval_s``, and ``expire``s those past a timeout."""

    def __init__(self, limits: ClientLimits, connections: Callable[[], Iterable[Guarded]]) -> None:
        self._interval_s = limits.sweep_interval_s
        self._connections = connections
        self._handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._schedule()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._loop = None

    def _schedule(self) -> None:
        if self._loop is not None:
            self._handle = self._loop.call_later(self._interval_s, self._tick)

    def _tick(self) -> None:
        loop = self._loop
        if loop is None:
            return
        now_s = loop.time()
        for conn in list(self._connections()):
            why = conn.check_expiry(now_s)
            if why is not None:
                conn.expire(why)
        self._schedule()


class ReadGate:
    """Pause a transport's reading while any reason holds; resume when none does."""

    WRITE = "write"  # the client does not read our replies
    BACKLOG = "backlog"  # frames of an earlier read are still being handled

    __slots__ = ("_transport", "_reasons")

    def __init__(self, transport: asyncio.ReadTransport) -> None:
        self._transport = transport
        self._reasons: set[str] = set()

    @property
    def reading(self) -> bool:
        return not self._reasons

    def hold(self, reason: str) -> None:
        if not self._reasons and not self._transport.is_closing():
            self._transport.pause_reading()
        self._reasons.add(reason)

    def release(self, reason: str) -> None:
        if reason not in self._reasons:
            return
        self._reasons.discard(reason)
        if not self._reasons and not self._transport.is_closing():
            self._transport.resume_reading()
