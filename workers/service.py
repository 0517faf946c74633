"""The data plane of one worker: plugin VMs, chains and timers, owned by one asyncio loop.

Faces (the msgpack server, the ext_proc servicer, ``wasmd try``) open an
``AsyncExchange`` per HTTP exchange and feed it phases; a phase that a plugin pauses is
awaited until the plugin continues it (from a timer tick or a callout response) or the
pause timeout passes. Every call into a VM happens on the loop's thread, so a tick never
runs concurrently with another callback of the same VM.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from wasmd.kernel.errors import PluginLoadError, PluginTrap, WasmdError
from wasmd.kernel.logs import get_logger
from workers.abi.types import WasmResult
from workers.callouts.dispatch import CalloutDispatcher
from workers.callouts.messages import GrpcCallRequest, HttpCallRequest
from workers.contexts.callstats import CallStats
from workers.contexts.exchange import Exchange, Step
from workers.contexts.logsink import LogSink
from workers.contexts.maps import Pair
from workers.contexts.metrics import Metrics
from workers.contexts.plugin import PluginConfig, PluginVm
from workers.contexts.policy import PluginHandle
from workers.contexts.shared import LocalSharedData, LocalSharedQueues, SharedData, SharedQueues
from workers.contexts.stream import StreamContext
from workers.vm.runtime import CompiledModule, Runtime

SHUTDOWN_TIMEOUT_S = 1.0  # how long plugins may take to call proxy_done when stopping
DEFAULT_PAUSE_TIMEOUT_S = 15.0  # Envoy's default route timeout holds a paused stream this long


@dataclass(slots=True)
class LoopCallbacks:
    """Callbacks the loop delivered to one plugin (not counting ones that trapped)."""

    ticks: int = 0
    queue_ready: int = 0


def on_load_failure(plugin: str, error: str) -> None:
    """Log a plugin that failed to load in a serving worker (one JSON line, with why)."""
    get_logger(component="worker").error("plugin_load_failed", plugin=plugin, error=error)


class UnknownChain(WasmdError):
    """A caller asked for a chain the configuration does not define."""


@dataclass(frozen=True, slots=True)
class PluginSource:
    """A configured plugin and the bytes of its module."""

    config: PluginConfig
    wasm: bytes


class WorkerService:
    """Plugins (one PluginHandle each), chains and timers of one worker process."""

    def __init__(
        self,
        runtime: Runtime,
        plugins: Sequence[PluginSource],
        chains: Mapping[str, Sequence[str]],
        default_chain: str,
        *,
        shared_data: SharedData | None = None,
        shared_queues: SharedQueues | None = None,
        capture_logs: bool = False,
        pause_timeout_s: float = DEFAULT_PAUSE_TIMEOUT_S,
        quarantine: Mapping[str, str] | None = None,
        metrics_factory: Callable[[str], Metrics] = lambda plugin: Metrics(),
    ) -> None:
        """``metrics_factory(plugin)``: each plugin's metric store (daemon-wide under the
        supervisor: workers/contexts/metrics_remote.py)."""
        self.runtime = runtime
        self._metrics_factory = metrics_factory
        self.quarantine = dict(quarantine or {})  # plugin -> why it is not loaded
        self.chains = {name: tuple(members) for name, members in chains.items()}
        self.default_chain = default_chain
        self.pause_timeout_s = pause_timeout_s
        self.shared_data = shared_data if shared_data is not None else LocalSharedData()
        self.shared_queues = shared_queues if shared_queues is not None else LocalSharedQueues()
        self.logs: dict[str, LogSink] = {}
        self.metrics: dict[str, Metrics] = {}
        self.call_stats: dict[str, CallStats] = {}
        self.handles: dict[str, PluginHandle] = {}
        self.callbacks: dict[str, LoopCallbacks] = {}
        self._sources = {p.config.name: p for p in plugins}
        self._capture = capture_logs
        self.callouts = CalloutDispatcher(self._run_callback)
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._waiters: dict[tuple[int, int], asyncio.Event] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._shut_down = False
        self._context_deleted = asyncio.Event()
        for chain, members in self.chains.items():
            for name in members:
                if name not in self._sources:
                    raise PluginLoadError(
                        f"chain {chain!r} names plugin {name!r}, which is not configured"
                    )
        if default_chain not in self.chains:
            raise PluginLoadError(f"default chain {default_chain!r} is not defined")
        self.shared_queues.add_ready_listener(self.queue_ready)

    def start(self, loop: asyncio.AbstractEventLoop, *, strict: bool = True) -> None:
        """Compile and start every plugin. ``strict``: raise PluginLoadError naming the
        first plugin that fails (the canary, ``wasmd try``). Otherwise (a serving worker)
        a plugin that fails is kept as failed with its reason (``PluginHandle.state``):
        only its own chains get its failure policy, every other chain is served."""
        self._loop = loop
        for name, source in self._sources.items():
            self.logs[name] = LogSink(name, capture=self._capture)
            self.metrics[name] = self._metrics_factory(name)
            self.call_stats[name] = CallStats()
            self.callbacks[name] = LoopCallbacks()
            policy = source.config.failure_policy
            if name in self.quarantine:
                self.handles[name] = PluginHandle.quarantine(name, policy, self.quarantine[name])
                continue
            factory = self._loader(source)
            try:
                self.handles[name] = PluginHandle(name, policy, factory)
            except PluginLoadError as exc:
                if strict:
                    raise
                self.handles[name] = PluginHandle.failed_at_load(name, policy, factory, str(exc))
                on_load_failure(name, str(exc))

    def _loader(self, source: PluginSource) -> Callable[[], PluginVm]:
        """A VM factory that compiles the module on first use (a compile error is then a
        load failure like any other); PluginLoadError messages name the plugin."""
        name = source.config.name
        compiled: list[CompiledModule] = []

        def make() -> PluginVm:
            if not compiled:
                try:
                    compiled.append(self.runtime.compile(source.wasm))
                except PluginLoadError as exc:
                    raise PluginLoadError(f"plugin {name}: {exc}", plugin=name) from exc
            try:
                return self._factory(source.config, compiled[0])()  # type: ignore[no-any-return]
            except PluginLoadError as exc:
                raise PluginLoadError(f"plugin {name} failed to load: {exc}", plugin=name) from exc

        return make

    def _factory(self, config: PluginConfig, compiled: CompiledModule):  # type: ignore[no-untyped-def]
        def make() -> PluginVm:
            vm = PluginVm(
                self.runtime,
                compiled,
                config,
                logs=self.logs[config.name],
                metrics=self.metrics[config.name],
                shared_data=self.shared_data,
                shared_queues=self.shared_queues,
                services=self,
                call_stats=self.call_stats[config.name],
            )
            try:
                vm.start()
            except BaseException:
                self._cancel_timer(vm)
                vm.close()
                raise
            return vm

        return make

    # -- HostServices ---------------------------------------------------------------------
    def tick_period_changed(self, vm: PluginVm) -> None:
        self._cancel_timer(vm)
        if vm.tick_period_ms > 0 and self._loop is not None:
            self._timers[id(vm)] = self._loop.call_later(vm.tick_period_ms / 1000, self._tick, vm)

    def _cancel_timer(self, vm: PluginVm) -> None:
        timer = self._timers.pop(id(vm), None)
        if timer is not None:
            timer.cancel()

    def _tick(self, vm: PluginVm) -> None:
        self._timers.pop(id(vm), None)
        handle = self.handles.get(vm.config.name)
        if handle is None or handle.vm is not vm or vm.failed is not None:
            return  # replaced, closed or failed: its timer dies with it
        try:
            vm.tick()
        except PluginTrap as trap:
            handle.report(vm, trap)
            return
        self.callbacks[vm.config.name].ticks += 1
        if vm.tick_period_ms > 0 and id(vm) not in self._timers:
            self.tick_period_changed(vm)

    def stream_continued(self, vm: PluginVm, ctx: StreamContext) -> None:
        waiter = self._waiters.get((id(vm), ctx.id))
        if waiter is not None:
            waiter.set()

    def queue_ready(self, queue_id: int, owner: object) -> None:
        if isinstance(owner, PluginVm) and self._loop is not None:
            self._loop.call_soon(self._deliver_queue_ready, owner, queue_id)

    def _deliver_queue_ready(self, vm: PluginVm, queue_id: int) -> None:
        handle = self.handles.get(vm.config.name)
        if handle is None or handle.vm is not vm or vm.failed is not None:
            return  # another worker's VM, or replaced/closed/failed: Envoy drops it too
        try:
            vm.queue_ready(queue_id)
        except PluginTrap as trap:
            handle.report(vm, trap)
            return
        self.callbacks[vm.config.name].queue_ready += 1

    # -- HostServices: callouts ------------------------------------------------------------
    def http_call(self, vm: PluginVm, token: int, request: HttpCallRequest) -> WasmResult:
        return self.callouts.http_call(vm, token, request)

    def grpc_call(self, vm: PluginVm, token: int, request: GrpcCallRequest) -> WasmResult:
        return self.callouts.grpc_call(vm, token, request)

    def grpc_stream(self, vm: PluginVm, token: int, request: GrpcCallRequest) -> WasmResult:
        return self.callouts.grpc_stream(vm, token, request)

    def grpc_send(self, vm: PluginVm, token: int, message: bytes, end_stream: bool) -> WasmResult:
        return self.callouts.grpc_send(vm, token, message, end_stream)

    def grpc_cancel(self, vm: PluginVm, token: int) -> None:
        self.callouts.grpc_cancel(vm, token)

    def grpc_close(self, vm: PluginVm, token: int) -> None:
        self.callouts.grpc_close(vm, token)

    def _run_callback(self, vm: PluginVm, deliver: Callable[[], bool]) -> None:
        """Run a callout callback if ``vm`` is still its plugin's live VM; a trap fails it."""
        handle = self.handles.get(vm.config.name)
        if handle is None or handle.vm is not vm or vm.failed is not None:
            self.callouts.forget_vm(vm)  # its other calls and streams are of no use now
            return  # replaced, closed or failed: Envoy drops callbacks for it too
        try:
            deliver()
        except PluginTrap as trap:
            handle.report(vm, trap)

    # -- exchanges ------------------------------------------------------------------------
    def open(
        self, chain: str | None = None, properties: Mapping[str, bytes] | None = None
    ) -> AsyncExchange:
        """Start an exchange through ``chain`` (default chain if None); raises UnknownChain.
        ``properties`` is read, never changed, and only when a plugin reads a property."""
        name = chain or self.default_chain
        members = self.chains.get(name)
        if members is None:
            raise UnknownChain(
                f"unknown chain {name!r}; configured chains: {', '.join(sorted(self.chains))}"
            )
        exchange = Exchange([self.handles[m] for m in members], properties)
        return AsyncExchange(self, exchange, self.pause_timeout_s)

    def close(self) -> None:
        """Cancel timers and callouts and close every VM; idempotent. Prefer ``aclose``
        on a running loop: it also closes the callout clients' connections."""
        self.callouts.cancel_all()
        self.shared_queues.remove_ready_listener(self.queue_ready)
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for handle in self.handles.values():
            handle.close()

    def context_done(self, vm: PluginVm, context_id: int) -> None:
        if self._loop is not None:
            self._loop.call_soon(self._delete_context, vm, context_id)

    def _delete_context(self, vm: PluginVm, context_id: int) -> None:
        handle = self.handles.get(vm.config.name)
        try:
            vm.delete_context(context_id)
        except PluginTrap as trap:
            if handle is not None:
                handle.report(vm, trap)
        finally:
            self._context_deleted.set()

    async def shutdown(self, timeout_s: float = SHUTDOWN_TIMEOUT_S) -> None:
        """Root proxy_on_done for every plugin; wait (timers and callouts still running) for
        the ones that finish later with proxy_done, up to ``timeout_s``."""
        pending = [h.vm for h in self.handles.values() if h.vm is not None]
        pending = [vm for vm in pending if not vm.begin_shutdown()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while any(not vm.finished for vm in pending):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._context_deleted.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._context_deleted.wait(), remaining)

    async def aclose(self) -> None:
        """shutdown(), close(), then close the HTTP/gRPC callout clients; idempotent."""
        if not self._shut_down:
            self._shut_down = True
            await self.shutdown()
        self.close()
        await self.callouts.aclose()


