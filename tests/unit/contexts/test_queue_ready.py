"""Queue readiness announcements of LocalSharedQueues (workers/contexts/shared.py)."""

from __future__ import annotations

from workers.abi.types import WasmResult
from workers.contexts.shared import LocalSharedQueues

R = WasmResult


def test_each_successful_enqueue_announces_the_current_owner_once() -> None:
    q = LocalSharedQueues()
    seen: list[tuple[int, object]] = []
    q.add_ready_listener(lambda qid, owner: seen.append((qid, owner)))
    qid = q.register("vm", b"q", "root-1")
    q.enqueue(qid, b"a")
    q.register("vm", b"q", "root-2")  # re-registering moves readiness to the new owner
    q.enqueue(qid, b"b")
    assert seen == [(qid, "root-1"), (qid, "root-2")]


def test_failed_enqueue_and_dequeue_announce_nothing() -> None:
    q = LocalSharedQueues()
    seen: list[tuple[int, object]] = []
    q.add_ready_listener(lambda qid, owner: seen.append((qid, owner)))
    qid = q.register("vm", b"q", "root")
    assert q.enqueue(qid + 1, b"x") == R.NOT_FOUND
    assert q.dequeue(qid) == (R.EMPTY, b"")
    assert seen == []


def test_every_listener_hears_it_and_removed_ones_do_not() -> None:
    q = LocalSharedQueues()
    first: list[int] = []
    second: list[int] = []

    def listen_first(qid: int, owner: object) -> None:
        first.append(qid)

    def listen_second(qid: int, owner: object) -> None:
        second.append(qid)

    q.add_ready_listener(listen_first)
    q.add_ready_listener(listen_second)
    qid = q.register("vm", b"q", None)
    q.enqueue(qid, b"1")
    q.remove_ready_listener(listen_first)
    q.remove_ready_listener(listen_first)  # absent: no-op
    q.enqueue(qid, b"2")
    assert first == [qid]
    assert second == [qid, qid]
