"""Shared data and queues backed by the supervisor's daemon-wide store.

``SharedData``/``SharedQueues`` (workers/contexts/shared.py) over the worker's end of the
shared channel (``ctl.SHARED_*``, a socketpair of its own, so a slow heartbeat or a big
metrics frame on the control channel never delays a shared-data call). The proxy_* host
calls are synchronous inside a guest call, so each call here is a blocking request and
reply on that socket, one at a time (no request ids needed).

Queue readiness: a VM is named to the store by a token. When this worker enqueues to a
queue one of its own VMs owns, the reply carries that VM's token and the ready listeners
run at once, as with the local store. When the owner lives in another worker, the
supervisor pushes ``SHARED_QUEUE_READY`` to that worker; the loop reads pushes between
guest calls (``attach``), and a blocking call that reads one first announces it too.
Listeners only schedule, so announcing from inside a guest call is safe.
"""

from __future__ import annotations

import asyncio
import select
import socket
import threading
import weakref
from collections import deque
from typing import Any

from wasmd.kernel import control as ctl
from wasmd.kernel.errors import WasmdError
from workers.abi.types import WasmResult
from workers.contexts.shared import QueueReadyListener

CALL_TIMEOUT_S = 5.0  # a supervisor this slow is stuck; the guest call fails instead of hanging
RECV_BYTES = 1 << 16


class SharedStoreUnavailable(WasmdError):
    """The supervisor's shared store did not answer (it died, or the channel broke)."""


class SharedLink:
    """The worker's end of the shared channel. ``close`` is idempotent."""

    def __init__(self, sock: socket.socket, timeout_s: float = CALL_TIMEOUT_S) -> None:
        # The loop's add_reader may make the fd non-blocking behind Python's back, so
        # every read waits with poll() first and then reads what is there.
        sock.setblocking(False)
        self._sock = sock
        self._poll = select.poll()
        self._poll.register(sock.fileno(), select.POLLIN)
        self._timeout_ms = int(timeout_s * 1000)
        self._frames = ctl.SharedFrameReader()
        self._replies: deque[list[Any]] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.broken: str | None = None
        self.calls = 0
        self.on_push: list[Any] = []  # callables taking a push frame

    def call(self, request: list[Any]) -> list[Any]:
        """Send ``request`` and return its reply; raises SharedStoreUnavailable."""
        with self._lock:
            if self.broken is not None:
                raise SharedStoreUnavailable(f"shared store unavailable: {self.broken}")
            try:
                self._send(ctl.encode_shared(request))
                while not self._replies:
                    self._take(self._recv())
            except (OSError, WasmdError) as exc:
                self._break(f"{type(exc).__name__}: {exc}")  # a late reply would desync it
                raise SharedStoreUnavailable(f"shared store unavailable: {exc}") from exc
            self.calls += 1
            return self._replies.popleft()

    def send(self, request: list[Any]) -> None:
        """Send a one-way ``request`` (``ctl.SHARED_ONE_WAY``: no reply comes back);
        raises SharedStoreUnavailable."""
        with self._lock:
            if self.broken is not None:
                raise SharedStoreUnavailable(f"shared store unavailable: {self.broken}")
            try:
                self._send(ctl.encode_shared(request))
            except OSError as exc:
                self._break(f"{type(exc).__name__}: {exc}")
                raise SharedStoreUnavailable(f"shared store unavailable: {exc}") from exc

    def _send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[self._sock.send(view) :]
            except BlockingIOError:  # the supervisor is behind: wait for room
                select.select([], [self._sock], [], self._timeout_ms / 1000)

    def _recv(self) -> bytes:
        while True:
            if not self._poll.poll(self._timeout_ms):
                raise TimeoutError(f"no reply within {self._timeout_ms} ms")
            try:
                return self._sock.recv(RECV_BYTES)
            except BlockingIOError:  # spurious wake-up
                continue

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read pushes on ``loop`` whenever the socket is readable between calls."""
        self._loop = loop
        loop.add_reader(self._sock.fileno(), self._readable)

    def _readable(self) -> None:
        with self._lock:
            try:
                self._take(self._sock.recv(RECV_BYTES, socket.MSG_DONTWAIT))
            except BlockingIOError:
                return
            except (OSError, WasmdError) as exc:
                self._break(str(exc))

    def _take(self, data: bytes) -> None:
        if not data:
            raise SharedStoreUnavailable("the supervisor closed the shared channel")
        for frame in self._frames.feed(data):
            if frame[0] == ctl.SHARED_REPLY:
                self._replies.append(frame)
            else:
                for handler in self.on_push:
                    handler(frame)

    def _break(self, why: str) -> None:
        self.broken = self.broken or why
        self._detach()

    def _detach(self) -> None:
        if self._loop is not None:
            loop, self._loop = self._loop, None
            if not loop.is_closed():
                loop.remove_reader(self._sock.fileno())

    def close(self) -> None:
        self._detach()
        self.broken = self.broken or "closed"
        self._sock.close()


class RemoteSharedData:
    """``SharedData`` served by the supervisor's store (same CAS semantics)."""

    def __init__(self, link: SharedLink) -> None:
        self._link = link

    def get(self, vm_id: str, key: bytes) -> tuple[bytes, int] | None:
        reply = self._link.call([ctl.SHARED_GET, vm_id, key])
        if reply[1] != WasmResult.OK:
            return None
        return bytes(reply[2]), int(reply[3])

    def set(self, vm_id: str, key: bytes, value: bytes, cas: int) -> WasmResult:
        return WasmResult(self._link.call([ctl.SHARED_SET, vm_id, key, value, cas])[1])


