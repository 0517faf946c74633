"""HTTP callouts with aiohttp: one ClientSession per worker (plus one per unix socket).

``HttpCallouts.start(request, done)`` runs the request as an asyncio task and calls
``done(outcome)`` on the loop when it finishes: an ``HttpCallResponse`` for any HTTP
status, or a ``CallFailure`` when no response arrived (timeout, refused, reset). The
request is sent as the plugin built it: pseudo-headers become the request line and Host,
no client headers are added, a non-empty body gets a content-length (as Envoy does).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from typing import TYPE_CHECKING

from workers.callouts.messages import HttpCallRequest, HttpCallResponse, Pair
from workers.callouts.targets import path_problem, same_origin

if TYPE_CHECKING:  # aiohttp is imported on the first callout: most workers never make one,
    import aiohttp  # and it is a fifth of a worker's start-up imports

# aiohttp adds these unless told not to; Envoy's async client adds none of them.
_SKIP_AUTO_HEADERS = frozenset({"User-Agent", "Accept", "Accept-Encoding", "Content-Type"})
# Connection pool per session: plenty for one worker's concurrent callouts to one host.
POOL_LIMIT_PER_HOST = 64


class CallFailure(enum.Enum):
    """Why no (complete) HTTP response arrived."""

    TIMEOUT = "timeout"
    CONNECT = "connect"  # refused, unreachable, no such socket
    DISCONNECT = "disconnect"  # the connection closed or broke before response headers
    RESET = "reset"  # it broke after the response headers (body cut short)


HttpOutcome = HttpCallResponse | CallFailure


def split_headers(headers: tuple[Pair, ...]) -> tuple[str, str, str, list[tuple[str, str]]]:
    """(method, path, authority, other headers) from a plugin's header pairs.

    Raises ValueError if :method, :path or :authority is missing (checked earlier by the
    contexts layer; kept here so this module stands alone).
    """
    pseudo: dict[bytes, bytes] = {}
    regular: list[tuple[str, str]] = []
    for key, value in headers:
        if key.startswith(b":"):
            pseudo.setdefault(key, value)
        else:
            regular.append((key.decode("latin-1"), value.decode("latin-1")))
    missing = [k.decode() for k in (b":method", b":path", b":authority") if k not in pseudo]
    if missing:
        raise ValueError(f"callout headers lack {', '.join(missing)}")
    return (
        pseudo[b":method"].decode("latin-1"),
        pseudo[b":path"].decode("latin-1"),
        pseudo[b":authority"].decode("latin-1"),
        regular,
    )


def response_headers(status: int, raw: tuple[tuple[bytes, bytes], ...]) -> tuple[Pair, ...]:
    """Envoy's view of a response header block: :status first, lower-case names."""
    return ((b":status", str(status).encode()),) + tuple((k.lower(), v) for k, v in raw)


class HttpCallouts:
    """The HTTP client of one worker. Create and close it on the loop that uses it."""

    def __init__(self) -> None:
        self._tcp: aiohttp.ClientSession | None = None
        self._unix: dict[str, aiohttp.ClientSession] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def _session(self, unix_path: str) -> aiohttp.ClientSession:
        import aiohttp

        if unix_path:
            session = self._unix.get(unix_path)
            if session is None:
                session = self._unix[unix_path] = aiohttp.ClientSession(
                    connector=aiohttp.UnixConnector(path=unix_path, limit=POOL_LIMIT_PER_HOST),
                    auto_decompress=False,
                )
            return session
        if self._tcp is None:
            self._tcp = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit_per_host=POOL_LIMIT_PER_HOST),
                auto_decompress=False,
            )
        return self._tcp

    def start(
        self, request: HttpCallRequest, done: Callable[[HttpOutcome], None]
    ) -> asyncio.Task[None]:
        """Start the call; ``done`` runs on the loop with the outcome (never on cancel)."""
        if self._closed:
            raise RuntimeError("HttpCallouts is closed")
        task = asyncio.get_running_loop().create_task(self._run(request, done))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, request: HttpCallRequest, done: Callable[[HttpOutcome], None]) -> None:
        try:
            outcome = await self.fetch(request)
        except Exception:  # noqa: BLE001 - a bug in the client must not leave a stream paused
            outcome = CallFailure.RESET
        done(outcome)

    async def fetch(self, request: HttpCallRequest) -> HttpOutcome:
        """Make one request; never raises for network trouble (returns a CallFailure)."""
        import aiohttp
        from multidict import CIMultiDict

        method, path, authority, regular = split_headers(request.headers)
        headers: CIMultiDict[str] = CIMultiDict(regular)
        headers["Host"] = authority
        if request.body:
            headers["content-length"] = str(len(request.body))
        timeout = aiohttp.ClientTimeout(
            total=request.timeout_ms / 1000 if request.timeout_ms > 0 else None
        )
        url = request.upstream.base_url + path
        if path_problem(path.encode("latin-1")) or not same_origin(request.upstream.base_url, url):
            return CallFailure.CONNECT  # checked by the contexts layer first; never sent
        session = self._session(request.upstream.unix_path)
        try:
            resp = await session.request(
                method,
                url,
                headers=headers,
                data=request.body or None,
                timeout=timeout,
                allow_redirects=False,
                skip_auto_headers=_SKIP_AUTO_HEADERS,
            )
        except TimeoutError:
            return CallFailure.TIMEOUT
        except aiohttp.ClientConnectorError:
            return CallFailure.CONNECT
        except (aiohttp.ClientError, OSError):
            return CallFailure.DISCONNECT
        except ValueError:  # a header or path aiohttp refuses to send (e.g. a CR/LF in it)
            return CallFailure.RESET
        async with resp:
            try:
                body = await resp.read()
            except TimeoutError:
                return CallFailure.TIMEOUT
            except (aiohttp.ClientError, OSError):
                return CallFailure.RESET
            return HttpCallResponse(response_headers(resp.status, resp.raw_headers), body)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def aclose(self) -> None:
        """Cancel calls in flight and close every session; idempotent."""
        self._closed = True
        self.cancel_all()
        sessions = [s for s in (self._tcp, *self._unix.values()) if s is not None]
        self._tcp, self._unix = None, {}
        for session in sessions:
            await session.close()
