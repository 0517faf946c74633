"""Prometheus text exposition of one worker's plugin metrics and host stats, and the rule
for merging the texts of several workers into one.

Naming follows Envoy. A plugin metric ``name`` is Envoy stat ``wasmcustom.<name>``; like
Envoy's ``/stats/prometheus`` the ``wasmcustom`` namespace is stripped and the rest is
sanitized (every character outside ``[a-zA-Z0-9_]`` becomes ``_``), with no ``envoy_``
prefix; a name that is empty or starts with a digit is not exported (Envoy drops it too).
Tags ride in the name, the Go SDK way: ``requests_code=200_method=GET`` is
``requests{code="200",method="GET"}``. Envoy extracts them with the bootstrap's
``stats_tags`` regexes (:class:`TagRule`, same semantics); wasmd has no such config, so by
default it applies :data:`GO_SDK_TAGS` (every ``_<tag>=<value>`` segment; the value runs to
the next such segment), which gives what the Go SDK's example stats_tags give in Envoy.

Labels: every series carries ``plugin="<configured plugin name>"``; extracted tags are
labels too (a tag named ``plugin`` or ``le`` becomes ``tag_plugin``/``tag_le``).
Counters get the ``_total`` suffix the Prometheus format requires (prometheus-client adds
it; Envoy's exposition omits it). Histograms are real Prometheus histograms: plugin ones
with Envoy's default buckets in the plugin's unit, the host's call time in seconds.

Host stats per plugin: ``wasmd_plugin_{failed_vms,traps,deadline_hits,memory_failures,
reloads,reload_failures,ticks,queue_ready}_total`` and ``wasmd_plugin_call_duration_seconds``.

Merge rule (:func:`merge`, :class:`MetricSet`: ``wasmd/kernel/metric_set.py``, since the
supervisor aggregates its workers with them and never imports ``workers``): series with
the same name and labels are **summed**: counters, histogram buckets/sum/count, and gauges too.
Envoy's stats are process-wide, so all its per-thread VMs add into one gauge; summing the
per-worker gauges gives the same for add/sub, while a gauge *set* from several workers
sums where Envoy would keep the last write. The first type seen for a name wins; a series
of another type under that name is dropped (as is a plugin metric named ``wasmd_plugin_*``,
the host's namespace).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wasmd.kernel.metric_set import Labels, MetricSet
from wasmd.kernel.metric_set import merge as merge  # re-exported: the rule lives in wasmd
from workers.abi.types import MetricType
from workers.contexts.callstats import CallStats
from workers.contexts.metrics import HISTOGRAM_BUCKETS, Metrics

if TYPE_CHECKING:
    from workers.service import WorkerService

CUSTOM_NAMESPACE = "wasmcustom"  # Envoy's stat namespace for plugin-defined metrics
PLUGIN_LABEL = "plugin"
HOST_PREFIX = "wasmd_plugin_"
# Call-time buckets: powers of 4 from 1 us to ~67 s (CallStats' buckets are exact there).
_CALL_BUCKET_EXPONENTS = tuple(range(0, 27, 2))
_INVALID = re.compile(r"[^a-zA-Z0-9_]")
_GO_SDK_TAG = re.compile(r"_([A-Za-z][A-Za-z0-9]*)=")


@dataclass(frozen=True, slots=True)
class TagRule:
    """One Envoy ``stats_tags`` entry: where ``regex`` matches the stat name, its first
    group is cut out of the name and its second group is the value of tag ``tag_name``."""

    tag_name: str
    regex: str


GO_SDK_TAGS = None  # the default: automatic ``_<tag>=<value>`` extraction (module doc)


def envoy_stat_name(name: str) -> str:
    """The name Envoy gives a plugin-defined metric in its stat store."""
    return f"{CUSTOM_NAMESPACE}.{name}"


def split_tags(name: str, rules: Sequence[TagRule] | None = GO_SDK_TAGS) -> tuple[str, Labels]:
    """``name`` without its tags, and the tags, by ``rules`` (None: the Go SDK convention)."""
    if rules is None:
        return _split_go_sdk(name)
    tags: list[tuple[str, str]] = []
    for rule in rules:
        match = re.search(rule.regex, name)
        if match is None or match.re.groups < 2:
            continue
        tags.append((rule.tag_name, match.group(2)))
        name = name[: match.start(1)] + name[match.end(1) :]
    return name, tuple(tags)


def _split_go_sdk(name: str) -> tuple[str, Labels]:
    matches = list(_GO_SDK_TAG.finditer(name))
    if not matches:
        return name, ()
    ends = [m.start() for m in matches[1:]] + [len(name)]
    tags = tuple((m.group(1), name[m.end() : end]) for m, end in zip(matches, ends, strict=True))
    return name[: matches[0].start()], tags


def prometheus_name(name: str) -> str | None:
    """Envoy's sanitizing of a custom-namespace stat; None when Envoy would not export it."""
    clean = _INVALID.sub("_", name)
    if not clean or clean[0].isdigit():
        return None
    return clean


