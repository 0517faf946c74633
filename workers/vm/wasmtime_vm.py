"""wasmtime instances behind the Vm interface, through two interchangeable paths.

``PublicVm`` uses wasmtime-py's public API (``Linker.define_func``, ``Func.__call__``,
``Memory.read``): 15-75 us per crossing. ``FastVm`` uses the C API that the wasmtime
package binds (``wasmtime_linker_define_func_unchecked`` with ctypes callbacks,
``wasmtime_func_call_unchecked``, a memoryview over linear memory): 2-4 us per crossing.
The fast path touches wasmtime's private modules, hence the version pin in pyproject.toml;
tests run the plugin corpus through both paths and compare.
"""

from __future__ import annotations

import ctypes
import functools
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import wasmtime
from wasmtime import _ffi as ffi

from wasmd.kernel.errors import PluginLoadError, PluginTrap
from workers.vm.base import GuestMemoryError, HostFn, HostTrap, ImportSpec, Shortcut, ShortcutFn
from workers.vm.shim import SHIM_WAT, SLOW_IMPORT, ShortcutShim

if TYPE_CHECKING:
    from workers.vm.runtime import CompiledModule, Runtime

_MASK32 = 0xFFFFFFFF
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_VALTYPES: dict[str, Callable[[], wasmtime.ValType]] = {
    "i32": wasmtime.ValType.i32,
    "i64": wasmtime.ValType.i64,
    "f32": wasmtime.ValType.f32,
    "f64": wasmtime.ValType.f64,
}


def _signed32(value: int) -> int:
    value &= _MASK32
    return value - (1 << 32) if value & 0x80000000 else value


