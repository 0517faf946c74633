"""The compile cache's file format: what an entry claims, checked before wasmtime sees it.

wasmtime runs deserialized machine code as is, so an entry must say which module and
which engine it was compiled for, and the loader must check both. An entry is::

    MAGIC | sha256(module .wasm) | engine fingerprint | sha256(payload) | payload

An entry copied under another module's file name (``trap.wasm``'s code named as
``add_header.wasm``'s) names the wrong module and is refused; one built by another
wasmtime or with other engine settings names the wrong engine; a torn or corrupted file
fails its payload digest. This defends against mix-ups and substitution, not against a
forger who can write the cache: that is what ``cache_dir``'s ownership and mode check is
for (``wasmd.kernel.private_dirs``; docs/security.md).
"""

from __future__ import annotations

import hashlib
import platform

MAGIC = b"WASMDCW2"
_DIGEST = 32
HEADER_BYTES = len(MAGIC) + 3 * _DIGEST  # ahead of the payload


def engine_fingerprint(wasmtime_version: str, settings: str) -> bytes:
    """What makes compiled code usable by an engine: wasmtime, its settings, the CPU."""
    return hashlib.sha256(f"{wasmtime_version};{settings};{platform.machine()}".encode()).digest()


def encode(module_sha256: bytes, engine: bytes, payload: bytes) -> bytes:
    """An entry for ``payload`` (wasmtime's serialized module)."""
    return MAGIC + module_sha256 + engine + hashlib.sha256(payload).digest() + payload


def decode(data: bytes, module_sha256: bytes, engine: bytes) -> bytes | None:
    """The payload if ``data`` is an intact entry for this module and engine, else None."""
    if len(data) < HEADER_BYTES or not data.startswith(MAGIC):
        return None
    at = len(MAGIC)
    if data[at : at + _DIGEST] != module_sha256:
        return None
    at += _DIGEST
    if data[at : at + _DIGEST] != engine:
        return None
    at += _DIGEST
    payload = data[HEADER_BYTES:]
    if hashlib.sha256(payload).digest() != data[at : at + _DIGEST]:
        return None
    return payload
