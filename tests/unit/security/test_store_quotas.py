"""wasmd/supervisor/shared_store.py rule 5: quotas per vm_id and for the whole store."""

from __future__ import annotations

from wasmd.supervisor.shared_store import QueueOwner, Quotas, SharedStore, StoreResult, refusals

OWNER = QueueOwner(1, 1)


def test_data_bytes_and_keys() -> None:
    store = SharedStore(Quotas(data_bytes=100, data_keys=3))
    assert store.set("a", b"k1", b"x" * 40, 0) is StoreResult.OK
    assert store.set("a", b"k2", b"x" * 40, 0) is StoreResult.OK
    assert store.set("a", b"k3", b"x" * 40, 0) is StoreResult.QUOTA  # 126 bytes > 100
    assert store.get("a", b"k3") is None
    assert store.set("a", b"k1", b"x" * 10, 0) is StoreResult.OK  # shrinking is fine
    assert store.set("a", b"k3", b"x", 0) is StoreResult.OK
    assert store.set("a", b"k4", b"", 0) is StoreResult.QUOTA  # fourth key
    assert store.set("b", b"k1", b"x" * 90, 0) is StoreResult.OK  # another vm_id's own quota
    assert refusals(store) == {"a": 2}
    assert store.usage["a"].refused == {"data_bytes": 1, "data_keys": 1}


def test_total_bytes_bound_every_vm_id_together() -> None:
    store = SharedStore(Quotas(data_bytes=100, total_bytes=150))
    assert store.set("a", b"k", b"x" * 90, 0) is StoreResult.OK
    assert store.set("b", b"k", b"x" * 90, 0) is StoreResult.QUOTA
    assert store.total_bytes == 91


def test_queues() -> None:
    store = SharedStore(Quotas(queues=2, queue_length=3, queue_bytes=10))
    q1 = store.register("a", b"q1", OWNER)
    assert q1 and store.register("a", b"q2", OWNER)
    assert store.register("a", b"q3", OWNER) == 0
    assert store.register("a", b"q1", OWNER) == q1  # re-registering is not a new queue
    assert store.enqueue(q1, b"12345")[0] is StoreResult.OK
    assert store.enqueue(q1, b"123456")[0] is StoreResult.QUOTA  # 11 bytes > 10
    assert store.enqueue(q1, b"1")[0] is StoreResult.OK
    assert store.enqueue(q1, b"1")[0] is StoreResult.OK
    assert store.enqueue(q1, b"1")[0] is StoreResult.QUOTA  # length 3
    assert store.dequeue(q1) == (StoreResult.OK, b"12345")
    assert store.usage["a"].queue_bytes == 2 and store.total_bytes == 2
    assert store.enqueue(q1, b"1234")[0] is StoreResult.OK
