"""One wasmtime Engine per worker: epoch ticker, compile cache, instantiation.

The Engine uses wasmtime's default memory configuration (4 GiB reservation, guard pages,
no bounds checks, memory never moves) because it is the fastest and works with the
RLIMIT_DATA the daemon sets on workers; see docs and reference notes on rlimits.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import math
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import wasmtime

from wasmd.kernel.errors import ConfigError, PluginLoadError
from wasmd.kernel.logs import get_logger
from wasmd.kernel.module_info import check_magic
from wasmd.kernel.private_dirs import ensure_private_dir
from workers.vm import cache_entry
from workers.vm.base import HostFn, ImportSpec

if TYPE_CHECKING:
    from workers.vm.wasmtime_vm import WasmtimeVm

EPOCH_TICK_MS = 10  # the CPU deadline is enforced with this granularity
DEFAULT_DEADLINE_MS = 100
DEFAULT_MEMORY_LIMIT_BYTES = 64 << 20
_ENGINE_SETTINGS = "epoch=1;default-memory;opt=speed"  # part of the compile-cache key
WASMTIME_VERSION = importlib.metadata.version("wasmtime")
_ENGINE = cache_entry.engine_fingerprint(WASMTIME_VERSION, _ENGINE_SETTINGS)


def _kind(valtype: wasmtime.ValType) -> str:
    return str(valtype)


@dataclass(frozen=True, slots=True)
class CompiledModule:
    """A module compiled for this Runtime's Engine."""

    sha256: str
    module: wasmtime.Module
    imports: tuple[ImportSpec, ...]
    exports: frozenset[str]
    arity: dict[str, int]
    from_cache: bool = field(default=False, compare=False)


