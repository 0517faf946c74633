"""The OCI distribution-spec client: manifests and blobs of one registry, digests verified.

``OciClient.pull(ref)`` gets the manifest (by tag or digest), computes its digest from the
bytes received (the pin Istio checks for ``oci://``), picks the module's layer
(``formats.select_layer``), downloads that blob, checks its size and sha256 against the
descriptor (a truncated or altered download never passes), and unpacks the module.

The first request to a host goes over HTTPS; when the TLS handshake fails and plain HTTP
is allowed for that host (loopback, ``registry.plain_http_hosts``), it is retried over
HTTP (Istio does the same). A 401 is answered once per repository (``auth``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from wasmd.kernel.config import RegistrySettings
from wasmd.kernel.module_ref import OciRef
from wasmd.registry.auth import Credentials, answer_challenge, load_credentials
from wasmd.registry.formats import (
    DOCKER_LIST,
    MANIFEST_TYPES,
    OCI_INDEX,
    TAR_SLACK,
    Descriptor,
    Packing,
    parse_manifest,
    select_layer,
    unpack,
)
from wasmd.registry.transport import FetchError, ProgressFn, Response, TlsError, Transport

_ACCEPT = ", ".join((*MANIFEST_TYPES, OCI_INDEX, DOCKER_LIST))


@dataclass(frozen=True, slots=True)
class PulledImage:
    manifest_digest: str  # 64 hex digits
    layer: Descriptor
    module: bytes


class OciClient:
    """Talks to registries for one fetch session (remembers schemes and tokens)."""

    def __init__(self, transport: Transport, settings: RegistrySettings) -> None:
        self.transport = transport
        self.settings = settings
        self._credentials: Credentials | None = None
        self._scheme: dict[str, str] = {}
        self._auth: dict[tuple[str, str], str] = {}

    def pull(self, ref: OciRef, progress: ProgressFn | None = None) -> PulledImage:
        """The module of image ``ref``; FetchError says what failed."""
        digest, raw, content_type = self.manifest(ref)
        where = f"{ref} (manifest sha256:{digest})"
        manifest = parse_manifest(raw, content_type, where)
        layer, packing = select_layer(manifest, where)
        limit = self.settings.max_module_bytes
        blob_limit = limit + TAR_SLACK if packing is Packing.TAR_GZIP else limit
        blob = self.blob(ref, layer, blob_limit, progress)
        return PulledImage(digest, layer, unpack(blob, packing, limit, where))

    def manifest(self, ref: OciRef) -> tuple[str, bytes, str]:
        """(sha256 of the manifest bytes, the bytes, their content type)."""
        resp = self._get(
            ref,
            f"manifests/{ref.manifest_reference}",
            accept=_ACCEPT,
            limit=self.settings.max_manifest_bytes,
            what="manifest",
        )
        _check_ok(resp, ref, "manifest")
        digest = hashlib.sha256(resp.body).hexdigest()
        if ref.digest and digest != ref.digest:
            raise FetchError(
                f"{ref}: the registry sent a manifest whose digest is sha256:{digest}; "
                "it is not the image the reference pins"
            )
        return digest, resp.body, resp.headers.get("Content-Type", "")

    def blob(
        self, ref: OciRef, layer: Descriptor, limit: int, progress: ProgressFn | None
    ) -> bytes:
        """The layer's bytes, size and sha256 checked against its descriptor."""
        if layer.size > limit:
            raise FetchError(
                f"{ref}: the module layer is {layer.size} bytes, over the limit of {limit} "
                "(daemon.max_module_bytes)"
            )
        resp = self._get(
            ref, f"blobs/sha256:{layer.digest}", limit=layer.size, what="layer", progress=progress
        )
        _check_ok(resp, ref, f"layer sha256:{layer.digest}")
        actual = hashlib.sha256(resp.body).hexdigest()
        if len(resp.body) != layer.size or actual != layer.digest:
            raise FetchError(
                f"{ref}: layer sha256:{layer.digest} arrived as {len(resp.body)} bytes with "
                f"sha256:{actual} (the manifest says {layer.size} bytes): a truncated or "
                "altered download; nothing was stored"
            )
        return resp.body

    def _get(
        self,
        ref: OciRef,
        path: str,
        *,
        limit: int,
        what: str,
        accept: str = "",
        progress: ProgressFn | None = None,
    ) -> Response:
        netloc = ref.registry
        scope = f"repository:{ref.repository}:pull"
        headers = {"Accept": accept} if accept else {}

        def attempt(scheme: str) -> Response:
            url = f"{scheme}://{netloc}/v2/{ref.repository}/{path}"
            auth = self._auth.get((netloc, scope))
            return self.transport.request(
                url,
                limit=limit,
                headers=headers,
                authorization=auth,
                progress=progress,
                what=what,
            )

        scheme = self._scheme.get(netloc, "https")
        try:
            resp = attempt(scheme)
        except TlsError as exc:
            plain_ok = exc.plaintext_peer and self.transport.plain_http_allowed(netloc)
            if scheme != "https" or not plain_ok:
                raise
            scheme = self._scheme[netloc] = "http"
            resp = attempt(scheme)
        if resp.status != 401:
            return resp
        challenge = resp.headers.get("WWW-Authenticate")
        self._auth[(netloc, scope)] = self.answer(challenge, netloc, scope)
        resp = attempt(scheme)
        if resp.status == 401:
            where = self.credentials().path or "the credentials file"
            raise FetchError(
                f"{netloc} refused the credentials from {where} for {ref.repository} "
                f"(HTTP 401{_registry_message(resp)}); check the user and password"
            )
        return resp

    def credentials(self) -> Credentials:
        """Read on the first challenge only: anonymous pulls never open the file."""
        if self._credentials is None:
            self._credentials = load_credentials(self.settings.credentials)
        return self._credentials

    def answer(self, challenge: str | None, netloc: str, scope: str) -> str:
        """The Authorization value answering a 401 from ``netloc``."""
        return answer_challenge(self.transport, challenge, netloc, scope, self.credentials())


def _check_ok(resp: Response, ref: OciRef, what: str) -> None:
    if resp.status == 200:
        return
    detail = _registry_message(resp)
    if resp.status == 404:
        raise FetchError(f"{ref}: no such {what} in the registry (HTTP 404{detail})")
    if resp.status == 403:
        raise FetchError(f"{ref}: access to the {what} denied (HTTP 403{detail})")
    raise FetchError(f"{ref}: fetching the {what} failed with HTTP {resp.status}{detail}")


def _registry_message(resp: Response) -> str:
    """The first error message of a distribution-spec error body, as ': message'."""
    try:
        errors = json.loads(resp.body).get("errors") or []
        first = errors[0]
        return f": {first.get('code', '')} {first.get('message', '')}".rstrip()
    except (ValueError, AttributeError, IndexError, TypeError):
        return ""
