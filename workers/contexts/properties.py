"""proxy_get_property: Envoy attribute names, encoded as Envoy encodes them.

A path is a list of segments (the guest joins them with NUL). Values: strings raw,
integers as 8 little-endian bytes, maps as serialized pairs; a deeper segment indexes
into a map (``request headers x-foo`` -> that header's value). Attributes derived from
the exchange (request.*, response.*) come first, then caller-supplied properties (source.*,
destination.*, connection.*, node.*, ... as the proxy sent them), then values the plugin
set with proxy_set_property. ``metadata ...`` paths (dynamic metadata) are answered by the
supplied properties alone, keyed by ``metadata.path_key`` (see workers/contexts/metadata.py).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from workers.abi import pairs
from workers.contexts import metadata

_I64 = struct.Struct("<q")


class HeaderMap(Protocol):
    """What properties read from a header map (the map itself, or a plugin's view of it)."""

    def get(self, key: bytes) -> bytes | None: ...
    def pairs(self) -> list[tuple[bytes, bytes]]: ...


def encode_int(value: int) -> bytes:
    return _I64.pack(value)


@dataclass(slots=True)
class PropertySource:
    """Everything properties are computed from, for one context."""

    plugin_name: str
    root_id: str
    vm_id: str
    request_headers: HeaderMap | None = None
    response_headers: HeaderMap | None = None
    supplied: Mapping[str, bytes] = field(default_factory=dict)
    assigned: dict[str, bytes] = field(default_factory=dict)


class Layered(Mapping[str, bytes]):
    """``top`` over ``base`` without copying either: the proxy's supplied properties may be
    decoded lazily and grow during a stream (Envoy sends the response's attributes with the
    response headers)."""

    __slots__ = ("top", "base")

    def __init__(self, top: Mapping[str, bytes], base: Mapping[str, bytes]) -> None:
        self.top = top
        self.base = base

    def __getitem__(self, key: str) -> bytes:
        try:
            return self.top[key]
        except KeyError:
            return self.base[key]

    def __iter__(self) -> Iterator[str]:
        return iter({**self.base, **self.top})

    def __len__(self) -> int:
        return len({**self.base, **self.top})


def _header(name: bytes) -> Callable[[PropertySource], bytes | None]:
    def get(src: PropertySource) -> bytes | None:
        return src.request_headers.get(name) if src.request_headers is not None else None

    return get


def _url_path(src: PropertySource) -> bytes | None:
    path = _header(b":path")(src)
    return None if path is None else path.split(b"?", 1)[0]


def _query(src: PropertySource) -> bytes | None:
    path = _header(b":path")(src)
    return None if path is None else (path.split(b"?", 1) + [b""])[1]


def _request_headers(src: PropertySource) -> bytes | None:
    if src.request_headers is None:
        return None
    return pairs.encode(src.request_headers.pairs())


def _response_headers(src: PropertySource) -> bytes | None:
    if src.response_headers is None:
        return None
    return pairs.encode(src.response_headers.pairs())


def _response_code(src: PropertySource) -> bytes | None:
    if src.response_headers is None:
        return None
    status = src.response_headers.get(b":status")
    return None if status is None or not status.isdigit() else encode_int(int(status))


_DERIVED: dict[str, Callable[[PropertySource], bytes | None]] = {
    "plugin_name": lambda s: s.plugin_name.encode(),
    "plugin_root_id": lambda s: s.root_id.encode(),
    "plugin_vm_id": lambda s: s.vm_id.encode(),
    "request.path": _header(b":path"),
    "request.url_path": _url_path,
    "request.host": _header(b":authority"),
    "request.scheme": _header(b":scheme"),
    "request.method": _header(b":method"),
    "request.referer": _header(b"referer"),
    "request.useragent": _header(b"user-agent"),
    "request.id": _header(b"x-request-id"),
    "request.query": _query,
    "request.headers": _request_headers,
    "response.headers": _response_headers,
    "response.code": _response_code,
}

_MAPS: dict[str, Callable[[PropertySource], HeaderMap | None]] = {
    "request.headers": lambda s: s.request_headers,
    "response.headers": lambda s: s.response_headers,
}


def lookup(path: list[bytes], src: PropertySource) -> bytes | None:
    """The encoded value of a property path, or None when it does not exist."""
    try:
        segments = [seg.decode() for seg in path]
    except UnicodeDecodeError:
        return None
    if segments and segments[0] == metadata.ROOT:
        return src.supplied.get(metadata.path_key(segments))
    for depth in (2, 1):
        if len(segments) < depth:
            continue
        name = ".".join(segments[:depth])
        rest = segments[depth:]
        if rest:
            if len(rest) == 1 and name in _MAPS:
                found = _MAPS[name](src)
                return None if found is None else found.get(rest[0].encode())
            continue
        getter = _DERIVED.get(name)
        if getter is not None:
            return getter(src)
    dotted = ".".join(segments)
    if dotted in src.supplied:
        return src.supplied[dotted]
    return src.assigned.get(dotted)