class Runtime:
    """Owns the Engine, the epoch ticker thread and the on-disk compile cache.

    ``fast=True`` makes instances use the raw C-API fast path (workers/vm/fastcall.py);
    ``fast=False`` uses wasmtime-py's public API. Both behave the same.
    """

    def __init__(
        self,
        *,
        cache_dir: Path | None = None,
        fast: bool = True,
        tick_ms: int = EPOCH_TICK_MS,
    ) -> None:
        config = wasmtime.Config()
        config.epoch_interruption = True
        self.engine = wasmtime.Engine(config)
        self.fast = fast
        self.tick_ms = tick_ms
        self.cache_dir = cache_dir
        self._cache_checked = False
        self._compiled: dict[str, CompiledModule] = {}  # precompile(): before a uid drop
        # Ticks so far, written by the ticker right after each increment of the engine's
        # epoch (so epoch <= engine epoch <= epoch + 1): FastVm renews a store's deadline
        # only when this moved since it last did (see FastVm.call).
        self.epoch = 0
        self._helpers: dict[str, wasmtime.Module] = {}
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="wasmd-epoch", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        period_s = self.tick_ms / 1000
        while not self._stop.wait(period_s):
            self.engine.increment_epoch()
            self.epoch += 1

    def deadline_ticks(self, deadline_ms: int) -> int:
        """Epoch ticks for a call budget: trips after deadline_ms, before deadline_ms + 1 tick
        (+ 2 ticks on the fast path, which may reuse a deadline set within the same tick)."""
        return max(1, math.ceil(deadline_ms / self.tick_ms)) + 1

    def compile(self, wasm: bytes) -> CompiledModule:
        """Compile (or load from the cache) a module; raises PluginLoadError if invalid."""
        check_magic(wasm)  # else wasmtime reads text as WAT and reports a WAT syntax error
        digest = hashlib.sha256(wasm).hexdigest()
        if digest in self._compiled:
            return self._compiled[digest]
        module, cached = self._load_cached(digest)
        if module is None:
            try:
                module = wasmtime.Module(self.engine, wasm)
            except wasmtime.WasmtimeError as exc:
                raise PluginLoadError(f"not a valid Wasm module: {_first_line(exc)}") from exc
            self._store_cached(digest, module)
        imports = tuple(_import_spec(imp) for imp in module.imports)
        exports = frozenset(exp.name for exp in module.exports)
        arity = {
            exp.name: len(exp.type.params)
            for exp in module.exports
            if isinstance(exp.type, wasmtime.FuncType)
        }
        return CompiledModule(digest, module, imports, exports, arity, cached)

    def precompile(self, wasm: bytes) -> None:
        """Compile now and keep the result for ``compile``: a worker does this before it
        drops to a user that cannot read the cache (workers/sandbox.py)."""
        compiled = self.compile(wasm)
        self._compiled[compiled.sha256] = compiled

    def helper_module(self, wat: str) -> wasmtime.Module:
        """A module of wasmd's own (WAT text), compiled once per Runtime."""
        module = self._helpers.get(wat)
        if module is None:
            wasm = bytes(wasmtime.wat2wasm(wat))
            module = self._helpers[wat] = wasmtime.Module(self.engine, wasm)
        return module

    def _cache_path(self, digest: str) -> Path | None:
        if self.cache_dir is None or not self._cache_usable():
            return None
        return self.cache_dir / f"{digest[:16]}-{_ENGINE.hex()[:16]}.cwasm"

    def _cache_usable(self) -> bool:
        """Whether cache_dir passes the ownership/mode check (once; else no cache at all:
        deserializing a file others can write would run their machine code)."""
        if not self._cache_checked and self.cache_dir is not None:
            self._cache_checked = True
            try:
                ensure_private_dir(self.cache_dir, "cache_dir")
            except (ConfigError, OSError) as exc:
                get_logger(component="runtime").warning("compile_cache_off", reason=str(exc))
                self.cache_dir = None
        return self.cache_dir is not None

    def _load_cached(self, digest: str) -> tuple[wasmtime.Module | None, bool]:
        """The cached module, or None to recompile.

        wasmtime executes deserialized machine code as is, so only an entry that names this
        module's sha256 and this engine, with an intact payload (``cache_entry``), in a
        file only we can write, reaches it; anything else means recompile (and overwrite).
        """
        path = self._cache_path(digest)
        if path is None:
            return None, False
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None, False
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(fd)
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                return None, False
            data = f.read()
        payload = cache_entry.decode(data, bytes.fromhex(digest), _ENGINE)
        if payload is None:
            return None, False
        try:
            return wasmtime.Module.deserialize(self.engine, payload), True
        except wasmtime.WasmtimeError:
            # Built by another wasmtime or with other settings: recompile and overwrite.
            return None, False

    def _store_cached(self, digest: str, module: wasmtime.Module) -> None:
        path = self._cache_path(digest)
        if path is None:
            return
        payload = bytes(module.serialize())
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")  # 0600
        with os.fdopen(fd, "wb") as out:
            out.write(cache_entry.encode(bytes.fromhex(digest), _ENGINE, payload))
        os.replace(tmp, path)

    def instantiate(
        self,
        compiled: CompiledModule,
        resolve: Callable[[ImportSpec], HostFn],
        *,
        memory_limit_bytes: int = DEFAULT_MEMORY_LIMIT_BYTES,
        deadline_ms: int = DEFAULT_DEADLINE_MS,
        on_created: Callable[[WasmtimeVm], None] | None = None,
    ) -> WasmtimeVm:
        """Link every declared import through ``resolve`` and instantiate.

        Runs the module's start section (under the CPU deadline); ``on_created`` receives the
        VM before that, so host calls from the start section can reach it. Raises
        PluginLoadError.
        """
        from workers.vm.wasmtime_vm import FastVm, PublicVm

        cls = FastVm if self.fast else PublicVm
        return cls(self, compiled, resolve, memory_limit_bytes, deadline_ms, on_created)

    def close(self) -> None:
        """Stop the ticker; idempotent."""
        self._stop.set()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _import_spec(imp: wasmtime.ImportType) -> ImportSpec:
    ty = imp.type
    if isinstance(ty, wasmtime.FuncType):
        params = tuple(_kind(p) for p in ty.params)
        results = tuple(_kind(r) for r in ty.results)
    else:
        params, results = ("<non-func>",), ()
    return ImportSpec(imp.module, imp.name or "", params, results)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