def _first_line(text: str) -> str:
    """The line of a wasmtime error that says what happened (not the backtrace header)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in lines:
        if "wasm trap:" in line:
            return line[line.index("wasm trap:") :]
    return lines[-1] if lines else "unknown error"


def _functype(spec: ImportSpec) -> wasmtime.FuncType:
    try:
        params = [_VALTYPES[k]() for k in spec.params]
        results = [_VALTYPES[k]() for k in spec.results]
    except KeyError as exc:
        raise PluginLoadError(
            f"import {spec.module}.{spec.name} has a type wasmd cannot provide ({exc.args[0]})"
        ) from None
    return wasmtime.FuncType(params, results)


class WasmtimeVm:
    """Shared lifecycle of both paths: store, limits, linking, instantiation, trap mapping."""

    memory: Any

    def __init__(
        self,
        runtime: Runtime,
        compiled: CompiledModule,
        resolve: Callable[[ImportSpec], HostFn],
        memory_limit_bytes: int,
        deadline_ms: int,
        on_created: Callable[[WasmtimeVm], None] | None = None,
    ) -> None:
        self.exports = compiled.exports
        self.deadline_ms = deadline_ms
        self._ticks = runtime.deadline_ticks(deadline_ms)
        self._depth = 0
        self._pending: HostTrap | None = None
        self._closed = False
        self._memory_limit_bytes = memory_limit_bytes
        self._new_store(runtime)
        if on_created is not None:
            # Before instantiation: a start section may already make host calls that use
            # the VM (its memory is bound from the caller on first use).
            on_created(self)
        links: list[tuple[ImportSpec, HostFn]] = []
        for spec in compiled.imports:
            if spec.params == ("<non-func>",):
                raise PluginLoadError(
                    f"module imports {spec.module}.{spec.name}, which is not a function; "
                    "Proxy-Wasm hosts provide only functions (the module must export its memory)"
                )
            links.append((spec, resolve(spec)))
        self._instantiate(runtime, compiled, links)

    def _new_store(self, runtime: Runtime) -> None:
        self.store = wasmtime.Store(runtime.engine)
        self.store.set_limits(memory_size=self._memory_limit_bytes)
        self._ctx = self.store._context()
        self.memory = self._new_memory()

    def _instantiate(
        self, runtime: Runtime, compiled: CompiledModule, links: list[tuple[ImportSpec, HostFn]]
    ) -> None:
        """Link ``links`` into a new linker and instantiate (runs the start section), then
        bind the memory. Raises PluginLoadError."""
        linker = wasmtime.Linker(runtime.engine)
        defined: set[tuple[str, str]] = set()
        for spec, fn in links:
            # The same function imported twice is valid WebAssembly (Go's wasip1 c-shared
            # output imports fd_write twice); a linker name is defined once and serves both.
            # Two imports of one name with different types then fail to instantiate, as the
            # module cannot be satisfied.
            if (spec.module, spec.name) in defined:
                continue
            defined.add((spec.module, spec.name))
            self._define(linker, spec, fn)
        self._set_deadline()
        try:
            self.instance = linker.instantiate(self.store, compiled.module)
        except (wasmtime.Trap, wasmtime.WasmtimeError, HostTrap) as exc:
            failure = self._classify(exc)
            raise PluginLoadError(f"instantiation failed: {failure}") from exc
        self._bind_memory()

    # -- hooks of the two paths ---------------------------------------------------------
    def _new_memory(self) -> Any:
        raise NotImplementedError

    def _define(self, linker: wasmtime.Linker, spec: ImportSpec, fn: HostFn) -> None:
        raise NotImplementedError

    def _bind_memory(self) -> None:
        raise NotImplementedError

    def _set_deadline(self) -> None:
        self.store.set_epoch_deadline(self._ticks)

    def call(self, name: str, *args: int) -> int | None:
        """Call export ``name``; raises PluginTrap (see workers.vm.base.Vm.call)."""
        raise NotImplementedError

    def function(self, name: str) -> Callable[..., int | None]:
        """``call`` bound to export ``name``; KeyError if the module does not export it."""
        if name not in self.exports:
            raise KeyError(name)
        return functools.partial(self.call, name)

    # -- shared ----------------------------------------------------------------------------
    def _classify(self, exc: BaseException) -> PluginTrap:
        """Turn whatever a guest call raised into a PluginTrap with a kind."""
        pending, self._pending = self._pending, None
        if isinstance(exc, HostTrap):
            return PluginTrap(str(exc), exc.kind)
        if pending is not None:
            return PluginTrap(str(pending), pending.kind)
        if isinstance(exc, wasmtime.Trap):
            code = exc.trap_code
            if code == wasmtime.TrapCode.INTERRUPT:
                return PluginTrap(f"exceeded its CPU deadline of {self.deadline_ms} ms", "deadline")
            kind = "memory" if code == wasmtime.TrapCode.MEMORY_OUT_OF_BOUNDS else "trap"
            return PluginTrap(f"trapped: {_first_line(exc.message)}", kind)
        return PluginTrap(f"failed: {_first_line(str(exc))}", "trap")

    def _trap_from_host(self, name: str, exc: BaseException) -> HostTrap:
        if isinstance(exc, HostTrap):
            return exc
        if isinstance(exc, PluginTrap):  # a nested guest call (the allocator) failed
            return HostTrap(str(exc), kind=exc.kind)
        # A bug in wasmd's own host code: fail this VM, never the worker.
        return HostTrap(f"host function {name} raised {exc!r}", kind="host")

    def close(self) -> None:
        """Release the store; idempotent. The VM must not be used afterwards."""
        if self._closed:
            return
        self._closed = True
        self.memory.release()
        # A VM whose instantiation failed has no instance (it may still be closed by its
        # owner, which got it through on_created).
        self.__dict__.pop("instance", None)
        del self.store

    def __enter__(self) -> WasmtimeVm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------
# Public API path
# ---------------------------------------------------------------------------------------


class PublicMemory:
    """GuestMemory over wasmtime.Memory.read/write, valid inside and outside host calls."""

    def __init__(self, store: wasmtime.Store) -> None:
        self.store = store
        self.caller: wasmtime.Caller | None = None
        self.mem: wasmtime.Memory | None = None

    def _ctx(self) -> Any:
        return self.caller if self.caller is not None else self.store

    def bind_caller(self, caller: wasmtime.Caller) -> None:
        if self.mem is None:
            item = caller.get("memory")
            if isinstance(item, wasmtime.Memory):
                self.mem = item

    def _span(self, ptr: int, size: int) -> wasmtime.Memory:
        if self.mem is None:
            raise GuestMemoryError("module exports no memory")
        if ptr < 0 or size < 0 or ptr + size > self.mem.data_len(self._ctx()):
            raise GuestMemoryError(f"access [{ptr}, {ptr + size}) outside linear memory")
        return self.mem

    def size(self) -> int:
        return 0 if self.mem is None else int(self.mem.data_len(self._ctx()))

    def read(self, ptr: int, size: int) -> bytes:
        mem = self._span(ptr, size)
        return bytes(mem.read(self._ctx(), ptr, ptr + size)) if size else b""

    def write(self, ptr: int, data: bytes) -> None:
        mem = self._span(ptr, len(data))
        if data:
            mem.write(self._ctx(), bytearray(data), ptr)

    def read_u32(self, ptr: int) -> int:
        return int(_U32.unpack(self.read(ptr, 4))[0])

    def write_u32(self, ptr: int, value: int) -> None:
        self.write(ptr, _U32.pack(value & _MASK32))

    def read_u64(self, ptr: int) -> int:
        return int(_U64.unpack(self.read(ptr, 8))[0])

    def write_u64(self, ptr: int, value: int) -> None:
        self.write(ptr, _U64.pack(value & 0xFFFFFFFFFFFFFFFF))

    def release(self) -> None:
        self.caller = None
        self.mem = None


class PublicVm(WasmtimeVm):
    """Reference path through wasmtime-py's public API only."""

    def __init__(self, *args: Any) -> None:
        self._funcs: dict[str, tuple[wasmtime.Func, tuple[str, ...]]] = {}
        super().__init__(*args)

    def _new_memory(self) -> PublicMemory:
        return PublicMemory(self.store)

    def _define(self, linker: wasmtime.Linker, spec: ImportSpec, fn: HostFn) -> None:
        memory = self.memory
        kinds = spec.params
        has_result = bool(spec.results)
        name = f"{spec.module}.{spec.name}"

        def host(caller: wasmtime.Caller, *raw: int) -> int | None:
            previous = memory.caller
            memory.caller = caller
            memory.bind_caller(caller)
            try:
                args = [a & _MASK32 if k == "i32" else a for a, k in zip(raw, kinds, strict=True)]
                result = fn(*args)
                if not has_result:
                    return None
                return _signed32(result or 0) if spec.results[0] == "i32" else (result or 0)
            except BaseException as exc:
                self._pending = self._trap_from_host(name, exc)
                raise self._pending from None
            finally:
                memory.caller = previous

        linker.define_func(spec.module, spec.name, _functype(spec), host, access_caller=True)

    def _bind_memory(self) -> None:
        if self.memory.mem is None:
            item = self.instance.exports(self.store).get("memory")
            if isinstance(item, wasmtime.Memory):
                self.memory.mem = item

    def call(self, name: str, *args: int) -> int | None:
        entry = self._funcs.get(name)
        if entry is None:
            func = self.instance.exports(self.store)[name]
            assert isinstance(func, wasmtime.Func)
            kinds = tuple(str(p) for p in func.type(self.store).params)
            entry = self._funcs[name] = (func, kinds)
        func, kinds = entry
        params = [_signed32(a) if k == "i32" else a for a, k in zip(args, kinds, strict=True)]
        if self._depth == 0:
            self._set_deadline()
        self._depth += 1
        try:
            result = func(self.store, *params)
        except (wasmtime.Trap, wasmtime.WasmtimeError, HostTrap) as exc:
            raise self._classify(exc) from None
        finally:
            self._depth -= 1
        self._pending = None
        if isinstance(result, int):
            return result & _MASK32 if result >= -(1 << 31) and result < (1 << 32) else result
        return None


