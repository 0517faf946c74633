"""A scripted HTTP/1.1 upstream for tests: answers what it is told, records what it gets.

The answer is set before each request (cases run one at a time), rather than being
selected by a marker header, because a marker would be visible to the plugin under test.
The server sends exactly the answer's headers plus ``content-length`` (no ``Server`` or
``Date``), so a plugin sees the same response headers behind Envoy as in ``wasmd try``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from tests.helpers.outcome import UpstreamView

Pairs = tuple[tuple[str, str], ...]

# Statuses whose responses never carry a body (RFC 9110 section 6.4.1).
_NO_BODY_STATUSES = frozenset({204, 304})
# Blocking reads on a keep-alive connection are bounded so shutdown never hangs.
SOCKET_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Answer:
    status: int = 200
    headers: Pairs = ()
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as received: header names as sent, in order, duplicates kept."""

    method: str
    path: str
    headers: Pairs
    body: bytes

    def view(self) -> UpstreamView:
        return UpstreamView(self.method, self.path, self.headers, self.body)


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answer = Answer()
        self.requests: list[RecordedRequest] = []


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: Envoy pools upstream connections
    # Headers and body go out in two writes; with Nagle on, the body waits ~40 ms for
    # Envoy's delayed ACK of the headers on every exchange.
    disable_nagle_algorithm = True
    server: _Server
    timeout = SOCKET_TIMEOUT_S

    def _serve(self) -> None:
        body, complete = self._read_body()
        state = self.server.state
        with state.lock:
            state.requests.append(
                RecordedRequest(self.command, self.path, tuple(self.headers.items()), body)
            )
            answer = state.answer
        if complete:
            self._reply(answer)
        else:  # the proxy reset the stream mid-body: nobody is left to answer
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

    def _read_body(self) -> tuple[bytes, bool]:
        """The request body and whether it arrived complete (False: connection closed)."""
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("content-length", "0") or "0")
        body = self.rfile.read(length) if length else b""
        return body, len(body) == length

    def _read_chunked(self) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        while True:
            size_line = self.rfile.readline()
            if not size_line.strip():
                return b"".join(chunks), False
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                break
            chunk = self.rfile.read(size)
            chunks.append(chunk)
            if len(chunk) < size or not self.rfile.readline():  # CRLF after each chunk
                return b"".join(chunks), False
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b"".join(chunks), True

    def _reply(self, answer: Answer) -> None:
        send_body = self.command != "HEAD" and answer.status not in _NO_BODY_STATUSES
        self.send_response_only(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        if answer.status not in _NO_BODY_STATUSES:
            self.send_header("content-length", str(len(answer.body)))
        self.end_headers()
        if send_body and answer.body:
            self.wfile.write(answer.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # silence per-request stderr lines; the recording is the log


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State


class Upstream:
    """Threaded HTTP/1.1 server on 127.0.0.1 (port chosen by the OS). Use as a context manager."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._server = _Server((host, 0), _Handler)
        self._server.state = _State()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self._closed = False

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    def set_answer(self, answer: Answer) -> None:
        """Answer every following request with ``answer``."""
        with self._server.state.lock:
            self._server.state.answer = answer

    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, oldest first."""
        with self._server.state.lock:
            return list(self._server.state.requests)

    def request_count(self) -> int:
        with self._server.state.lock:
            return len(self._server.state.requests)

    def close(self) -> None:
        """Stop serving and close the listening socket; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Upstream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
