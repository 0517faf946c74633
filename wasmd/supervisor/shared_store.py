"""The daemon-wide shared data and shared queues: a pure store, no I/O.

Same semantics as the in-process stores in ``workers/contexts/shared.py`` (which follow
proxy-wasm-cpp-host), but one instance serves every worker of the daemon:

1. Shared data is keyed by (vm_id, key). One global CAS counter starts at 1, wraps at
   2^32 and skips 0. ``set`` with cas 0 always writes; with a non-zero cas it writes only
   if the key exists with that cas, else CAS_MISMATCH. Every write takes a fresh cas.
2. Queues are keyed by (vm_id, name) with ids 1, 2, ... Registering an existing queue
   keeps its data and makes the registrar its owner (the last registration wins).
3. An owner is (worker id, token): the token names the registering VM inside its worker
   (opaque here). ``enqueue`` returns the owner, so the caller can tell that worker to
   deliver ``proxy_on_queue_ready``; a queue without an owner just stores the value.
4. A worker that dies loses its registrations (``forget_worker``); its queues keep their
   data, and the next registration takes ownership.
5. Quotas (``Quotas``) per vm_id: shared-data bytes (keys + values) and keys, queues
   registered, values per queue, queued bytes; and the bytes of the whole store. A write
   past one is refused with QUOTA (the ABI has no "resource exhausted": InternalFailure,
   10), changes nothing, and is counted per (vm_id, quota) for metrics and status. A
   refused registration returns queue id 0. So the store, and the supervisor holding it,
   stay bounded whatever the plugins do (docs/security.md).

``serve`` is the request dispatch of the shared channel (``ctl.SHARED_*`` frames): a
request from worker ``wid`` in, the reply and an optional push to another worker out.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from wasmd.kernel import control as ctl
from wasmd.supervisor.metric_store import MetricStore, apply_batch

CAS_MASK = 0xFFFFFFFF  # proxy-wasm CAS values are u32


class StoreResult(IntEnum):
    """The proxy-wasm status codes the store returns (numbers as in the ABI)."""

    OK = 0
    NOT_FOUND = 1
    EMPTY = 7
    CAS_MISMATCH = 8
    QUOTA = 10  # InternalFailure: past a quota (rule 5)


MIB = 1 << 20


@dataclass(frozen=True, slots=True)
class Quotas:
    """Rule 5's limits (defaults: docs/configuration.md, ``shared_*`` keys)."""

    data_bytes: int = 16 * MIB
    data_keys: int = 65536
    queues: int = 256
    queue_length: int = 10000
    queue_bytes: int = 16 * MIB
    total_bytes: int = 256 * MIB


@dataclass(slots=True)
class Usage:
    """What one vm_id holds, and how often it was refused (quota name -> count)."""

    data_bytes: int = 0
    data_keys: int = 0
    queues: int = 0
    queue_bytes: int = 0
    refused: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class QueueOwner:
    """The VM that registered a queue last: its worker and its token in that worker."""

    wid: int
    token: int


@dataclass(frozen=True, slots=True)
class QueueReady:
    """Tell worker ``owner.wid`` that queue ``queue_id`` got a value for ``owner.token``."""

    queue_id: int
    owner: QueueOwner