# ---------------------------------------------------------------------------------------
# Fast path: the C API bound by the wasmtime package, through ctypes
# ---------------------------------------------------------------------------------------


def _noop(_env: Any) -> None:
    return None


_noop_finalizer = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(_noop)


def _trap_ptr(message: str) -> int:
    trap = wasmtime.Trap(message)
    return int(ctypes.cast(trap._consume(), ctypes.c_void_p).value or 0)


def _c_function(name: str, restype: Any) -> Any:
    """A fresh function pointer into the library wasmtime-py loaded, without argtypes.

    wasmtime-py's own pointers convert every argument through ``argtypes`` and wrap the
    result in a new pointer object: ~1.3 us of a 1.9 us call. Ours are called only with
    prebuilt ctypes objects (no conversion) and return a plain int. ``dll[name]`` (not
    ``dll.name``) so that the shared, cached pointer of wasmtime-py stays untouched.
    """
    fn = ffi.dll[name]
    fn.restype = restype
    return fn


# (context*, func*, val_raw*, size_t, wasm_trap_t**) -> wasmtime_error_t*
_call_unchecked = _c_function("wasmtime_func_call_unchecked", ctypes.c_void_p)
# (context*, uint64_t) -> void
_set_epoch_deadline = _c_function("wasmtime_context_set_epoch_deadline", None)
# The host callback type, with addresses as plain ints: wasmtime-py's type builds two
# pointer objects per call, and indexing ``args_and_results`` builds one struct per value.
_RAW_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t
)
_VAL_RAW_BYTES = ctypes.sizeof(ffi.wasmtime_val_raw_t)  # 16: every value takes one slot
# How one wasmtime_val_raw_t slot reads as an argument: i32 unsigned (the ABI's u32
# pointers and sizes), i64 signed (as ctypes' c_long field did).
_SLOT_FORMAT = {"i32": "I" + "x" * (_VAL_RAW_BYTES - 4), "i64": "q" + "x" * (_VAL_RAW_BYTES - 8)}
_RESULT_I32 = struct.Struct("<I")
_I32X3 = ("i32", "i32", "i32")  # the type a Shortcut applies to
_EXTERN_MEMORY = int(ffi.WASMTIME_EXTERN_MEMORY.value)  # a c_ubyte in _ffi: never == an int


