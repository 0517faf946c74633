"""The native face's per-stream limits (``ClientLimits``): the answer a phase gets when its
header list or the stream's body bytes are over the limit, before any plugin sees it.

The stream pays, not the connection: a proxy multiplexes many of its own clients' requests
on one connection, and one oversized request must not fail the others. A request phase
gets a local response (431 for headers, 413 for the body: the proxy answers its client
with it), a response phase gets RESET (the response may have started already).
"""

from __future__ import annotations

from collections.abc import Sequence

from wasmd.kernel import native_protocol as p
from wasmd.kernel.client_limits import ClientLimits

HEADERS_TOO_LARGE_STATUS = 431
BODY_TOO_LARGE_STATUS = 413

_REQUEST_HEADER_PHASES = (p.RequestHeaders, p.RequestTrailers)
_RESPONSE_HEADER_PHASES = (p.ResponseHeaders, p.ResponseTrailers)


class BodyCount:
    """Body bytes one stream has sent in each direction so far."""

    __slots__ = ("request", "response")

    def __init__(self) -> None:
        self.request = 0
        self.response = 0


def header_problem(pairs: Sequence[p.Pair], limits: ClientLimits) -> str | None:
    """Why ``pairs`` is over the header limits, or None."""
    if len(pairs) > limits.max_header_count:
        return (
            f"{len(pairs)} header fields, over daemon.client_max_header_count "
            f"({limits.max_header_count})"
        )
    size = sum(len(name) + len(value) for name, value in pairs)
    if size > limits.max_header_bytes:
        return (
            f"{size} header bytes, over daemon.client_max_header_bytes ({limits.max_header_bytes})"
        )
    return None


def refusal(msg: p.PhaseMessage, bodies: BodyCount, limits: ClientLimits) -> p.Reply | None:
    """The reply that refuses ``msg`` for a limit, or None if it may run. Counts body bytes."""
    sid = msg.stream_id
    if isinstance(msg, p.RequestBody | p.ResponseBody):
        return _body_refusal(msg, bodies, limits)
    pairs = msg.trailers if isinstance(msg, p.RequestTrailers | p.ResponseTrailers) else msg.headers
    problem = header_problem(pairs, limits)
    if problem is None:
        return None
    if isinstance(msg, _REQUEST_HEADER_PHASES):
        return p.LocalResponse(sid, HEADERS_TOO_LARGE_STATUS, details=_details(problem))
    return p.Reset(sid)


def _body_refusal(
    msg: p.RequestBody | p.ResponseBody, bodies: BodyCount, limits: ClientLimits
) -> p.Reply | None:
    request = isinstance(msg, p.RequestBody)
    total = (bodies.request if request else bodies.response) + len(msg.data)
    if request:
        bodies.request = total
    else:
        bodies.response = total
    if total <= limits.max_body_bytes:
        return None
    if not request:
        return p.Reset(msg.stream_id)
    problem = f"{total} body bytes, over daemon.client_max_body_bytes ({limits.max_body_bytes})"
    return p.LocalResponse(msg.stream_id, BODY_TOO_LARGE_STATUS, details=_details(problem))


def _details(problem: str) -> str:
    return f"wasmd_limit: {problem}"


__all__ = ["BODY_TOO_LARGE_STATUS", "HEADERS_TOO_LARGE_STATUS", "BodyCount", "refusal"]
