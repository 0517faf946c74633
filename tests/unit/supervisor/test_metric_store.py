"""wasmd/supervisor/metric_store.py and its serving over the shared channel (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from wasmd.kernel import control as ctl
from wasmd.supervisor.metric_store import ADD, SET, MetricStore, apply_batch
from wasmd.supervisor.shared_store import SharedStore, serve

COUNTER, GAUGE = 0, 1


def test_adds_sum_and_a_set_replaces() -> None:
    store = MetricStore()
    apply_batch(store, [["p", COUNTER, "c", ADD, 1], ["p", COUNTER, "c", ADD, 2]])
    apply_batch(store, [["p", GAUGE, "g", ADD, 5], ["p", GAUGE, "g", SET, 42]])
    assert store.get(("p", COUNTER, "c")) == 3
    assert store.get(("p", GAUGE, "g")) == 42
    assert store.get(("other", COUNTER, "c")) == 0  # keyed by plugin too


@pytest.mark.parametrize(
    "batch", [{}, [["p", 0, "c", 2, 1]], [["p", 0, "c", 0]], [[1, 0, "c", 0, 1]], [None]]
)
def test_a_malformed_batch_is_a_value_error(batch: Any) -> None:
    with pytest.raises(ValueError):
        apply_batch(MetricStore(), batch)


def test_update_gets_no_reply_and_get_reads_every_worker() -> None:
    store = SharedStore()
    update = [ctl.SHARED_METRIC_UPDATE, [["p", COUNTER, "c", ADD, 1]]]
    assert serve(store, 1, update) == (None, None)  # one-way
    assert serve(store, 2, update) == (None, None)
    assert serve(store, 2, [ctl.SHARED_METRIC_GET, "p", COUNTER, "c"]) == ([2], None)