_MAX_VIEWS = 64  # argument frames remembered per host function


def _view_at(views: dict[int, Any], frame: Any, address: int) -> Any:
    """``frame`` over the arguments at ``address``, remembered in ``views``.

    wasmtime passes arguments on its native stack, so one host function sees the same
    few addresses over and over (one per call depth); a lookup costs a third of building
    the ctypes array. Only ever read at the address the current call was given.
    """
    if len(views) >= _MAX_VIEWS:  # a deeply recursive guest: start over
        views.clear()
    view = views[address] = frame.from_address(address)
    return view


class FastMemory:
    """GuestMemory over a memoryview of linear memory (~0.5 us per access).

    With wasmtime's default memory configuration the base address never moves, so the
    view is only refreshed when an access falls past its end (the memory grew).
    """

    def __init__(self, ctx: Any, on_size: Callable[[int], None] | None = None) -> None:
        self._ctx = ctx
        self._mem: Any = None
        self._view = memoryview(bytearray(0))
        self._on_size = on_size  # told the size whenever the view is refreshed

    @property
    def bound(self) -> bool:
        return self._mem is not None

    def bind(self, extern_memory: Any) -> None:
        self._mem = extern_memory
        self._refresh()

    def _refresh(self) -> None:
        if self._mem is None:
            return
        ref = ctypes.byref(self._mem)
        size = ffi.wasmtime_memory_data_size(self._ctx, ref)
        base = ffi.wasmtime_memory_data(self._ctx, ref)
        addr = ctypes.addressof(base.contents)
        self._view = memoryview((ctypes.c_ubyte * size).from_address(addr)).cast("B")
        if self._on_size is not None:
            self._on_size(size)

    def _check(self, ptr: int, size: int) -> None:
        """Slow path of every access: refresh the view (memory may have grown), then
        raise GuestMemoryError if [ptr, ptr + size) is still outside it."""
        end = ptr + size
        if end > len(self._view):
            self._refresh()
        if ptr < 0 or size < 0 or end > len(self._view):
            raise GuestMemoryError(f"access [{ptr}, {end}) outside linear memory")

    # The accessors test bounds inline and call _check only when the test fails: they run
    # several times per host call, and a method call costs as much as the access itself.
    def size(self) -> int:
        self._refresh()
        return len(self._view)

    def read(self, ptr: int, size: int) -> bytes:
        end = ptr + size
        if ptr < 0 or size < 0 or end > len(self._view):
            self._check(ptr, size)
        return self._view[ptr:end].tobytes()

    def write(self, ptr: int, data: bytes) -> None:
        end = ptr + len(data)
        if ptr < 0 or end > len(self._view):
            self._check(ptr, len(data))
        self._view[ptr:end] = data

    def read_u32(self, ptr: int) -> int:
        if ptr < 0 or ptr + 4 > len(self._view):
            self._check(ptr, 4)
        return int(_U32.unpack_from(self._view, ptr)[0])

    def write_u32(self, ptr: int, value: int) -> None:
        if ptr < 0 or ptr + 4 > len(self._view):
            self._check(ptr, 4)
        _U32.pack_into(self._view, ptr, value & _MASK32)

    def read_u64(self, ptr: int) -> int:
        if ptr < 0 or ptr + 8 > len(self._view):
            self._check(ptr, 8)
        return int(_U64.unpack_from(self._view, ptr)[0])

    def write_u64(self, ptr: int, value: int) -> None:
        if ptr < 0 or ptr + 8 > len(self._view):
            self._check(ptr, 8)
        _U64.pack_into(self._view, ptr, value & 0xFFFFFFFFFFFFFFFF)

    def release(self) -> None:
        self._view.release()
        self._view = memoryview(bytearray(0))
        self._mem = None


