"""Upstream URLs of a plugin's callouts (``upstreams = {name = URL}``), parsed purely.

Accepted: ``http://host[:port]``, ``https://host[:port]``, ``unix:///path`` (HTTP/1.1
over a unix socket), ``grpc://host:port`` and ``grpc+unix:///path``. A URL may carry no
path, query or credentials: the plugin supplies ``:path`` itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import urlsplit


class Protocol(enum.Enum):
    HTTP = "http"
    GRPC = "grpc"


@dataclass(frozen=True, slots=True)
class Upstream:
    """Where one named upstream lives.

    ``base_url`` is the scheme://host:port an HTTP request goes to (for a unix socket the
    host part is a placeholder, ``localhost``); ``unix_path`` is set for unix sockets;
    ``grpc_target`` is the grpcio channel target for gRPC upstreams.
    """

    name: str
    protocol: Protocol
    base_url: str = ""
    unix_path: str = ""
    grpc_target: str = ""


class UpstreamError(ValueError):
    """An upstream URL wasmd cannot use; the message says which and why."""


_SCHEMES = ("http", "https", "unix", "grpc", "grpc+unix")


def parse_upstream(name: str, url: str) -> Upstream:
    """Parse one ``name = URL`` entry; raises UpstreamError naming both."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    where = f"upstream {name!r} = {url!r}"
    if scheme not in _SCHEMES:
        raise UpstreamError(f"{where}: scheme must be one of {', '.join(_SCHEMES)}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise UpstreamError(f"{where}: no query, fragment or credentials allowed")
    if scheme in ("unix", "grpc+unix"):
        return _unix(name, scheme, parts.netloc, parts.path, where)
    return _tcp(name, scheme, parts.hostname, parts.path, url, where)


def _unix(name: str, scheme: str, netloc: str, path: str, where: str) -> Upstream:
    if netloc or not path.startswith("/") or path == "/":
        raise UpstreamError(f"{where}: expected {scheme}:///absolute/path/to.sock")
    if scheme == "unix":
        return Upstream(name, Protocol.HTTP, base_url="http://localhost", unix_path=path)
    return Upstream(name, Protocol.GRPC, unix_path=path, grpc_target=f"unix:{path}")


def _tcp(name: str, scheme: str, host: str | None, path: str, url: str, where: str) -> Upstream:
    if not host:
        raise UpstreamError(f"{where}: a host is required")
    if path not in ("", "/"):
        raise UpstreamError(f"{where}: no path allowed (the plugin sends :path)")
    try:
        port = urlsplit(url).port
    except ValueError as exc:
        raise UpstreamError(f"{where}: {exc}") from None
    hostport = f"[{host}]" if ":" in host else host
    if port is not None:
        hostport += f":{port}"
    if scheme == "grpc":
        if port is None:
            raise UpstreamError(f"{where}: grpc:// needs an explicit port")
        return Upstream(name, Protocol.GRPC, grpc_target=hostport)
    return Upstream(name, Protocol.HTTP, base_url=f"{scheme}://{hostport}")


def parse_upstreams(entries: dict[str, str]) -> dict[str, Upstream]:
    """Parse every entry; raises UpstreamError on the first bad one."""
    return {name: parse_upstream(name, url) for name, url in entries.items()}
