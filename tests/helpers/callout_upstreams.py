"""Upstreams for callout tests: an auth-style HTTP service and a gRPC echo service.

``AuthUpstream`` answers by path (the callout plugins choose the path):
- ``/deny...``  -> 403, ``x-auth-reason: denied-by-test``, body ``no entry``
- ``/slow...``  -> 200 after ``SLOW_DELAY_S`` (longer than the plugins' 50 ms timeout)
- anything else -> 200, ``x-auth-user: user:<path>``, body ``ok:<path>``
It listens on 127.0.0.1 (port from the OS) or on a unix socket, and records requests.

``GrpcEcho`` serves ``wasmd.test.Echo``: ``Unary`` answers ``echo:<msg>`` (``fail``
aborts with NOT_FOUND), ``Stream`` answers each message with ``echo:<msg>``, with initial
metadata ``x-stream: open`` and trailing metadata ``x-trailer: done``.

``started(kinds)`` starts what a manifest's ``upstreams = {name = kind}`` asks for and
yields name -> URL; kind ``dead`` is a 127.0.0.1 port nobody listens on.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc

SLOW_DELAY_S = 0.5  # the upstream's own latency; plugins time out after 50 ms
GRPC_SERVICE = "wasmd.test.Echo"
SOCKET_TIMEOUT_S = 10.0


class _AuthHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = SOCKET_TIMEOUT_S
    server: Any

    def do_GET(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length", "0") or "0")
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.requests.append((self.command, self.path, dict(self.headers), body))
        if self.path.startswith("/deny"):
            self._answer(403, [("x-auth-reason", "denied-by-test")], b"no entry")
        elif self.path.startswith("/slow"):
            time.sleep(SLOW_DELAY_S)  # the behaviour under test: a slow auth service
            self._answer(200, [], b"slow")
        else:
            self._answer(200, [("x-auth-user", f"user:{self.path}")], f"ok:{self.path}".encode())

    do_POST = do_GET

    def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        try:
            self.send_response_only(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller timed out and went away

    def address_string(self) -> str:
        return "unix" if isinstance(self.client_address, str) else str(self.client_address[0])

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _UnixAuthHandler(_AuthHandler):
    disable_nagle_algorithm = False  # TCP_NODELAY does not exist on unix sockets


class _TcpServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default 5 drops SYNs under many concurrent callouts


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 256


class AuthUpstream:
    """The auth HTTP service on 127.0.0.1 or, with ``unix_path``, on a unix socket."""

    def __init__(self, unix_path: Path | None = None) -> None:
        server: Any
        if unix_path is None:
            server = _TcpServer(("127.0.0.1", 0), _AuthHandler)
        else:
            server = _UnixServer(str(unix_path), _UnixAuthHandler)
        server.lock = threading.Lock()
        server.requests = []
        self._server = server
        self.unix_path = unix_path
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self._closed = False

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        if self.unix_path is not None:
            return f"unix://{self.unix_path}"
        return f"http://127.0.0.1:{self.port}"

    def requests(self) -> list[tuple[str, str, dict[str, str], bytes]]:
        with self._server.lock:
            return list(self._server.requests)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> AuthUpstream:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _unary(request: bytes, context: grpc.ServicerContext) -> bytes:
    if request == b"fail":
        context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
    return b"echo:" + request


def _stream(requests: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[bytes]:
    context.send_initial_metadata((("x-stream", "open"),))
    context.set_trailing_metadata((("x-trailer", "done"),))
    for request in requests:
        yield b"echo:" + request


class GrpcEcho:
    """The echo gRPC service on a unix socket (``unix_path``) or 127.0.0.1 (port from the OS)."""

    def __init__(self, unix_path: Path | None = None) -> None:
        handler = grpc.method_handlers_generic_handler(
            GRPC_SERVICE,
            {
                "Unary": grpc.unary_unary_rpc_method_handler(_unary),
                "Stream": grpc.stream_stream_rpc_method_handler(_stream),
            },
        )
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        self._server.add_generic_rpc_handlers((handler,))
        self.unix_path = unix_path
        if unix_path is not None:
            self._server.add_insecure_port(f"unix:{unix_path}")
            self.port = 0
        else:
            self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        self._closed = False

    @property
    def url(self) -> str:
        if self.unix_path is not None:
            return f"grpc+unix://{self.unix_path}"
        return f"grpc://127.0.0.1:{self.port}"

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._server.stop(grace=None).wait(5)

    def __enter__(self) -> GrpcEcho:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def dead_port() -> int:
    """A 127.0.0.1 port that refuses connections (bound then closed; racy but short-lived)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


KINDS = ("http", "grpc", "dead")


@contextlib.contextmanager
def started(kinds: Mapping[str, str]) -> Iterator[dict[str, tuple[str, int]]]:
    """Start one TCP upstream per ``name = kind``; yield name -> (kind, port)."""
    with contextlib.ExitStack() as stack:
        out: dict[str, tuple[str, int]] = {}
        for name, kind in kinds.items():
            if kind == "http":
                out[name] = (kind, stack.enter_context(AuthUpstream()).port)
            elif kind == "grpc":
                out[name] = (kind, stack.enter_context(GrpcEcho()).port)
            elif kind == "dead":
                out[name] = (kind, dead_port())
            else:
                raise ValueError(f"upstream {name!r}: kind {kind!r} not in {KINDS}")
        yield out


def url_of(kind: str, port: int) -> str:
    """The wasmd upstream URL for a started upstream."""
    scheme = "grpc" if kind == "grpc" else "http"
    return f"{scheme}://127.0.0.1:{port}"
