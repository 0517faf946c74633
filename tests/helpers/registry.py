"""A real registry for tests: Debian's ``docker-registry`` (CNCF distribution v2.8).

- ``tool(name, env)``: a system tool, found beside ``sys.executable`` first, then in the
  environment variable ``env``, then on PATH; when missing, the test fails under CI=true
  and is skipped otherwise, naming the fix (``scripts/setup.sh`` installs them).
- ``Registry``: its own config (loopback, a free port, storage in the test's tmp dir,
  optional ``htpasswd -B`` basic auth), started by the test, ``stop()``/``start()`` for
  "registry down", killed at the end. It never touches the packaged service on :5000.
- ``push_image``: a tiny pusher using the registry HTTP API (monolithic blob uploads,
  then the manifest), for each module format Istio accepts.
- ``TlsServer``: an HTTPS server with a test CA made by the openssl CLI, serving bytes at
  paths (optionally truncated: a Content-Length larger than the body sent).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.server
import io
import json
import os
import shutil
import ssl
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers.procs import Spawned, free_port, spawn, wait_for

START_TIMEOUT_S = 30.0
TOOL_TIMEOUT_S = 60.0


def tool(name: str, env: str) -> str:
    """The path of ``name``: beside sys.executable, then $``env``, then PATH; else fail
    (CI=true) or skip with the fix."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    override = os.environ.get(env)
    if override:
        return override
    found = shutil.which(name)
    if found:
        return found
    why = f"{name} not found (set {env}, or run scripts/setup.sh as root to install it)"
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)


def registry_binary() -> str:
    return tool("docker-registry", "WASMD_TEST_REGISTRY")


# -- the registry --------------------------------------------------------------------------


def _config(
    storage: Path, port: int, htpasswd: Path | None, token: TokenServer | None = None
) -> str:
    lines = [
        "version: 0.1",
        "log:",
        "  level: warn",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {storage}",
        "  delete:",
        "    enabled: true",
        "http:",
        f"  addr: 127.0.0.1:{port}",
    ]
    if htpasswd is not None:
        lines += ["auth:", "  htpasswd:", "    realm: wasmd-test", f"    path: {htpasswd}"]
    if token is not None:
        lines += [
            "auth:",
            "  token:",
            f"    realm: {token.realm}",
            f"    service: {TokenServer.SERVICE}",
            f"    issuer: {TokenServer.ISSUER}",
            f"    rootcertbundle: {token.ca.ca}",
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Registry:
    """One registry instance (see the module docstring); use through ``registry()``."""

    root: Path
    port: int
    users: Mapping[str, str]
    token: TokenServer | None = None
    proc: Spawned | None = None
    _stack: ExitStack = field(default_factory=ExitStack)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    def auth_header(self, repo: str = "") -> str | None:
        """What the pusher sends: a push token, basic credentials, or nothing."""
        if self.token is not None:
            return "Bearer " + self.token.issue(f"repository:{repo}:pull,push")
        if not self.users:
            return None
        user, password = next(iter(self.users.items()))
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def start(self) -> None:
        htpasswd = self.root / "htpasswd" if self.users else None
        if htpasswd is not None and not htpasswd.exists():
            make_htpasswd(htpasswd, self.users)
        config = self.root / "config.yml"
        config.write_text(_config(self.storage, self.port, htpasswd, self.token))
        self.proc = self._stack.enter_context(
            spawn([registry_binary(), "serve", str(config)], log_path=self.root / "registry.log")
        )
        wait_for(
            self._answers,
            START_TIMEOUT_S,
            0.05,
            "the registry answers /v2/",
            diagnostics=self.proc.describe,
        )

    def _answers(self) -> bool:
        assert self.proc is not None and not self.proc.exited(), "the registry exited"
        try:
            with urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2) as resp:
                return int(resp.status) == 200
        except urllib.error.HTTPError as err:
            return err.code == 401
        except OSError:
            return False

    def stop(self) -> None:
        """Kill it (storage stays: ``start()`` brings the same content back)."""
        self._stack.close()
        self._stack = ExitStack()
        self.proc = None

    def blob_file(self, digest_hex: str) -> Path:
        """Where the registry keeps a blob's bytes on disk (to damage it on purpose)."""
        return (
            self.storage / "docker/registry/v2/blobs/sha256" / digest_hex[:2] / digest_hex / "data"
        )


@contextmanager
def registry(
    tmp_path: Path, users: Mapping[str, str] | None = None, token: TokenServer | None = None
) -> Iterator[Registry]:
    """A started registry: anonymous, basic auth (``users``), or token auth (``token``)."""
    port = free_port()
    reg = Registry(tmp_path / f"registry-{port}", port, dict(users or {}), token)
    reg.root.mkdir(parents=True)
    try:
        reg.start()
        yield reg
    finally:
        reg.stop()


