"""What a PluginVm needs from the event loop that owns it: timers, wake-ups, callouts.

The contexts layer stays synchronous and I/O-free; the worker's loop (workers/service.py)
implements ``HostServices``. ``NoServices`` serves code that runs without a loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from workers.abi.types import WasmResult

if TYPE_CHECKING:
    from workers.callouts.messages import GrpcCallRequest, HttpCallRequest
    from workers.contexts.plugin import PluginVm
    from workers.contexts.stream import StreamContext


class HostServices(Protocol):
    def tick_period_changed(self, vm: PluginVm) -> None:
        """The plugin set (or cleared, period 0) its tick period."""

    def stream_continued(self, vm: PluginVm, ctx: StreamContext) -> None:
        """The plugin asked to continue a paused stream (proxy_continue_stream)."""

    # -- callouts: start the I/O; results come back through PluginVm.deliver_* ------------
    def http_call(self, vm: PluginVm, token: int, request: HttpCallRequest) -> WasmResult:
        """Start an HTTP callout; OK, or InternalFailure if it cannot be started."""

    def grpc_call(self, vm: PluginVm, token: int, request: GrpcCallRequest) -> WasmResult:
        """Start a unary gRPC callout; OK, or InternalFailure if it cannot be started."""

    def grpc_stream(self, vm: PluginVm, token: int, request: GrpcCallRequest) -> WasmResult:
        """Open a gRPC stream; OK, or InternalFailure if it cannot be started."""

    def grpc_send(self, vm: PluginVm, token: int, message: bytes, end_stream: bool) -> WasmResult:
        """Queue a message on an open stream (half-close after it if ``end_stream``)."""

    def grpc_cancel(self, vm: PluginVm, token: int) -> None:
        """Reset a call or stream; its results are dropped."""

    def grpc_close(self, vm: PluginVm, token: int) -> None:
        """Half-close a stream; its results are dropped (Envoy forgets it)."""

    def context_done(self, vm: PluginVm, context_id: int) -> None:
        """The plugin called proxy_done for a context whose on_done returned false: run its
        proxy_on_delete (``vm.delete_context``) after the current call, on the loop."""

    def queue_ready(self, queue_id: int, owner: object) -> None:
        """A shared queue registered by ``owner`` (a PluginVm, or another worker's token)
        got a value: schedule one proxy_on_queue_ready for its root context on the loop,
        never from inside this call. A SharedQueues ready listener."""


class NoServices:
    """No loop: timers never fire and nothing is woken (a paused exchange stays paused)."""

    def tick_period_changed(self, vm: PluginVm) -> None:
        return None

    def stream_continued(self, vm: PluginVm, ctx: StreamContext) -> None:
        return None

    def queue_ready(self, queue_id: int, owner: object) -> None:
        return None

    def context_done(self, vm: PluginVm, context_id: int) -> None:
        return None

    # No loop, no I/O: a callout cannot be started (Envoy: InternalFailure when send fails).
    def http_call(self, vm: PluginVm, token: int, request: HttpCallRequest) -> WasmResult:
        return WasmResult.INTERNAL_FAILURE

    def grpc_call(self, vm: PluginVm, token: int, request: GrpcCallRequest) -> WasmResult:
        return WasmResult.INTERNAL_FAILURE

    def grpc_stream(self, vm: PluginVm, token: int, request: GrpcCallRequest) -> WasmResult:
        return WasmResult.INTERNAL_FAILURE

    def grpc_send(self, vm: PluginVm, token: int, message: bytes, end_stream: bool) -> WasmResult:
        return WasmResult.INTERNAL_FAILURE

    def grpc_cancel(self, vm: PluginVm, token: int) -> None:
        return None

    def grpc_close(self, vm: PluginVm, token: int) -> None:
        return None
