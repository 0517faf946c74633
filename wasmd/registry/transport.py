"""The HTTP client of module fetches: urllib, synchronous, bounded.

Why urllib and not aiohttp (which the workers use for callouts): fetches run in the
supervisor before a generation is built, one at a time, off the event loop
(``asyncio.to_thread``), and in the CLI; a blocking client keeps this code a straight line
(auth challenge, retry once, stream into a hash) with no session lifecycle, and the
standard library's TLS verification, redirects and proxies are what we want.

Rules enforced here, for every request and every redirect hop:
- TLS is verified (system trust store plus ``registry.ca_file``).
- Plain ``http://`` only to loopback hosts or hosts listed in ``registry.plain_http_hosts``.
- ``Authorization`` never follows a redirect (registries redirect blobs to storage hosts).
- Bodies are read up to a limit; a larger declared or actual body fails the fetch, and a
  body shorter than its ``Content-Length`` is reported as truncated.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import IO, Any
from urllib.parse import urlsplit

from wasmd.kernel.config import RegistrySettings
from wasmd.kernel.errors import WasmdError

CHUNK = 1 << 16
ERROR_BODY_LIMIT = 1 << 16  # enough of an error body for its message
ProgressFn = Callable[[int, int | None], None]  # (bytes so far, total if known)


class FetchError(WasmdError):
    """A module could not be fetched or did not verify; the message says why and what to do."""


class TlsError(FetchError):
    """The TLS handshake failed; ``plaintext_peer``: the server answered in plain HTTP."""

    def __init__(self, message: str, plaintext_peer: bool = False) -> None:
        super().__init__(message)
        self.plaintext_peer = plaintext_peer


# How OpenSSL reports a server that answered a ClientHello with plain HTTP.
_PLAINTEXT_PEER = ("wrong_version_number", "wrong version number", "record layer failure",
                   "packet length too long", "http request")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Message
    body: bytes
    url: str  # after redirects


def is_loopback(host: str) -> bool:
    """Whether ``host`` (no port) is a loopback name or address."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Transport:
    """One configured client; cheap to build, holds no connections between requests."""

    def __init__(self, settings: RegistrySettings) -> None:
        self.settings = settings
        context = ssl.create_default_context()
        if settings.ca_file is not None:
            try:
                context.load_verify_locations(cafile=str(settings.ca_file))
            except (OSError, ssl.SSLError) as exc:
                raise FetchError(
                    f"registry.ca_file {settings.ca_file}: cannot load it as PEM "
                    f"certificates: {exc}"
                ) from None
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), _Redirects(self)
        )

    def plain_http_allowed(self, netloc: str) -> bool:
        """Loopback, or a host[:port] (or bare host) listed in registry.plain_http_hosts."""
        netloc = netloc.lower()
        host = urlsplit(f"//{netloc}").hostname or netloc
        allowed = self.settings.plain_http_hosts
        return is_loopback(host) or netloc in allowed or host in allowed

    def check_url(self, url: str) -> None:
        """Refuse schemes other than https, and http to hosts not allowed plain HTTP."""
        parts = urlsplit(url)
        if parts.scheme == "https":
            return
        if parts.scheme == "http" and self.plain_http_allowed(parts.netloc):
            return
        if parts.scheme == "http":
            raise FetchError(
                f"{url}: plain HTTP to {parts.netloc} is not allowed; use https://, or add "
                f'"{parts.netloc}" to registry.plain_http_hosts if this network is trusted'
            )
        raise FetchError(f"{url}: unsupported URL scheme {parts.scheme!r}")

    def request(
        self,
        url: str,
        *,
        limit: int,
        headers: Mapping[str, str] | None = None,
        authorization: str | None = None,
        progress: ProgressFn | None = None,
        what: str = "response",
    ) -> Response:
        """GET ``url``; any status is returned (the caller decides), transport trouble and
        bodies over ``limit`` raise FetchError."""
        self.check_url(url)
        req = urllib.request.Request(url, headers=dict(headers or {}))
        if authorization:
            req.add_unredirected_header("Authorization", authorization)
        try:
            resp = self._opener.open(req, timeout=self.settings.timeout_s)
        except urllib.error.HTTPError as err:
            body = _read_limited(err, ERROR_BODY_LIMIT, None, url, what, error=True)
            return Response(err.code, err.headers, body, err.geturl())
        except urllib.error.URLError as exc:
            raise _connect_error(url, exc.reason) from None
        except (OSError, http.client.HTTPException) as exc:
            raise _connect_error(url, exc) from None
        with resp:
            body = _read_limited(resp, limit, progress, url, what)
            return Response(resp.status, resp.headers, body, resp.geturl())


def _connect_error(url: str, reason: Any) -> FetchError:
    if isinstance(reason, ssl.SSLError):
        text = str(reason).lower()
        return TlsError(
            f"{url}: TLS failed ({reason}); if the server's certificate comes from a private "
            "CA, name its PEM file in registry.ca_file",
            plaintext_peer=any(marker in text for marker in _PLAINTEXT_PEER),
        )
    if isinstance(reason, TimeoutError | socket.timeout):
        return FetchError(f"{url}: timed out (registry.timeout_s); is the server up?")
    return FetchError(f"{url}: cannot connect: {getattr(reason, 'strerror', None) or reason}")


def _read_limited(
    resp: Any,  # HTTPResponse or HTTPError: read() and headers
    limit: int,
    progress: ProgressFn | None,
    url: str,
    what: str,
    error: bool = False,
) -> bytes:
    declared_text = resp.headers.get("Content-Length") if resp.headers else None
    declared = int(declared_text) if declared_text and declared_text.isdigit() else None
    if declared is not None and declared > limit and not error:
        raise FetchError(f"{url}: the {what} is {declared} bytes, over the limit of {limit}")
    parts: list[bytes] = []
    total = 0
    try:
        while chunk := resp.read(CHUNK):
            total += len(chunk)
            if total > limit:
                if error:
                    break
                raise FetchError(f"{url}: the {what} is over the limit of {limit} bytes")
            parts.append(chunk)
            if progress is not None:
                progress(total, declared)
    except http.client.IncompleteRead as exc:
        got = total + len(exc.partial)
        raise FetchError(
            f"{url}: the {what} was truncated: got {got} of {declared} bytes"
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"{url}: the {what} broke off after {total} bytes: {exc}") from None
    if declared is not None and total < declared and not error:
        raise FetchError(f"{url}: the {what} was truncated: got {total} of {declared} bytes")
    return b"".join(parts)


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects only to URLs the plain-HTTP rule allows."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        self._transport.check_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)
