"""One plugin VM: its lifecycle (start, vm_start, configure) and the host side of the ABI.

``PluginVm`` is what the ABI layer talks to (it implements ``ProxyHost``): every host
call is answered for the *effective* context, which is the context whose callback is
running unless the plugin switched with ``proxy_set_effective_context`` during this entry.
Lifecycle as Envoy runs it: ``_initialize`` (+ ``main``/``__main_void``) or ``_start``;
``proxy_on_context_create(root, 0)``; ``proxy_on_vm_start``; ``proxy_on_configure``.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from wasmd.kernel.errors import PluginLoadError, PluginTrap
from workers.abi.host import Buffer, HeaderMap, ProxyAbi
from workers.abi.linking import Phase, make_resolver
from workers.abi.types import (
    ABI_MARKERS,
    AbiVersion,
    BufferType,
    LogLevel,
    MapType,
    MetricType,
    StreamType,
    WasmResult,
)
from workers.abi.wasi import Wasi
from workers.callouts.messages import GrpcEvent, HttpCallResponse
from workers.contexts import properties
from workers.contexts.callouts import CalloutHost, Delivery, grpc_delivery, http_delivery
from workers.contexts.callstats import CallStats
from workers.contexts.logsink import LogSink
from workers.contexts.maps import BodyBuffer
from workers.contexts.maps import HeaderMap as HeaderMapImpl
from workers.contexts.metrics import Metrics
from workers.contexts.services import HostServices, NoServices
from workers.contexts.shared import LocalSharedData, LocalSharedQueues, SharedData, SharedQueues
from workers.contexts.stream import LocalResponse, StreamContext
from workers.contexts.stream import Phase as StreamPhase
from workers.contexts.visibility import Visibility
from workers.vm.base import GuestMemory
from workers.vm.runtime import (
    DEFAULT_DEADLINE_MS,
    DEFAULT_MEMORY_LIMIT_BYTES,
    CompiledModule,
    Runtime,
)
from workers.vm.wasmtime_vm import WasmtimeVm

R = WasmResult
ROOT_CONTEXT_ID = 1
_now_ns = time.perf_counter_ns  # call times (a module global: read twice per guest call)


class FailurePolicy(enum.Enum):
    FAIL_OPEN = "fail_open"
    FAIL_CLOSED = "fail_closed"
    RELOAD = "reload"


@dataclass(frozen=True, slots=True)
class PluginConfig:
    """Everything that defines one configured plugin (what Envoy's PluginConfig holds)."""

    name: str
    root_id: str = ""
    vm_id: str = ""
    configuration: bytes = b""
    vm_configuration: bytes = b""
    env: tuple[tuple[str, str], ...] = ()
    failure_policy: FailurePolicy = FailurePolicy.FAIL_CLOSED
    deadline_ms: int = DEFAULT_DEADLINE_MS
    memory_limit_bytes: int = DEFAULT_MEMORY_LIMIT_BYTES
    log_level: LogLevel = LogLevel.INFO
    properties: dict[str, bytes] = field(default_factory=dict)
    # Callout upstreams: name -> URL (http://, https://, unix:///path, grpc://host:port,
    # grpc+unix:///path); the name is what the plugin passes to proxy_http_call/grpc_call.
    upstreams: dict[str, str] = field(default_factory=dict)
    # What the plugin may not see or change (docs/visibility.md); None: everything.
    visibility: Visibility | None = None


def detect_abi(exports: frozenset[str]) -> AbiVersion:
    """The ABI version a module advertises through its marker export."""
    found = sorted(ABI_MARKERS[name] for name in exports if name in ABI_MARKERS)
    if not found:
        raise PluginLoadError(
            "missing or unknown Proxy-Wasm ABI version: the module exports none of "
            + ", ".join(sorted(ABI_MARKERS))
            + " (is this a Proxy-Wasm plugin?)"
        )
    return found[-1]


class Context:
    """A root (plugin) context; stream contexts extend it."""

    def __init__(self, context_id: int, parent_id: int, props: properties.PropertySource) -> None:
        self.id = context_id
        self.parent_id = parent_id
        self.props = props


class PluginVm:
    """One instance of a plugin module and its contexts. Not thread-safe: one loop owns it."""

    def __init__(
        self,
        runtime: Runtime,
        compiled: CompiledModule,
        config: PluginConfig,
        *,
        logs: LogSink,
        metrics: Metrics | None = None,
        shared_data: SharedData | None = None,
        shared_queues: SharedQueues | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        services: HostServices | None = None,
        call_stats: CallStats | None = None,
    ) -> None:
        self.call_stats = call_stats if call_stats is not None else CallStats()
        self.runtime = runtime
        self.services: HostServices = services if services is not None else NoServices()
        self.compiled = compiled
        self.config = config
        self.logs = logs
        self.metrics = metrics if metrics is not None else Metrics()
        self.shared_data = shared_data if shared_data is not None else LocalSharedData()
        self.shared_queues = shared_queues if shared_queues is not None else LocalSharedQueues()
        self.clock_ns = clock_ns
        self.abi = detect_abi(compiled.exports)
        self.visibility = config.visibility  # None for most plugins: no view, no cost
        self._arity = compiled.arity
        # Envoy's end order; only what the module exports (a miss still costs a call).
        self._end_exports = tuple(
            e for e in ("proxy_on_log", "proxy_on_done", "proxy_on_delete") if e in self._arity
        )
        self.phase = Phase.START
        self.failed: PluginTrap | None = None
        self.tick_period_ms = 0
        self.contexts: dict[int, Context | StreamContext] = {}
        self.current: Context | StreamContext | None = None
        self.effective: Context | StreamContext | None = None
        self.pending_done: set[int] = set()
        self._configuring: bytes | None = None
        self._next_context_id = ROOT_CONTEXT_ID
        self.allocator = "malloc" if "malloc" in compiled.exports else "proxy_on_memory_allocate"
        self.vm: WasmtimeVm | None = None
        # Per export: the VM's bound call and the export's arity (see invoke).
        self._guest: dict[str, tuple[Callable[..., int | None], int]] = {}
        self._record = self.call_stats.record
        self.root = Context(self._allocate_context_id(), 0, self._props())
        self.callouts = CalloutHost(self, config.upstreams)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Instantiate, initialize, create the root context, vm_start and configure.

        Raises PluginLoadError with a message that says which step failed and why.
        """
        if self.allocator not in self.compiled.exports:
            raise PluginLoadError(
                "the module exports no allocator: Proxy-Wasm needs `malloc` or "
                "`proxy_on_memory_allocate`"
            )
        wasi = Wasi(lambda: self.memory, env=self.config.env, log=self.log)
        resolve = make_resolver(self, ProxyAbi(self), wasi)
        self.vm = self.runtime.instantiate(
            self.compiled,
            resolve,
            memory_limit_bytes=self.config.memory_limit_bytes,
            deadline_ms=self.config.deadline_ms,
            on_created=self._adopt,
        )
        self._step("start-up", self._run_entry_points)
        self.phase = Phase.NORMAL
        self.contexts[self.root.id] = self.root
        self._step(
            "proxy_on_context_create",
            lambda: self.invoke(self.root, "proxy_on_context_create", self.root.id, 0),
        )
        self._configuring = self.config.vm_configuration
        if (
            self._step(
                "proxy_on_vm_start",
                lambda: self.invoke(
                    self.root, "proxy_on_vm_start", self.root.id, len(self.config.vm_configuration)
                ),
            )
            == 0
        ):
            raise PluginLoadError(
                "proxy_on_vm_start returned false: the plugin rejected its VM configuration"
            )
        self._configuring = self.config.configuration
        try:
            if (
                self._step(
                    "proxy_on_configure",
                    lambda: self.invoke(
                        self.root,
                        "proxy_on_configure",
                        self.root.id,
                        len(self.config.configuration),
                    ),
                )
                == 0
            ):
                raise PluginLoadError(
                    "proxy_on_configure returned false: the plugin rejected its configuration"
                )
        finally:
            self._configuring = None

    def _adopt(self, vm: WasmtimeVm) -> None:
        self.vm = vm

    def _run_entry_points(self) -> None:
        exports = self.compiled.exports
        if "_initialize" in exports:
            self.invoke(self.root, "_initialize")
            if "main" in exports:
                self.invoke(self.root, "main", 0, 0)
            elif "__main_void" in exports:
                self.invoke(self.root, "__main_void")
        elif "_start" in exports:
            self.invoke(self.root, "_start")

    def _step(self, what: str, action: Callable[[], int | None]) -> int | None:
        try:
            return action()
        except PluginTrap as trap:
            raise PluginLoadError(f"{what} failed: plugin {trap}") from trap

    @property
    def memory(self) -> GuestMemory:
        assert self.vm is not None
        memory: GuestMemory = self.vm.memory
        return memory

    def invoke(self, ctx: Context | StreamContext, export: str, *args: int) -> int | None:
        """Call ``export`` for ``ctx`` if the module exports it (else None).

        Raises PluginTrap; the VM is failed from then on.
        """
        guest = self._guest.get(export)
        if guest is None:
            if export not in self._arity:
                return None
            guest = self._bind_guest(export)
        fn, arity = guest
        if len(args) != arity:  # e.g. ABI 0.1.0 header callbacks take no end_of_stream
            args = (args + (0,) * arity)[:arity]
        current, effective = self.current, self.effective
        self.current = self.effective = ctx
        started = _now_ns()
        try:
            return fn(*args)
        except PluginTrap as trap:
            self.failed = self.failed or trap
            raise
        finally:
            self._record(_now_ns() - started)
            self.current, self.effective = current, effective

    def _bind_guest(self, export: str) -> tuple[Callable[..., int | None], int]:
        """The VM's function for ``export`` (exported) and its arity, kept for the VM's life."""
        vm = self.vm
        assert vm is not None
        guest = self._guest[export] = (vm.function(export), self._arity[export])
        return guest

    def tick(self) -> None:
        """Deliver proxy_on_tick to the root context. Raises PluginTrap."""
        self.invoke(self.root, "proxy_on_tick", self.root.id)

    def deliver_http_response(self, token: int, response: HttpCallResponse | None) -> bool:
        """Run proxy_on_http_call_response on the root context for ``token`` (None: the
        call failed). False, and nothing runs, if the VM failed or closed or the token is
        not in flight. Raises PluginTrap."""
        if self.failed is not None or self.vm is None or not self.callouts.claim_http(token):
            return False
        self._deliver(token, http_delivery(response))
        return True

    def deliver_grpc_event(self, token: int, event: GrpcEvent) -> bool:
        """Run the gRPC callback for ``event`` on the root context; like
        deliver_http_response. Raises PluginTrap."""
        if self.failed is not None or self.vm is None:
            return False
        if not self.callouts.claim_grpc(token, event):
            return False
        self._deliver(token, grpc_delivery(event))
        return True

    def _deliver(self, token: int, delivery: Delivery) -> None:
        previous, self.callouts.view = self.callouts.view, delivery.view
        try:
            self.invoke(self.root, delivery.export, self.root.id, token, *delivery.args)
        finally:
            self.callouts.view = previous

    def queue_ready(self, queue_id: int) -> None:
        """Deliver proxy_on_queue_ready(root, queue_id) to the root context. Raises PluginTrap."""
        self.invoke(self.root, "proxy_on_queue_ready", self.root.id, queue_id)

    def new_stream(
        self,
        supplied: Mapping[str, bytes] | None = None,
        assigned: dict[str, bytes] | None = None,
    ) -> StreamContext:
        """Create a stream context (proxy_on_context_create(id, root)). Raises PluginTrap.
        ``assigned``: the exchange's proxy_set_property values, shared by its chain."""
        supplied = supplied if supplied is not None else {}  # not sized: it may be lazy
        ctx = StreamContext(self._allocate_context_id(), self.root.id, supplied)
        if assigned is not None:
            ctx.assigned = assigned
        self.contexts[ctx.id] = ctx
        self.invoke(ctx, "proxy_on_context_create", ctx.id, self.root.id)
        return ctx

    def end_stream(self, ctx: StreamContext) -> None:
        """on_log, on_done, on_delete (Envoy's order); skipped once the VM has failed."""
        ctx.phase = StreamPhase.LOG
        for header_map in (
            ctx.request_headers,
            ctx.response_headers,
            ctx.request_trailers,
            ctx.response_trailers,
        ):
            if header_map is not None:
                header_map.writable = False
        try:
            if self.failed is None:
                for export in self._end_exports:
                    self.invoke(ctx, export, ctx.id)
        finally:
            self.contexts.pop(ctx.id, None)

    def begin_shutdown(self) -> bool:
        """Root ``proxy_on_done``; True when the plugin is finished (then ``proxy_on_delete``
        ran), False when it asked to finish later: it calls ``proxy_done`` (from a timer or
        a callout) and ``finished`` turns True. A failed VM is finished at once."""
        if self.vm is None or self.failed is not None:
            return True
        try:
            if self.invoke(self.root, "proxy_on_done", self.root.id) == 0:
                self.pending_done.add(self.root.id)
                return False
            self.invoke(self.root, "proxy_on_delete", self.root.id)
        except PluginTrap:
            pass  # recorded in self.failed; nothing more to run
        return True

    @property
    def finished(self) -> bool:
        return self.root.id not in self.pending_done

    def close(self) -> None:
        self._guest.clear()
        if self.vm is not None:
            self.vm.close()
            self.vm = None

    def _allocate_context_id(self) -> int:
        context_id = self._next_context_id
        self._next_context_id += 1
        return context_id

    def _props(
        self, supplied: Mapping[str, bytes] | None = None, assigned: dict[str, bytes] | None = None
    ) -> properties.PropertySource:
        # Read-only for the PropertySource, and never copied: the proxy's properties may be
        # decoded on first read and grow during the stream.
        base = self.config.properties
        merged: Mapping[str, bytes] = base
        if supplied is not None:
            merged = properties.Layered(supplied, base) if base else supplied
        return properties.PropertySource(
            self.config.name,
            self.config.root_id,
            self.config.vm_id,
            supplied=merged,
            assigned=assigned if assigned is not None else {},
        )

    # -- LinkHost -------------------------------------------------------------------------
    def link_warning(self, message: str) -> None:
        self.logs.emit(LogLevel.WARN, message, source="host")

    # -- ProxyHost: memory, logging, time ------------------------------------------------
    def allocate(self, size: int) -> int:
        guest = self._guest.get(self.allocator) or self._bind_guest(self.allocator)
        previous, self.phase = self.phase, Phase.ALLOC
        try:
            return guest[0](size) or 0
        finally:
            self.phase = previous

    def log(self, level: LogLevel, message: str) -> None:
        if level >= self.config.log_level:
            self.logs.emit(level, message)

    def log_level(self) -> LogLevel:
        return self.config.log_level

    def now_ns(self) -> int:
        return self.clock_ns()

    def set_tick_period(self, period_ms: int) -> WasmResult:
        self.tick_period_ms = period_ms
        self.services.tick_period_changed(self)
        return R.OK

    def configuration(self) -> bytes | None:
        return self._configuring

    def _stream(self) -> StreamContext | None:
        ctx = self.effective
        return ctx if isinstance(ctx, StreamContext) else None

    def buffer(self, kind: BufferType) -> Buffer | None:
        if kind is BufferType.VM_CONFIGURATION:
            return BodyBuffer(self.config.vm_configuration, writable=False)
        if kind is BufferType.PLUGIN_CONFIGURATION:
            if self._configuring is None:
                return None
            return BodyBuffer(self.config.configuration, writable=False)
        if kind in (BufferType.HTTP_CALL_RESPONSE_BODY, BufferType.GRPC_CALL_MESSAGE):
            return self.callouts.buffer(kind)
        stream = self._stream()
        return None if stream is None else stream.buffer(kind)

    def header_map(self, kind: MapType, *, write: bool) -> HeaderMap | WasmResult:
        ctx = self.effective
        if kind >= 4:  # GRPC_CALL_INITIAL_METADATA and after: callout maps live on the root
            found = self.callouts.map(kind)
        else:
            found = ctx.header_map(kind) if isinstance(ctx, StreamContext) else None
        if found is None:
            return R.BAD_ARGUMENT
        if write and not found.writable:
            return R.BAD_ARGUMENT
        if self.visibility is not None and kind < 4:  # the HTTP maps, not callout maps
            return self.visibility.view(found)
        return found

    # -- ProxyHost: stream control ----------------------------------------------------------
    def continue_stream(self, stream: int) -> WasmResult:
        """Envoy's HTTP filter: request/response resume, DOWNSTREAM is a no-op, UPSTREAM
        is Unimplemented, anything else a BadArgument."""
        if stream > StreamType.UPSTREAM:
            return R.BAD_ARGUMENT
        if stream == StreamType.UPSTREAM:
            return R.UNIMPLEMENTED
        ctx = self._stream()
        if ctx is not None and stream <= StreamType.HTTP_RESPONSE:
            ctx.continue_requested.add(stream)
            self.services.stream_continued(self, ctx)
        return R.OK

    def close_stream(self, stream: int) -> WasmResult:
        """Request/response reset the stream; DOWNSTREAM/UPSTREAM are no-ops on HTTP."""
        if stream > StreamType.UPSTREAM:
            return R.BAD_ARGUMENT
        ctx = self._stream()
        if ctx is not None and stream <= StreamType.HTTP_RESPONSE:
            ctx.reset_requested = True
        return R.OK

    def clear_route_cache(self) -> WasmResult:
        return R.OK

    def send_local_response(
        self,
        status: int,
        details: bytes,
        body: bytes,
        headers: list[tuple[bytes, bytes]],
        grpc_status: int,
    ) -> WasmResult:
        ctx = self._stream()
        if ctx is None:
            return R.BAD_ARGUMENT
        if ctx.local_response is None:
            grpc = None if grpc_status > 16 else grpc_status
            ctx.local_response = LocalResponse(
                status, headers, body, details.decode(errors="replace"), grpc
            )
            if ctx is not self.current:
                # Sent for a paused stream from another callback (a callout response):
                # wake the exchange so it answers with the reply.
                self.services.stream_continued(self, ctx)
        return R.OK

    def get_status(self) -> tuple[int, bytes] | None:
        return self.callouts.status()

    # -- ProxyHost: callouts (always made by the root context, as in Envoy) ---------------
    def http_call(
        self,
        upstream: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        trailers: list[tuple[bytes, bytes]],
        timeout_ms: int,
    ) -> tuple[WasmResult, int]:
        return self.callouts.http_call(upstream, headers, body, trailers, timeout_ms)

    def grpc_call(
        self,
        upstream: bytes,
        service: bytes,
        method: bytes,
        metadata: list[tuple[bytes, bytes]],
        message: bytes | None,
        timeout_ms: int,
    ) -> tuple[WasmResult, int]:
        """A unary call, or a stream when ``message`` is None (proxy_grpc_stream)."""
        return self.callouts.grpc_call(upstream, service, method, metadata, message, timeout_ms)

    def grpc_send(self, token: int, message: bytes, end_stream: bool) -> WasmResult:
        return self.callouts.grpc_send(token, message, end_stream)

    def grpc_cancel(self, token: int) -> WasmResult:
        return self.callouts.grpc_end(token, cancel=True)

    def grpc_close(self, token: int) -> WasmResult:
        return self.callouts.grpc_end(token, cancel=False)

    def set_effective_context(self, context_id: int) -> WasmResult:
        ctx = self.contexts.get(context_id)
        if ctx is None:
            return R.BAD_ARGUMENT
        self.effective = ctx
        return R.OK

    def done(self) -> WasmResult:
        """proxy_done: a context whose on_done returned false says it has finished; its
        on_delete runs after the current call (NotFound for any other context)."""
        ctx = self.effective
        if ctx is None or ctx.id not in self.pending_done:
            return R.NOT_FOUND
        self.pending_done.discard(ctx.id)
        self.services.context_done(self, ctx.id)
        return R.OK

    def delete_context(self, context_id: int) -> None:
        """proxy_on_delete for a context that finished with proxy_done. Raises PluginTrap."""
        ctx = self.contexts.get(context_id)
        if ctx is not None and self.failed is None:
            self.invoke(ctx, "proxy_on_delete", context_id)

    # -- ProxyHost: properties, foreign functions --------------------------------------------
    def _prop_source(self) -> properties.PropertySource:
        ctx = self.effective or self.root
        if not isinstance(ctx, StreamContext):
            return ctx.props
        # Most exchanges never read a property: a stream's source is made on first use,
        # and sees the maps of the phase that is running.
        if ctx.props is None:
            ctx.props = self._props(ctx.supplied, ctx.assigned)
        ctx.props.request_headers = ctx.request_headers
        ctx.props.response_headers = ctx.response_headers
        if self.visibility is not None:  # request.headers, request.useragent, ...
            ctx.props.request_headers = _viewed(self.visibility, ctx.request_headers)
            ctx.props.response_headers = _viewed(self.visibility, ctx.response_headers)
        return ctx.props

    def get_property(self, path: list[bytes]) -> bytes | None:
        if self.visibility is not None and self.visibility.hides_property(path):
            return None
        return properties.lookup(path, self._prop_source())

    def set_property(self, path: list[bytes], value: bytes) -> WasmResult:
        try:
            name = ".".join(seg.decode() for seg in path)
        except UnicodeDecodeError:
            return R.BAD_ARGUMENT
        self._prop_source().assigned[name] = value
        return R.OK

    def call_foreign_function(self, name: bytes, args: bytes) -> tuple[WasmResult, bytes]:
        return R.NOT_FOUND, b""

    # -- ProxyHost: metrics, shared data, queues ------------------------------------------
    def define_metric(self, kind: MetricType, name: bytes) -> int:
        return self.metrics.define(kind, name.decode(errors="replace"))

    def increment_metric(self, metric_id: int, delta: int) -> WasmResult:
        return self.metrics.increment(metric_id, delta)

    def record_metric(self, metric_id: int, value: int) -> WasmResult:
        return self.metrics.record(metric_id, value)

    def get_metric(self, metric_id: int) -> tuple[WasmResult, int]:
        return self.metrics.get(metric_id)

    def get_shared_data(self, key: bytes) -> tuple[bytes, int] | None:
        return self.shared_data.get(self.config.vm_id, key)

    def set_shared_data(self, key: bytes, value: bytes, cas: int) -> WasmResult:
        return self.shared_data.set(self.config.vm_id, key, value, cas)

    def register_shared_queue(self, name: bytes) -> int:
        # The owner is this VM: readiness goes to its root context (see shared.py).
        return self.shared_queues.register(self.config.vm_id, name, self)

    def resolve_shared_queue(self, vm_id: bytes, name: bytes) -> int | None:
        scope = vm_id.decode(errors="replace") if vm_id else self.config.vm_id
        return self.shared_queues.resolve(scope, name)

    def enqueue_shared_queue(self, queue_id: int, value: bytes) -> WasmResult:
        return self.shared_queues.enqueue(queue_id, value)

    def dequeue_shared_queue(self, queue_id: int) -> tuple[WasmResult, bytes]:
        return self.shared_queues.dequeue(queue_id)


def _viewed(policy: Visibility, header_map: HeaderMapImpl | None) -> properties.HeaderMap | None:
    """``header_map`` through ``policy`` (properties read it like a map)."""
    return None if header_map is None else policy.view(header_map)
