"""What crosses the seam between the contexts layer and the loop for one callout.

Requests go from ``PluginVm`` to ``HostServices``; results come back from the loop to
``PluginVm.deliver_*``. All frozen, no behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

from workers.callouts.upstreams import Upstream

Pair = tuple[bytes, bytes]


@dataclass(frozen=True, slots=True)
class HttpCallRequest:
    """One proxy_http_call: headers include the pseudo-headers :method, :path, :authority."""

    upstream: Upstream
    headers: tuple[Pair, ...]
    body: bytes
    trailers: tuple[Pair, ...]
    timeout_ms: int  # 0: no timeout (Envoy's behaviour)


@dataclass(frozen=True, slots=True)
class HttpCallResponse:
    """A response (any status); headers start with :status, as Envoy hands them over."""

    headers: tuple[Pair, ...]
    body: bytes
    trailers: tuple[Pair, ...] = ()


@dataclass(frozen=True, slots=True)
class GrpcCallRequest:
    """One proxy_grpc_call (unary) or proxy_grpc_stream (message None, no timeout)."""

    upstream: Upstream
    service: str
    method: str
    metadata: tuple[Pair, ...]
    message: bytes | None = None
    timeout_ms: int = 0

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.method}"


@dataclass(frozen=True, slots=True)
class GrpcInitialMetadata:
    metadata: tuple[Pair, ...]


@dataclass(frozen=True, slots=True)
class GrpcMessage:
    message: bytes


@dataclass(frozen=True, slots=True)
class GrpcTrailingMetadata:
    metadata: tuple[Pair, ...]


@dataclass(frozen=True, slots=True)
class GrpcClose:
    status: int  # grpc status code 0..16
    message: bytes


GrpcEvent = GrpcInitialMetadata | GrpcMessage | GrpcTrailingMetadata | GrpcClose
