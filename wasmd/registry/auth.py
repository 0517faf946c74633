"""Registry credentials and the challenge flows of the distribution spec.

Credentials come from one file in Docker's ``config.json`` shape::

    {"auths": {"registry.example.com": {"auth": "<base64 of user:password>"}}}

(``username``/``password`` instead of ``auth`` work too; ``registrytoken`` is sent as a
bearer token as is). The file is ``registry.credentials`` when the config names one, else
``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json`` when present. Because it holds
passwords it must not be readable or writable by group or others (like ssh's key check);
a looser mode is refused with the chmod to run. Credential helpers (``credsStore``) are
not run: wasmd never executes programs named in a data file.

Challenges: a 401 carries ``WWW-Authenticate``. ``Basic`` is answered with the host's
credentials; ``Bearer realm=...,service=...,scope=...`` (Docker's token flow) by asking the
realm for a token (with basic credentials when the file has some for the registry, else
anonymously) and retrying with it. The realm obeys the same URL rules as any request.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from wasmd.kernel.module_ref import DOCKER_HUB
from wasmd.registry.transport import FetchError, Transport

MAX_CREDENTIALS_BYTES = 1 << 20
MAX_TOKEN_BYTES = 1 << 20
_HUB_KEYS = ("docker.io", "index.docker.io", "registry-1.docker.io")
_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


@dataclass(frozen=True, slots=True)
class Credential:
    username: str = ""
    password: str = ""
    registry_token: str = ""

    def basic(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


@dataclass(frozen=True, slots=True)
class Credentials:
    """Host -> credential, read from ``path`` (None when no file was found)."""

    path: Path | None
    by_host: Mapping[str, Credential]

    def for_host(self, netloc: str) -> Credential | None:
        key = _normalize(netloc)
        return self.by_host.get(key)


def docker_config_path() -> Path:
    """Where Docker keeps its config.json for this user."""
    base = os.environ.get("DOCKER_CONFIG")
    return (Path(base) if base else Path.home() / ".docker") / "config.json"


def load_credentials(configured: Path | None) -> Credentials:
    """Read the credentials file; a configured file must exist, Docker's may be absent."""
    path = configured if configured is not None else docker_config_path()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)  # the mode is checked on what it opened
    except FileNotFoundError:
        if configured is None:
            return Credentials(None, {})
        raise FetchError(f"registry.credentials {path}: no such file") from None
    except OSError as exc:
        raise FetchError(f"credentials file {path}: cannot open: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        mode = stat.S_IMODE(os.fstat(fh.fileno()).st_mode)
        if mode & 0o077:
            raise FetchError(
                f"credentials file {path} has mode {mode:04o}: it holds registry passwords, "
                f"so group and others must have no access; run: chmod 600 {path}"
            )
        raw = fh.read(MAX_CREDENTIALS_BYTES + 1)
    if len(raw) > MAX_CREDENTIALS_BYTES:
        raise FetchError(f"credentials file {path}: over {MAX_CREDENTIALS_BYTES} bytes")
    return Credentials(path, parse_credentials(raw, path))


def parse_credentials(raw: bytes, path: Path) -> dict[str, Credential]:
    """The ``auths`` map of a Docker config.json; FetchError naming the bad entry."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FetchError(f"credentials file {path}: not JSON: {exc}") from None
    auths = doc.get("auths", {}) if isinstance(doc, dict) else None
    if not isinstance(auths, dict):
        raise FetchError(f'credentials file {path}: expected {{"auths": {{HOST: {{...}}}}}}')
    out: dict[str, Credential] = {}
    for host, entry in auths.items():
        if not isinstance(entry, dict):
            raise FetchError(f"credentials file {path}: auths.{host} must be an object")
        out[_normalize(host)] = _credential(entry, f"{path}: auths.{host}")
    return out


def _credential(entry: dict[str, object], where: str) -> Credential:
    user, password = entry.get("username", ""), entry.get("password", "")
    auth = entry.get("auth", "")
    if auth:
        try:
            decoded = base64.b64decode(str(auth), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            raise FetchError(f"{where}.auth: not base64 of user:password") from None
        user, sep, password = decoded.partition(":")
        if not sep:
            raise FetchError(f"{where}.auth: decodes to no user:password pair")
    token = entry.get("registrytoken", "")
    if not all(isinstance(v, str) for v in (user, password, token)):
        raise FetchError(f"{where}: username, password and registrytoken must be strings")
    return Credential(str(user), str(password), str(token))


def _normalize(key: str) -> str:
    """``https://index.docker.io/v1/`` and ``docker.io`` name the same registry."""
    netloc = urlsplit(key if "//" in key else f"//{key}").netloc.lower() or key.lower()
    return DOCKER_HUB if netloc in _HUB_KEYS else netloc


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="x",service="y"`` -> ("bearer", {"realm": "x", "service": "y"})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3)).replace(
            '\\"', '"'
        )
        for m in _PARAM.finditer(rest)
    }
    return scheme.lower(), params


def answer_challenge(
    transport: Transport,
    header: str | None,
    netloc: str,
    scope: str,
    credentials: Credentials,
) -> str:
    """The Authorization value that answers a 401's challenge; FetchError if none can."""
    cred = credentials.for_host(netloc)
    scheme, params = parse_challenge(header or "")
    if cred is not None and cred.registry_token:
        return f"Bearer {cred.registry_token}"
    if scheme == "basic":
        if cred is None:
            raise FetchError(_needs_credentials(netloc, credentials))
        return cred.basic()
    if scheme == "bearer" and params.get("realm"):
        return "Bearer " + _token(transport, params, scope, cred, netloc, credentials)
    raise FetchError(f"{netloc} asked for authentication wasmd cannot answer: {header!r}")


def _token(
    transport: Transport,
    params: Mapping[str, str],
    scope: str,
    cred: Credential | None,
    netloc: str,
    credentials: Credentials,
) -> str:
    query = {"scope": params.get("scope") or scope}
    if params.get("service"):
        query["service"] = params["service"]
    realm = params["realm"]
    url = f"{realm}{'&' if '?' in realm else '?'}{urlencode(query)}"
    resp = transport.request(
        url,
        limit=MAX_TOKEN_BYTES,
        authorization=cred.basic() if cred is not None else None,
        what="token response",
    )
    if resp.status in (401, 403):
        if cred is None:
            raise FetchError(_needs_credentials(netloc, credentials))
        raise FetchError(f"{realm} refused the credentials for {netloc} (HTTP {resp.status})")
    if resp.status != 200:
        raise FetchError(f"{realm}: token request failed with HTTP {resp.status}")
    try:
        doc = json.loads(resp.body)
        token = doc.get("token") or doc.get("access_token")
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token:
        raise FetchError(f"{realm}: the token response holds no token")
    return token


def _needs_credentials(netloc: str, credentials: Credentials) -> str:
    where = credentials.path or docker_config_path()
    return (
        f"{netloc} requires credentials and {where} has none for it; add "
        f'{{"auths": {{"{netloc}": {{"auth": "<base64 of user:password>"}}}}}} to a file '
        "of mode 0600 and name it in registry.credentials"
    )
