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
from wasmd.kernel.config import DaemonConfig, DaemonSettings
from wasmd.supervisor.shared_store import Quotas, SharedStore

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
    config: DaemonConfig,
    sha256: Mapping[str, str],
    workers: Iterable[HasHeartbeat],
    quota_refusals: Mapping[str, int] | None = None,
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
    states = plugin_states(config, workers)
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
            state=states[s.name][0],
            error=states[s.name][1],
            quota_refusals=(quota_refusals or {}).get(s.vm_id, 0),
        )
        for s in config.plugins
    )


_STATE_RANK = {
    model.PluginState.LOADING: 0,
    model.PluginState.LOADED: 1,
    model.PluginState.QUARANTINED: 2,
    model.PluginState.FAILED: 3,
}


def plugin_states(
    config: DaemonConfig, workers: Iterable[HasHeartbeat]
) -> dict[str, tuple[model.PluginState, str]]:
    """Per plugin, the worst state any worker reports (failed > quarantined > loaded),
    with that worker's reason; LOADING while no worker has reported the plugin."""
    out = {s.name: (model.PluginState.LOADING, "") for s in config.plugins}
    for worker in workers:
        for name, stats in (worker.last_heartbeat.get("plugins") or {}).items():
            if name not in out:
                continue
            try:
                state = model.PluginState(stats.get("state", "loaded"))
            except ValueError:
                continue  # a newer worker's state: say nothing rather than guess
            if _STATE_RANK[state] > _STATE_RANK[out[name][0]]:
                out[name] = (state, str(stats.get("error") or ""))
    return out


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


def shared_quotas(d: DaemonSettings) -> Quotas:
    """The shared store's quotas from the ``[daemon]`` keys."""
    mib = 1 << 20
    return Quotas(
        data_bytes=d.shared_data_max_mib_per_vm * mib,
        data_keys=d.shared_data_max_keys_per_vm,
        queues=d.shared_queues_max_per_vm,
        queue_length=d.shared_queue_max_length,
        queue_bytes=d.shared_queues_max_mib_per_vm * mib,
        total_bytes=d.shared_max_mib_total * mib,
    )


def store_metrics(store: SharedStore) -> str:
    """The shared store's size and quota refusals, per vm_id (Prometheus text)."""
    lines = [
        "# HELP wasmd_shared_bytes Bytes a vm_id holds in shared data and queues.",
        "# TYPE wasmd_shared_bytes gauge",
    ]
    for vm_id, usage in sorted(store.usage.items()):
        label = _label(vm_id)
        lines.append(f'wasmd_shared_bytes{{vm_id="{label}",kind="data"}} {usage.data_bytes}')
        lines.append(f'wasmd_shared_bytes{{vm_id="{label}",kind="queues"}} {usage.queue_bytes}')
    lines += [
        "# HELP wasmd_shared_quota_refusals_total Shared data/queue writes refused past a quota.",
        "# TYPE wasmd_shared_quota_refusals_total counter",
    ]
    for vm_id, usage in sorted(store.usage.items()):
        for quota, count in sorted(usage.refused.items()):
            lines.append(
                f'wasmd_shared_quota_refusals_total{{vm_id="{_label(vm_id)}",quota="{quota}"}} '
                f"{count}"
            )
    return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
