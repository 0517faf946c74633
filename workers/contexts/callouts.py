"""The contexts-layer half of callouts: validation, tokens, and what a callback can read.

Synchronous and I/O-free. ``CalloutHost`` belongs to one PluginVm: it checks a
``proxy_http_call``/``proxy_grpc_*`` request the way Envoy does, allocates the token,
hands the request to ``HostServices`` (the loop) and remembers which tokens are in
flight. When the loop has a result, ``PluginVm.deliver_*`` asks ``CalloutHost`` for the
``CalloutView`` to expose while the root context's callback runs: the response maps
(HTTP_CALL_RESPONSE_HEADERS/TRAILERS, GRPC_CALL_INITIAL/TRAILING_METADATA), the buffers
(HTTP_CALL_RESPONSE_BODY, GRPC_CALL_MESSAGE) and the status for proxy_get_status.

Envoy rules kept here (source/extensions/common/wasm/context.cc):
1. Unknown HTTP upstream (Envoy: cluster) -> BadArgument; missing :path, :method or
   :authority -> BadArgument (cluster checked first). Upstream name checked before headers.
2. Unknown gRPC upstream -> ParseFailure (Envoy keeps ABI 0.1 compatibility there).
3. A failed HTTP call is delivered with 0 headers, 0 body, 0 trailers and status
   (BrokenConnection=11, "reset") visible to proxy_get_status during that callback only.
4. A unary gRPC call ends with its reply message or with a close; a stream ends with a
   close. Tokens that ended, were cancelled or closed get nothing delivered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wasmd.kernel.errors import PluginLoadError
from workers.abi.types import BufferType, MapType, WasmResult
from workers.callouts.messages import (
    GrpcCallRequest,
    GrpcClose,
    GrpcEvent,
    GrpcInitialMetadata,
    GrpcMessage,
    GrpcTrailingMetadata,
    HttpCallRequest,
    HttpCallResponse,
)
from workers.callouts.targets import grpc_names_problem, path_problem
from workers.callouts.tokens import CalloutKind, CalloutTokens, kind_of
from workers.callouts.upstreams import Protocol, Upstream, UpstreamError, parse_upstreams
from workers.contexts.maps import BodyBuffer, HeaderMap, Pair

if TYPE_CHECKING:
    from workers.contexts.plugin import PluginVm

R = WasmResult
BROKEN_CONNECTION_STATUS = (int(R.BROKEN_CONNECTION), b"reset")  # Envoy onHttpCallFailure
# HTTP calls, gRPC calls and streams one VM may have in flight; past it a new one answers
# InternalFailure, like the shared-store quotas (docs/security.md).
MAX_PENDING_CALLOUTS = 1024
_REQUIRED_HEADERS = (b":path", b":method", b":authority")


@dataclass(slots=True)
class CalloutView:
    """What the plugin can read during one callout callback."""

    maps: dict[MapType, HeaderMap] = field(default_factory=dict)
    buffers: dict[BufferType, BodyBuffer] = field(default_factory=dict)
    status: tuple[int, bytes] | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One callback to run: export name, its arguments after (root_id, token), the view."""

    export: str
    args: tuple[int, ...]
    view: CalloutView


def http_delivery(response: HttpCallResponse | None) -> Delivery:
    """proxy_on_http_call_response for a response, or for a failure (None)."""
    if response is None:
        return Delivery(
            "proxy_on_http_call_response", (0, 0, 0), CalloutView(status=BROKEN_CONNECTION_STATUS)
        )
    view = CalloutView(
        maps={
            MapType.HTTP_CALL_RESPONSE_HEADERS: HeaderMap(response.headers),
            MapType.HTTP_CALL_RESPONSE_TRAILERS: HeaderMap(response.trailers),
        },
        buffers={BufferType.HTTP_CALL_RESPONSE_BODY: BodyBuffer(response.body)},
        status=(int(R.OK), b""),
    )
    args = (len(response.headers), len(response.body), len(response.trailers))
    return Delivery("proxy_on_http_call_response", args, view)


def grpc_delivery(event: GrpcEvent) -> Delivery:
    """The callback for one gRPC event."""
    if isinstance(event, GrpcInitialMetadata):
        view = CalloutView(maps={MapType.GRPC_CALL_INITIAL_METADATA: HeaderMap(event.metadata)})
        return Delivery("proxy_on_grpc_receive_initial_metadata", (len(event.metadata),), view)
    if isinstance(event, GrpcMessage):
        view = CalloutView(buffers={BufferType.GRPC_CALL_MESSAGE: BodyBuffer(event.message)})
        return Delivery("proxy_on_grpc_receive", (len(event.message),), view)
    if isinstance(event, GrpcTrailingMetadata):
        view = CalloutView(maps={MapType.GRPC_CALL_TRAILING_METADATA: HeaderMap(event.metadata)})
        return Delivery("proxy_on_grpc_receive_trailing_metadata", (len(event.metadata),), view)
    return Delivery(
        "proxy_on_grpc_close", (event.status,), CalloutView(status=(event.status, event.message))
    )


def ends_call(kind: CalloutKind, event: GrpcEvent) -> bool:
    """Whether ``event`` is the last one for a token of ``kind``."""
    return isinstance(event, GrpcClose) or (
        kind is CalloutKind.GRPC_CALL and isinstance(event, GrpcMessage)
    )


