"""Status and metrics from the workers' heartbeats: pure functions, no I/O.

Heartbeats carry, per plugin, the PluginHandle counters and the call-time histogram in
``CallStats.to_wire()`` form (bucket i holds calls up to 2^(i/4) us). The supervisor must
not import ``workers``, so the merge and quantile over that wire form live here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from wasmd.admin import model
from wasmd.kernel.config import DaemonConfig

BUCKETS_PER_DOUBLING = 4  # matches workers/contexts/callstats.py


class HasHeartbeat(Protocol):
    @property
    def last_heartbeat(self) -> dict[str, Any]: ...


def quantile_us(buckets: Mapping[int, int], q: float) -> float:
    """Upper bound of the bucket holding the q-quantile; 0 when there are no calls."""
    total = sum(buckets.values())
    if total == 0:
        return 0.0
    seen = 0
    for bucket in sorted(buckets):
        seen += buckets[bucket]
        if seen >= q * total:
            return float(2 ** (bucket / BUCKETS_PER_DOUBLING))
    return float(2 ** (max(buckets) / BUCKETS_PER_DOUBLING))


def plugin_statuses(
    config: DaemonConfig, sha256: Mapping[str, str], workers: Iterable[HasHeartbeat]
) -> tuple[model.PluginStatus, ...]:
    """One PluginStatus per configured plugin, summed over the workers' last heartbeats."""
    sums: dict[str, Counter[str]] = {s.name: Counter() for s in config.plugins}
    buckets: dict[str, Counter[int]] = {s.name: Counter() for s in config.plugins}
    for worker in workers:
        for name, stats in (worker.last_heartbeat.get("plugins") or {}).items():
            if name not in sums:
                continue
            for key in ("vms", "failed_vms", "traps", "deadline_hits", "reloads"):
                sums[name][key] += int(stats.get(key, 0))
            calls = stats.get("calls") or {}
            sums[name]["calls"] += int(calls.get("count", 0))
            for i, n in (calls.get("buckets") or {}).items():
                buckets[name][int(i)] += int(n)
    return tuple(
        model.PluginStatus(
            name=s.name,
            module_sha256=sha256.get(s.name, ""),
            vm_count=sums[s.name]["vms"],
            failed_vms=sums[s.name]["failed_vms"],
            traps=sums[s.name]["traps"],
            deadline_hits=sums[s.name]["deadline_hits"],
            reloads=sums[s.name]["reloads"],
            calls=sums[s.name]["calls"],
            p50_call_us=quantile_us(buckets[s.name], 0.5),
            p99_call_us=quantile_us(buckets[s.name], 0.99),
            visibility=s.visibility,
        )
        for s in config.plugins
    )


def daemon_metrics(status: model.DaemonStatus) -> str:
    """Prometheus text for the supervisor's own view of its slots and plugins."""
    lines = [
        "# HELP wasmd_worker_requests_total Requests served by the worker of a slot.",
        "# TYPE wasmd_worker_requests_total counter",
    ]
    lines += [
        f'wasmd_worker_requests_total{{slot="{w.slot}"}} {w.requests_served}'
        for w in status.workers
    ]
    lines += [
        "# HELP wasmd_worker_restarts_total Unplanned restarts of a slot.",
        "# TYPE wasmd_worker_restarts_total counter",
    ]
    lines += [
        f'wasmd_worker_restarts_total{{slot="{w.slot}"}} {w.restarts}' for w in status.workers
    ]
    lines += [
        "# HELP wasmd_worker_rss_bytes Resident set size of a slot's worker.",
        "# TYPE wasmd_worker_rss_bytes gauge",
    ]
    lines += [f'wasmd_worker_rss_bytes{{slot="{w.slot}"}} {w.rss_bytes}' for w in status.workers]
    lines += [
        "# HELP wasmd_plugin_traps_total Traps of a plugin over all workers.",
        "# TYPE wasmd_plugin_traps_total counter",
    ]
    lines += [f'wasmd_plugin_traps_total{{plugin="{pl.name}"}} {pl.traps}' for pl in status.plugins]
    return "\n".join(lines) + "\n"
