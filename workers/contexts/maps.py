"""Header maps and body buffers as Envoy exposes them to plugins."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from workers.abi.types import WasmResult

Pair = tuple[bytes, bytes]


class HeaderMap:
    """An ordered multimap with lower-cased keys (Envoy's LowerCaseString semantics)."""

    __slots__ = ("_items", "writable")

    def __init__(self, items: Iterable[Pair] = (), *, writable: bool = True) -> None:
        # An empty map is made for every exchange: skip the comprehension's frame for it.
        self._items: list[Pair] = [(k.lower(), v) for k, v in items] if items else []
        self.writable = writable

    def get(self, key: bytes) -> bytes | None:
        key = key.lower()
        for k, v in self._items:
            if k == key:
                return v
        return None

    def add(self, key: bytes, value: bytes) -> None:
        self._items.append((key.lower(), value))

    def replace(self, key: bytes, value: bytes) -> None:
        key = key.lower()
        for i, (k, _) in enumerate(self._items):
            if k == key:
                self._items[i] = (key, value)
                self._items[i + 1 :] = [p for p in self._items[i + 1 :] if p[0] != key]
                return
        self._items.append((key, value))

    def remove(self, key: bytes) -> None:
        key = key.lower()
        self._items = [p for p in self._items if p[0] != key]

    def pairs(self) -> list[Pair]:
        return list(self._items)

    def set_pairs(self, items: Sequence[Pair]) -> None:
        self._items = [(k.lower(), v) for k, v in items]

    def byte_size(self) -> int:
        """Envoy's HeaderMap::byteSize(): the sum of key and value lengths."""
        return sum(len(k) + len(v) for k, v in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"HeaderMap({self._items!r})"


class BodyBuffer:
    """A body buffer with Envoy's ``Buffer::copyFrom`` rules for proxy_set_buffer_bytes."""

    __slots__ = ("data", "writable")

    def __init__(self, data: bytes = b"", *, writable: bool = True) -> None:
        self.data = bytearray(data)
        self.writable = writable

    def size(self) -> int:
        return len(self.data)

    def get(self, start: int, length: int) -> bytes:
        return bytes(self.data[start : start + length])

    def copy_from(self, start: int, length: int, data: bytes) -> WasmResult:
        """start=0: drop ``length`` bytes then prepend; start >= size: append; else BadArgument."""
        if not self.writable:
            return WasmResult.BAD_ARGUMENT
        if start == 0:
            del self.data[:length]
            self.data[0:0] = data
            return WasmResult.OK
        if start >= len(self.data):
            self.data += data
            return WasmResult.OK
        return WasmResult.BAD_ARGUMENT
