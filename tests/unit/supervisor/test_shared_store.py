"""wasmd/supervisor/shared_store.py: the daemon-wide store, its request dispatch and framing.

The cases are scripts of (operation, arguments, expected result); each runs against the
daemon's SharedStore and against the worker's in-process LocalSharedData/LocalSharedQueues,
so the two keep the same (proxy-wasm-cpp-host) semantics.
"""

from __future__ import annotations

from typing import Any

import msgpack
import pytest

from wasmd.kernel import control as ctl
from wasmd.kernel.errors import ProtocolError
from wasmd.supervisor.shared_store import QueueOwner, QueueReady, SharedStore, StoreResult, serve
from workers.contexts.shared import LocalSharedData, LocalSharedQueues

OK, NOT_FOUND, EMPTY, MISMATCH = 0, 1, 7, 8
A, B = QueueOwner(1, 10), QueueOwner(2, 20)

Step = tuple[str, tuple[Any, ...], Any]
SCRIPTS: dict[str, list[Step]] = {
    "missing key": [("get", ("vm", b"k"), None)],
    "cas starts at 1, one counter for all keys and vm_ids": [
        ("set", ("vm", b"a", b"1", 0), OK),
        ("get", ("vm", b"a"), (b"1", 1)),
        ("set", ("vm", b"b", b"2", 0), OK),
        ("set", ("other", b"a", b"3", 0), OK),
        ("get", ("other", b"a"), (b"3", 3)),
        ("get", ("vm", b"a"), (b"1", 1)),
    ],
    "cas 0 always writes": [
        ("set", ("vm", b"k", b"x", 0), OK),
        ("set", ("vm", b"k", b"y", 0), OK),
        ("get", ("vm", b"k"), (b"y", 2)),
    ],
    "matching cas writes, stale cas does not": [
        ("set", ("vm", b"k", b"old", 0), OK),
        ("set", ("vm", b"k", b"new", 1), OK),
        ("set", ("vm", b"k", b"late", 1), MISMATCH),
        ("get", ("vm", b"k"), (b"new", 2)),
    ],
    "non-zero cas on a missing key": [
        ("set", ("vm", b"k", b"v", 5), MISMATCH),
        ("get", ("vm", b"k"), None),
    ],
    "queue ids are non-zero and per (vm_id, name)": [
        ("resolve", ("vm", b"q"), None),
        ("register", ("vm", b"q", A), 1),
        ("register", ("vm", b"r", A), 2),
        ("register", ("other", b"q", A), 3),
        ("resolve", ("vm", b"r"), 2),
        ("resolve", ("nobody", b"q"), None),
    ],
    "fifo, empty, unknown id": [
        ("register", ("vm", b"q", A), 1),
        ("dequeue", (1,), (EMPTY, b"")),
        ("enqueue", (1, b"a"), OK),
        ("enqueue", (1, b"b"), OK),
        ("dequeue", (1,), (OK, b"a")),
        ("dequeue", (1,), (OK, b"b")),
        ("dequeue", (1,), (EMPTY, b"")),
        ("enqueue", (9, b"x"), NOT_FOUND),
        ("dequeue", (9,), (NOT_FOUND, b"")),
    ],
    "re-registering keeps the data": [
        ("register", ("vm", b"q", A), 1),
        ("enqueue", (1, b"kept"), OK),
        ("register", ("vm", b"q", B), 1),
        ("dequeue", (1,), (OK, b"kept")),
    ],
}


class Local:
    """The worker's in-process stores behind the same call shapes as SharedStore."""

    def __init__(self) -> None:
        self.data = LocalSharedData()
        self.queues = LocalSharedQueues()

    def get(self, vm_id: str, key: bytes) -> tuple[bytes, int] | None:
        return self.data.get(vm_id, key)

    def set(self, vm_id: str, key: bytes, value: bytes, cas: int) -> int:
        return self.data.set(vm_id, key, value, cas)

    def register(self, vm_id: str, name: bytes, owner: object) -> int:
        return self.queues.register(vm_id, name, owner)

    def resolve(self, vm_id: str, name: bytes) -> int | None:
        return self.queues.resolve(vm_id, name)

    def enqueue(self, queue_id: int, value: bytes) -> int:
        return self.queues.enqueue(queue_id, value)

    def dequeue(self, queue_id: int) -> tuple[int, bytes]:
        return self.queues.dequeue(queue_id)


def _daemon_result(store: SharedStore, op: str, args: tuple[Any, ...]) -> Any:
    result = getattr(store, op)(*args)
    return result[0] if op == "enqueue" else result  # drop the owner: checked below


@pytest.mark.parametrize("script", list(SCRIPTS.values()), ids=list(SCRIPTS))
def test_daemon_store_matches_the_script_and_the_local_store(script: list[Step]) -> None:
    store, local = SharedStore(), Local()
    for op, args, expected in script:
        assert _daemon_result(store, op, args) == expected, (op, args)
        assert getattr(local, op)(*args) == expected, (op, args)


