"""What one client connection may cost a worker: the ``daemon.client_*`` keys as one value.

Both faces (the native protocol and ext_proc's HTTP/2) take a ``ClientLimits``; going past
a limit costs the client's stream or connection (ERROR, RST_STREAM, GOAWAY, a 413/431
local response), never the worker. docs/limits.md says which answer each limit gets and
why its default is safe; docs/configuration.md lists the keys.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ClientLimits:
    """Per-worker limits on what clients can make it hold."""

    # Connections one worker keeps per face; more are refused at once (counted in stats).
    # Each costs two fds at most: size the systemd unit's LimitNOFILE above
    # 2 * max_connections + 256 (docs/limits.md).
    max_connections: int = 1024
    # Streams open at once on one connection (HTTP/2: SETTINGS_MAX_CONCURRENT_STREAMS).
    max_streams: int = 1024
    # One header (or trailer) list: number of fields, and bytes of names plus values (HTTP/2
    # counts 32 more per field, RFC 7541 4.1: SETTINGS_MAX_HEADER_LIST_SIZE).
    max_header_count: int = 1024
    max_header_bytes: int = 96 << 10
    # Body bytes one native stream may send in each direction (the exchange keeps them).
    max_body_bytes: int = 64 << 20
    # From accept to the end of the HELLO exchange (native) or the client's SETTINGS (HTTP/2).
    handshake_timeout_s: float = 10.0
    # A frame (or HTTP/2 header block) that has started arriving must be complete within this.
    frame_timeout_s: float = 30.0
    # A connection with no open stream and nothing received for this long gets GOAWAY.
    idle_timeout_s: float = 300.0
    # Replies queued for a client that does not read; past it, the worker stops reading
    # from that client until it catches up.
    write_buffer_bytes: int = 1 << 20

    @property
    def sweep_interval_s(self) -> float:
        """How often the timeouts are checked: a quarter of the shortest, at most 1 s."""
        shortest = min(self.handshake_timeout_s, self.frame_timeout_s, self.idle_timeout_s)
        return max(0.01, min(1.0, shortest / 4))


__all__ = ["ClientLimits"]
