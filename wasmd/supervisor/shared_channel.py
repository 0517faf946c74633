"""The supervisor's shell around the shared store: one socketpair per worker, on the loop.

Why a channel of its own and not the control channel: a worker blocks inside a guest call
until its shared-data reply arrives, so the reply must never queue behind a heartbeat (which
carries a metrics snapshot) or wait for the control reader's turn; and the worker's blocking
read must not have to stash DRAIN/STOP frames for its loop. A second socketpair keeps both
ends simple: strictly one request, one reply, plus supervisor pushes (queue readiness).

Sockets are served with ``add_reader`` and non-blocking ``send`` (no asyncio transport):
this is the per-call hot path, and the replies are small. A reply that does not fit the
socket buffer is queued and flushed with ``add_writer``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable

from wasmd.kernel import control as ctl
from wasmd.kernel.errors import ProtocolError
from wasmd.kernel.logs import get_logger
from wasmd.supervisor.shared_store import QueueReady, SharedStore, serve

RECV_BYTES = 1 << 16
OnBroken = Callable[[int, str], None]

log = get_logger(component="shared")


class _Peer:
    """Our end of one worker's shared channel."""

    def __init__(self, wid: int, sock: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        self.wid = wid
        self.sock = sock
        self.loop = loop
        self.frames = ctl.SharedFrameReader()
        self.pending = bytearray()
        self.closed = False
        sock.setblocking(False)

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        if self.pending:
            self.pending += data
            return
        try:
            sent = self.sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            return  # the worker is gone; its exit is handled elsewhere
        if sent < len(data):
            self.pending += data[sent:]
            self.loop.add_writer(self.sock.fileno(), self._flush)

    def _flush(self) -> None:
        try:
            sent = self.sock.send(self.pending)
        except BlockingIOError:
            return
        except OSError:
            sent = len(self.pending)
        del self.pending[:sent]
        if not self.pending:
            self.loop.remove_writer(self.sock.fileno())

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            self.loop.remove_reader(self.sock.fileno())
            self.loop.remove_writer(self.sock.fileno())
        self.sock.close()


class SharedChannels:
    """Serves ``store`` to every worker; ``open`` per spawn, ``close`` per exit."""

    def __init__(self, store: SharedStore, on_broken: OnBroken | None = None) -> None:
        self.store = store
        self.on_broken = on_broken
        self.calls = 0
        self.pushes = 0
        self._peers: dict[int, _Peer] = {}

    def open(self, wid: int) -> socket.socket:
        """A new channel for worker ``wid``; returns the worker's end (pass it, then close it)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        loop = asyncio.get_running_loop()
        peer = _Peer(wid, ours, loop)
        self._peers[wid] = peer
        loop.add_reader(ours.fileno(), self._readable, peer)
        return theirs

    def close(self, wid: int) -> None:
        """Worker ``wid`` is gone: close its channel and drop its queue registrations."""
        peer = self._peers.pop(wid, None)
        if peer is not None:
            peer.close()
        self.store.forget_worker(wid)

    def close_all(self) -> None:
        for wid in list(self._peers):
            self.close(wid)

    def _readable(self, peer: _Peer) -> None:
        try:
            data = peer.sock.recv(RECV_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            peer.close()  # the worker exited; the pidfd watcher reports it
            return
        try:
            for frame in peer.frames.feed(data):
                self._serve(peer, frame)
        except (ProtocolError, ValueError) as exc:
            log.error("shared_channel_broken", wid=peer.wid, error=str(exc))
            peer.close()
            if self.on_broken is not None:
                self.on_broken(peer.wid, str(exc))

    def _serve(self, peer: _Peer, frame: list[object]) -> None:
        reply, push = serve(self.store, peer.wid, frame)
        self.calls += 1
        if reply is not None:  # one-way requests (metric updates) get none
            peer.write(ctl.encode_shared([ctl.SHARED_REPLY, *reply]))
        if push is not None:
            self._push(push)

    def _push(self, push: QueueReady) -> None:
        target = self._peers.get(push.owner.wid)
        if target is None:
            return  # owner exited between registration and now: nothing to deliver
        self.pushes += 1
        target.write(ctl.encode_shared([ctl.SHARED_QUEUE_READY, push.queue_id, push.owner.token]))