def missing_pseudo_headers(headers: Sequence[Pair]) -> list[bytes]:
    present = {k for k, _ in headers}
    return [h for h in _REQUIRED_HEADERS if h not in present]


class CalloutHost:
    """Callout state of one PluginVm (see the module docstring for the rules)."""

    def __init__(self, vm: PluginVm, upstreams: dict[str, str]) -> None:
        try:
            self.upstreams: dict[str, Upstream] = parse_upstreams(upstreams)
        except UpstreamError as exc:
            raise PluginLoadError(f"plugin {vm.config.name}: {exc}") from None
        self._vm = vm
        self.tokens = CalloutTokens()
        self.pending: dict[int, CalloutKind] = {}
        self.view: CalloutView | None = None

    def _upstream(self, name: bytes, protocol: Protocol) -> Upstream | None:
        found = self.upstreams.get(name.decode("utf-8", "replace"))
        return found if found is not None and found.protocol is protocol else None

    def _started(self, kind: CalloutKind, result: WasmResult, token: int) -> tuple[WasmResult, int]:
        if result == R.OK:
            self.pending[token] = kind
            return R.OK, token
        return result, 0

    def http_call(
        self,
        upstream: bytes,
        headers: list[Pair],
        body: bytes,
        trailers: list[Pair],
        timeout_ms: int,
    ) -> tuple[WasmResult, int]:
        found = self._upstream(upstream, Protocol.HTTP)
        if found is None or missing_pseudo_headers(headers):
            return R.BAD_ARGUMENT, 0
        path = next(v for k, v in headers if k == b":path")
        if path_problem(path) is not None:  # SSRF: docs/security.md, "Callouts"
            return R.BAD_ARGUMENT, 0
        if len(self.pending) >= MAX_PENDING_CALLOUTS:
            return R.INTERNAL_FAILURE, 0
        request = HttpCallRequest(found, tuple(headers), body, tuple(trailers), timeout_ms)
        token = self.tokens.next(CalloutKind.HTTP_CALL)
        result = self._vm.services.http_call(self._vm, token, request)
        return self._started(CalloutKind.HTTP_CALL, result, token)

    def grpc_call(
        self,
        upstream: bytes,
        service: bytes,
        method: bytes,
        metadata: list[Pair],
        message: bytes | None,
        timeout_ms: int,
    ) -> tuple[WasmResult, int]:
        found = self._upstream(upstream, Protocol.GRPC)
        if found is None:
            return R.PARSE_FAILURE, 0
        if grpc_names_problem(service, method) is not None:  # docs/security.md
            return R.BAD_ARGUMENT, 0
        if len(self.pending) >= MAX_PENDING_CALLOUTS:
            return R.INTERNAL_FAILURE, 0
        request = GrpcCallRequest(
            found,
            service.decode("latin-1"),
            method.decode("latin-1"),
            tuple(metadata),
            message,
            timeout_ms,
        )
        if message is None:
            token = self.tokens.next(CalloutKind.GRPC_STREAM)
            result = self._vm.services.grpc_stream(self._vm, token, request)
            return self._started(CalloutKind.GRPC_STREAM, result, token)
        token = self.tokens.next(CalloutKind.GRPC_CALL)
        result = self._vm.services.grpc_call(self._vm, token, request)
        return self._started(CalloutKind.GRPC_CALL, result, token)

    def grpc_send(self, token: int, message: bytes, end_stream: bool) -> WasmResult:
        if self.pending.get(token) is not CalloutKind.GRPC_STREAM:
            return R.NOT_FOUND if kind_of(token) is CalloutKind.GRPC_STREAM else R.BAD_ARGUMENT
        return self._vm.services.grpc_send(self._vm, token, message, end_stream)

    def grpc_end(self, token: int, *, cancel: bool) -> WasmResult:
        """proxy_grpc_cancel (cancel=True) or proxy_grpc_close: nothing is delivered after."""
        kind = kind_of(token)
        if kind not in (CalloutKind.GRPC_CALL, CalloutKind.GRPC_STREAM):
            return R.BAD_ARGUMENT
        if self.pending.pop(token, None) is None:
            return R.NOT_FOUND
        if cancel or kind is CalloutKind.GRPC_CALL:
            self._vm.services.grpc_cancel(self._vm, token)
        else:
            self._vm.services.grpc_close(self._vm, token)
        return R.OK

    def claim_http(self, token: int) -> bool:
        """True (once) if an HTTP response for ``token`` should be delivered."""
        return self.pending.pop(token, None) is CalloutKind.HTTP_CALL

    def claim_grpc(self, token: int, event: GrpcEvent) -> bool:
        """True if ``event`` for ``token`` should be delivered; forgets ended tokens."""
        kind = self.pending.get(token)
        if kind not in (CalloutKind.GRPC_CALL, CalloutKind.GRPC_STREAM):
            return False
        if ends_call(kind, event):
            del self.pending[token]
        return True

    def map(self, kind: MapType) -> HeaderMap | None:
        return None if self.view is None else self.view.maps.get(kind)

    def buffer(self, kind: BufferType) -> BodyBuffer | None:
        return None if self.view is None else self.view.buffers.get(kind)

    def status(self) -> tuple[int, bytes] | None:
        return None if self.view is None else self.view.status
