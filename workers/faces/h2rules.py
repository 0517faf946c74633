"""RFC 9113 rules ``h2core`` checks beside its framing: what a request header list must
look like (8.2, 8.3), and what happened to streams that are gone (5.1), so a late frame
on one gets the answer the RFC names instead of failing the connection.

Pure functions and one small bounded record; no I/O.
"""

from __future__ import annotations

import enum

# 8.2.2: connection-specific fields a request must not carry.
_CONNECTION_SPECIFIC = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"}
)
_REQUEST_PSEUDO = frozenset({b":method", b":scheme", b":authority", b":path", b":protocol"})
_FORBIDDEN_IN_NAME = frozenset(b"\x00\r\n: ") | frozenset(range(0x41, 0x5B))  # NUL CR LF : SP A-Z
_FORBIDDEN_IN_VALUE = frozenset(b"\x00\r\n")

Headers = list[tuple[bytes, bytes]]


def request_problem(headers: Headers) -> str | None:
    """Why ``headers`` is not a well-formed HTTP/2 request header section (8.2, 8.3.1), or
    None. A malformed request is a stream error of type PROTOCOL_ERROR (8.1.1)."""
    seen: set[bytes] = set()
    regular = False
    for name, value in headers:
        problem = _field_problem(name, value)
        if problem:
            return problem
        if name.startswith(b":"):
            if regular:
                return f"pseudo-header {name!r} after a regular field"
            if name not in _REQUEST_PSEUDO:
                return f"pseudo-header {name!r} is not a request pseudo-header"
            if name in seen:
                return f"pseudo-header {name!r} repeated"
            seen.add(name)
            continue
        regular = True
        if name in _CONNECTION_SPECIFIC:
            return f"connection-specific field {name!r}"
        if name == b"te" and value != b"trailers":
            return "te other than 'trailers'"
    if b":method" not in seen:
        return "no :method"
    if seen & {b":scheme", b":path"} != {b":scheme", b":path"} and not _is_connect(headers):
        return "no :scheme or :path"
    if any(n == b":path" and not v for n, v in headers):
        return "empty :path"
    return None


def trailers_problem(headers: Headers) -> str | None:
    """Why ``headers`` is not a well-formed trailer section (8.1: no pseudo-headers)."""
    for name, value in headers:
        problem = _field_problem(name, value)
        if problem:
            return problem
        if name.startswith(b":"):
            return f"pseudo-header {name!r} in trailers"
        if name in _CONNECTION_SPECIFIC:
            return f"connection-specific field {name!r}"
    return None


def _field_problem(name: bytes, value: bytes) -> str | None:
    body = name[1:] if name.startswith(b":") else name
    if not body or any(b in _FORBIDDEN_IN_NAME for b in body):
        return f"invalid field name {name!r}"
    if any(b in _FORBIDDEN_IN_VALUE for b in value):
        return f"invalid value for {name!r}"
    if value[:1] in (b" ", b"\t") or value[-1:] in (b" ", b"\t"):
        return f"value of {name!r} has leading or trailing whitespace"
    return None


def _is_connect(headers: Headers) -> bool:
    return any(n == b":method" and v == b"CONNECT" for n, v in headers)


class Closed(enum.Enum):
    """How a stream that is no longer open ended, for 5.1's closed-state rules."""

    RESET_BY_US = "reset_by_us"  # we sent RST_STREAM: late frames are ignored
    RESET_BY_PEER = "reset_by_peer"  # frames after its RST_STREAM: stream error STREAM_CLOSED
    ENDED = "ended"  # both sides sent END_STREAM: frames are a STREAM_CLOSED error


class ClosedStreams:
    """The last ``capacity`` streams that closed and how. Older ones are forgotten, and a
    frame for a forgotten stream is ignored, as RFC 9113 5.1 allows for a stream reset
    "some time" ago; the bound keeps a peer cycling streams from growing the record."""

    __slots__ = ("_capacity", "_closed")

    def __init__(self, capacity: int) -> None:
        self._capacity = max(1, capacity)
        self._closed: dict[int, Closed] = {}

    def add(self, stream_id: int, how: Closed) -> None:
        closed = self._closed
        closed.pop(stream_id, None)
        closed[stream_id] = how
        if len(closed) > self._capacity:
            del closed[next(iter(closed))]

    def get(self, stream_id: int) -> Closed | None:
        return self._closed.get(stream_id)
