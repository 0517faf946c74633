"""workers/contexts/metrics_remote.py against a recording link (pure)."""

from __future__ import annotations

from typing import Any

from wasmd.kernel import control as ctl
from workers.abi.types import MetricType, WasmResult
from workers.contexts.metrics_remote import DaemonMetrics, MetricBatcher


class Link:
    """Records one-way sends; answers gets with ``value``."""

    def __init__(self, value: int = 7) -> None:
        self.sent: list[list[Any]] = []
        self.calls: list[list[Any]] = []
        self.value = value

    def send(self, request: list[Any]) -> None:
        self.sent.append(request)

    def call(self, request: list[Any]) -> list[Any]:
        self.calls.append(request)
        return [ctl.SHARED_REPLY, self.value]


def test_updates_are_batched_until_a_get_flushes_them_first() -> None:
    link = Link()
    batcher = MetricBatcher(link, None)  # type: ignore[arg-type]
    batcher._scheduled = True  # as if a flush were pending on the loop
    metrics = DaemonMetrics("p", batcher)
    c = metrics.define(MetricType.COUNTER, "c")
    g = metrics.define(MetricType.GAUGE, "g")
    h = metrics.define(MetricType.HISTOGRAM, "h")
    assert metrics.increment(c, 1) is WasmResult.OK
    assert metrics.increment(c, 2) is WasmResult.OK
    assert metrics.record(g, 5) is WasmResult.OK
    assert metrics.record(h, 5) is WasmResult.OK  # histograms stay local
    assert metrics.increment(c, 0) is WasmResult.BAD_ARGUMENT  # refused: nothing sent
    assert link.sent == []
    assert metrics.get(c) == (WasmResult.OK, 7)  # the daemon-wide value
    update = [["p", int(MetricType.COUNTER), "c", 0, 3], ["p", int(MetricType.GAUGE), "g", 1, 5]]
    assert link.sent == [[ctl.SHARED_METRIC_UPDATE, update]]
    assert link.calls == [[ctl.SHARED_METRIC_GET, "p", int(MetricType.COUNTER), "c"]]
    assert metrics.get(h) == (WasmResult.BAD_ARGUMENT, 0)
