"""Which part of an image holds the Wasm module, and unpacking it (Istio's formats).

A manifest (OCI ``application/vnd.oci.image.manifest.v1+json`` or Docker
``application/vnd.docker.distribution.manifest.v2+json``) lists layers. Tried in order:

1. Docker manifest: the last layer must be ``application/vnd.docker.image.rootfs.diff.tar.gzip``
   and hold ``plugin.wasm`` (the "compat" variant in Docker media types).
2. The last layer is ``application/vnd.oci.image.layer.v1.tar+gzip`` holding ``plugin.wasm``
   (the "compat" variant in OCI media types).
3. A layer of ``application/vnd.module.wasm.content.layer.v1+wasm``: the module itself
   (the two-layer "oci" variant; its other layer is a runtime config).
4. A layer of ``application/wasm``: the module itself (the Wasm OCI artifact form).

Every module found must start with the ``\\0asm`` magic. Sizes are bounded before and while
unpacking (a gzip bomb stops at the limit).
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
import zlib
from dataclasses import dataclass
from enum import Enum
from typing import Any

from wasmd.registry.transport import FetchError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
WASM_LAYER = "application/vnd.module.wasm.content.layer.v1+wasm"
WASM_ARTIFACT = "application/wasm"
PLUGIN_FILE = "plugin.wasm"
WASM_MAGIC = b"\0asm"
TAR_SLACK = 1 << 20  # tar headers and padding on top of the module itself
_DIGEST = re.compile(r"^sha256:([0-9a-f]{64})$")


class Packing(Enum):
    TAR_GZIP = "tar+gzip"  # a gzip'd tar holding plugin.wasm
    RAW = "raw"  # the blob is the module


@dataclass(frozen=True, slots=True)
class Descriptor:
    media_type: str
    digest: str  # 64 hex digits (sha256)
    size: int


@dataclass(frozen=True, slots=True)
class Manifest:
    media_type: str
    layers: tuple[Descriptor, ...]


def parse_manifest(raw: bytes, content_type: str, where: str) -> Manifest:
    """A manifest's layers; FetchError for an index, another kind of document or bad JSON."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FetchError(f"{where}: the manifest is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise FetchError(f"{where}: the manifest is not a JSON object")
    media = str(doc.get("mediaType") or content_type.split(";")[0].strip())
    if media in (OCI_INDEX, DOCKER_LIST) or "manifests" in doc:
        raise FetchError(
            f"{where}: this is an image index (multi-platform list), not one image; "
            "reference one of its manifests by digest (oci://.../REPO@sha256:...)"
        )
    if doc.get("schemaVersion") != 2 or not isinstance(doc.get("layers"), list):
        raise FetchError(f"{where}: not an OCI or Docker v2 image manifest ({media or '?'})")
    layers = tuple(
        _descriptor(layer, f"{where}: layers[{i}]") for i, layer in enumerate(doc["layers"])
    )
    return Manifest(media, layers)


def _descriptor(value: Any, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise FetchError(f"{where}: not an object")
    digest = _DIGEST.match(str(value.get("digest", "")))
    size = value.get("size")
    if digest is None:
        raise FetchError(f"{where}: digest must be sha256:<64 hex>, got {value.get('digest')!r}")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise FetchError(f"{where}: size must be a non-negative integer")
    return Descriptor(str(value.get("mediaType", "")), digest.group(1), size)


def select_layer(manifest: Manifest, where: str) -> tuple[Descriptor, Packing]:
    """The layer holding the module (the order above); FetchError listing what was tried."""
    layers = manifest.layers
    if not layers:
        raise FetchError(f"{where}: the image has no layers")
    last = layers[-1]
    if manifest.media_type == DOCKER_MANIFEST:
        if last.media_type != DOCKER_LAYER:
            raise FetchError(
                f"{where}: a Docker image's last layer must be {DOCKER_LAYER} holding "
                f"{PLUGIN_FILE}, got {last.media_type or 'no media type'}"
            )
        return last, Packing.TAR_GZIP
    if last.media_type == OCI_LAYER:
        return last, Packing.TAR_GZIP
    for wanted in (WASM_LAYER, WASM_ARTIFACT):
        for layer in layers:
            if layer.media_type == wanted:
                return layer, Packing.RAW
    found = ", ".join(layer.media_type or "?" for layer in layers)
    raise FetchError(
        f"{where}: no Wasm module in this image: expected a last layer of {OCI_LAYER} (or "
        f"{DOCKER_LAYER}) holding {PLUGIN_FILE}, or a layer of {WASM_LAYER} or "
        f"{WASM_ARTIFACT}; its layers are: {found}"
    )


def unpack(blob: bytes, packing: Packing, limit: int, where: str) -> bytes:
    """The module in a layer blob (checked for the Wasm magic); FetchError if absent/too big."""
    module = blob if packing is Packing.RAW else _from_tar_gzip(blob, limit, where)
    if len(module) > limit:
        raise FetchError(
            f"{where}: the module is {len(module)} bytes, over daemon.max_module_bytes ({limit})"
        )
    check_wasm(module, where)
    return module


def check_wasm(module: bytes, where: str) -> None:
    if module[:4] != WASM_MAGIC:
        raise FetchError(
            f"{where}: not a WebAssembly module (it does not start with \\0asm; "
            f"first bytes {module[:8]!r})"
        )


class _Bounded(io.RawIOBase):
    """Reads at most ``limit`` bytes of ``inner``, then fails (a decompression bomb stops)."""

    def __init__(self, inner: io.BufferedIOBase, limit: int, where: str) -> None:
        self.inner, self.left, self.where = inner, limit, where

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(min(len(buffer), self.left + 1))
        if len(data) > self.left:
            raise FetchError(f"{self.where}: the layer unpacks to more than the module limit")
        self.left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def _from_tar_gzip(blob: bytes, limit: int, where: str) -> bytes:
    stream = io.BufferedReader(
        _Bounded(gzip.GzipFile(fileobj=io.BytesIO(blob)), limit + TAR_SLACK, where)
    )
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                if member.name.rsplit("/", 1)[-1] != PLUGIN_FILE or not member.isfile():
                    continue
                if member.size > limit:
                    raise FetchError(
                        f"{where}: {PLUGIN_FILE} is {member.size} bytes, "
                        f"over daemon.max_module_bytes ({limit})"
                    )
                fh = tar.extractfile(member)
                if fh is None:
                    break
                return fh.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise FetchError(f"{where}: the layer is not a valid tar.gz: {exc}") from None
    raise FetchError(f"{where}: the layer holds no {PLUGIN_FILE}")
