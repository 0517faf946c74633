"""Tests for workers/contexts/shared.py: shared data (CAS) and shared queues (reference §2.5)."""

from __future__ import annotations

import pytest

from workers.abi.types import WasmResult
from workers.contexts.shared import LocalSharedData, LocalSharedQueues

R = WasmResult


def test_missing_key_is_none() -> None:
    assert LocalSharedData().get("vm", b"k") is None


def test_cas_starts_at_1_and_increases_globally() -> None:
    d = LocalSharedData()
    assert d.set("vm", b"a", b"1", 0) == R.OK
    assert d.get("vm", b"a") == (b"1", 1)
    assert d.set("vm", b"b", b"2", 0) == R.OK
    assert d.get("vm", b"b") == (b"2", 2)  # one counter for all keys
    assert d.set("other", b"a", b"3", 0) == R.OK
    assert d.get("other", b"a") == (b"3", 3)  # ... and all vm_ids


@pytest.mark.parametrize(
    ("cas", "result", "value"),
    [
        (0, R.OK, b"new"),
        (1, R.OK, b"new"),
        (2, R.CAS_MISMATCH, b"old"),
        (0xFFFFFFFF, R.CAS_MISMATCH, b"old"),
    ],
)
def test_set_with_cas(cas: int, result: R, value: bytes) -> None:
    d = LocalSharedData()
    d.set("vm", b"k", b"old", 0)  # cas 1
    assert d.set("vm", b"k", b"new", cas) == result
    assert d.get("vm", b"k")[0] == value  # type: ignore[index]


def test_cas_on_missing_key_is_mismatch() -> None:
    d = LocalSharedData()
    assert d.set("vm", b"k", b"v", 5) == R.CAS_MISMATCH
    assert d.get("vm", b"k") is None


def test_stale_cas_after_a_write_is_mismatch() -> None:
    d = LocalSharedData()
    d.set("vm", b"k", b"v1", 0)
    _, cas = d.get("vm", b"k")  # type: ignore[misc]
    assert d.set("vm", b"k", b"v2", cas) == R.OK
    assert d.set("vm", b"k", b"v3", cas) == R.CAS_MISMATCH
    assert d.get("vm", b"k") == (b"v2", cas + 1)


def test_cas_never_0_on_wrap() -> None:
    d = LocalSharedData()
    d._cas = 0xFFFFFFFE  # white-box: jump to the end of the u32 range
    d.set("vm", b"a", b"", 0)
    d.set("vm", b"b", b"", 0)
    d.set("vm", b"c", b"", 0)
    assert [d.get("vm", k)[1] for k in (b"a", b"b", b"c")] == [0xFFFFFFFF, 1, 2]  # type: ignore[index]


def test_data_is_scoped_by_vm_id() -> None:
    d = LocalSharedData()
    d.set("vm1", b"k", b"one", 0)
    assert d.get("vm2", b"k") is None
    d.set("vm2", b"k", b"two", 0)
    assert d.get("vm1", b"k") == (b"one", 1)
    assert d.get("vm2", b"k") == (b"two", 2)


def test_queue_ids_are_non_zero_and_distinct() -> None:
    q = LocalSharedQueues()
    ids = [q.register("vm", name, None) for name in (b"a", b"b")] + [q.register("vm2", b"a", None)]
    assert 0 not in ids
    assert len(set(ids)) == 3


def test_reregister_keeps_id_and_data_and_takes_ownership() -> None:
    q = LocalSharedQueues()
    qid = q.register("vm", b"q", "root-1")
    q.enqueue(qid, b"x")
    assert q.register("vm", b"q", "root-2") == qid
    assert q.owners[qid] == "root-2"
    assert q.dequeue(qid) == (R.OK, b"x")


def test_resolve_is_scoped_by_vm_id() -> None:
    q = LocalSharedQueues()
    qid = q.register("vm", b"q", None)
    assert q.resolve("vm", b"q") == qid
    assert q.resolve("other", b"q") is None
    assert q.resolve("vm", b"nope") is None


def test_enqueue_dequeue_fifo_then_empty() -> None:
    q = LocalSharedQueues()
    qid = q.register("vm", b"q", None)
    assert q.dequeue(qid) == (R.EMPTY, b"")
    for item in (b"1", b"2", b"3"):
        assert q.enqueue(qid, item) == R.OK
    assert [q.dequeue(qid) for _ in range(4)] == [
        (R.OK, b"1"),
        (R.OK, b"2"),
        (R.OK, b"3"),
        (R.EMPTY, b""),
    ]


@pytest.mark.parametrize("queue_id", [0, 2, 0xFFFFFFFF])
def test_unknown_queue_is_not_found(queue_id: int) -> None:
    q = LocalSharedQueues()
    q.register("vm", b"q", None)  # id 1
    assert q.enqueue(queue_id, b"x") == R.NOT_FOUND
    assert q.dequeue(queue_id) == (R.NOT_FOUND, b"")
