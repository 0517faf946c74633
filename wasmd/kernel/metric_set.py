"""Metric families that sum when merged: the pure part of ``wasmd metrics``.

Workers build a :class:`MetricSet` of their plugins' metrics and host stats
(``workers/metrics_export.py``) and ship it to the supervisor as a compact
:meth:`MetricSet.snapshot` in their heartbeats; the supervisor adds every worker's snapshot
into one set and renders the Prometheus text. It lives in ``wasmd`` because the
supervisor never imports ``workers``.

Merge rule: series with the same name and labels are **summed**: counters, histogram
buckets/sum/count, and gauges too (Envoy's stats are process-wide, so its per-thread VMs
add into one gauge; summing per-worker gauges gives the same for add/sub). The first type
seen for a name wins; a series of another type under that name is dropped.

Snapshot format (msgpack-able lists, no maps): ``[[name, kind, doc, series...], ...]``
where a counter or gauge series is ``[labels, value]`` and a histogram series is
``[labels, [[le, cumulative], ...], sum, count]``; ``labels`` is ``[[k, v], ...]``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric as PromMetric
from prometheus_client.parser import text_string_to_metric_families

Labels = tuple[tuple[str, str], ...]
COUNTER_SUFFIX = "_total"
KINDS = frozenset({"counter", "gauge", "histogram"})
MONOTONIC_KINDS = frozenset({"counter", "histogram"})  # what survives a worker's exit


@dataclass(slots=True)
class _Series:
    value: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)  # le -> cumulative count
    total: float = 0.0
    count: float = 0.0


@dataclass(slots=True)
class _Family:
    kind: str  # "counter" | "gauge" | "histogram"
    doc: str
    series: dict[Labels, _Series] = field(default_factory=dict)


class MetricSet:
    """Families by name; adding an existing (name, labels) sums (the merge rule above)."""

    def __init__(self) -> None:
        self._families: dict[str, _Family] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._families

    def _series(self, name: str, kind: str, doc: str, labels: Mapping[str, str]) -> _Series | None:
        if kind == "counter" and name.endswith(COUNTER_SUFFIX):
            # The exposition appends _total to a counter: a counter a plugin already named
            # as_requests_total is exported as as_requests_total, not as_requests_total_total.
            name = name.removesuffix(COUNTER_SUFFIX)
        family = self._families.setdefault(name, _Family(kind, doc))
        if family.kind != kind:
            return None  # first type wins
        return family.series.setdefault(tuple(sorted(labels.items())), _Series())

    def add_value(self, name: str, kind: str, labels: Mapping[str, str], value: float,
                  doc: str = "") -> None:  # fmt: skip
        """Add a counter or gauge sample."""
        series = self._series(name, kind, doc, labels)
        if series is not None:
            series.value += value

    def add_histogram(self, name: str, labels: Mapping[str, str],
                      cumulative: Mapping[float, float], total: float, count: float,
                      doc: str = "") -> None:  # fmt: skip
        """Add a histogram: ``cumulative`` maps each upper bound (``le``, incl. +Inf) to
        the number of samples <= it."""
        series = self._series(name, "histogram", doc, labels)
        if series is None:
            return
        for le, n in cumulative.items():
            series.buckets[le] = series.buckets.get(le, 0.0) + n
        series.total += total
        series.count += count

    # -- snapshots: what a worker ships in its heartbeat -----------------------------------
    def snapshot(self) -> list[Any]:
        """The whole set as plain lists (module doc); ``add_snapshot`` reads it back."""
        out: list[Any] = []
        for name, family in self._families.items():
            entry: list[Any] = [name, family.kind, family.doc]
            for labels, s in family.series.items():
                pairs = [list(kv) for kv in labels]
                if family.kind == "histogram":
                    buckets = [[le, n] for le, n in s.buckets.items()]
                    entry.append([pairs, buckets, s.total, s.count])
                else:
                    entry.append([pairs, s.value])
            out.append(entry)
        return out

    def add_snapshot(self, snapshot: Iterable[Any], kinds: Collection[str] = KINDS) -> None:
        """Add every family of ``snapshot`` whose kind is in ``kinds``; raises ValueError
        on a malformed snapshot (what was added before the bad entry stays)."""
        try:
            for name, kind, doc, *series in snapshot:
                if kind in kinds:
                    self._add_entry(str(name), str(kind), str(doc), series)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"malformed metrics snapshot: {exc}") from None

    def _add_entry(self, name: str, kind: str, doc: str, series: list[Any]) -> None:
        for item in series:
            labels = {str(k): str(v) for k, v in item[0]}
            if kind == "histogram":
                buckets = {float(le): float(n) for le, n in item[1]}
                self.add_histogram(name, labels, buckets, float(item[2]), float(item[3]), doc)
            elif kind in KINDS:
                self.add_value(name, kind, labels, float(item[1]), doc)

    # -- text -----------------------------------------------------------------------------
    def add_text(self, text: str, *, only_new: bool = False) -> None:
        """Add a Prometheus text exposition; with ``only_new``, skip families already here."""
        for family in text_string_to_metric_families(text):
            if not (only_new and family.name in self._families):
                _add_parsed(self, family)

    def collect(self) -> Iterator[PromMetric]:
        """prometheus-client's Collector protocol."""
        for name in sorted(self._families):
            yield _to_prometheus(name, self._families[name])

    def render(self) -> str:
        """The Prometheus text format (version 0.0.4)."""
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        return generate_latest(registry).decode()


def _to_prometheus(name: str, family: _Family) -> PromMetric:
    metric = PromMetric(name, family.doc or name, family.kind)
    for labels, series in sorted(family.series.items()):
        base = dict(labels)
        if family.kind == "counter":
            metric.add_sample(f"{metric.name}_total", base, series.value)
        elif family.kind == "gauge":
            metric.add_sample(name, base, series.value)
        else:
            for le in sorted(series.buckets):
                bound = "+Inf" if math.isinf(le) else repr(float(le))
                metric.add_sample(f"{name}_bucket", {**base, "le": bound}, series.buckets[le])
            metric.add_sample(f"{name}_count", base, series.count)
            metric.add_sample(f"{name}_sum", base, series.total)
    return metric


def merge(texts: Iterable[str]) -> str:
    """One Prometheus text from several expositions (summed; module doc)."""
    out = MetricSet()
    for text in texts:
        out.add_text(text)
    return out.render()


def _add_parsed(out: MetricSet, family: PromMetric) -> None:
    if family.type in ("counter", "gauge"):
        for sample in family.samples:
            if sample.name == family.name or sample.name == f"{family.name}_total":
                out.add_value(family.name, family.type, sample.labels, sample.value,
                              family.documentation)  # fmt: skip
        return
    if family.type != "histogram":
        return
    series: dict[Labels, tuple[dict[float, float], list[float]]] = {}
    for sample in family.samples:
        labels = {k: v for k, v in sample.labels.items() if k != "le"}
        key = tuple(sorted(labels.items()))
        buckets, sums = series.setdefault(key, ({}, [0.0, 0.0]))
        if sample.name.endswith("_bucket"):
            buckets[float(sample.labels["le"])] = sample.value
        elif sample.name.endswith("_sum"):
            sums[0] = sample.value
        elif sample.name.endswith("_count"):
            sums[1] = sample.value
    for key, (buckets, (total, count)) in series.items():
        out.add_histogram(family.name, dict(key), buckets, total, count, family.documentation)