class _FastExport:
    """One export, with its argument array and the ctypes objects a call passes, prebuilt."""

    __slots__ = ("fref", "args", "nargs", "kinds", "pack", "result", "result_u32")

    def __init__(self, func: Any, kinds: tuple[str, ...], results: tuple[str, ...]) -> None:
        self.fref = ctypes.byref(func)
        nargs = max(len(kinds), len(results), 1)
        self.nargs = ctypes.c_size_t(nargs)
        self.args = (ffi.wasmtime_val_raw_t * nargs)()
        self.kinds = kinds
        # All arguments in one C call. It refuses values out of range (and a wrong count);
        # store_masked() then handles them as before.
        self.pack = struct.Struct(
            "<" + "".join(_SLOT_FORMAT["i32" if k == "i32" else "i64"] for k in kinds)
        ).pack_into
        self.result = results[0] if results else None
        self.result_u32 = ctypes.c_uint32.from_buffer(self.args)  # the i32 result, unsigned

    def store_masked(self, args: tuple[int, ...]) -> None:
        """Store arguments through the C field types, which keep the low 32/64 bits."""
        for i, (value, kind) in enumerate(zip(args, self.kinds, strict=True)):
            if kind == "i32":
                self.args[i].i32 = _signed32(value)
            else:
                self.args[i].i64 = value


