"""Shared data (key/value with CAS) and shared queues, scoped by vm_id.

``SharedData``/``SharedQueues`` are the interfaces; the in-process implementations below
serve one worker. The daemon can back them with a store shared by all workers.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from workers.abi.types import WasmResult


class SharedData(Protocol):
    def get(self, vm_id: str, key: bytes) -> tuple[bytes, int] | None: ...
    def set(self, vm_id: str, key: bytes, value: bytes, cas: int) -> WasmResult: ...


class SharedQueues(Protocol):
    def register(self, vm_id: str, name: bytes, owner: object) -> int: ...
    def resolve(self, vm_id: str, name: bytes) -> int | None: ...
    def enqueue(self, queue_id: int, value: bytes) -> WasmResult: ...
    def dequeue(self, queue_id: int) -> tuple[WasmResult, bytes]: ...


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
        return WasmResult.OK

    def dequeue(self, queue_id: int) -> tuple[WasmResult, bytes]:
        queue = self._queues.get(queue_id)
        if queue is None:
            return WasmResult.NOT_FOUND, b""
        if not queue:
            return WasmResult.EMPTY, b""
        return WasmResult.OK, queue.popleft()
