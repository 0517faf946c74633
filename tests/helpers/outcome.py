"""The client-visible outcome of one HTTP exchange, normalized for comparison.

Two sources produce outcomes: real Envoy (what the client and the upstream saw on the
wire) and ``wasmd try --json``. Both are reduced to the same :class:`Outcome` so a
differential test can compare them with ``==``. Headers that only the proxy or the
transport adds (dates, request ids, framing) are dropped; names are lower-cased and
pairs sorted, keeping duplicates.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

Pairs = tuple[tuple[str, str], ...]

# Transport framing: differs by how a body was sent, never plugin-visible intent.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
DROPPED_RESPONSE_HEADERS = _FRAMING | {"server", "date"}
DROPPED_UPSTREAM_HEADERS = _FRAMING | {
    "x-forwarded-proto",
    "x-request-id",
    "host",
    "user-agent",
    "accept",
    "accept-encoding",
}
# Any header starting with this is Envoy's own (x-envoy-upstream-service-time, ...).
ENVOY_PREFIX = "x-envoy-"
# Status of an exchange the proxy reset without answering (connection closed, no response).
RESET_STATUS = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    """Normalized result of one exchange.

    ``upstream_*`` are None/empty when the upstream was not reached; ``status`` is
    RESET_STATUS (0) when the client got no response at all (stream reset).
    """

    status: int
    response_headers: Pairs
    response_body: str
    upstream_reached: bool
    upstream_method: str | None
    upstream_path: str | None
    upstream_headers: Pairs
    upstream_body: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (header pairs become lists)."""
        d = asdict(self)
        d["response_headers"] = [list(p) for p in self.response_headers]
        d["upstream_headers"] = [list(p) for p in self.upstream_headers]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Outcome:
        return cls(
            status=int(d["status"]),
            response_headers=_as_pairs(d["response_headers"]),
            response_body=str(d["response_body"]),
            upstream_reached=bool(d["upstream_reached"]),
            upstream_method=d["upstream_method"],
            upstream_path=d["upstream_path"],
            upstream_headers=_as_pairs(d["upstream_headers"]),
            upstream_body=str(d["upstream_body"]),
        )


def _as_pairs(raw: Iterable[Sequence[str]]) -> Pairs:
    return tuple((str(k), str(v)) for k, v in raw)


def normalize_headers(pairs: Iterable[Sequence[str]], dropped: frozenset[str]) -> Pairs:
    """Lower-case names, drop ``dropped``, ``x-envoy-*`` and pseudo-headers, sort pairs."""
    kept = []
    for name, value in pairs:
        low = name.lower()
        if low in dropped or low.startswith(ENVOY_PREFIX) or low.startswith(":"):
            continue
        kept.append((low, value))
    return tuple(sorted(kept))


def decode_body(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def outcome_from_wire(
    status: int,
    response_headers: Iterable[Sequence[str]],
    response_body: bytes,
    upstream: UpstreamView | None,
) -> Outcome:
    """Normalize what an HTTP client got through Envoy, plus what the upstream saw."""
    return Outcome(
        status=status,
        response_headers=normalize_headers(response_headers, DROPPED_RESPONSE_HEADERS),
        response_body=decode_body(response_body),
        upstream_reached=upstream is not None,
        upstream_method=upstream.method if upstream else None,
        upstream_path=upstream.path if upstream else None,
        upstream_headers=(
            normalize_headers(upstream.headers, DROPPED_UPSTREAM_HEADERS) if upstream else ()
        ),
        upstream_body=decode_body(upstream.body) if upstream else "",
    )


@dataclass(frozen=True, slots=True)
class UpstreamView:
    """What the upstream received (the subset of a recorded request outcomes need)."""

    method: str
    path: str
    headers: Pairs
    body: bytes


def outcome_from_try(result: Mapping[str, Any]) -> Outcome:
    """Normalize a ``wasmd try --json`` object (which must have loaded) like a wire outcome.

    A null ``response`` means the stream was reset without an answer (status 0).
    """
    response = result.get("response") or {"status": RESET_STATUS, "headers": [], "body": ""}
    reached = result.get("local_response") is None
    request = result["request"]
    pseudo = {k.lower(): v for k, v in request["headers"] if k.startswith(":")}
    return Outcome(
        status=int(response["status"]),
        response_headers=normalize_headers(response["headers"], DROPPED_RESPONSE_HEADERS),
        response_body=str(response["body"]),
        upstream_reached=reached,
        upstream_method=pseudo.get(":method") if reached else None,
        upstream_path=pseudo.get(":path") if reached else None,
        upstream_headers=(
            normalize_headers(request["headers"], DROPPED_UPSTREAM_HEADERS) if reached else ()
        ),
        upstream_body=str(request["body"]) if reached else "",
    )


def render(outcome: Outcome) -> str:
    """Readable JSON, one ``name: value`` string per header, for diffs and reports."""
    d = outcome.to_dict()
    for key in ("response_headers", "upstream_headers"):
        d[key] = [f"{k}: {v}" for k, v in d[key]]
    return json.dumps(d, indent=2, sort_keys=True)


def diff(expected: Outcome, actual: Outcome, labels: tuple[str, str] = ("envoy", "wasmd")) -> str:
    """Unified diff of the two outcomes' JSON renderings (empty when equal)."""
    lines = difflib.unified_diff(
        render(expected).splitlines(),
        render(actual).splitlines(),
        fromfile=labels[0],
        tofile=labels[1],
        lineterm="",
    )
    return "\n".join(lines)
