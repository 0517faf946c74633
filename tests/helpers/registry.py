"""A real registry for tests: Debian's ``docker-registry`` (CNCF distribution v2.8).

- ``tool(name, env)``: a system tool, found beside ``sys.executable`` first, then in the
  environment variable ``env``, then on PATH; when missing, the test fails under CI=true
  and is skipped otherwise, naming the fix (``scripts/setup.sh`` installs them).
- ``Registry``: its own config (loopback, a free port, storage in the test's tmp dir,
  optional ``htpasswd -B`` basic auth), started by the test, ``stop()``/``start()`` for
  "registry down", killed at the end. It never touches the packaged service on :5000.
- ``push_image``: a tiny pusher using the registry HTTP API (monolithic blob uploads,
  then the manifest), for each module format Istio accepts.

The HTTPS and token servers are in ``tests.helpers.registry_servers``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import subprocess
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tests.helpers.procs import Spawned, free_port, spawn, wait_for
from tests.helpers.tools import require_tool

if TYPE_CHECKING:
    from tests.helpers.registry_servers import TokenServer

START_TIMEOUT_S = 30.0
TOOL_TIMEOUT_S = 60.0
PORT_ATTEMPTS = 3


def registry_binary() -> str:
    return require_tool("docker-registry")


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
            f"    service: {token.SERVICE}",
            f"    issuer: {token.ISSUER}",
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
    """A started registry: anonymous, basic auth (``users``), or token auth (``token``).

    free_port() is racy: when another process took the port first, try another one."""
    for attempt in range(PORT_ATTEMPTS):
        port = free_port()
        reg = Registry(tmp_path / f"registry-{port}", port, dict(users or {}), token)
        reg.root.mkdir(parents=True)
        try:
            reg.start()
            break
        except AssertionError:
            reg.stop()
            log = (reg.root / "registry.log").read_text(errors="replace")
            if "address already in use" not in log or attempt == PORT_ATTEMPTS - 1:
                raise
    try:
        yield reg
    finally:
        reg.stop()


def make_htpasswd(path: Path, users: Mapping[str, str]) -> None:
    """An htpasswd file with bcrypt entries (``htpasswd -B``, the only kind v2.8 accepts)."""
    htpasswd = require_tool("htpasswd")
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
