"""The runtime-neutral VM interface the ABI layer and contexts are written against.

Like proxy-wasm-cpp-host's ``WasmVm``: load, link imports by their declared types, call
exports under a CPU deadline, and read/write guest memory. ``BytesMemory`` is a plain
in-process memory for unit tests of the ABI layer.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

ValKind = str  # "i32" | "i64" | "f32" | "f64" | other (unsupported in host functions)


@dataclass(frozen=True, slots=True)
class ImportSpec:
    """One import as the module declares it."""

    module: str
    name: str
    params: tuple[ValKind, ...]
    results: tuple[ValKind, ...]


HostFn = Callable[..., int | None]
"""A host function: called with the guest's arguments as ints, returns the result (or None)."""


@dataclass(frozen=True, slots=True)
class Shortcut:
    """What a host function of type (i32, i32, i32) -> i32 answers without doing anything.

    A call whose first argument is below ``below`` and whose second and third arguments
    are a (pointer, size) span inside linear memory returns ``result`` and has no other
    effect, so a VM binding may answer it without calling the function. It exists for
    proxy_log below the plugin's level: SDKs log debug lines on every request.
    """

    below: int
    result: int


@dataclass(frozen=True, slots=True)
class ShortcutFn:
    """A host function with the ``Shortcut`` its VM binding may take; calls ``fn``."""

    fn: HostFn
    shortcut: Shortcut

    def __call__(self, *args: int) -> int | None:
        return self.fn(*args)


class GuestMemoryError(Exception):
    """A guest pointer/size pair falls outside linear memory."""


class HostTrap(Exception):
    """Raised by a host function to trap the calling guest (e.g. WASI proc_exit)."""

    def __init__(self, message: str, kind: str = "trap") -> None:
        super().__init__(message)
        self.kind = kind


class GuestMemory(Protocol):
    """Linear memory of one instance. Every method raises GuestMemoryError when out of bounds."""

    def size(self) -> int: ...
    def read(self, ptr: int, size: int) -> bytes: ...
    def write(self, ptr: int, data: bytes) -> None: ...
    def read_u32(self, ptr: int) -> int: ...
    def write_u32(self, ptr: int, value: int) -> None: ...
    def read_u64(self, ptr: int) -> int: ...
    def write_u64(self, ptr: int, value: int) -> None: ...


class Vm(Protocol):
    """One instantiated module with its own store, memory and limits."""

    exports: frozenset[str]
    memory: GuestMemory

    def call(self, name: str, *args: int) -> int | None:
        """Call an export under the CPU deadline.

        Raises ``wasmd.kernel.errors.PluginTrap`` on a trap, deadline or memory failure; the VM
        must be treated as failed afterwards.
        """
        ...

    def function(self, name: str) -> Callable[..., int | None]:
        """``call`` bound to export ``name`` (which must exist): the same contract, without
        the per-call lookup. Raises KeyError if the module does not export ``name``."""
        ...

    def close(self) -> None: ...


_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class BytesMemory:
    """GuestMemory over a bytearray, for tests of code above the VM binding."""

    def __init__(self, size: int = 65536) -> None:
        self.buf = bytearray(size)

    def size(self) -> int:
        return len(self.buf)

    def _check(self, ptr: int, size: int) -> None:
        if ptr < 0 or size < 0 or ptr + size > len(self.buf):
            raise GuestMemoryError(f"access [{ptr}, {ptr + size}) outside {len(self.buf)} bytes")

    def read(self, ptr: int, size: int) -> bytes:
        self._check(ptr, size)
        return bytes(self.buf[ptr : ptr + size])

    def write(self, ptr: int, data: bytes) -> None:
        self._check(ptr, len(data))
        self.buf[ptr : ptr + len(data)] = data

    def read_u32(self, ptr: int) -> int:
        self._check(ptr, 4)
        return int(_U32.unpack_from(self.buf, ptr)[0])

    def write_u32(self, ptr: int, value: int) -> None:
        self._check(ptr, 4)
        _U32.pack_into(self.buf, ptr, value & 0xFFFFFFFF)

    def read_u64(self, ptr: int) -> int:
        self._check(ptr, 8)
        return int(_U64.unpack_from(self.buf, ptr)[0])

    def write_u64(self, ptr: int, value: int) -> None:
        self._check(ptr, 8)
        _U64.pack_into(self.buf, ptr, value & 0xFFFFFFFFFFFFFFFF)
