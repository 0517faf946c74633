"""Read a Wasm module's import and export names without compiling it.

The supervisor and the CLI need to know what a plugin exports (its ABI marker, which
callbacks it has, so ``wasmd envoy-config`` can skip body phases nobody handles) without
importing wasmtime. This walks the binary's sections; it is not a validator.
"""

from __future__ import annotations

from dataclasses import dataclass

from wasmd.kernel.errors import PluginLoadError

WASM_MAGIC = b"\0asm"
_IMPORT_SECTION = 2
_EXPORT_SECTION = 7
_EXTERNAL_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    imports: tuple[tuple[str, str, str], ...]  # (module, name, kind)
    exports: tuple[tuple[str, str], ...]  # (name, kind)

    @property
    def export_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.exports)

    def imports_host_function(self, name: str) -> bool:
        """Whether the module imports Proxy-Wasm host function ``name`` (module ``env``)."""
        return ("env", name, "func") in self.imports


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise PluginLoadError("truncated Wasm module")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def u32(self) -> int:
        result, shift = 0, 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 35:
                raise PluginLoadError("malformed LEB128 in Wasm module")

    def bytes(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise PluginLoadError("truncated Wasm module")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def name(self) -> str:
        return self.bytes(self.u32()).decode("utf-8", "replace")

    def skip_limits(self) -> None:
        flags = self.u32()
        self.u32()
        if flags & 1:
            self.u32()


def _import_desc(r: _Reader, kind: int) -> None:
    """Skip one import's type description."""
    if kind == 0 or kind == 4:  # func (type index) / tag (attribute + type index)
        if kind == 4:
            r.byte()
        r.u32()
    elif kind == 1:  # table: reftype + limits
        r.byte()
        r.skip_limits()
    elif kind == 2:  # memory: limits
        r.skip_limits()
    elif kind == 3:  # global: valtype + mutability
        r.byte()
        r.byte()
    else:
        raise PluginLoadError(f"unknown import kind {kind} in Wasm module")


def check_magic(data: bytes) -> None:
    """Raise PluginLoadError unless ``data`` starts as a WebAssembly binary does."""
    if not data.startswith(WASM_MAGIC):
        raise PluginLoadError(
            "not a WebAssembly module: it does not start with the \\0asm magic number "
            "(a text file, an archive or a truncated download?)"
        )


def read_module_info(data: bytes) -> ModuleInfo:
    """Imports and exports of a Wasm binary; raises PluginLoadError if it is not one."""
    check_magic(data)
    r = _Reader(data)
    r.pos = 8
    imports: list[tuple[str, str, str]] = []
    exports: list[tuple[str, str]] = []
    while r.pos < len(data):
        section, size = r.byte(), r.u32()
        end = r.pos + size
        if section == _IMPORT_SECTION:
            for _ in range(r.u32()):
                module, name, kind = r.name(), r.name(), r.byte()
                _import_desc(r, kind)
                imports.append((module, name, _EXTERNAL_KINDS.get(kind, "?")))
        elif section == _EXPORT_SECTION:
            for _ in range(r.u32()):
                name, kind = r.name(), r.byte()
                r.u32()
                exports.append((name, _EXTERNAL_KINDS.get(kind, "?")))
        r.pos = end
    return ModuleInfo(tuple(imports), tuple(exports))
