"""The content-addressed module store: ``<cache_dir>/modules``.

Layout (every name derived from a sha256, so nothing a registry sends picks a path)::

    sha256/<hex>.wasm       a module; <hex> is the sha256 of its bytes
    manifests/<hex>         an OCI manifest digest -> the hex of the module it yields
    tags/<hex>.json         sha256 of "oci://REG/REPO:TAG" -> its last resolution

Modules are verified on every read: ``verified(hex)`` hashes the file and only returns
its path when the bytes still match the name; a mismatch (disk rot, tampering) removes
the file and is logged, so the next fetch replaces it. Writes are atomic (a temporary
file in the same folder, fsync, rename, fsync of the folder): a crash leaves the old
state or the new one, never half a module. Files are 0644 (modules are not secret; the
workers only read them), folders 0755, both owned by the daemon's user.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from wasmd.kernel.logs import get_logger
from wasmd.registry.transport import FetchError

FILE_MODE = 0o644
DIR_MODE = 0o755
_HEX = re.compile(r"^[0-9a-f]{64}$")
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class TagEntry:
    manifest: str  # hex
    module: str  # hex


class Store:
    """A module store rooted at ``root`` (created on first write)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.log = get_logger(component="registry")

    # -- modules
    def module_path(self, hex_digest: str) -> Path:
        if not _HEX.match(hex_digest):
            raise ValueError(f"not a sha256 hex digest: {hex_digest!r}")
        return self.root / "sha256" / f"{hex_digest}.wasm"

    def verified(self, hex_digest: str) -> Path | None:
        """The module's path if present and its bytes hash to ``hex_digest``, else None."""
        path = self.module_path(hex_digest)
        try:
            actual = _sha256_file(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise FetchError(f"module store: cannot read {path}: {exc.strerror}") from None
        if actual == hex_digest:
            return path
        self.log.error("store_corrupt", path=str(path), actual_sha256=actual)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return None

    def put(self, data: bytes) -> tuple[str, Path]:
        """Store ``data``; (its sha256, its path). Idempotent."""
        hex_digest = hashlib.sha256(data).hexdigest()
        path = self.verified(hex_digest)
        if path is None:
            path = self.module_path(hex_digest)
            _write_atomic(path, data)
        return hex_digest, path

    # -- indexes
    def link_manifest(self, manifest: str, module: str) -> None:
        _write_atomic(self.root / "manifests" / _checked(manifest), module.encode())

    def manifest_module(self, manifest: str) -> str | None:
        """The module hex an image with manifest digest ``manifest`` yielded, if known."""
        text = _read_small(self.root / "manifests" / _checked(manifest))
        return text if text is not None and _HEX.match(text) else None

    def record_tag(self, tag_key: str, entry: TagEntry) -> None:
        doc = {"ref": tag_key, "manifest": entry.manifest, "module": entry.module}
        _write_atomic(self._tag_file(tag_key), json.dumps(doc).encode())

    def tag(self, tag_key: str) -> TagEntry | None:
        """What ``tag_key`` resolved to when it was last pulled, if anything."""
        text = _read_small(self._tag_file(tag_key))
        if text is None:
            return None
        try:
            doc = json.loads(text)
            entry = TagEntry(str(doc["manifest"]), str(doc["module"]))
        except (ValueError, KeyError, TypeError):
            return None
        if doc.get("ref") != tag_key or not (
            _HEX.match(entry.manifest) and _HEX.match(entry.module)
        ):
            return None
        return entry

    def _tag_file(self, tag_key: str) -> Path:
        return self.root / "tags" / f"{hashlib.sha256(tag_key.encode()).hexdigest()}.json"


def _checked(hex_digest: str) -> str:
    if not _HEX.match(hex_digest):
        raise ValueError(f"not a sha256 hex digest: {hex_digest!r}")
    return hex_digest


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read_small(path: Path) -> str | None:
    try:
        with path.open("rb") as fh:
            return fh.read(4096).decode().strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    except OSError as exc:
        raise FetchError(f"module store: cannot read {path}: {exc.strerror}") from None


def _make_dir(path: Path) -> None:
    try:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(
            f"module store: cannot create {path}: {exc.strerror}; check daemon.cache_dir"
        ) from None


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the whole new one."""
    _make_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        fd = os.open(tmp, flags, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)  # the umask must not make it group-writable, nor hide it
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise FetchError(f"module store: cannot write {path}: {exc.strerror}") from None
