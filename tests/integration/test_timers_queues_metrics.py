"""Timers, shared queues and metrics on a real WorkerService loop with real plugins.

plugins/c/timers_queues.c (ticks, queue round trips) and plugins/rust/src/metrics.rs
(counter/gauge/histogram, Go-SDK tagged name) run in wasmtime on an asyncio loop; no
mocks. Waiting is on conditions (``until``), never a fixed sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.manifest import PLUGINS_ROOT
from wasmd.kernel.errors import PluginTrap
from workers import metrics_export
from workers.contexts.exchange import Step
from workers.contexts.plugin import PluginConfig, PluginVm
from workers.service import PluginSource, WorkerService
from workers.vm.runtime import Runtime

pytestmark = pytest.mark.timeout(60)

TQ_WASM = PLUGINS_ROOT / "c/build/timers_queues.wasm"
METRICS_WASM = PLUGINS_ROOT / "rust/build/metrics.wasm"
UNTIL_TIMEOUT_S = 10.0

Scenario = Callable[[WorkerService], Awaitable[None]]


async def until(condition: Callable[[], bool], what: str) -> None:
    """Let the loop run until ``condition()`` holds; fail after UNTIL_TIMEOUT_S."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + UNTIL_TIMEOUT_S
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.002)


def source(name: str, wasm: Path, config: str = "", vm_id: str = "", **kw: object) -> PluginSource:
    cfg = PluginConfig(name=name, vm_id=vm_id or name, configuration=config.encode(), **kw)  # type: ignore[arg-type]
    return PluginSource(cfg, wasm.read_bytes())


def run(
    plugins: Sequence[PluginSource], scenario: Scenario, chains: dict[str, list[str]] | None = None
) -> None:
    """Start a WorkerService with ``plugins`` on a fresh loop, run ``scenario``, close."""

    async def main() -> None:
        with Runtime() as runtime:
            names = [p.config.name for p in plugins]
            service = WorkerService(runtime, plugins, chains or {"default": names}, "default")
            try:
                service.start(asyncio.get_running_loop())
                await scenario(service)
            finally:
                service.close()

    asyncio.run(main())


def vm_of(service: WorkerService, name: str) -> PluginVm:
    vm = service.handles[name].vm
    assert vm is not None
    return vm


async def exchange(
    service: WorkerService, headers: list[tuple[bytes, bytes]], chain: str | None = None
) -> dict[bytes, bytes]:
    """One GET through ``chain``; the response headers the client would get."""
    ax = service.open(chain)
    request = [(b":authority", b"x"), (b":path", b"/"), (b":method", b"GET"), *headers]
    assert await ax.request_headers(request, True) is Step.CONTINUE
    assert await ax.response_headers([(b":status", b"200")], True) is Step.CONTINUE
    ax.finish()
    return dict(ax.exchange.response_headers.pairs())


def fields(value: bytes) -> dict[str, str]:
    return dict(item.split("=", 1) for item in value.decode().split())


# -- timers ------------------------------------------------------------------------------------
def test_ticks_run_on_the_loop_until_period_zero_stops_them() -> None:
    async def scenario(service: WorkerService) -> None:
        await until(lambda: service.callbacks["tq"].ticks == 3, "3 ticks")
        vm = vm_of(service, "tq")
        assert vm.tick_period_ms == 0  # the plugin set period 0 in its third tick
        assert id(vm) not in service._timers  # ... so no timer is armed: no fourth tick
        assert service.metrics["tq"].snapshot()["tq.ticks"] == 3

    run([source("tq", TQ_WASM, "tick_ms=5 stop_after=3")], scenario)


def test_tick_period_change_takes_effect() -> None:
    async def scenario(service: WorkerService) -> None:
        await until(lambda: service.callbacks["tq"].ticks >= 3, "3 ticks")
        vm = vm_of(service, "tq")
        assert vm.tick_period_ms == 7
        assert id(vm) in service._timers

    run([source("tq", TQ_WASM, "tick_ms=5 change_after=2 change_ms=7")], scenario)


def test_a_slow_tick_is_stopped_by_the_cpu_deadline() -> None:
    async def scenario(service: WorkerService) -> None:
        handle = service.handles["tq"]
        await until(lambda: handle.stats.deadline_hits == 1, "the tick to hit its deadline")
        assert handle.vm is not None and handle.vm.failed is not None
        assert service.callbacks["tq"].ticks == 0
        assert id(handle.vm) not in service._timers  # a failed VM's timer dies with it

    run([source("tq", TQ_WASM, "tick_ms=5 spin=1", deadline_ms=50)], scenario)


# -- queues -----------------------------------------------------------------------------------
def test_queue_round_trip_delivers_in_order_and_resumes_the_stream() -> None:
    async def scenario(service: WorkerService) -> None:
        headers = await exchange(service, [(b"x-tq-enqueue", b"3")])
        assert fields(headers[b"x-tq-queue"]) == {
            "order": "123",
            "ready_match": "1",  # delivered to the registering root, with its queue id
            "drained": "7",  # Empty once all three were taken
            "dequeued_delta": "3",
        }
        assert service.callbacks["tq"].queue_ready == 3

    run([source("tq", TQ_WASM, "tick_ms=0")], scenario)


