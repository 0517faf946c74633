"""Tests for workers/contexts/metrics.py: Envoy's metric id scheme and update rules."""

from __future__ import annotations

import pytest

from workers.abi.types import MetricType, WasmResult
from workers.contexts.metrics import Metrics

R = WasmResult
C, G, H = MetricType.COUNTER, MetricType.GAUGE, MetricType.HISTOGRAM


@pytest.mark.parametrize("kind", list(MetricType))
def test_ids_encode_the_type_mod_4(kind: MetricType) -> None:
    m = Metrics()
    ids = [m.define(kind, f"m{i}") for i in range(5)]
    assert [i % 4 for i in ids] == [int(kind)] * 5
    assert len(set(ids)) == 5
    assert ids == sorted(ids)


def test_ids_of_different_types_never_collide() -> None:
    m = Metrics()
    ids = [m.define(kind, "same") for kind in MetricType for _ in range(3)]
    assert len(set(ids)) == len(ids)


def test_redefinition_gives_a_new_id_sharing_the_value() -> None:
    m = Metrics()
    first = m.define(C, "requests")
    second = m.define(C, "requests")
    assert first != second and first % 4 == second % 4 == 0
    assert m.increment(first, 2) == R.OK
    assert m.increment(second, 3) == R.OK
    assert m.get(first) == m.get(second) == (R.OK, 5)
    assert m.snapshot() == {"requests": 5}


def test_same_name_different_type_is_a_different_metric() -> None:
    m = Metrics()
    c, g = m.define(C, "x"), m.define(G, "x")
    m.increment(c, 1)
    m.record(g, 7)
    assert m.get(c) == (R.OK, 1) and m.get(g) == (R.OK, 7)


@pytest.mark.parametrize(
    ("delta", "result", "value"), [(1, R.OK, 1), (0, R.BAD_ARGUMENT, 0), (-1, R.BAD_ARGUMENT, 0)]
)
def test_counter_increment(delta: int, result: R, value: int) -> None:
    m = Metrics()
    c = m.define(C, "c")
    assert m.increment(c, delta) == result
    assert m.get(c) == (R.OK, value)


def test_gauge_increment_may_go_negative() -> None:
    m = Metrics()
    g = m.define(G, "g")
    assert m.increment(g, -5) == R.OK
    assert m.increment(g, 2) == R.OK
    assert m.get(g) == (R.OK, -3)


def test_record_on_gauge_sets() -> None:
    m = Metrics()
    g = m.define(G, "g")
    m.record(g, 10)
    m.record(g, 4)
    assert m.get(g) == (R.OK, 4)


def test_record_on_counter_is_accepted() -> None:
    m = Metrics()
    c = m.define(C, "c")
    assert m.record(c, 10) == R.OK
    assert m.get(c) == (R.OK, 10)


def test_record_on_counter_adds_like_envoy() -> None:
    """Regression: Metrics.record on a counter kept max(old, value); Envoy's
    Context::recordMetric does ``counter->add(value)``, so 10 then 4 reads 14 there, 10 here."""
    m = Metrics()
    c = m.define(C, "c")
    m.record(c, 10)
    m.record(c, 4)
    assert m.get(c) == (R.OK, 14)


def test_histogram_rules() -> None:
    m = Metrics()
    h = m.define(H, "latency")
    assert m.record(h, 5) == R.OK
    assert m.record(h, 7) == R.OK
    assert m.get(h) == (R.BAD_ARGUMENT, 0)
    assert m.increment(h, 1) == R.BAD_ARGUMENT
    assert m.snapshot() == {"latency_count": 2, "latency_sum": 12}


@pytest.mark.parametrize("metric_id", [1, 3, 99, 0xFFFFFFFF])
def test_unknown_id_is_not_found(metric_id: int) -> None:
    m = Metrics()
    m.define(C, "c")  # id 0
    assert m.increment(metric_id, 1) == R.NOT_FOUND
    assert m.record(metric_id, 1) == R.NOT_FOUND
    assert m.get(metric_id) == (R.NOT_FOUND, 0)


def test_snapshot_lists_each_metric_once() -> None:
    m = Metrics()
    c = m.define(C, "c")
    m.define(C, "c")
    g = m.define(G, "g")
    m.define(H, "h")
    m.increment(c, 3)
    m.record(g, 9)
    assert m.snapshot() == {"c": 3, "g": 9, "h_count": 0, "h_sum": 0}
    assert Metrics().snapshot() == {}
