"""Plugin metrics whose values are daemon-wide (the supervisor's ``MetricStore``).

Envoy's stats are process-wide: a counter incremented by two worker threads reads 2 from
either. wasmd's workers are processes, so each update is applied twice: to this worker's
own ``Metrics`` (its contribution, which its heartbeat exports for histograms and host
stats) and to the supervisor's daemon-wide store over the shared channel.

Cost: updates are batched per plugin metric and sent one-way (``ctl.SHARED_METRIC_UPDATE``,
no reply) once per turn of the worker's event loop, so an increment inside a guest call is
a dict update. ``proxy_get_metric`` first flushes this worker's pending updates, then does
one synchronous round trip (``ctl.SHARED_METRIC_GET``), like ``proxy_get_shared_data``: it
sees every update this worker made and every update other workers flushed before it (they
flush at the end of the loop turn that made them). If the store is unreachable, get falls
back to this worker's own value.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from wasmd.kernel import control as ctl
from wasmd.kernel.errors import WasmdError
from workers.abi.types import MetricType, WasmResult
from workers.contexts.metrics import Metrics
from workers.contexts.shared_remote import SharedLink

ADD = 0  # wasmd/supervisor/metric_store.py modes
SET = 1


class MetricBatcher:
    """Pending daemon-wide updates of every plugin of one worker, flushed once per loop turn."""

    def __init__(self, link: SharedLink, loop: asyncio.AbstractEventLoop | None) -> None:
        self._link = link
        self._loop = loop
        self._adds: dict[tuple[str, int, str], int] = {}
        self._sets: dict[tuple[str, int, str], int] = {}
        self._scheduled = False

    def add(self, key: tuple[str, int, str], delta: int) -> None:
        if key in self._sets:  # a set then an add: keep the order by folding into the set
            self._sets[key] += delta
        else:
            self._adds[key] = self._adds.get(key, 0) + delta
        self._schedule()

    def set(self, key: tuple[str, int, str], value: int) -> None:
        self._adds.pop(key, None)  # overwritten by the set
        self._sets[key] = value
        self._schedule()

    def _schedule(self) -> None:
        if self._scheduled:
            return
        if self._loop is None:
            self.flush()
            return
        self._scheduled = True
        self._loop.call_soon(self.flush)

    def flush(self) -> None:
        """Send every pending update in one one-way frame (nothing when none)."""
        self._scheduled = False
        if not self._adds and not self._sets:
            return
        batch: list[Any] = [[*k, ADD, v] for k, v in self._adds.items()]
        batch += [[*k, SET, v] for k, v in self._sets.items()]
        self._adds.clear()
        self._sets.clear()
        with contextlib.suppress(WasmdError):  # the store is gone: own values still export
            self._link.send([ctl.SHARED_METRIC_UPDATE, batch])

    def get(self, key: tuple[str, int, str]) -> int | None:
        """The daemon-wide value (this worker's pending updates included), or None."""
        self.flush()
        try:
            return int(self._link.call([ctl.SHARED_METRIC_GET, *key])[1])
        except WasmdError:
            return None


class DaemonMetrics(Metrics):
    """One plugin's ``Metrics`` whose counters and gauges read daemon-wide (module doc)."""

    def __init__(self, plugin: str, batcher: MetricBatcher) -> None:
        super().__init__()
        self._plugin = plugin
        self._batcher = batcher

    def _key(self, metric_id: int) -> tuple[str, int, str] | None:
        metric = self._by_id.get(metric_id)
        if metric is None or metric.kind is MetricType.HISTOGRAM:
            return None
        return self._plugin, int(metric.kind), metric.name

    def increment(self, metric_id: int, delta: int) -> WasmResult:
        result = super().increment(metric_id, delta)
        key = self._key(metric_id)
        if result is WasmResult.OK and key is not None:
            self._batcher.add(key, delta)
        return result

    def record(self, metric_id: int, value: int) -> WasmResult:
        result = super().record(metric_id, value)
        key = self._key(metric_id)
        if result is WasmResult.OK and key is not None:
            if key[1] == MetricType.GAUGE:
                self._batcher.set(key, value)
            else:
                self._batcher.add(key, value)  # a counter's record adds (Envoy's rule)
        return result

    def get(self, metric_id: int) -> tuple[WasmResult, int]:
        result, local = super().get(metric_id)
        key = self._key(metric_id)
        if result is not WasmResult.OK or key is None:
            return result, local
        value = self._batcher.get(key)
        return WasmResult.OK, local if value is None else value
