"""Daemon-wide values of plugin counters and gauges: a pure store, no I/O.

Envoy's stats are process-wide: every worker thread's VM of a plugin adds into one counter,
and ``proxy_get_metric`` reads that one value. wasmd's workers are processes, so the
supervisor keeps the value (``SharedChannels`` serves it over each worker's shared channel,
``ctl.SHARED_METRIC_*``):

1. A metric is keyed by (plugin, kind, name): the configured plugin name (wasmd labels every
   series with it), the proxy-wasm metric type and the name the plugin defined.
2. Updates arrive asynchronously and in batches (``METRIC_UPDATE``, no reply): a counter or
   gauge *add* adds, a gauge *set* replaces (the last write wins, as in Envoy).
3. ``get`` answers the value with every update the asking worker sent before it applied
   (the channel is ordered); updates another worker has not flushed yet (at most one turn
   of its event loop) are not in it yet.
4. Values outlive workers and generations, as shared data does.
"""

from __future__ import annotations

from typing import Any

MetricKey = tuple[str, int, str]  # (plugin, proxy-wasm MetricType, name)
ADD = 0
SET = 1


class MetricStore:
    """Counters and gauges of every plugin, summed over every worker (rules 1-4)."""

    def __init__(self) -> None:
        self._values: dict[MetricKey, int] = {}
        self.updates = 0

    def update(self, key: MetricKey, mode: int, value: int) -> None:
        """Apply one update: ADD adds ``value``, SET replaces (rule 2)."""
        self.updates += 1
        if mode == SET:
            self._values[key] = value
        else:
            self._values[key] = self._values.get(key, 0) + value

    def get(self, key: MetricKey) -> int:
        """The daemon-wide value; 0 for a metric nobody updated yet."""
        return self._values.get(key, 0)

    def items(self) -> list[tuple[MetricKey, int]]:
        return list(self._values.items())


def apply_batch(store: MetricStore, batch: Any) -> None:
    """Apply a METRIC_UPDATE batch ``[[plugin, kind, name, mode, value], ...]``; raises
    ValueError on a malformed one (the channel is then not trusted)."""
    if not isinstance(batch, list):
        raise ValueError("metric update batch is not an array")
    for item in batch:
        try:
            plugin, kind, name, mode, value = item
        except (TypeError, ValueError):
            raise ValueError(f"malformed metric update {item!r}") from None
        if not (isinstance(plugin, str) and isinstance(name, str)):
            raise ValueError(f"malformed metric update {item!r}")
        if not (isinstance(kind, int) and mode in (ADD, SET) and isinstance(value, int)):
            raise ValueError(f"malformed metric update {item!r}")
        store.update((plugin, kind, name), mode, value)
