"""Header-map ("pairs") serialization, as proxy-wasm-cpp-host's pairs_util does it.

Layout (little-endian): u32 count N; N x (u32 key_len, u32 value_len); then N x
(key, NUL, value, NUL). Lengths exclude the NUL. Pure functions, no I/O.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import chain

from workers.abi.types import MAX_PAIRS_BYTES, MAX_PAIRS_COUNT

Pair = tuple[bytes, bytes]

_U32 = struct.Struct("<I")
_U32X2 = struct.Struct("<II")


class PairsError(ValueError):
    """Serialized pairs are malformed or exceed the host limits."""


def encoded_size(pairs: Iterable[Pair]) -> int:
    """Size in bytes of ``encode(pairs)``."""
    return 4 + sum(8 + len(k) + len(v) + 2 for k, v in pairs)


@lru_cache(maxsize=64)
def _head(count: int) -> struct.Struct:
    """The count and size table of ``count`` pairs (one compiled Struct per count)."""
    return struct.Struct(f"<{2 * count + 1}I")


def encode(pairs: Sequence[Pair]) -> bytes:
    """Serialize pairs, keeping order and duplicates."""
    if not pairs:
        return _U32.pack(0)
    # k0, v0, k1, v1 ...: one C-level pass for the sizes and one join for the strings
    # (half the cost of building both lists pair by pair; this runs on every request).
    flat = list(chain.from_iterable(pairs))
    return _head(len(pairs)).pack(len(pairs), *map(len, flat)) + b"\0".join(flat) + b"\0"


def decode(buf: bytes) -> list[Pair]:
    """Parse serialized pairs; raise PairsError on anything the cpp-host would reject.

    An empty buffer, or a single NUL byte, is the empty map.
    """
    size = len(buf)
    if size == 0 or (size == 1 and buf[0] == 0):
        return []
    if size > MAX_PAIRS_BYTES:
        raise PairsError(f"pairs buffer of {size} bytes exceeds {MAX_PAIRS_BYTES}")
    if size < 4:
        raise PairsError("pairs buffer shorter than its count field")
    (count,) = _U32.unpack_from(buf, 0)
    if count > MAX_PAIRS_COUNT:
        raise PairsError(f"{count} pairs exceed the limit of {MAX_PAIRS_COUNT}")
    pos = 4 + 8 * count
    if pos > size:
        raise PairsError("pairs buffer shorter than its size table")
    out: list[Pair] = []
    for i in range(count):
        klen, vlen = _U32X2.unpack_from(buf, 4 + 8 * i)
        end = pos + klen + vlen + 2
        if end > size:
            raise PairsError(f"pair {i} runs past the end of the buffer")
        if buf[pos + klen] != 0 or buf[end - 1] != 0:
            raise PairsError(f"pair {i} is missing its NUL terminator")
        out.append((bytes(buf[pos : pos + klen]), bytes(buf[pos + klen + 1 : end - 1])))
        pos = end
    if pos != size:
        raise PairsError(f"{size - pos} trailing bytes after the last pair")
    return out