def test_queue_codes_empty_not_found_and_resolve_with_empty_vm_id() -> None:
    async def scenario(service: WorkerService) -> None:
        headers = await exchange(service, [])
        assert fields(headers[b"x-tq-probes"]) == {
            "resolve_self": "0",  # empty vm_id = the caller's own vm_id
            "same_id": "1",
            "resolve_other_vm": "1",  # NotFound
            "resolve_unknown": "1",
            "enqueue_bad": "1",
            "dequeue_bad": "1",
            "dequeue_empty": "7",  # Empty
        }

    run([source("tq", TQ_WASM, "tick_ms=0")], scenario)


def test_queue_ready_is_posted_after_the_enqueue_not_inside_it() -> None:
    async def scenario(service: WorkerService) -> None:
        queue_id = service.shared_queues.resolve("tq", b"tq")
        assert queue_id is not None
        assert service.shared_queues.enqueue(queue_id, b"0:x") == 0
        assert service.callbacks["tq"].queue_ready == 0  # not run inside enqueue
        await until(lambda: service.callbacks["tq"].queue_ready == 1, "the delivery")

    run([source("tq", TQ_WASM, "tick_ms=0")], scenario)


def test_a_replaced_or_failed_vm_gets_no_queue_ready() -> None:
    async def scenario(service: WorkerService) -> None:
        shared = service.shared_queues
        queue_id = shared.resolve("tq", b"tq")
        assert queue_id is not None
        handle = service.handles["tq"]
        old = handle.vm
        assert old is not None
        handle.vm = None  # replaced (what a reload does before the new VM registers)
        shared.enqueue(queue_id, b"0:x")
        await asyncio.sleep(0)  # one loop pass: the posted delivery runs (and is dropped)
        handle.vm = old
        old.failed = PluginTrap("test: marked failed", "trap")
        shared.enqueue(queue_id, b"0:y")
        await asyncio.sleep(0)
        old.failed = None
        shared.enqueue(queue_id, b"0:z")  # posted after both: once it lands, they were dropped
        await until(lambda: service.callbacks["tq"].queue_ready == 1, "the healthy delivery")
        await asyncio.sleep(0)
        assert service.callbacks["tq"].queue_ready == 1

    run([source("tq", TQ_WASM, "tick_ms=0")], scenario)


def test_two_vms_with_one_vm_id_share_data_and_queues() -> None:
    plugins = [
        source("a", TQ_WASM, "tick_ms=0 queue=q", vm_id="shared"),
        source("b", TQ_WASM, "tick_ms=0 queue=q", vm_id="shared"),
        source("c", TQ_WASM, "tick_ms=0 queue=q", vm_id="other"),
    ]

    async def scenario(service: WorkerService) -> None:
        a, b, c = (vm_of(service, n) for n in "abc")
        assert a.resolve_shared_queue(b"", b"q") == b.resolve_shared_queue(b"", b"q")
        assert c.resolve_shared_queue(b"", b"q") != a.resolve_shared_queue(b"", b"q")
        assert c.resolve_shared_queue(b"shared", b"q") == a.resolve_shared_queue(b"", b"q")
        assert a.set_shared_data(b"k", b"v", 0) == 0
        value, cas = b.get_shared_data(b"k") or (b"", 0)
        assert value == b"v"
        assert c.get_shared_data(b"k") is None
        assert b.set_shared_data(b"k", b"w", cas) == 0
        assert a.set_shared_data(b"k", b"x", cas) == 8  # CasMismatch: b wrote in between
        # b registered q last, but a request through a re-registers it: a's root gets it.
        headers = await exchange(service, [(b"x-tq-enqueue", b"2")], chain="only-a")
        assert fields(headers[b"x-tq-queue"])["order"] == "12"
        assert service.callbacks["a"].queue_ready == 2
        assert service.callbacks["b"].queue_ready == 0

    run(plugins, scenario, {"default": ["a", "b", "c"], "only-a": ["a"]})


# -- metrics --------------------------------------------------------------------------------
def test_prometheus_output_parses_and_carries_plugin_and_tags() -> None:
    async def scenario(service: WorkerService) -> None:
        await exchange(service, [])
        await exchange(service, [])
        text = metrics_export.render(service)
        families = {f.name: f for f in text_string_to_metric_families(text)}
        requests = families["rust_requests"]
        assert requests.type == "counter"
        by_labels = {tuple(sorted(s.labels.items())): s.value for s in requests.samples}
        # Two exchanges: each increments by 1 and records (adds) 5.
        assert by_labels[(("plugin", "metrics"),)] == 12
        assert by_labels[(("method", "GET"), ("plugin", "metrics"), ("reporter", "rust"))] == 2
        assert families["rust_gauge"].samples[0].value == 45
        hist = families["rust_header_bytes"]
        assert hist.type == "histogram"
        count = next(s for s in hist.samples if s.name.endswith("_count"))
        assert count.value == 2
        assert any(s.labels.get("le") == "+Inf" for s in hist.samples)
        calls = families["wasmd_plugin_call_duration_seconds"]
        assert {s.labels["plugin"] for s in calls.samples} == {"metrics", "tq"}
        ticks = families["wasmd_plugin_ticks"]
        assert {s.labels["plugin"] for s in ticks.samples} == {"metrics", "tq"}
        merged = {
            f.name: f for f in text_string_to_metric_families(metrics_export.merge([text, text]))
        }
        doubled = {
            tuple(sorted(s.labels.items())): s.value for s in merged["rust_requests"].samples
        }
        assert doubled[(("plugin", "metrics"),)] == 24

    run([source("metrics", METRICS_WASM), source("tq", TQ_WASM, "tick_ms=0")], scenario)
