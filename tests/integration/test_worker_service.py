"""WorkerService on a real loop with real plugins: chains, per-plugin stats, unknown chains."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.support import config_for, spec, wat
from workers import trial
from workers.contexts.exchange import Step
from workers.service import PluginSource, UnknownChain, WorkerService
from workers.vm.runtime import Runtime

REQUEST = [(b":method", b"GET"), (b":path", b"/"), (b":authority", b"x"), (b"x-echo", b"hi")]
RESPONSE = [(b":status", b"200")]


def _service(runtime: Runtime) -> WorkerService:
    add_header = spec("as_add_header")
    rust = spec("rust_headers")
    sources = [
        PluginSource(config_for(add_header), add_header.wasm.read_bytes()),
        PluginSource(config_for(rust), rust.wasm.read_bytes()),
    ]
    chains = {"default": ["as_add_header"], "both": ["as_add_header", "rust_headers"]}
    return WorkerService(runtime, sources, chains, "default")


async def _exchange(service: WorkerService, chain: str | None) -> list[tuple[bytes, bytes]]:
    ax = service.open(chain)
    assert await ax.request_headers(REQUEST, True) is Step.CONTINUE
    assert await ax.response_headers(RESPONSE, True) is Step.CONTINUE
    ax.finish()
    return ax.exchange.request_headers.pairs()


def test_chains_run_their_plugins_in_order_and_record_call_times() -> None:
    """Regression: the call-time histogram behind `wasmd status` P50/P99 stayed empty
    because the VM factory no longer passed the service's CallStats to the VMs."""

    async def main() -> None:
        with Runtime() as runtime:
            service = _service(runtime)
            try:
                service.start(asyncio.get_running_loop())
                default = dict(await _exchange(service, None))
                both = dict(await _exchange(service, "both"))
                assert b"x-as-req" in default and b"x-rust-count" not in default
                assert b"x-as-req" in both and both[b"x-rust-count"] == b"0"
                assert service.call_stats["as_add_header"].count > 0
                assert service.call_stats["rust_headers"].count > 0
                assert service.call_stats["as_add_header"].quantile_us(0.5) > 0
            finally:
                service.close()

    asyncio.run(main())


def test_an_unknown_chain_is_refused_with_the_configured_names() -> None:
    async def main() -> None:
        with Runtime() as runtime:
            service = _service(runtime)
            try:
                service.start(asyncio.get_running_loop())
                with pytest.raises(UnknownChain, match="'nope'.*both, default"):
                    service.open("nope")
            finally:
                service.close()

    asyncio.run(main())


# Root on_done returns false the first time and starts a 5 ms timer; the tick calls
# proxy_done (logging its status) and on_delete logs "deleted".
LATE_DONE = r"""
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_done" (func $done (result i32)))
  (import "env" "proxy_set_tick_period_milliseconds" (func $tick (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "on_done")
  (data (i32.const 120) "done=0")
  (data (i32.const 130) "done=1")
  (data (i32.const 140) "deleted")
  (global $heap (mut i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (local i32)
    global.get $heap local.set 1
    global.get $heap local.get 0 i32.add global.set $heap
    local.get 1)
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_done") (param i32) (result i32)
    (drop (call $log (i32.const 2) (i32.const 100) (i32.const 7)))
    (drop (call $tick (i32.const 5)))
    (i32.const 0))
  (func (export "proxy_on_tick") (param i32)
    (drop (call $tick (i32.const 0)))
    (if (i32.eqz (call $done))
      (then (drop (call $log (i32.const 2) (i32.const 120) (i32.const 6))))
      (else (drop (call $log (i32.const 2) (i32.const 130) (i32.const 6))))))
  (func (export "proxy_on_delete") (param i32)
    (drop (call $log (i32.const 2) (i32.const 140) (i32.const 7))))
)
"""


def test_a_plugin_finishing_later_calls_proxy_done_and_then_gets_on_delete() -> None:
    """Root on_done returning false parks the root context until proxy_done (from a timer
    here); on_delete follows. proxy_done used to answer NotFound in every case."""

    async def main() -> list[str]:
        with Runtime() as runtime:
            config = trial.plugin_config("late", log_level="info")
            service = WorkerService(
                runtime,
                [PluginSource(config, wat(LATE_DONE))],
                {"d": ["late"]},
                "d",
                capture_logs=True,
            )
            service.start(asyncio.get_running_loop())
            await service.aclose()
            return [r.message for r in service.logs["late"].records]

    assert asyncio.run(main()) == ["on_done", "done=0", "deleted"]


def test_a_property_one_plugin_sets_is_read_by_the_next_in_the_chain() -> None:
    """proxy_set_property is the stream's filter state in Envoy: a later Wasm filter of the
    chain reads it (measured with two filters of c_conformance in Envoy 1.40; the same
    through ext_proc in tests/e2e/test_daemon_envoy.py). Exchanges do not share it."""
    import dataclasses

    from tests.integration.support import Plugin, drive

    conformance = spec("c_conformance")

    def instance(runtime: Runtime, name: str) -> Plugin:
        config = dataclasses.replace(config_for(conformance), name=name, vm_id=name)
        return Plugin(runtime, conformance.wasm, config)

    with Runtime() as runtime:
        first, second = instance(runtime, "first"), instance(runtime, "second")
        try:
            headers = [
                (b"x-test", b"prop-read"),
                (b"x-prop-set-once", b"chain_user=alice"),
                (b"x-prop", b"chain_user"),
            ]
            for _ in range(2):  # the second exchange starts without the first's value
                done = drive([first.handle, second.handle], headers)
                found = sorted((k, v) for k, v in done.headers if k.startswith(b"x-r-prop"))
                assert found == [
                    (b"x-r-prop-0", b"0:" + b"alice".hex().encode()),
                    (b"x-r-prop-0", b"0:" + b"alice".hex().encode()),
                    (b"x-r-prop-found", b"alice"),
                    (b"x-r-prop-set", b"0"),
                ]
        finally:
            first.close()
            second.close()
