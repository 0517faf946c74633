"""A module reference -> a verified file in the store, by the pull policy.

Rules (Istio's, where it has one):
- ``oci://...@sha256:M`` or a tag with ``sha256 = "M"``: M is the *manifest* digest. If the
  store holds the module M yielded, nothing is fetched (a pin cannot change); otherwise the
  image is pulled and its manifest digest must be M.
- ``oci://...:TAG`` without a pin: ``if_not_present`` uses the tag's last resolution when
  the store still holds its module; ``always`` asks the registry every time (the module is
  downloaded only when the manifest is new). The default is ``always`` for ``latest``.
- ``https://...`` with ``sha256 = "S"``: S is the *module's* sha256; fetched when absent.
- ``allow_stale`` (a daemon starting): a tag the registry cannot be asked about right now
  falls back to its last resolution in the store, with a warning. A reload never does: the
  running generation keeps serving and the reload reports the failure.

Nothing touches the network unless a fetch is needed, and the credentials file is read
only when a server asks for credentials (anonymous pulls never open it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from wasmd.kernel.config import RegistrySettings
from wasmd.kernel.logs import get_logger
from wasmd.kernel.module_ref import (
    HttpsRef,
    OciRef,
    PullPolicy,
    default_policy,
    parse_reference,
)
from wasmd.registry.formats import check_wasm
from wasmd.registry.oci import OciClient
from wasmd.registry.store import Store, TagEntry
from wasmd.registry.transport import FetchError, ProgressFn, Transport


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where a reference's module is now, and how it got there."""

    source: str
    path: Path
    sha256: str  # of the module
    size: int
    manifest_digest: str = ""  # oci:// only
    fetched: bool = False  # False: served from the store without asking the network
    stale: bool = False  # a tag's last resolution, used because the registry was unreachable


class Fetcher:
    """Resolves references against one store with one ``[registry]`` configuration."""

    def __init__(
        self, settings: RegistrySettings, store: Store, progress: ProgressFn | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self.progress = progress
        self.log = get_logger(component="registry")
        self._client: OciClient | None = None

    def resolve(
        self, source: str, *, pin: str = "", policy: str = "", allow_stale: bool = False
    ) -> Resolved:
        """The verified module ``source`` names; FetchError says why not."""
        ref = parse_reference(source)
        if ref is None:
            raise FetchError(f"{source!r} is not an oci:// or https:// reference")
        if isinstance(ref, HttpsRef):
            if not pin:
                raise FetchError(f"{source}: an https:// module needs its sha256 pinned")
            return self._https(ref, pin)
        pin = ref.digest or pin
        if pin:
            return self._pinned(ref, pin)
        return self._tag(ref, default_policy(ref, policy or self.settings.pull_policy), allow_stale)

    # -- oci
    def _pinned(self, ref: OciRef, pin: str) -> Resolved:
        stored = self._from_manifest(ref, pin)
        if stored is not None:
            return stored
        pulled = self._oci().pull(ref, self.progress)
        if pulled.manifest_digest != pin:
            raise FetchError(
                f"{ref}: the registry's image has manifest digest sha256:"
                f"{pulled.manifest_digest}, but the config pins sha256:{pin}; if the new "
                "image is the one you want, update the pin"
            )
        return self._keep(ref, pulled.manifest_digest, pulled.module)

    def _tag(self, ref: OciRef, policy: PullPolicy, allow_stale: bool) -> Resolved:
        if policy is PullPolicy.IF_NOT_PRESENT:
            cached = self._from_tag(ref)
            if cached is not None:
                return cached
        client = self._oci()
        try:
            digest, _, _ = client.manifest(ref)
            known = self._from_manifest(ref, digest)
            if known is not None:  # the tag points at an image we already hold
                self.store.record_tag(ref.tag_key, TagEntry(digest, known.sha256))
                return known
            pulled = client.pull(ref, self.progress)
        except FetchError as exc:
            cached = self._from_tag(ref) if allow_stale else None
            if cached is None:
                raise
            self.log.warning(
                "registry_unreachable_using_store",
                ref=str(ref),
                manifest=cached.manifest_digest,
                error=str(exc),
            )
            return Resolved(
                cached.source,
                cached.path,
                cached.sha256,
                cached.size,
                cached.manifest_digest,
                stale=True,
            )
        return self._keep(ref, pulled.manifest_digest, pulled.module)

    def _keep(self, ref: OciRef, manifest: str, module: bytes) -> Resolved:
        sha, path = self.store.put(module)
        self.store.link_manifest(manifest, sha)
        if not ref.digest:
            self.store.record_tag(ref.tag_key, TagEntry(manifest, sha))
        self.log.info("module_pulled", ref=str(ref), manifest=manifest, sha256=sha)
        return Resolved(str(ref), path, sha, len(module), manifest, fetched=True)

    def _from_manifest(self, ref: OciRef, manifest: str) -> Resolved | None:
        module = self.store.manifest_module(manifest)
        path = self.store.verified(module) if module else None
        if module is None or path is None:
            return None
        return Resolved(str(ref), path, module, path.stat().st_size, manifest)

    def _from_tag(self, ref: OciRef) -> Resolved | None:
        entry = self.store.tag(ref.tag_key)
        return self._from_manifest(ref, entry.manifest) if entry is not None else None

    def _oci(self) -> OciClient:
        if self._client is None:
            self._client = OciClient(Transport(self.settings), self.settings)
        return self._client

    # -- https
    def _https(self, ref: HttpsRef, pin: str) -> Resolved:
        path = self.store.verified(pin)
        if path is not None:
            return Resolved(ref.url, path, pin, path.stat().st_size)
        client = self._oci()
        limit = self.settings.max_module_bytes
        resp = client.transport.request(ref.url, limit=limit, progress=self.progress, what="module")
        if resp.status == 401:
            auth = client.answer(resp.headers.get("WWW-Authenticate"), ref.host, "")
            resp = client.transport.request(
                ref.url, limit=limit, authorization=auth, progress=self.progress, what="module"
            )
        if resp.status != 200:
            raise FetchError(f"{ref.url}: HTTP {resp.status}")
        actual = hashlib.sha256(resp.body).hexdigest()
        if actual != pin:
            raise FetchError(
                f"{ref.url}: the module's sha256 is {actual}, but the config pins {pin}; "
                "nothing was stored (a changed or truncated file; update sha256 = if the "
                "new module is the one you want)"
            )
        check_wasm(resp.body, ref.url)
        sha, path = self.store.put(resp.body)
        self.log.info("module_fetched", url=ref.url, sha256=sha)
        return Resolved(ref.url, path, sha, len(resp.body), fetched=True)