def _label_name(tag: str) -> str:
    clean = _INVALID.sub("_", tag)
    if not clean or clean[0].isdigit() or clean.startswith("__"):
        clean = f"tag_{clean}"
    return f"tag_{clean}" if clean in (PLUGIN_LABEL, "le") else clean


# -- one worker ---------------------------------------------------------------------------
_KINDS = {MetricType.COUNTER: "counter", MetricType.GAUGE: "gauge"}
_HOST_COUNTERS = (
    ("failed_vms", "VMs marked failed (trap, CPU deadline or memory)"),
    ("traps", "calls that trapped"),
    ("deadline_hits", "calls stopped by the per-call CPU deadline"),
    ("memory_failures", "calls that failed on the memory limit"),
    ("reloads", "VM rebuilds under the reload policy"),
    ("reload_failures", "VM rebuilds that failed to load"),
)


def add_plugin_metrics(out: MetricSet, plugin: str, metrics: Metrics,
                       rules: Sequence[TagRule] | None = GO_SDK_TAGS) -> None:  # fmt: skip
    """Add one plugin's user metrics, named and tagged as described in the module doc."""
    for metric in metrics.metrics():
        base, tags = split_tags(metric.name, rules)
        name = prometheus_name(base)
        if name is None or name.startswith(HOST_PREFIX):
            continue  # the host's namespace: a plugin cannot add to (or fake) host stats
        labels = {_label_name(k): v for k, v in tags}
        labels[PLUGIN_LABEL] = plugin
        doc = f"plugin metric {envoy_stat_name(metric.name)}"
        if metric.kind is MetricType.HISTOGRAM:
            out.add_histogram(name, labels, _plugin_buckets(metric.bucket_counts),
                              metric.total, metric.count, doc)  # fmt: skip
        else:
            out.add_value(name, _KINDS[metric.kind], labels, metric.value, doc)


def _plugin_buckets(bucket_counts: Sequence[int]) -> dict[float, float]:
    bounds = [*HISTOGRAM_BUCKETS, math.inf]
    running, out = 0, {}
    for bound, n in zip(bounds, bucket_counts, strict=True):
        running += n
        out[float(bound)] = float(running)
    return out


def add_call_stats(out: MetricSet, plugin: str, stats: CallStats) -> None:
    """Add the plugin's guest call time as ``wasmd_plugin_call_duration_seconds``."""
    cumulative: dict[float, float] = {}
    for exponent in _CALL_BUCKET_EXPONENTS:
        # CallStats bucket b holds calls up to 2^(b/4) us, so le=2^e us is buckets 0..4e.
        cumulative[2.0**exponent / 1e6] = float(sum(stats.counts[: 4 * exponent + 1]))
    cumulative[math.inf] = float(stats.count)
    out.add_histogram(f"{HOST_PREFIX}call_duration_seconds", {PLUGIN_LABEL: plugin},
                      cumulative, stats.total_us / 1e6, float(stats.count),
                      "time of each call into the plugin's VM")  # fmt: skip


def add_counters(out: MetricSet, plugin: str, values: Mapping[str, tuple[int, str]]) -> None:
    """Add host counters ``wasmd_plugin_<key>_total`` from ``key -> (value, help)``."""
    for key, (value, doc) in values.items():
        out.add_value(f"{HOST_PREFIX}{key}", "counter", {PLUGIN_LABEL: plugin}, value, doc)


def worker_metrics(service: WorkerService, rules: Sequence[TagRule] | None = GO_SDK_TAGS
                   ) -> MetricSet:  # fmt: skip
    """Every plugin's user metrics and host stats of one WorkerService."""
    out = MetricSet()
    for plugin in sorted(service.handles):  # host families first: they win name clashes
        stats = service.handles[plugin].stats
        values = {key: (int(getattr(stats, key)), doc) for key, doc in _HOST_COUNTERS}
        loop = service.callbacks.get(plugin)
        if loop is not None:
            values["ticks"] = (loop.ticks, "proxy_on_tick calls delivered")
            values["queue_ready"] = (loop.queue_ready, "proxy_on_queue_ready calls delivered")
        add_counters(out, plugin, values)
        if plugin in service.call_stats:
            add_call_stats(out, plugin, service.call_stats[plugin])
    for plugin in sorted(service.metrics):
        add_plugin_metrics(out, plugin, service.metrics[plugin], rules)
    return out


def render(service: WorkerService, rules: Sequence[TagRule] | None = GO_SDK_TAGS) -> str:
    """Prometheus text for one worker (see the module doc for names, labels and merging)."""
    return worker_metrics(service, rules).render()


def snapshot(service: WorkerService, rules: Sequence[TagRule] | None = GO_SDK_TAGS) -> list[Any]:
    """The worker's metrics as a compact snapshot for its heartbeat (wasmd.kernel.metric_set)."""
    return worker_metrics(service, rules).snapshot()