class SharedStore:
    """Shared data and queues for every worker (rules 1-4 in the module doc)."""

    def __init__(self, quotas: Quotas | None = None) -> None:
        self.quotas = quotas or Quotas()
        self._data: dict[tuple[str, bytes], tuple[bytes, int]] = {}
        self._cas = 0
        self._queue_ids: dict[tuple[str, bytes], int] = {}
        self._queues: dict[int, deque[bytes]] = {}
        self._queue_vm: dict[int, str] = {}
        self._owners: dict[int, QueueOwner] = {}
        self.metrics = MetricStore()  # daemon-wide plugin counters and gauges
        self.usage: dict[str, Usage] = {}
        self.total_bytes = 0

    def _usage(self, vm_id: str) -> Usage:
        usage = self.usage.get(vm_id)
        if usage is None:
            usage = self.usage[vm_id] = Usage()
        return usage

    def _over(self, usage: Usage, quota: str, over: bool) -> bool:
        if over:
            usage.refused[quota] += 1
        return over

    def _refuse_bytes(self, usage: Usage, held: int, limit: int, quota: str, grow: int) -> bool:
        """Whether growing by ``grow`` bytes breaks ``limit`` (or the store's total)."""
        if grow <= 0:
            return False
        if self._over(usage, quota, held + grow > limit):
            return True
        return self._over(usage, "total_bytes", self.total_bytes + grow > self.quotas.total_bytes)

    # -- shared data ----------------------------------------------------------------------
    def get(self, vm_id: str, key: bytes) -> tuple[bytes, int] | None:
        """The value and its cas, or None when the key was never set."""
        return self._data.get((vm_id, key))

    def set(self, vm_id: str, key: bytes, value: bytes, cas: int) -> StoreResult:
        """Write (rule 1): OK, or CAS_MISMATCH when ``cas`` is non-zero and stale."""
        current = self._data.get((vm_id, key))
        if cas != 0 and (current is None or current[1] != cas):
            return StoreResult.CAS_MISMATCH
        usage, q = self._usage(vm_id), self.quotas
        grow = len(value) - len(current[0]) if current else len(key) + len(value)
        if current is None and self._over(usage, "data_keys", usage.data_keys >= q.data_keys):
            return StoreResult.QUOTA
        if self._refuse_bytes(usage, usage.data_bytes, q.data_bytes, "data_bytes", grow):
            return StoreResult.QUOTA
        usage.data_keys += current is None
        usage.data_bytes += grow
        self.total_bytes += grow
        self._cas = (self._cas + 1) & CAS_MASK or 1
        self._data[(vm_id, key)] = (value, self._cas)
        return StoreResult.OK

    # -- queues ---------------------------------------------------------------------------
    def register(self, vm_id: str, name: bytes, owner: QueueOwner) -> int:
        """The queue's id, created empty if new; ``owner`` now owns it (rule 2). 0 when a
        new queue would break the vm_id's queue quota (rule 5)."""
        queue_id = self._queue_ids.get((vm_id, name))
        if queue_id is None:
            usage = self._usage(vm_id)
            if self._over(usage, "queues", usage.queues >= self.quotas.queues):
                return 0
            usage.queues += 1
            queue_id = len(self._queue_ids) + 1
            self._queue_vm[queue_id] = vm_id
            self._queue_ids[(vm_id, name)] = queue_id
            self._queues[queue_id] = deque()
        self._owners[queue_id] = owner
        return queue_id

    def resolve(self, vm_id: str, name: bytes) -> int | None:
        """The id of queue (vm_id, name), or None if nobody ever registered it."""
        return self._queue_ids.get((vm_id, name))

    def enqueue(self, queue_id: int, value: bytes) -> tuple[StoreResult, QueueOwner | None]:
        """Append: (OK, the owner to notify or None), or (NOT_FOUND, None)."""
        queue = self._queues.get(queue_id)
        if queue is None:
            return StoreResult.NOT_FOUND, None
        usage, q = self._usage(self._queue_vm[queue_id]), self.quotas
        if self._over(usage, "queue_length", len(queue) >= q.queue_length):
            return StoreResult.QUOTA, None
        if self._refuse_bytes(usage, usage.queue_bytes, q.queue_bytes, "queue_bytes", len(value)):
            return StoreResult.QUOTA, None
        usage.queue_bytes += len(value)
        self.total_bytes += len(value)
        queue.append(value)
        return StoreResult.OK, self._owners.get(queue_id)

    def dequeue(self, queue_id: int) -> tuple[StoreResult, bytes]:
        """Pop the oldest value: OK, EMPTY or NOT_FOUND (with b"")."""
        queue = self._queues.get(queue_id)
        if queue is None:
            return StoreResult.NOT_FOUND, b""
        if not queue:
            return StoreResult.EMPTY, b""
        value = queue.popleft()
        self._usage(self._queue_vm[queue_id]).queue_bytes -= len(value)
        self.total_bytes -= len(value)
        return StoreResult.OK, value

    def owner(self, queue_id: int) -> QueueOwner | None:
        return self._owners.get(queue_id)

    def forget_worker(self, wid: int) -> int:
        """Drop every registration of worker ``wid`` (rule 4); how many were dropped."""
        gone = [qid for qid, owner in self._owners.items() if owner.wid == wid]
        for qid in gone:
            del self._owners[qid]
        return len(gone)


def refusals(store: SharedStore) -> dict[str, int]:
    """Quota refusals so far per vm_id (all quotas together)."""
    return {vm_id: sum(u.refused.values()) for vm_id, u in store.usage.items() if u.refused}


def serve(
    store: SharedStore, wid: int, request: list[Any]
) -> tuple[list[Any] | None, QueueReady | None]:
    """Run one shared-channel request of worker ``wid``: (reply, push for another worker).
    The reply is None for a one-way request (``ctl.SHARED_ONE_WAY``).

    The reply to an ENQUEUE carries the owner's token when the owner is ``wid`` itself
    (the worker notifies its own VM at once) and 0 otherwise; a push is returned only for
    an owner in another worker. Raises ValueError on a malformed request.
    """
    try:
        op = request[0]
        if op == ctl.SHARED_GET:
            found = store.get(request[1], request[2])
            if found is None:
                return [StoreResult.NOT_FOUND], None
            return [StoreResult.OK, found[0], found[1]], None
        if op == ctl.SHARED_SET:
            return [store.set(request[1], request[2], request[3], request[4])], None
        if op == ctl.SHARED_REGISTER:
            return [store.register(request[1], request[2], QueueOwner(wid, request[3]))], None
        if op == ctl.SHARED_RESOLVE:
            return [store.resolve(request[1], request[2]) or 0], None
        if op == ctl.SHARED_ENQUEUE:
            return _enqueue(store, wid, request[1], request[2])
        if op == ctl.SHARED_DEQUEUE:
            result, value = store.dequeue(request[1])
            return [result, value], None
        if op == ctl.SHARED_METRIC_UPDATE:
            apply_batch(store.metrics, request[1])
            return None, None
        if op == ctl.SHARED_METRIC_GET:
            return [store.metrics.get((request[1], request[2], request[3]))], None
    except (IndexError, TypeError) as exc:
        raise ValueError(f"malformed shared-channel request: {exc}") from None
    raise ValueError(f"unknown shared-channel request {op!r}")


def _enqueue(
    store: SharedStore, wid: int, queue_id: int, value: bytes
) -> tuple[list[Any], QueueReady | None]:
    result, owner = store.enqueue(queue_id, value)
    if owner is None:
        return [result, 0], None
    if owner.wid == wid:
        return [result, owner.token], None
    return [result, 0], QueueReady(queue_id, owner)
