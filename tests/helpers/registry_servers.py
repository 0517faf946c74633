"""Test servers around the registry: an HTTPS server and a Docker token server, both with
a test CA made by the openssl CLI.

- ``make_ca``: a CA and a server certificate for 127.0.0.1/localhost.
- ``TlsServer``: HTTPS on 127.0.0.1 serving bytes at paths (optionally truncated: a
  Content-Length larger than the body sent), for ``https://`` modules.
- ``TokenServer``: Docker's token flow for a registry configured with ``auth: token``.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import ssl
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.registry import TOOL_TIMEOUT_S
from tests.helpers.tools import require_tool

# -- an HTTPS server with a test CA ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaFiles:
    ca: Path
    cert: Path
    key: Path
    ca_key: Path


def make_ca(folder: Path) -> CaFiles:
    """A CA and a server certificate for 127.0.0.1/localhost, made by the openssl CLI."""
    openssl = require_tool("openssl")
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    cert, key, csr = folder / "server.pem", folder / "server.key", folder / "server.csr"
    ext = folder / "server.ext"
    ext.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    steps = [
        [openssl, "req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
         "-subj", "/CN=wasmd test CA", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        [openssl, "req", *ec, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1"],
        [openssl, "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
         "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext)],
    ]  # fmt: skip
    for argv in steps:
        subprocess.run(argv, check=True, capture_output=True, timeout=TOOL_TIMEOUT_S)
    return CaFiles(ca, cert, key, ca_key)


@dataclass(frozen=True, slots=True)
class Served:
    body: bytes
    truncate_to: int | None = None  # send only this many bytes, claiming them all


class TlsServer:
    """HTTPS on 127.0.0.1 (a thread in the test process); ``files`` maps path -> Served."""

    def __init__(self, ca: CaFiles, files: dict[str, Served]) -> None:
        self.files = files
        handler = _handler(files)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(ca.cert), str(ca.key))
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> TlsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(10)


def _handler(files: dict[str, Served]) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            served = files.get(self.path)
            if served is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/wasm")
            self.send_header("Content-Length", str(len(served.body)))
            self.end_headers()
            end = len(served.body) if served.truncate_to is None else served.truncate_to
            self.wfile.write(served.body[:end])
            if served.truncate_to is not None:
                self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    return Handler


# -- a Docker token server -----------------------------------------------------------------


class TokenServer:
    """Docker's token flow for the registry's ``auth: token``: GET /token?service&scope with
    optional basic auth -> a JWT (ES256, signed with the test CA's key by the openssl CLI,
    its certificate in ``x5c``) granting the requested scope. With ``users``, requests
    without right credentials get 401. Plain HTTP on loopback (a thread in the test)."""

    SERVICE = "wasmd-test-registry"
    ISSUER = "wasmd-test-issuer"

    def __init__(self, ca: CaFiles, users: Mapping[str, str]) -> None:
        self.ca, self.users = ca, dict(users)
        self.requests: list[tuple[str, str | None]] = []  # (scope, user)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.realm = f"http://127.0.0.1:{self.httpd.server_address[1]}/token"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> TokenServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(10)

    def issue(self, scope: str, subject: str = "test") -> str:
        """A signed token granting ``scope`` (``repository:NAME:ACTIONS``)."""
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        now = int(time.time())
        claims = {
            "iss": self.ISSUER, "sub": subject, "aud": self.SERVICE, "exp": now + 600,
            "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(),
            "access": [{"type": kind, "name": name, "actions": actions.split(",")}],
        }  # fmt: skip
        der = ssl.PEM_cert_to_DER_cert(self.ca.ca.read_text())
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(der).decode()]}
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        signed = subprocess.run(
            [
                require_tool("openssl"),
                "dgst",
                "-sha256",
                "-sign",
                str(self.ca.ca_key),
            ],
            input=signing_input.encode(),
            capture_output=True,
            check=True,
            timeout=TOOL_TIMEOUT_S,
        ).stdout
        return f"{signing_input}.{_b64url(_der_to_raw_ecdsa(signed))}"

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                scope = query.get("scope", [""])[0]
                user = _basic_user(self.headers.get("Authorization"), server.users)
                server.requests.append((scope, user))
                if server.users and user is None:
                    self.send_response(401)
                    self.end_headers()
                    return
                token = server.issue(scope, user or "anonymous")
                body = json.dumps({"token": token, "access_token": token}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _basic_user(header: str | None, users: Mapping[str, str]) -> str | None:
    """The user whose right credentials ``header`` carries, else None."""
    if not header or not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user if users.get(user) == password else None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _der_to_raw_ecdsa(der: bytes) -> bytes:
    """openssl's DER ECDSA signature (SEQUENCE of r, s) -> JWS's r || s, 32 bytes each."""
    assert der[0] == 0x30
    pos = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    out = b""
    for _ in range(2):
        assert der[pos] == 0x02
        length = der[pos + 1]
        value = der[pos + 2 : pos + 2 + length]
        out += value.lstrip(b"\0").rjust(32, b"\0")
        pos += 2 + length
    return out