class RemoteSharedQueues:
    """``SharedQueues`` served by the supervisor's store; owners are named by tokens."""

    def __init__(self, link: SharedLink) -> None:
        self._link = link
        self._listeners: list[QueueReadyListener] = []
        self._owners: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
        self._pinned: dict[int, object] = {}  # owners that cannot be weakly referenced
        self._token_of: dict[int, int] = {}  # id(owner) -> token, checked against _owners
        self._next_token = 1
        link.on_push.append(self._pushed)

    def register(self, vm_id: str, name: bytes, owner: object) -> int:
        token = self._token(owner)
        return int(self._link.call([ctl.SHARED_REGISTER, vm_id, name, token])[1])

    def resolve(self, vm_id: str, name: bytes) -> int | None:
        return int(self._link.call([ctl.SHARED_RESOLVE, vm_id, name])[1]) or None

    def enqueue(self, queue_id: int, value: bytes) -> WasmResult:
        reply = self._link.call([ctl.SHARED_ENQUEUE, queue_id, value])
        result = WasmResult(reply[1])
        if result is WasmResult.OK and reply[2]:
            self._announce(queue_id, int(reply[2]))
        return result

    def dequeue(self, queue_id: int) -> tuple[WasmResult, bytes]:
        reply = self._link.call([ctl.SHARED_DEQUEUE, queue_id])
        return WasmResult(reply[1]), bytes(reply[2])

    def add_ready_listener(self, listener: QueueReadyListener) -> None:
        self._listeners.append(listener)

    def remove_ready_listener(self, listener: QueueReadyListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _token(self, owner: object) -> int:
        """One token per live owner; a new owner at a recycled id() gets a new token."""
        token = self._token_of.get(id(owner))
        if token is not None and self._owner(token) is owner:
            return token
        token, self._next_token = self._next_token, self._next_token + 1
        self._token_of[id(owner)] = token
        try:
            self._owners[token] = owner
        except TypeError:
            self._pinned[token] = owner
        return token

    def _owner(self, token: int) -> object | None:
        owner = self._owners.get(token)
        return owner if owner is not None else self._pinned.get(token)

    def _pushed(self, frame: list[Any]) -> None:
        if frame[0] == ctl.SHARED_QUEUE_READY:
            self._announce(int(frame[1]), int(frame[2]))

    def _announce(self, queue_id: int, token: int) -> None:
        owner = self._owner(token)
        if owner is None:
            return  # the VM is gone: Envoy drops the notification too
        for listener in tuple(self._listeners):
            listener(queue_id, owner)


def connect(
    sock: socket.socket, loop: asyncio.AbstractEventLoop | None = None
) -> tuple[SharedLink, RemoteSharedData, RemoteSharedQueues]:
    """The link over ``sock`` (reading pushes on ``loop`` if given) and both stores."""
    link = SharedLink(sock)
    if loop is not None:
        link.attach(loop)
    return link, RemoteSharedData(link), RemoteSharedQueues(link)