def test_cas_wraps_to_1_never_0() -> None:
    store = SharedStore()
    store._cas = 0xFFFFFFFF
    store.set("vm", b"k", b"v", 0)
    assert store.get("vm", b"k") == (b"v", 1)


def test_enqueue_names_the_last_registrar() -> None:
    store = SharedStore()
    qid = store.register("vm", b"q", A)
    assert store.enqueue(qid, b"1") == (StoreResult.OK, A)
    store.register("vm", b"q", B)
    assert store.enqueue(qid, b"2") == (StoreResult.OK, B)


def test_a_dead_worker_loses_its_registrations_but_not_the_data() -> None:
    store = SharedStore()
    q = store.register("vm", b"q", A)
    r = store.register("vm", b"r", B)
    assert store.forget_worker(A.wid) == 1
    assert store.enqueue(q, b"kept") == (StoreResult.OK, None)  # nobody to notify
    assert store.owner(r) == B
    assert store.register("vm", b"q", B) == q  # the next registration takes ownership
    assert store.enqueue(q, b"more") == (StoreResult.OK, B)
    assert store.dequeue(q) == (StoreResult.OK, b"kept")


# -- serve: the shared channel's dispatch ------------------------------------------------
@pytest.mark.parametrize(
    ("request_", "reply"),
    [
        ([ctl.SHARED_GET, "vm", b"k"], [NOT_FOUND]),
        ([ctl.SHARED_SET, "vm", b"k", b"v", 0], [OK]),
        ([ctl.SHARED_SET, "vm", b"k", b"v", 7], [MISMATCH]),
        ([ctl.SHARED_RESOLVE, "vm", b"q"], [0]),
        ([ctl.SHARED_REGISTER, "vm", b"q", 3], [1]),
        ([ctl.SHARED_ENQUEUE, 5, b"x"], [NOT_FOUND, 0]),
        ([ctl.SHARED_DEQUEUE, 5], [NOT_FOUND, b""]),
    ],
)
def test_serve_replies(request_: list[Any], reply: list[Any]) -> None:
    assert serve(SharedStore(), 1, request_) == (reply, None)


def test_serve_get_returns_value_and_cas() -> None:
    store = SharedStore()
    serve(store, 1, [ctl.SHARED_SET, "vm", b"k", b"v", 0])
    assert serve(store, 2, [ctl.SHARED_GET, "vm", b"k"]) == ([OK, b"v", 1], None)


def test_serve_enqueue_notifies_own_worker_inline_and_others_by_push() -> None:
    store = SharedStore()
    registered, _ = serve(store, 1, [ctl.SHARED_REGISTER, "vm", b"q", 42])
    assert registered is not None
    (qid,) = registered
    assert serve(store, 1, [ctl.SHARED_ENQUEUE, qid, b"a"]) == ([OK, 42], None)
    assert serve(store, 2, [ctl.SHARED_ENQUEUE, qid, b"b"]) == (
        [OK, 0],
        QueueReady(qid, QueueOwner(1, 42)),
    )


@pytest.mark.parametrize(
    "request_",
    [[99], [ctl.SHARED_GET], [ctl.SHARED_SET, "vm", b"k"], [ctl.SHARED_GET, "vm", [1]]],
)
def test_serve_rejects_malformed_requests(request_: list[Any]) -> None:
    with pytest.raises(ValueError):
        serve(SharedStore(), 1, request_)


# -- framing -----------------------------------------------------------------------------
def test_shared_frames_split_anywhere_decode_in_order() -> None:
    data = ctl.encode_shared([ctl.SHARED_GET, "vm", b"k"]) + ctl.encode_shared(
        [ctl.SHARED_REPLY, OK, b"v" * 300, 7]
    )
    for cut in range(len(data) + 1):
        reader = ctl.SharedFrameReader()
        got = reader.feed(data[:cut]) + reader.feed(data[cut:])
        assert got == [[ctl.SHARED_GET, "vm", b"k"], [ctl.SHARED_REPLY, OK, b"v" * 300, 7]]


@pytest.mark.parametrize(
    "frame",
    [
        ctl.HEADER.pack(100) + b"x",  # oversized for the limit below
        ctl.HEADER.pack(1) + b"\xc1",  # reserved msgpack byte
        ctl.HEADER.pack(1) + msgpack.packb({}),  # not an array
        ctl.encode_shared([]),  # no op code
        ctl.encode_shared(["get"]),  # op code not an int
    ],
)
def test_bad_shared_frames_raise_protocol_error(frame: bytes) -> None:
    with pytest.raises(ProtocolError):
        ctl.SharedFrameReader(max_frame_bytes=50).feed(frame)