class AsyncExchange:
    """One exchange; each phase returns once the plugins let it proceed (or time out)."""

    def __init__(self, service: WorkerService, exchange: Exchange, pause_timeout_s: float):
        self.service = service
        self.exchange = exchange
        self.pause_timeout_s = pause_timeout_s

    async def request_headers(self, headers: Sequence[Pair], end_of_stream: bool) -> Step:
        return await self.settle(self.exchange.on_request_headers(headers, end_of_stream))

    async def request_body(self, chunk: bytes, end_of_stream: bool) -> Step:
        return await self.settle(self.exchange.on_request_body(chunk, end_of_stream))

    async def request_trailers(self, trailers: Sequence[Pair]) -> Step:
        return await self.settle(self.exchange.on_request_trailers(trailers))

    async def response_headers(self, headers: Sequence[Pair], end_of_stream: bool) -> Step:
        return await self.settle(self.exchange.on_response_headers(headers, end_of_stream))

    async def response_body(self, chunk: bytes, end_of_stream: bool) -> Step:
        return await self.settle(self.exchange.on_response_body(chunk, end_of_stream))

    async def response_trailers(self, trailers: Sequence[Pair]) -> Step:
        return await self.settle(self.exchange.on_response_trailers(trailers))

    def finish(self) -> None:
        self.exchange.finish()

    async def settle(self, step: Step) -> Step:
        """Wait while ``step`` is PAUSE: until the plugin continues (then resume) or the
        pause timeout passes (then PAUSE)."""
        if step is not Step.PAUSE:  # nearly every phase: no clock, no loop lookup
            return step
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.pause_timeout_s
        while step is Step.PAUSE:
            if self.exchange.paused_filter_continued():
                step = self.exchange.resume()
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                return Step.PAUSE
            await self._wait_for_continue(remaining)
        return step

    async def _wait_for_continue(self, timeout_s: float) -> None:
        event = asyncio.Event()
        keys = [(id(f.vm), f.ctx.id) for f in self.exchange.filters if f.ctx is not None]
        waiters = self.service._waiters
        for key in keys:
            waiters[key] = event
        try:
            await asyncio.wait_for(event.wait(), timeout_s)
        except TimeoutError:
            pass
        finally:
            for key in keys:
                if waiters.get(key) is event:
                    del waiters[key]
