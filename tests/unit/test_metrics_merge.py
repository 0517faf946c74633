"""wasmd/kernel/metric_set.py: snapshots that workers ship in heartbeats, and the sum rule."""

from __future__ import annotations

import math
from typing import Any

import msgpack
import pytest
from prometheus_client.parser import text_string_to_metric_families

from wasmd.kernel.metric_set import MONOTONIC_KINDS, MetricSet


def _worker(requests: float, inflight: float) -> MetricSet:
    out = MetricSet()
    out.add_value("reqs", "counter", {"plugin": "p"}, requests, "requests")
    out.add_value("inflight", "gauge", {"plugin": "p"}, inflight)
    out.add_histogram("lat", {"plugin": "p"}, {0.5: 1.0, math.inf: 2.0}, 1.5, 2.0)
    return out


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_snapshot_survives_msgpack_and_renders_the_same() -> None:
    original = _worker(3, 1)
    wire: Any = msgpack.unpackb(msgpack.packb(original.snapshot()), raw=False)
    copy = MetricSet()
    copy.add_snapshot(wire)
    assert copy.render() == original.render()


def test_snapshots_of_two_workers_sum() -> None:
    total = MetricSet()
    total.add_snapshot(_worker(3, 1).snapshot())
    total.add_snapshot(_worker(4, 2).snapshot())
    s = _samples(total.render())
    p = (("plugin", "p"),)
    assert s[("reqs_total", p)] == 7
    assert s[("inflight", p)] == 3
    assert s[("lat_count", p)] == 4 and s[("lat_sum", p)] == 3.0
    assert s[("lat_bucket", (("le", "0.5"), ("plugin", "p")))] == 2


def test_only_monotonic_kinds_survive_retirement() -> None:
    retired = MetricSet()
    retired.add_snapshot(_worker(3, 1).snapshot(), MONOTONIC_KINDS)
    assert "reqs" in retired and "lat" in retired and "inflight" not in retired


def test_add_text_only_new_keeps_the_first_family() -> None:
    out = MetricSet()
    out.add_value("reqs", "counter", {"plugin": "p"}, 5)
    out.add_text("# TYPE reqs counter\nreqs_total{plugin=\"p\"} 100\n# TYPE up gauge\nup 1\n",
                 only_new=True)  # fmt: skip
    s = _samples(out.render())
    assert s[("reqs_total", (("plugin", "p"),))] == 5 and s[("up", ())] == 1


@pytest.mark.parametrize("bad", [[["x"]], [["x", "counter", "", [[["a"]], 1]]], [3], "xy"])
def test_malformed_snapshot_is_a_value_error(bad: Any) -> None:
    with pytest.raises(ValueError):
        MetricSet().add_snapshot(bad)


def test_a_counter_named_with_total_is_not_exported_as_total_total() -> None:
    """prometheus-client appends _total to a counter: a plugin's as_requests_total stays
    as_requests_total, and merges with the same counter parsed back from text."""
    out = MetricSet()
    out.add_value("as_requests_total", "counter", {"plugin": "p"}, 3)
    text = out.render()
    assert 'as_requests_total{plugin="p"} 3.0' in text
    assert "_total_total" not in text
    out.add_text(text)
    assert 'as_requests_total{plugin="p"} 6.0' in out.render()
