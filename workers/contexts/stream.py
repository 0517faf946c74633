"""The state of one HTTP stream context as the plugin sees it through host calls."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workers.abi.types import BufferType, MapType
from workers.contexts.maps import BodyBuffer, HeaderMap, Pair

if TYPE_CHECKING:
    from workers.contexts import properties


class Phase(enum.Enum):
    """Which half of the exchange the current callback belongs to."""

    REQUEST = "request"
    RESPONSE = "response"
    LOG = "log"


@dataclass(frozen=True, slots=True)
class LocalResponse:
    """What proxy_send_local_response asked for."""

    status: int
    headers: list[Pair]
    body: bytes
    details: str
    grpc_status: int | None = None


@dataclass(slots=True)
class StreamContext:
    """Maps and buffers visible to the plugin, plus what it asked the host to do."""

    id: int
    parent_id: int
    supplied: Mapping[str, bytes]  # properties the proxy sent for this exchange
    # proxy_set_property values: Envoy keeps them as the stream's filter state, so every
    # plugin of the chain reads what an earlier one set; the exchange shares one dict.
    assigned: dict[str, bytes] = field(default_factory=dict)
    props: properties.PropertySource | None = None  # made on the first property access
    request_headers: HeaderMap | None = None
    request_body: BodyBuffer | None = None  # made on first use (most exchanges have none)
    request_trailers: HeaderMap | None = None
    response_headers: HeaderMap | None = None
    response_body: BodyBuffer | None = None
    response_trailers: HeaderMap | None = None
    local_response: LocalResponse | None = None
    continue_requested: set[int] = field(default_factory=set)
    reset_requested: bool = False
    phase: Phase = Phase.REQUEST

    def header_map(self, kind: MapType) -> HeaderMap | None:
        """The map ``kind`` if the current phase can see it (Envoy: request maps in request
        callbacks, response maps in response callbacks, both read-only in on_log)."""
        # Plain int comparisons: this runs on every header-map host call.
        if kind <= 1:  # HTTP_REQUEST_HEADERS, HTTP_REQUEST_TRAILERS
            if self.phase is Phase.RESPONSE or 0 in self.continue_requested:
                return None
            return self.request_headers if kind == 0 else self.request_trailers
        if kind <= 3:  # HTTP_RESPONSE_HEADERS, HTTP_RESPONSE_TRAILERS
            if self.phase is Phase.REQUEST or 1 in self.continue_requested:
                return None
            return self.response_headers if kind == 2 else self.response_trailers
        return None

    def buffer(self, kind: BufferType) -> BodyBuffer | None:
        if kind is BufferType.HTTP_REQUEST_BODY and self.phase is Phase.REQUEST:
            if self.request_body is None:
                self.request_body = BodyBuffer()
            return self.request_body
        if kind is BufferType.HTTP_RESPONSE_BODY and self.phase is Phase.RESPONSE:
            if self.response_body is None:
                self.response_body = BodyBuffer()
            return self.response_body
        return None
