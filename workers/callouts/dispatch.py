"""The loop side of callouts: start the I/O for a VM, deliver results back to it.

``CalloutDispatcher`` implements the callout methods of ``HostServices`` for the
WorkerService. Results are handed to ``run_callback(vm, fn)``, which the service
implements: it runs ``fn`` only while ``vm`` is still its plugin's live VM (a VM that
failed or was replaced gets nothing) and turns a trap into the plugin's failure policy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from workers.abi.types import WasmResult
from workers.callouts.http import CallFailure, HttpCallouts, HttpOutcome
from workers.callouts.messages import (
    GrpcCallRequest,
    GrpcEvent,
    HttpCallRequest,
    HttpCallResponse,
)

if TYPE_CHECKING:
    from workers.callouts.grpc import GrpcCallouts
    from workers.contexts.plugin import PluginVm

RunCallback = Callable[["PluginVm", Callable[[], bool]], None]
R = WasmResult


# What Envoy 1.40's async client hands the plugin when no response arrives in time or at
# all (measured with plugins/c/http_callout.c through the differential harness): its router
# answers locally, so the plugin sees an ordinary response, not the failure callback.
_LOCAL_REPLIES: dict[CallFailure, tuple[int, bytes]] = {
    CallFailure.TIMEOUT: (504, b"upstream request timeout"),
    CallFailure.CONNECT: (
        503,
        b"upstream connect error or disconnect/reset before headers. "
        b"reset reason: remote connection failure",
    ),
    CallFailure.DISCONNECT: (
        503,
        b"upstream connect error or disconnect/reset before headers. "
        b"reset reason: connection termination",
    ),
}


def envoy_outcome(outcome: HttpOutcome) -> HttpCallResponse | None:
    """What Envoy hands the plugin for a transport outcome (None: the failure callback,
    proxy_on_http_call_response(.., 0, 0, 0) with status BrokenConnection "reset")."""
    if isinstance(outcome, HttpCallResponse):
        return outcome
    reply = _LOCAL_REPLIES.get(outcome)
    if reply is None:
        return None  # reset after the response started
    status, body = reply
    headers = (
        (b":status", str(status).encode()),
        (b"content-length", str(len(body)).encode()),
        (b"content-type", b"text/plain"),
    )
    return HttpCallResponse(headers, body)


class CalloutDispatcher:
    """HTTP and gRPC clients of one worker plus the calls in flight, keyed by (vm, token)."""

    def __init__(self, run_callback: RunCallback) -> None:
        self.http = HttpCallouts()
        self._grpc: GrpcCallouts | None = None
        self._run = run_callback
        self._calls: dict[tuple[int, int], asyncio.Task[None]] = {}

    @property
    def grpc(self) -> GrpcCallouts:
        """The gRPC client, made on the first gRPC callout: importing grpc costs a worker
        about 20 MiB of RSS and 0.1 s of start-up, and most plugins never call out."""
        if self._grpc is None:
            from workers.callouts.grpc import GrpcCallouts

            self._grpc = GrpcCallouts()
        return self._grpc

    def _track(self, key: tuple[int, int], task: asyncio.Task[None]) -> None:
        self._calls[key] = task
        task.add_done_callback(lambda _t: self._calls.pop(key, None))

    def http_call(self, vm: PluginVm, token: int, request: HttpCallRequest) -> WasmResult:
        def done(outcome: HttpOutcome) -> None:
            response = envoy_outcome(outcome)
            self._run(vm, lambda: vm.deliver_http_response(token, response))

        try:
            self._track((id(vm), token), self.http.start(request, done))
        except RuntimeError:  # closed, or no running loop
            return R.INTERNAL_FAILURE
        return R.OK

    def _grpc_emit(self, vm: PluginVm, token: int) -> Callable[[GrpcEvent], None]:
        def emit(event: GrpcEvent) -> None:
            self._run(vm, lambda: vm.deliver_grpc_event(token, event))

        return emit

    def grpc_call(self, vm: PluginVm, token: int, request: GrpcCallRequest) -> WasmResult:
        try:
            self._track((id(vm), token), self.grpc.call(request, self._grpc_emit(vm, token)))
        except RuntimeError:
            return R.INTERNAL_FAILURE
        return R.OK

    def grpc_stream(self, vm: PluginVm, token: int, request: GrpcCallRequest) -> WasmResult:
        try:
            self.grpc.open_stream((id(vm), token), request, self._grpc_emit(vm, token))
        except Exception:  # noqa: BLE001 - closed client or metadata grpcio refuses
            return R.INTERNAL_FAILURE
        return R.OK

    def grpc_send(self, vm: PluginVm, token: int, message: bytes, end_stream: bool) -> WasmResult:
        return R.OK if self.grpc.send((id(vm), token), message, end_stream) else R.NOT_FOUND

    def grpc_cancel(self, vm: PluginVm, token: int) -> None:
        task = self._calls.pop((id(vm), token), None)
        if task is not None:
            task.cancel()
        self.grpc.cancel_stream((id(vm), token))

    def grpc_close(self, vm: PluginVm, token: int) -> None:
        self.grpc.close_stream((id(vm), token))

    def forget_vm(self, vm: PluginVm) -> None:
        """Cancel every call and stream of ``vm`` (it failed or was replaced)."""
        for key in [k for k in self._calls if k[0] == id(vm)]:
            self._calls.pop(key).cancel()
        if self._grpc is not None:
            self._grpc.forget(k for k in self._grpc.stream_keys() if k[0] == id(vm))

    def in_flight(self) -> int:
        """Unary and HTTP calls not finished yet (streams not counted)."""
        return len(self._calls)

    def cancel_all(self) -> None:
        """Stop every call in flight; nothing more is delivered."""
        for task in list(self._calls.values()):
            task.cancel()
        self._calls.clear()
        self.http.cancel_all()

    async def aclose(self) -> None:
        """Cancel everything and close the clients; idempotent."""
        self.cancel_all()
        await self.http.aclose()
        if self._grpc is not None:
            await self._grpc.aclose()
