"""Shared data (key/value with CAS) and shared queues, scoped by vm_id.

``SharedData``/``SharedQueues`` are the interfaces; the in-process implementations below
serve one worker. The daemon can back them with a store shared by all workers.

Queue readiness (proxy-wasm-cpp-host ``SharedQueue::enqueue``): every successful enqueue
posts one ``proxy_on_queue_ready`` to the root context that registered the queue last.
A store only *announces* it, calling each ready listener with ``(queue_id, owner)``;
``owner`` is whatever the registrar passed to ``register`` (opaque to the store). The
listener (the worker's loop) must not call into a VM from inside the announcement: it
schedules the delivery, so the enqueuing callback finishes first. A store shared by
several workers announces to the listener of the worker that owns the registrar.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol

from workers.abi.types import WasmResult

QueueReadyListener = Callable[[int, object], None]
"""Called with ``(queue_id, owner)`` after each successful enqueue; must only schedule."""


class SharedData(Protocol):
    def get(self, vm_id: str, key: bytes) -> tuple[bytes, int] | None: ...
    def set(self, vm_id: str, key: bytes, value: bytes, cas: int) -> WasmResult: ...


class SharedQueues(Protocol):
    def register(self, vm_id: str, name: bytes, owner: object) -> int:
        """The non-zero id of queue (vm_id, name), created empty if new; ``owner`` (the
        registering root context's VM) replaces any previous owner, queued data stays."""

    def resolve(self, vm_id: str, name: bytes) -> int | None:
        """The id of queue (vm_id, name), or None if nobody registered it."""

    def enqueue(self, queue_id: int, value: bytes) -> WasmResult:
        """Append; NOT_FOUND for an unknown id. On OK, announce ``(queue_id, owner)`` to
        every ready listener, once per enqueue."""

    def dequeue(self, queue_id: int) -> tuple[WasmResult, bytes]:
        """Pop the oldest value: OK, EMPTY (nothing queued) or NOT_FOUND (unknown id)."""

    def add_ready_listener(self, listener: QueueReadyListener) -> None:
        """Announce every later successful enqueue to ``listener``."""

    def remove_ready_listener(self, listener: QueueReadyListener) -> None:
        """Stop announcing to ``listener``; removing an absent listener is a no-op."""


class LocalSharedData:
    """proxy-wasm-cpp-host semantics: one global CAS counter starting at 1, never 0."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, bytes], tuple[bytes, int]] = {}
        self._cas = 0

    def _next_cas(self) -> int:
        self._cas = (self._cas + 1) & 0xFFFFFFFF or 1
        return self._cas

    def get(self, vm_id: str, key: bytes) -> tuple[bytes, int] | None:
        return self._data.get((vm_id, key))

    def set(self, vm_id: str, key: bytes, value: bytes, cas: int) -> WasmResult:
        current = self._data.get((vm_id, key))
        if cas != 0 and (current is None or current[1] != cas):
            return WasmResult.CAS_MISMATCH
        self._data[(vm_id, key)] = (value, self._next_cas())
        return WasmResult.OK


class LocalSharedQueues:
    """Queues keyed by (vm_id, name) with non-zero ids; re-registering keeps the data."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, bytes], int] = {}
        self._queues: dict[int, deque[bytes]] = {}
        self.owners: dict[int, object] = {}
        self._listeners: list[QueueReadyListener] = []

    def register(self, vm_id: str, name: bytes, owner: object) -> int:
        queue_id = self._ids.get((vm_id, name))
        if queue_id is None:
            queue_id = len(self._ids) + 1
            self._ids[(vm_id, name)] = queue_id
            self._queues[queue_id] = deque()
        self.owners[queue_id] = owner
        return queue_id

    def resolve(self, vm_id: str, name: bytes) -> int | None:
        return self._ids.get((vm_id, name))

    def enqueue(self, queue_id: int, value: bytes) -> WasmResult:
        queue = self._queues.get(queue_id)
        if queue is None:
            return WasmResult.NOT_FOUND
        queue.append(value)
        owner = self.owners.get(queue_id)
        for listener in tuple(self._listeners):
            listener(queue_id, owner)
        return WasmResult.OK

    def dequeue(self, queue_id: int) -> tuple[WasmResult, bytes]:
        queue = self._queues.get(queue_id)
        if queue is None:
            return WasmResult.NOT_FOUND, b""
        if not queue:
            return WasmResult.EMPTY, b""
        return WasmResult.OK, queue.popleft()

    def add_ready_listener(self, listener: QueueReadyListener) -> None:
        self._listeners.append(listener)

    def remove_ready_listener(self, listener: QueueReadyListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)
