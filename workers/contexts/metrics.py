"""Plugin-defined metrics (proxy_define_metric & co.) with Envoy's id scheme and rules.

Update rules are Envoy's ``Context::{increment,record,get}Metric``: a counter only grows
(increment by > 0, record *adds*), a gauge adds or is set, a histogram records samples
and cannot be read back. Names are kept as the plugin wrote them; Envoy stores them under
its ``wasmcustom`` stat namespace (see workers/metrics_export.py for the exposition).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from workers.abi.types import MetricType, WasmResult

_ID_STEP = 4  # ids encode the type in the low two bits, as proxy-wasm-cpp-host does

# Envoy's default histogram buckets (HistogramSettingsImpl::defaultBuckets), in the
# plugin's own unit. Fixed buckets keep a histogram's memory constant however many
# samples a long-lived VM records.
HISTOGRAM_BUCKETS: tuple[float, ...] = (
    0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
    60000, 300000, 600000, 1800000, 3600000,
)  # fmt: skip


@dataclass(slots=True)
class Metric:
    """One metric. Histograms: ``bucket_counts[i]`` samples fell in bucket i (the last
    slot counts samples above every bound), ``count`` and ``total`` over all samples."""

    kind: MetricType
    name: str
    value: int = 0
    count: int = 0
    total: int = 0
    bucket_counts: list[int] = field(default_factory=lambda: [0] * (len(HISTOGRAM_BUCKETS) + 1))

    def observe(self, sample: int) -> None:
        self.count += 1
        self.total += sample
        self.bucket_counts[bisect.bisect_left(HISTOGRAM_BUCKETS, sample)] += 1


class Metrics:
    """The metrics of one plugin VM."""

    def __init__(self) -> None:
        self._by_id: dict[int, Metric] = {}
        self._by_name: dict[tuple[MetricType, str], int] = {}
        self._next = {kind: int(kind) for kind in MetricType}

    def define(self, kind: MetricType, name: str) -> int:
        """A new id on every call, even for a name defined before (as Envoy does); the
        ids of one name share the value."""
        existing = self._by_name.get((kind, name))
        metric_id = self._next[kind]
        self._next[kind] += _ID_STEP
        if existing is not None:
            self._by_id[metric_id] = self._by_id[existing]
        else:
            self._by_id[metric_id] = Metric(kind, name)
            self._by_name[(kind, name)] = metric_id
        return metric_id

    def increment(self, metric_id: int, delta: int) -> WasmResult:
        metric = self._by_id.get(metric_id)
        if metric is None:
            return WasmResult.NOT_FOUND
        if metric.kind is MetricType.COUNTER:
            if delta <= 0:
                return WasmResult.BAD_ARGUMENT
            metric.value += delta
        elif metric.kind is MetricType.GAUGE:
            metric.value += delta
        else:
            return WasmResult.BAD_ARGUMENT
        return WasmResult.OK

    def record(self, metric_id: int, value: int) -> WasmResult:
        metric = self._by_id.get(metric_id)
        if metric is None:
            return WasmResult.NOT_FOUND
        if metric.kind is MetricType.COUNTER:
            metric.value += value  # Envoy's recordMetric adds to a counter
        elif metric.kind is MetricType.GAUGE:
            metric.value = value
        else:
            metric.observe(value)
        return WasmResult.OK

    def get(self, metric_id: int) -> tuple[WasmResult, int]:
        metric = self._by_id.get(metric_id)
        if metric is None:
            return WasmResult.NOT_FOUND, 0
        if metric.kind is MetricType.HISTOGRAM:
            return WasmResult.BAD_ARGUMENT, 0
        return WasmResult.OK, metric.value

    def snapshot(self) -> dict[str, int | float]:
        """Name -> value; histograms as ``<name>_count`` and ``<name>_sum``."""
        out: dict[str, int | float] = {}
        for metric_id in self._by_name.values():
            metric = self._by_id[metric_id]
            if metric.kind is MetricType.HISTOGRAM:
                out[f"{metric.name}_count"] = metric.count
                out[f"{metric.name}_sum"] = metric.total
            else:
                out[metric.name] = metric.value
        return out

    def metrics(self) -> list[Metric]:
        """Each metric once (ids sharing a name share one Metric), in definition order."""
        return [self._by_id[metric_id] for metric_id in self._by_name.values()]