class FastVm(WasmtimeVm):
    """Per-request path: ctypes callbacks and unchecked calls straight into the C API."""

    def __init__(self, runtime: Runtime, *args: Any) -> None:
        self._callbacks: list[Any] = []
        self._exports: dict[str, _FastExport] = {}
        self._functions: dict[str, Callable[..., int | None]] = {}
        # One trap out-pointer per nesting depth (a host call may call the allocator):
        # reused across calls, reset after a trap.
        self._trap_slots: list[tuple[ctypes.c_void_p, Any]] = []
        self._runtime = runtime
        self._deadline_epoch = -1  # runtime.epoch when the deadline was last renewed
        # Shortcut imports are answered in Wasm by a helper instance (workers/vm/shim.py),
        # unless the start section's first host call came through one (see _instantiate).
        self._shims: list[ShortcutShim] = []
        self._use_shims = True
        self._instantiating = False
        self._shim_refused = False
        super().__init__(runtime, *args)
        # One tick more than a fresh deadline: a call that reuses the deadline may start
        # up to one tick later (see call()), and must still get the whole budget.
        self._ticks_arg = ctypes.c_uint64(self._ticks + 1)

    def _set_deadline(self) -> None:
        _set_epoch_deadline(self._ctx, ctypes.c_uint64(self._ticks))
        self._deadline_epoch = -1

    def _new_memory(self) -> FastMemory:
        return FastMemory(self._ctx, on_size=self._memory_seen)

    def _memory_seen(self, size_bytes: int) -> None:
        for shim in self._shims:
            shim.set_limit(size_bytes)

    def _instantiate(
        self, runtime: Runtime, compiled: CompiledModule, links: list[tuple[ImportSpec, HostFn]]
    ) -> None:
        self._instantiating = True
        try:
            super()._instantiate(runtime, compiled, links)
        except PluginLoadError:
            if not self._shim_refused:
                raise
            # The start section's first host call came through a helper before the memory
            # could be bound (a helper is not the plugin: its calls cannot find the
            # plugin's memory). Nothing outside the guest ran yet: start over in a new
            # store, with the shortcuts answered in Python.
            self._use_shims, self._shim_refused, self._pending = False, False, None
            self._shims.clear()
            self._new_store(runtime)
            super()._instantiate(runtime, compiled, links)
        finally:
            self._instantiating = False

    def _define(self, linker: wasmtime.Linker, spec: ImportSpec, fn: HostFn) -> None:
        if isinstance(fn, ShortcutFn) and spec.params == _I32X3 and spec.results == ("i32",):
            if self._use_shims:
                self._define_shim(linker, spec, fn)
                return
            callback = self._shortcut_callback(fn.shortcut, self._plain_callback(spec, fn))
        else:
            callback = self._plain_callback(spec, fn)
        self._define_raw(linker, spec.module, spec.name, spec, callback)

    def _define_shim(self, linker: wasmtime.Linker, spec: ImportSpec, fn: ShortcutFn) -> None:
        """Link ``spec`` to a helper instance that answers ``fn.shortcut`` in Wasm and
        calls ``fn`` otherwise."""
        slow = self._plain_callback(spec, fn, via_shim=True)
        helper_linker = wasmtime.Linker(self._runtime.engine)
        self._define_raw(helper_linker, *SLOW_IMPORT, spec, slow)
        module = self._runtime.helper_module(SHIM_WAT)
        shim = ShortcutShim(self.store, helper_linker, module, fn.shortcut)
        linker.define(self.store, spec.module, spec.name, shim.func)
        self._shims.append(shim)

    def _define_raw(
        self,
        linker: wasmtime.Linker,
        module_name: str,
        import_name: str,
        spec: ImportSpec,
        fn: Callable[..., int],
    ) -> None:
        """Define ``module_name.import_name`` of ``spec``'s type as the ctypes callback ``fn``."""
        raw = _RAW_CALLBACK(fn)
        callback = ctypes.cast(raw, ffi.wasmtime_func_unchecked_callback_t)
        module, name = module_name.encode(), import_name.encode()
        functype = _functype(spec)
        err = ffi.wasmtime_linker_define_func_unchecked(
            linker.ptr(),
            module,
            len(module),
            name,
            len(name),
            functype.ptr(),
            callback,
            None,
            _noop_finalizer,
        )
        if err:
            raise PluginLoadError(str(wasmtime.WasmtimeError._from_ptr(err)))
        self._callbacks.append((raw, callback, functype))

    def _shortcut_callback(
        self, shortcut: Shortcut, slow: Callable[..., int]
    ) -> Callable[..., int]:
        """``slow`` behind ``shortcut``, tested in the same frame: a dropped log line
        costs the ctypes callback and one unpack, not a chain of Python calls."""
        memory: FastMemory = self.memory
        below, answer = shortcut.below, shortcut.result & _MASK32
        frame = ctypes.c_char * (len(_I32X3) * _VAL_RAW_BYTES)
        unpack = struct.Struct("<" + _SLOT_FORMAT["i32"] * len(_I32X3)).unpack_from
        pack_i32 = _RESULT_I32.pack_into

        views: dict[int, Any] = {}

        def raw(env: int | None, caller: int, address: int, n: int) -> int:
            try:
                values = views.get(address) or _view_at(views, frame, address)
                first, ptr, size = unpack(values)
                # A view that is stale (memory grew) or unbound only sends more calls
                # to ``slow``, which has the exact answer.
                if first < below and ptr + size <= len(memory._view):
                    pack_i32(values, 0, answer)
                    return 0
            except BaseException:
                pass  # ``slow`` turns whatever it was into a trap
            return slow(env, caller, address, n)

        return raw

    def _plain_callback(
        self, spec: ImportSpec, fn: HostFn, *, via_shim: bool = False
    ) -> Callable[..., int]:
        memory: FastMemory = self.memory
        result = spec.results[0] if spec.results else None
        label = f"{spec.module}.{spec.name}"
        # Non-i32 parameters read as i64, as before (the ABI has no float parameters).
        unpack = struct.Struct(
            "<" + "".join(_SLOT_FORMAT["i32" if k == "i32" else "i64"] for k in spec.params)
        ).unpack_from
        frame = ctypes.c_char * (max(len(spec.params), len(spec.results), 1) * _VAL_RAW_BYTES)
        pack_i32 = _RESULT_I32.pack_into
        views: dict[int, Any] = {}

        def raw(_env: int | None, caller: int, address: int, _n: int) -> int:
            try:
                if memory._mem is None:
                    self._bind_from_caller(caller)
                    if via_shim and memory._mem is None and self._instantiating:
                        self._shim_refused = True  # see _instantiate
                        return _trap_ptr("shortcut helper called before memory was bound")
                values = views.get(address) or _view_at(views, frame, address)
                value = fn(*unpack(values))
                if result == "i32":
                    pack_i32(values, 0, (value or 0) & _MASK32)
                elif result == "i64":
                    ctypes.c_int64.from_address(address).value = value or 0
                return 0
            except BaseException as exc:
                self._pending = self._trap_from_host(label, exc)
                return _trap_ptr(str(self._pending))

        return raw

    def _bind_from_caller(self, caller: int) -> None:
        item = ffi.wasmtime_extern_t()
        pointer = ctypes.cast(caller, ctypes.POINTER(ffi.wasmtime_caller_t))
        found = ffi.wasmtime_caller_export_get(pointer, b"memory", 6, ctypes.byref(item))
        kind = cast(int, item.kind)  # the field reads as an int (the stub says c_ubyte)
        if found and kind == _EXTERN_MEMORY:
            self.memory.bind(item.of.memory)

    def _bind_memory(self) -> None:
        if not self.memory.bound:
            item = self.instance.exports(self.store).get("memory")
            if isinstance(item, wasmtime.Memory):
                self.memory.bind(item._memory)

    def _export(self, name: str) -> _FastExport:
        func = self.instance.exports(self.store)[name]
        assert isinstance(func, wasmtime.Func)
        ty = func.type(self.store)
        entry = _FastExport(
            func._func, tuple(str(p) for p in ty.params), tuple(str(r) for r in ty.results)
        )
        self._exports[name] = entry
        return entry

    def call(self, name: str, *args: int) -> int | None:
        return (self._functions.get(name) or self.function(name))(*args)

    def function(self, name: str) -> Callable[..., int | None]:
        fn = self._functions.get(name)
        if fn is None:
            if name not in self.exports:
                raise KeyError(name)
            fn = self._functions[name] = self._bind_export(self._export(name))
        return fn

    def _trap_slot(self, depth: int) -> tuple[ctypes.c_void_p, Any]:
        """The trap out-pointer of a call at ``depth`` (0: outermost; more: a host call
        called the allocator): reused across calls, reset after a trap."""
        while len(self._trap_slots) <= depth:
            trap = ctypes.c_void_p()
            self._trap_slots.append((trap, ctypes.byref(trap)))
        return self._trap_slots[depth]

    def _bind_export(self, entry: _FastExport) -> Callable[..., int | None]:
        """One export's call with everything it passes prebuilt and held in the closure:
        a guest call runs ~10 Python operations around the ctypes call."""
        pack, args, fref, nargs = entry.pack, entry.args, entry.fref, entry.nargs
        ctx, runtime, ticks = self._ctx, self._runtime, self._ticks_arg
        trap0, trap0_ref = self._trap_slot(0)
        result_u32 = entry.result_u32 if entry.result == "i32" else None
        result_i64 = entry.result == "i64"

        def call(*values: int) -> int | None:
            try:
                pack(args, 0, *values)
            except struct.error:
                entry.store_masked(values)
            depth = self._depth
            if depth == 0:
                # Renewing the deadline costs ~0.5 us (a ctypes call), a third of a guest
                # call. A deadline set (ticks + 1) after the same tick count is still good:
                # the engine's epoch moved at most one tick since, so at least ``ticks``
                # remain, the budget a fresh one gives; it may be one tick more (10 ms),
                # never less. The epoch is read before renewing: that is what makes it safe.
                epoch = runtime.epoch
                if epoch != self._deadline_epoch:
                    _set_epoch_deadline(ctx, ticks)
                    self._deadline_epoch = epoch
                trap, trap_ref = trap0, trap0_ref
            else:  # a host call called the allocator
                slots = self._trap_slots
                trap, trap_ref = slots[depth] if depth < len(slots) else self._trap_slot(depth)
            self._depth = depth + 1
            try:
                err = _call_unchecked(ctx, fref, args, nargs, trap_ref)
            finally:
                self._depth = depth
            if err or trap.value:
                raise self._failure(err, trap)
            self._pending = None
            if result_u32 is not None:
                return result_u32.value
            return int(args[0].i64) if result_i64 else None

        return call

    def _failure(self, err: int | None, trap: ctypes.c_void_p) -> PluginTrap:
        """The PluginTrap for a failed call: wasmtime's error, or the trap it wrote."""
        if err:
            error = ctypes.cast(err, ctypes.POINTER(ffi.wasmtime_error_t))
            return self._classify(wasmtime.WasmtimeError._from_ptr(error))
        pointer = ctypes.cast(trap.value or 0, ctypes.POINTER(ffi.wasm_trap_t))
        trap.value = None
        return self._classify(wasmtime.Trap._from_ptr(pointer))

    def close(self) -> None:
        super().close()
        self._functions.clear()
        self._exports.clear()
        self._callbacks.clear()
