"""Plugin-defined metrics (proxy_define_metric & co.) with Envoy's id scheme and rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from workers.abi.types import MetricType, WasmResult

_ID_STEP = 4  # ids encode the type in the low two bits, as proxy-wasm-cpp-host does


@dataclass(slots=True)
class Metric:
    kind: MetricType
    name: str
    value: int = 0
    samples: list[int] = field(default_factory=list)


class Metrics:
    """The metrics of one plugin VM. Histograms keep their recorded samples."""

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
            metric.samples.append(value)
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
                out[f"{metric.name}_count"] = len(metric.samples)
                out[f"{metric.name}_sum"] = sum(metric.samples)
            else:
                out[metric.name] = metric.value
        return out
