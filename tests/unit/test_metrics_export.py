"""Pure parts of workers/metrics_export.py: Envoy naming, Go-SDK tags, merge rule."""

from __future__ import annotations

import math

import pytest
from prometheus_client.parser import text_string_to_metric_families

from workers.abi.types import MetricType
from workers.contexts.callstats import CallStats
from workers.contexts.metrics import Metrics
from workers.metrics_export import (
    MetricSet,
    TagRule,
    add_call_stats,
    add_plugin_metrics,
    envoy_stat_name,
    merge,
    prometheus_name,
    split_tags,
)


@pytest.mark.parametrize(
    ("name", "base", "tags"),
    [
        ("plain.name", "plain.name", ()),
        (
            "custom_header_value_counts_value=foo_reporter=wasmgosdk",
            "custom_header_value_counts",
            (("value", "foo"), ("reporter", "wasmgosdk")),
        ),
        ("req_path=/a_b/c_code=200", "req", (("path", "/a_b/c"), ("code", "200"))),
        ("x_k=", "x", (("k", ""),)),
    ],
)
def test_go_sdk_tags(name: str, base: str, tags: tuple[tuple[str, str], ...]) -> None:
    assert split_tags(name) == (base, tags)


def test_envoy_stats_tags_rule_cuts_group_1_and_takes_group_2() -> None:
    rules = [TagRule("value", r"(_value=([a-zA-Z]+))"), TagRule("absent", r"(_nope=(x))")]
    assert split_tags("counts_value=foo_reporter=go", rules) == (
        "counts_reporter=go",
        (("value", "foo"),),
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.b-c", "a_b_c"), ("ok_name", "ok_name"), ("9lives", None), ("", None), ("é", "_")],
)
def test_prometheus_name_is_envoys_sanitizing(name: str, expected: str | None) -> None:
    assert prometheus_name(name) == expected


def test_envoy_stat_name_uses_the_wasmcustom_namespace() -> None:
    assert envoy_stat_name("a.b") == "wasmcustom.a.b"


def _families(text: str) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_reserved_and_host_names() -> None:
    m = Metrics()
    m.increment(m.define(MetricType.COUNTER, "c_plugin=x_le=y"), 1)
    m.increment(m.define(MetricType.COUNTER, "wasmd_plugin_traps"), 1)  # cannot fake host stats
    m.increment(m.define(MetricType.COUNTER, "7up"), 1)  # not exportable, like Envoy
    out = MetricSet()
    add_plugin_metrics(out, "p", m)
    fams = list(text_string_to_metric_families(out.render()))
    assert [f.name for f in fams] == ["c"]
    assert fams[0].samples[0].labels == {"plugin": "p", "tag_plugin": "x", "tag_le": "y"}


def test_first_type_wins_a_name_clash() -> None:
    out = MetricSet()
    out.add_value("x", "counter", {"plugin": "a"}, 1)
    out.add_value("x", "gauge", {"plugin": "b"}, 5)
    fams = list(text_string_to_metric_families(out.render()))
    assert [(f.name, f.type, len(f.samples)) for f in fams] == [("x", "counter", 1)]


def test_histogram_buckets_are_cumulative_with_inf() -> None:
    m = Metrics()
    h = m.define(MetricType.HISTOGRAM, "lat")
    for sample in (0, 3, 3, 7000, 10**9):
        m.record(h, sample)
    out = MetricSet()
    add_plugin_metrics(out, "p", m)
    (fam,) = text_string_to_metric_families(out.render())
    buckets = {s.labels["le"]: s.value for s in fam.samples if s.name == "lat_bucket"}
    assert buckets["0.5"] == 1 and buckets["5.0"] == 3 and buckets["10000.0"] == 4
    assert buckets["+Inf"] == 5
    totals = {s.name: s.value for s in fam.samples if s.name != "lat_bucket"}
    assert totals == {"lat_count": 5, "lat_sum": 6 + 7000 + 10**9}


def test_call_stats_become_seconds_buckets() -> None:
    stats = CallStats()
    stats.record(3_000)  # 3 us
    stats.record(2_000_000)  # 2 ms
    out = MetricSet()
    add_call_stats(out, "p", stats)
    (fam,) = text_string_to_metric_families(out.render())
    buckets = {float(s.labels["le"]): s.value for s in fam.samples if s.name.endswith("_bucket")}
    assert buckets[4e-6] == 1 and buckets[0.004096] == 2 and buckets[math.inf] == 2


def test_merge_sums_same_series_and_keeps_others() -> None:
    def worker(value: float, plugin: str) -> str:
        out = MetricSet()
        out.add_value("reqs", "counter", {"plugin": plugin}, value)
        out.add_value("inflight", "gauge", {"plugin": "p"}, value)
        out.add_histogram("h", {"plugin": "p"}, {1.0: value, math.inf: value}, value, value)
        return out.render()

    merged = {
        f.name: f
        for f in text_string_to_metric_families(
            merge([worker(2, "p"), worker(3, "p"), worker(1, "q")])
        )
    }
    reqs = {s.labels["plugin"]: s.value for s in merged["reqs"].samples}
    assert reqs == {"p": 5, "q": 1}
    assert merged["inflight"].samples[0].value == 6
    h = {(s.name, s.labels.get("le")): s.value for s in merged["h"].samples}
    assert h[("h_bucket", "1.0")] == 6 and h[("h_count", None)] == 6 and h[("h_sum", None)] == 6