def make_htpasswd(path: Path, users: Mapping[str, str]) -> None:
    """An htpasswd file with bcrypt entries (``htpasswd -B``, the only kind v2.8 accepts)."""
    htpasswd = tool("htpasswd", "WASMD_TEST_HTPASSWD")
    for i, (user, password) in enumerate(users.items()):
        flags = "-Bbc" if i == 0 else "-Bb"
        subprocess.run(
            [htpasswd, flags, str(path), user, password],
            check=True,
            capture_output=True,
            timeout=TOOL_TIMEOUT_S,
        )


# -- pushing images --------------------------------------------------------------------------

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
FORMATS = ("compat-oci", "compat-docker", "wasm-layer", "wasm-artifact")


def tar_gz(files: Mapping[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def image_parts(fmt: str, module: bytes) -> tuple[str, tuple[str, bytes], list[tuple[str, bytes]]]:
    """(manifest media type, (config media type, config), [(layer media type, layer)])."""
    if fmt == "compat-oci":
        layer = ("application/vnd.oci.image.layer.v1.tar+gzip", tar_gz({"plugin.wasm": module}))
        return OCI_MANIFEST, ("application/vnd.oci.image.config.v1+json", b"{}"), [layer]
    if fmt == "compat-docker":
        layer = (
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
            tar_gz({"plugin.wasm": module}),
        )
        return DOCKER_MANIFEST, ("application/vnd.docker.container.image.v1+json", b"{}"), [layer]
    if fmt == "wasm-layer":
        config = ("application/vnd.module.wasm.config.v1+json", b'{"created":"1970-01-01"}')
        return OCI_MANIFEST, config, [("application/vnd.module.wasm.content.layer.v1+wasm", module)]
    if fmt == "wasm-artifact":
        return (
            OCI_MANIFEST,
            ("application/vnd.oci.empty.v1+json", b"{}"),
            [("application/wasm", module)],
        )
    raise ValueError(fmt)


def _call(
    method: str, url: str, body: bytes, headers: Mapping[str, str], auth: str | None
) -> tuple[int, Mapping[str, str]]:
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
    if auth:
        req.add_header("Authorization", auth)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return int(resp.status), resp.headers


def push_blob(reg: Registry, repo: str, data: bytes) -> str:
    """Upload ``data`` (POST then monolithic PUT); its sha256 hex."""
    digest = hashlib.sha256(data).hexdigest()
    base = f"http://{reg.host}"
    auth = reg.auth_header(repo)
    status, headers = _call("POST", f"{base}/v2/{repo}/blobs/uploads/", b"", {}, auth)
    assert status == 202, status
    location = headers["Location"]
    location = location if location.startswith("http") else base + location
    sep = "&" if "?" in location else "?"
    url = f"{location}{sep}digest=sha256:{digest}"
    octets = {"Content-Type": "application/octet-stream"}
    status, _ = _call("PUT", url, data, octets, auth)
    assert status == 201, status
    return digest


def push_image(reg: Registry, repo: str, tag: str, module: bytes, fmt: str = "compat-oci") -> str:
    """Push ``module`` as an image of format ``fmt`` under ``repo:tag``; its manifest digest."""
    media, (config_media, config), layers = image_parts(fmt, module)
    doc: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": media,
        "config": _descriptor(config_media, config, push_blob(reg, repo, config)),
        "layers": [_descriptor(m, data, push_blob(reg, repo, data)) for m, data in layers],
    }
    if fmt == "wasm-artifact":
        doc["artifactType"] = "application/wasm"
    return push_manifest(reg, repo, tag, json.dumps(doc).encode(), media)


def push_manifest(reg: Registry, repo: str, tag: str, manifest: bytes, media: str) -> str:
    url = f"http://{reg.host}/v2/{repo}/manifests/{tag}"
    status, _ = _call("PUT", url, manifest, {"Content-Type": media}, reg.auth_header(repo))
    assert status == 201, status
    return hashlib.sha256(manifest).hexdigest()


def _descriptor(media: str, data: bytes, digest: str) -> dict[str, object]:
    return {"mediaType": media, "digest": f"sha256:{digest}", "size": len(data)}


def with_custom_section(module: bytes, payload: bytes) -> bytes:
    """``module`` plus a custom section: a different sha256, the same behaviour."""
    name = b"wasmd-test"
    body = bytes([len(name)]) + name + payload
    return module + b"\0" + leb128(len(body)) + body


def leb128(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


# -- an HTTPS server with a test CA ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaFiles:
    ca: Path
    cert: Path
    key: Path
    ca_key: Path


def make_ca(folder: Path) -> CaFiles:
    """A CA and a server certificate for 127.0.0.1/localhost, made by the openssl CLI."""
    openssl = tool("openssl", "WASMD_TEST_OPENSSL")
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
                tool("openssl", "WASMD_TEST_OPENSSL"),
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
