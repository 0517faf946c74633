"""WorkerService on a real loop with real plugins: chains, per-plugin stats, unknown chains."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.support import config_for, spec
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
