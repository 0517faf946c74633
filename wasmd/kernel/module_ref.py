"""Module references: ``oci://REGISTRY/REPO[:TAG][@sha256:HEX]`` and ``https://HOST/PATH``.

Pure parsing, no I/O. ``parse_reference`` returns None for anything that is not a
reference (a file path), and raises ConfigError for a reference that is malformed, with
what is wrong and how a correct one looks.

Names follow the OCI distribution spec: a repository is lower-case path components
separated by ``/``; a tag is at most 128 characters of ``[A-Za-z0-9_.-]`` not starting
with ``.`` or ``-``; the only digest algorithm accepted is sha256 (Istio's rule too).
Docker Hub short names are expanded the way ``docker pull`` does (``docker.io/envoy`` ->
``registry-1.docker.io/library/envoy``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

from wasmd.kernel.errors import ConfigError

OCI_SCHEME = "oci://"
HTTPS_SCHEME = "https://"
HTTP_SCHEME = "http://"
DOCKER_HUB = "registry-1.docker.io"
_DOCKER_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
DEFAULT_TAG = "latest"


class PullPolicy(Enum):
    """When a tagged image is fetched again (digest pins never are: they cannot change)."""

    IF_NOT_PRESENT = "if_not_present"
    ALWAYS = "always"


PULL_POLICIES = tuple(p.value for p in PullPolicy)


@dataclass(frozen=True, slots=True)
class OciRef:
    """An image in a registry; ``digest`` is 64 hex digits or '' (then ``tag`` names it)."""

    registry: str  # host[:port]
    repository: str
    tag: str
    digest: str

    @property
    def tag_key(self) -> str:
        """The image without its digest: what a tag resolution is stored under."""
        return f"{OCI_SCHEME}{self.registry}/{self.repository}:{self.tag}"

    @property
    def manifest_reference(self) -> str:
        """What goes after ``/manifests/`` in the registry API."""
        return f"sha256:{self.digest}" if self.digest else self.tag

    def __str__(self) -> str:
        text = f"{OCI_SCHEME}{self.registry}/{self.repository}"
        return f"{text}@sha256:{self.digest}" if self.digest else f"{text}:{self.tag}"


@dataclass(frozen=True, slots=True)
class HttpsRef:
    """A module file served over HTTPS (or plain HTTP where the config allows it)."""

    url: str
    host: str  # host[:port], for the plain-HTTP rule and credentials

    def __str__(self) -> str:
        return self.url


ModuleRef = OciRef | HttpsRef


def is_reference(text: str) -> bool:
    """Whether a ``module`` value names a registry or URL rather than a file."""
    return text.startswith((OCI_SCHEME, HTTPS_SCHEME, HTTP_SCHEME))


def parse_reference(text: str) -> ModuleRef | None:
    """The reference ``text`` names, None for a file path; ConfigError if malformed."""
    if text.startswith(OCI_SCHEME):
        return parse_oci(text[len(OCI_SCHEME) :])
    if text.startswith((HTTPS_SCHEME, HTTP_SCHEME)):
        parts = urlsplit(text)
        if not parts.netloc or not _HOST.match(parts.netloc) or not parts.path.strip("/"):
            raise ConfigError(f"{text!r}: not a module URL; expected https://HOST/PATH.wasm")
        return HttpsRef(text, parts.netloc.lower())
    return None


def parse_oci(text: str) -> OciRef:
    """``REGISTRY/REPO[:TAG][@sha256:HEX]`` (without ``oci://``); ConfigError if malformed."""
    shown = f"{OCI_SCHEME}{text}"
    example = "expected oci://REGISTRY/REPOSITORY:TAG or oci://REGISTRY/REPOSITORY@sha256:HEX"
    name, _, digest = text.partition("@")
    if digest:
        algo, _, hexpart = digest.partition(":")
        if algo != "sha256" or not _HEX64.match(hexpart):
            raise ConfigError(f"{shown!r}: the digest must be sha256: and 64 lower-case hex digits")
        digest = hexpart
    host, slash, path = name.partition("/")
    if not slash or not ("." in host or ":" in host or host == "localhost"):
        host, path = "docker.io", name  # docker's rule: no registry host named
    tag = ""
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, _, tag = path.rpartition(":")
        if not _TAG.match(tag):
            raise ConfigError(f"{shown!r}: invalid tag {tag!r}; {example}")
    if not _HOST.match(host):
        raise ConfigError(f"{shown!r}: invalid registry host {host!r}; {example}")
    if host.lower() in _DOCKER_HUB_ALIASES:
        host = DOCKER_HUB
        if "/" not in path:
            path = f"library/{path}"
    if not _REPOSITORY.match(path):
        raise ConfigError(
            f"{shown!r}: invalid repository {path!r} (lower-case letters, digits and "
            f"separators ._- between /-separated components); {example}"
        )
    return OciRef(host.lower(), path, tag or DEFAULT_TAG, digest)


def default_policy(ref: ModuleRef, configured: str) -> PullPolicy:
    """The pull policy for ``ref``: the configured one, else Istio's default
    (``always`` for the tag ``latest``, ``if_not_present`` otherwise)."""
    if configured:
        return PullPolicy(configured)
    if isinstance(ref, OciRef) and not ref.digest and ref.tag == DEFAULT_TAG:
        return PullPolicy.ALWAYS
    return PullPolicy.IF_NOT_PRESENT
