"""The VM binding on the real wasmtime: compile cache, limits, deadline, reentrancy, linking.

Small WAT modules (assembled with ``wasmtime.wat2wasm``) probe one property each. Tests
that instantiate run on both the C-API fast path and the public-API path.
"""

from __future__ import annotations

import hashlib
import os
import struct
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import wasmtime

from tests.helpers.manifest import REPO_ROOT
from tests.helpers.procs import run
from tests.integration.support import Plugin, config_for, drive, spec, wat
from wasmd.kernel.errors import PluginLoadError, PluginTrap
from wasmd.kernel.module_info import read_module_info
from workers import trial
from workers.abi.types import WasmResult
from workers.contexts.logsink import LogSink
from workers.contexts.plugin import PluginVm
from workers.vm.base import HostFn, ImportSpec
from workers.vm.runtime import EPOCH_TICK_MS, Runtime

SLACK_S = 1.0
SUBPROCESS_TIMEOUT_S = 60.0


@pytest.fixture(params=[True, False], ids=["fast", "public"])
def runtime(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    with Runtime(fast=request.param) as rt:
        yield rt


# The probe modules import one function they never call (a module with no imports at all
# is covered by test_a_module_with_no_imports_loads).
UNUSED_IMPORT = '(import "env" "unused" (func (param i32)))'


def no_imports(spec_: ImportSpec) -> HostFn:
    assert (spec_.module, spec_.name) == ("env", "unused"), spec_
    return lambda _arg: None


def as_i32(value: int | None) -> int:
    assert value is not None
    return value - (1 << 32) if value & 0x80000000 else value


# -- compile cache --------------------------------------------------------------------------


def _wasm() -> bytes:
    return spec("c_trap").wasm.read_bytes()


def _cache_file(cache_dir: Path) -> Path:
    files = list(cache_dir.glob("*.cwasm"))
    assert len(files) == 1, files
    return files[0]


def test_second_compile_with_a_cache_dir_is_from_cache(tmp_path: Path) -> None:
    wasm = _wasm()
    with Runtime(cache_dir=tmp_path) as rt:
        first = rt.compile(wasm)
        assert not first.from_cache
        assert rt.compile(wasm).from_cache
    with Runtime(cache_dir=tmp_path) as rt:  # another worker, same cache
        cached = rt.compile(wasm)
        assert cached.from_cache
        assert (cached.sha256, cached.exports) == (first.sha256, first.exports)
        p = Plugin(rt, wasm, config_for(spec("c_trap")))
        assert drive([p.handle], [(b"x-hostile", b"no")]).header(b"x-trap-plugin") == b"ok"


def test_no_cache_dir_never_writes(tmp_path: Path) -> None:
    with Runtime() as rt:
        assert not rt.compile(_wasm()).from_cache
        assert not rt.compile(_wasm()).from_cache


def _other_engine(**settings: Any) -> wasmtime.Engine:
    config = wasmtime.Config()
    for name, value in settings.items():
        setattr(config, name, value)
    return wasmtime.Engine(config)


@pytest.mark.parametrize(
    "replacement",
    [
        pytest.param(
            lambda w, d: _enveloped(_serialized(w, epoch_interruption=False)),
            id="no-epoch-engine",
        ),
        pytest.param(
            lambda w, d: _enveloped(_serialized(w, epoch_interruption=True, consume_fuel=True)),
            id="fuel-engine",
        ),
        pytest.param(lambda w, d: _serialized(w), id="no-digest"),
        pytest.param(lambda w, d: os.urandom(len(d)), id="random-bytes"),
        pytest.param(lambda w, d: d[: len(d) // 2], id="truncated"),
        pytest.param(lambda w, d: b"", id="empty"),
    ],
)
def test_a_bad_cache_file_is_recompiled_and_replaced(tmp_path: Path, replacement: Any) -> None:
    wasm = _wasm()
    with Runtime(cache_dir=tmp_path) as rt:
        rt.compile(wasm)
    path = _cache_file(tmp_path)
    path.write_bytes(replacement(wasm, path.read_bytes()))
    with Runtime(cache_dir=tmp_path) as rt:
        assert not rt.compile(wasm).from_cache
        assert rt.compile(wasm).from_cache, "the bad file was not replaced"
        p = Plugin(rt, wasm, config_for(spec("c_trap")))
        assert drive([p.handle], [(b"x-hostile", b"no")]).header(b"x-trap-plugin") == b"ok"


def _serialized(wasm: bytes, **settings: Any) -> bytes:
    return bytes(wasmtime.Module(_other_engine(**settings), wasm).serialize())


DIGEST_BYTES = 32  # a cache file is sha256(payload) + payload


def _enveloped(payload: bytes) -> bytes:
    """A cache file whose digest is right, so the engine check itself is exercised."""
    return hashlib.sha256(payload).digest() + payload


def _elf_section(data: bytes, wanted: str) -> tuple[int, int]:
    """(offset, size) of an ELF64 section; wasmtime's .cwasm files are ELF objects."""
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    names_off = struct.unpack_from("<Q", data, shoff + shstrndx * shentsize + 0x18)[0]
    for i in range(shnum):
        base = shoff + i * shentsize
        name_idx = struct.unpack_from("<I", data, base)[0]
        end = data.index(b"\0", names_off + name_idx)
        if data[names_off + name_idx : end].decode() == wanted:
            offset, size = struct.unpack_from("<QQ", data, base + 0x18)
            return int(offset), int(size)
    raise KeyError(wanted)


CORRUPT_TEXT_SCRIPT = """
import sys
from pathlib import Path
from tests.integration.support import Plugin, config_for, drive, spec
from workers.vm.runtime import Runtime
p = spec("c_trap")
with Runtime(cache_dir=Path(sys.argv[1])) as rt:
    print("from_cache", rt.compile(p.wasm.read_bytes()).from_cache, flush=True)
    plugin = Plugin(rt, p.wasm, config_for(p))
    print(drive([plugin.handle], [(b"x-hostile", b"no")]).status, flush=True)
"""


def test_a_cache_file_with_corrupted_code_is_recompiled_not_crashed_on(tmp_path: Path) -> None:
    """Regression: a cached module whose header and engine section were intact but whose
    machine code (.text) was corrupted got deserialized and executed, killing the worker
    (SIGSEGV/SIGILL); cache files now carry a digest that is checked before loading."""
    with Runtime(cache_dir=tmp_path) as rt:
        rt.compile(_wasm())
    path = _cache_file(tmp_path)
    data = bytearray(path.read_bytes())
    offset, size = _elf_section(bytes(data[DIGEST_BYTES:]), ".text")
    start = DIGEST_BYTES + offset
    data[start : start + size] = bytes(size)  # zeroed code
    path.write_bytes(bytes(data))
    argv = [sys.executable, "-c", CORRUPT_TEXT_SCRIPT, str(tmp_path)]
    done = run(argv, timeout_s=SUBPROCESS_TIMEOUT_S, cwd=REPO_ROOT)
    assert done.returncode == 0, done.describe()
    assert done.stdout.split() == ["from_cache", "False", "200"], done.describe()


# -- memory limit ---------------------------------------------------------------------------

GROW = f"""
(module
  {UNUSED_IMPORT}
  (memory (export "memory") 1)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "pages") (result i32) (memory.size)))
"""


def test_memory_limit_makes_memory_grow_fail(runtime: Runtime) -> None:
    compiled = runtime.compile(wat(GROW))
    with runtime.instantiate(compiled, no_imports, memory_limit_bytes=1 << 20) as vm:
        assert vm.call("grow", 15) == 1  # 16 pages = 1 MiB: at the limit
        assert as_i32(vm.call("grow", 1)) == -1
        assert vm.call("pages") == 16
        assert vm.memory.size() == 1 << 20
        assert vm.call("grow", 0) == 16  # the VM is still usable


def test_initial_memory_above_the_limit_fails_to_instantiate(runtime: Runtime) -> None:
    compiled = runtime.compile(wat(f'(module {UNUSED_IMPORT} (memory (export "memory") 32))'))
    with pytest.raises(PluginLoadError, match="instantiation failed"):
        runtime.instantiate(compiled, no_imports, memory_limit_bytes=1 << 20)


def test_each_vm_has_its_own_memory_limit(runtime: Runtime) -> None:
    compiled = runtime.compile(wat(GROW))
    with (
        runtime.instantiate(compiled, no_imports, memory_limit_bytes=1 << 20) as small,
        runtime.instantiate(compiled, no_imports, memory_limit_bytes=4 << 20) as large,
    ):
        assert as_i32(small.call("grow", 16)) == -1
        assert large.call("grow", 63) == 1
        assert large.call("pages") == 64


NO_IMPORTS = """
(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024)))
"""


@pytest.mark.parametrize(
    "fast",
    [
        pytest.param(True, id="fast"),
        pytest.param(False, id="public"),
    ],
)
def test_a_module_with_no_imports_loads(fast: bool) -> None:
    """Regression: FastVm created its memory object only while defining imports, so a
    module that imports nothing crashed the load with AttributeError."""
    with Runtime(fast=fast) as rt:
        vm = PluginVm(
            rt, rt.compile(wat(NO_IMPORTS)), trial.plugin_config("bare"), logs=LogSink("bare")
        )
        try:
            vm.start()
            assert vm.memory.size() == 65536
        finally:
            vm.close()


# -- CPU deadline ---------------------------------------------------------------------------

SPIN = f"""
(module
  {UNUSED_IMPORT}
  (memory (export "memory") 1)
  (func (export "spin") (loop (br 0)))
  (func (export "quick") (result i32) (i32.const 7)))
"""


def _spin_until_the_deadline(vm: Any, deadline_ms: int) -> float:
    """Call the endless ``spin``; it must trap on the deadline, not before. Seconds taken."""
    started = time.monotonic()
    with pytest.raises(PluginTrap) as info:
        vm.call("spin")
    elapsed_s = time.monotonic() - started
    assert info.value.kind == "deadline"
    assert elapsed_s >= deadline_ms / 1000 * 0.9
    return elapsed_s


@pytest.mark.parametrize("deadline_ms", [30, 120])
def test_deadline_interrupts_a_loop(runtime: Runtime, deadline_ms: int) -> None:
    compiled = runtime.compile(wat(SPIN))
    with runtime.instantiate(compiled, no_imports, deadline_ms=deadline_ms) as vm:
        elapsed_s = _spin_until_the_deadline(vm, deadline_ms)
        assert elapsed_s < (deadline_ms + EPOCH_TICK_MS) / 1000 + SLACK_S
        # Each top-level call gets a fresh budget.
        assert vm.call("quick") == 7


@pytest.mark.parametrize("quick_calls", [1, 50])
def test_a_call_after_quick_calls_still_gets_its_whole_budget(
    runtime: Runtime, quick_calls: int
) -> None:
    """The fast path reuses a deadline set within the same epoch tick; it must never leave
    a later call less than the budget a fresh deadline gives."""
    deadline_ms = 30
    compiled = runtime.compile(wat(SPIN))
    with runtime.instantiate(compiled, no_imports, deadline_ms=deadline_ms) as vm:
        for _ in range(quick_calls):
            assert vm.call("quick") == 7
        elapsed_s = _spin_until_the_deadline(vm, deadline_ms)
        assert elapsed_s < (deadline_ms + 2 * EPOCH_TICK_MS) / 1000 + SLACK_S


def test_deadline_ticks_cover_the_deadline() -> None:
    with Runtime() as rt:
        assert rt.deadline_ticks(100) == 100 // EPOCH_TICK_MS + 1
        assert rt.deadline_ticks(1) == 2


def test_start_section_runs_under_the_deadline(runtime: Runtime) -> None:
    compiled = runtime.compile(wat(f"(module {UNUSED_IMPORT} (func $f (loop (br 0))) (start $f))"))
    started = time.monotonic()
    with pytest.raises(PluginLoadError, match="CPU deadline"):
        runtime.instantiate(compiled, no_imports, deadline_ms=50)
    assert time.monotonic() - started < 0.05 + SLACK_S


# -- reentrant calls from host functions ----------------------------------------------------

REENTRANT = """
(module
  (import "env" "host_fill" (func $fill (param i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "alloc") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $n)))
    (local.get $p))
  (func (export "boom") (param i32) (result i32) unreachable)
  (func (export "spin") (param i32) (result i32) (loop (br 0)) (i32.const 0))
  (func (export "run") (param $n i32) (result i32) (call $fill (local.get $n))))
"""


class Reentrant:
    """A host function that calls back into the guest (like copyToPointerSize does)."""

    def __init__(self, runtime: Runtime, callee: str, **limits: int) -> None:
        self.callee = callee
        compiled = runtime.compile(wat(REENTRANT))
        self.vm = runtime.instantiate(compiled, self.resolve, **limits)

    def resolve(self, spec_: ImportSpec) -> HostFn:
        assert (spec_.module, spec_.name) == ("env", "host_fill")
        return self.fill

    def fill(self, n: int) -> int:
        if self.callee == "raise":
            raise ValueError("a bug in a host function")
        ptr = self.vm.call(self.callee, n)
        assert ptr is not None
        self.vm.memory.write(ptr, b"x" * n)
        return ptr


def test_host_function_can_call_the_allocator(runtime: Runtime) -> None:
    host = Reentrant(runtime, "alloc")
    with host.vm:
        assert host.vm.call("run", 5) == 1024
        assert host.vm.call("run", 3) == 1029
        assert host.vm.memory.read(1024, 8) == b"xxxxxxxx"


@pytest.mark.parametrize(("callee", "kind"), [("boom", "trap"), ("raise", "host")])
def test_a_failure_inside_a_nested_call_fails_the_outer_call(
    runtime: Runtime, callee: str, kind: str
) -> None:
    host = Reentrant(runtime, callee)
    with host.vm, pytest.raises(PluginTrap) as info:
        host.vm.call("run", 4)
    assert info.value.kind == kind


def test_a_nested_call_does_not_extend_the_deadline(runtime: Runtime) -> None:
    host = Reentrant(runtime, "spin", deadline_ms=50)
    started = time.monotonic()
    with host.vm, pytest.raises(PluginTrap) as info:
        host.vm.call("run", 4)
    assert info.value.kind == "deadline"
    assert time.monotonic() - started < 0.05 + SLACK_S


# -- host calls restricted by phase (start-up, allocator) -----------------------------------

# Calls one host function per slot and stores each result as an i32 at slot*4.
# Slots: 0 proxy_log, 1 set_tick_period, 2 define_metric, 3 get_header_map_value,
# 4 random_get, 5 clock_time_get, 6 environ_sizes_get, 7 call_foreign_function.
PHASES = """
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_set_tick_period_milliseconds" (func $tick (param i32) (result i32)))
  (import "env" "proxy_define_metric" (func $def (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value"
    (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_call_foreign_function"
    (func $ff (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $buf (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $rand (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 2048) "probe")
  (global $heap (mut i32) (i32.const 8192))
  (func (export "proxy_abi_version_0_2_1"))
  (func $put (param $slot i32) (param $v i32)
    (i32.store (i32.shl (local.get $slot) (i32.const 2)) (local.get $v)))
  (func $probe (param $b i32)
    (call $put (local.get $b) (call $log (i32.const 3) (i32.const 2048) (i32.const 5)))
    (call $put (i32.add (local.get $b) (i32.const 1)) (call $tick (i32.const 10)))
    (call $put (i32.add (local.get $b) (i32.const 2))
      (call $def (i32.const 0) (i32.const 2048) (i32.const 5) (i32.const 3000)))
    (call $put (i32.add (local.get $b) (i32.const 3))
      (call $get (i32.const 0) (i32.const 2048) (i32.const 5) (i32.const 3004) (i32.const 3008)))
    (call $put (i32.add (local.get $b) (i32.const 4)) (call $rand (i32.const 3100) (i32.const 8)))
    (call $put (i32.add (local.get $b) (i32.const 5))
      (call $clock (i32.const 0) (i64.const 1) (i32.const 3200)))
    (call $put (i32.add (local.get $b) (i32.const 6)) (call $env (i32.const 3300) (i32.const 3304)))
    (call $put (i32.add (local.get $b) (i32.const 7))
      (call $ff (i32.const 2048) (i32.const 5) (i32.const 2048) (i32.const 5)
                (i32.const 3400) (i32.const 3404))))
  (func $init (call $probe (i32.const 0)))
  INIT
  (func (export "proxy_on_memory_allocate") (param $n i32) (result i32) (local $p i32)
    (call $probe (i32.const 8))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $n)))
    (local.get $p))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (call $probe (i32.const 16))
    ;; copying the VM configuration out calls the allocator: slots 8..15
    (call $put (i32.const 24)
      (call $buf (i32.const 6) (i32.const 0) (i32.const 100) (i32.const 3500) (i32.const 3504)))
    (i32.const 1)))
"""
START_VIA = {
    "initialize": '(export "_initialize" (func $init))',
    "start-section": "(start $init)",
}
OK, NOT_FOUND, BAD_ARGUMENT, INTERNAL_FAILURE = 0, 1, 2, 10
ENOTCAPABLE = 76
# proxy_log, tick, define_metric, get_header, random_get, clock_time_get, environ, foreign
EXPECTED = {
    "start": [OK, INTERNAL_FAILURE, INTERNAL_FAILURE, INTERNAL_FAILURE, OK, OK, OK,
              INTERNAL_FAILURE],
    "alloc": [OK, INTERNAL_FAILURE, INTERNAL_FAILURE, INTERNAL_FAILURE, ENOTCAPABLE, OK,
              ENOTCAPABLE, INTERNAL_FAILURE],
    # Normal phase: everything is served (the root context has no header map; no foreign
    # function of that name exists).
    "normal": [OK, OK, OK, BAD_ARGUMENT, OK, OK, OK, NOT_FOUND],
}  # fmt: skip


def _start_phases(runtime: Runtime, via: str) -> tuple[PluginVm, LogSink]:
    module = wat(PHASES.replace("INIT", START_VIA[via]))
    config = trial.plugin_config("phases", vm_configuration=b"vm-config!", log_level="trace")
    logs = LogSink("phases", capture=True)
    vm = PluginVm(runtime, runtime.compile(module), config, logs=logs)
    vm.start()
    return vm, logs


@pytest.mark.parametrize(
    "via",
    [
        pytest.param("initialize"),
        # Regression: host calls from a start section that touched guest memory failed
        # (PluginVm had no VM until instantiation, which runs the start section, returned).
        pytest.param("start-section"),
    ],
)
def test_host_calls_are_restricted_during_start_up_and_in_the_allocator(
    runtime: Runtime, via: str
) -> None:
    vm, logs = _start_phases(runtime, via)
    try:
        slots = [vm.memory.read_u32(4 * i) for i in range(25)]
        assert slots[0:8] == EXPECTED["start"], "start-up"
        assert slots[8:16] == EXPECTED["alloc"], "allocator"
        assert slots[16:24] == EXPECTED["normal"], "normal"
        assert slots[24] == OK
        ptr, size = vm.memory.read_u32(3500), vm.memory.read_u32(3504)
        assert vm.memory.read(ptr, size) == b"vm-config!"  # reentrant allocation worked
        assert vm.memory.read_u32(3400) == 0, "NotFound must not write the out-pointers"
        warnings = [r.message for r in logs.records if r.level == "warn"]
        assert "env.proxy_set_tick_period_milliseconds is not allowed during start" in warnings
        assert "wasi.random_get is not allowed during alloc" in warnings
        assert vm.tick_period_ms == 10, "only the normal-phase call may take effect"
    finally:
        vm.close()


START_SECTION_GATED = """
(module
  (import "env" "proxy_set_tick_period_milliseconds" (func $tick (param i32) (result i32)))
  (import "env" "proxy_define_metric" (func $def (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value"
    (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "malloc") (param i32) (result i32) (i32.const 4096))
  (func $init
    (i32.store (i32.const 0) (call $tick (i32.const 10)))
    (i32.store (i32.const 4) (call $def (i32.const 0) (i32.const 64) (i32.const 3) (i32.const 8)))
    (i32.store (i32.const 12)
      (call $get (i32.const 0) (i32.const 64) (i32.const 3) (i32.const 16) (i32.const 20))))
  (start $init))
"""


def test_proxy_calls_from_a_start_section_get_internal_failure(runtime: Runtime) -> None:
    """AssemblyScript modules run their top level in a start section, during instantiation."""
    config = trial.plugin_config("start-section")
    compiled = runtime.compile(wat(START_SECTION_GATED))
    vm = PluginVm(runtime, compiled, config, logs=LogSink("s", capture=True))
    vm.start()
    try:
        results = [vm.memory.read_u32(offset) for offset in (0, 4, 12)]
        assert results == [INTERNAL_FAILURE] * 3
        assert vm.tick_period_ms == 0
    finally:
        vm.close()


# -- foreign functions, stubs and other linking rules ---------------------------------------

LINKING = """
(module
  (import "env" "proxy_call_foreign_function"
    (func $ff (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_made_up" (func $made_up (param i32) (result i32)))
  (import "env" "proxy_log" (func $bad_sig (param i32) (result i32)))
  (import "other_host" "f" (func $other (result i32)))
  (import "wasi_snapshot_preview1" "made_up" (func $wasi_made_up (result i32)))
  (import "env" "proxy_http_call"
    (func $http (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_call"
    (func $grpc (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_stream"
    (func $stream (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_send" (func $send (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_cancel" (func $cancel (param i32) (result i32)))
  (import "env" "proxy_grpc_close" (func $close (param i32) (result i32)))
  (import "env" "proxy_made_up_void" (func $void (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 2048) "clear_route_cache")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 4096))
  (func $put (param $slot i32) (param $v i32)
    (i32.store (i32.shl (local.get $slot) (i32.const 2)) (local.get $v)))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (call $put (i32.const 0) (call $ff (i32.const 2048) (i32.const 17) (i32.const 0)
                                      (i32.const 0) (i32.const 1000) (i32.const 1004)))
    (call $put (i32.const 1) (call $made_up (i32.const 1)))
    (call $put (i32.const 2) (call $made_up (i32.const 2)))
    (call $put (i32.const 3) (call $bad_sig (i32.const 1)))
    (call $put (i32.const 4) (call $other))
    (call $put (i32.const 5) (call $wasi_made_up))
    (call $put (i32.const 6) (call $http (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 1008)))
    (call $put (i32.const 7) (call $grpc (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const 1000) (i32.const 1008)))
    (call $put (i32.const 8) (call $stream (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1008)))
    (call $put (i32.const 9) (call $send (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0)))
    (call $put (i32.const 10) (call $cancel (i32.const 1)))
    (call $put (i32.const 11) (call $close (i32.const 1)))
    (call $void (i32.const 1))
    (i32.const 1)))
"""
UNIMPLEMENTED, ENOSYS = 12, 52


def test_unknown_foreign_function_is_not_found_and_unknown_imports_are_stubbed(
    runtime: Runtime,
) -> None:
    logs = LogSink("linking", capture=True)
    config = trial.plugin_config("linking", log_level="trace")
    vm = PluginVm(runtime, runtime.compile(wat(LINKING)), config, logs=logs)
    vm.start()
    try:
        slots = [vm.memory.read_u32(4 * i) for i in range(12)]
        assert slots[0] == NOT_FOUND, "wasmd registers no foreign function (not even Envoy's)"
        assert slots[1:5] == [UNIMPLEMENTED] * 4  # unknown name, wrong type, unknown module
        assert slots[5] == ENOSYS  # an unknown WASI function
        # http/grpc callouts (Unimplemented stubs until the callouts issue lands): with
        # empty arguments they answer an ABI status, never a trap.
        assert all(code in set(WasmResult) for code in slots[6:12]), slots[6:12]
        assert vm.failed is None
        warnings = [r.message for r in logs.records if r.level == "warn"]
        made_up = [w for w in warnings if w.startswith("env.proxy_made_up called")]
        assert len(made_up) == 1, "a stub warns once, not per call"
        assert any(w.startswith("env.proxy_log called but its declared type") for w in warnings)
        assert any("does not provide module 'other_host'" in w for w in warnings)
    finally:
        vm.close()


@pytest.mark.parametrize(
    ("module", "message"),
    [
        pytest.param(
            '(module (import "env" "memory" (memory 1)) (func (export "proxy_abi_version_0_2_1"))'
            ' (func (export "malloc") (param i32) (result i32) (i32.const 0)))',
            "not a function",
            id="imported-memory",
        ),
        pytest.param(
            '(module (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1")))',
            "no allocator",
            id="no-allocator",
        ),
        pytest.param(
            '(module (memory (export "memory") 1) (func (export "proxy_abi_version_0_3_0"))'
            ' (func (export "malloc") (param i32) (result i32) (i32.const 0)))',
            "Proxy-Wasm ABI version",
            id="unknown-abi-marker",
        ),
        pytest.param(
            '(module (import "env" "proxy_get_buffer_bytes"'
            "   (func $b (param i32 i32 i32 i32 i32) (result i32)))"
            ' (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1"))'
            ' (func (export "malloc") (param i32) (result i32) unreachable)'
            ' (func (export "proxy_on_vm_start") (param i32 i32) (result i32)'
            "   (drop (call $b (i32.const 6) (i32.const 0) (i32.const 9) (i32.const 0)"
            "   (i32.const 4))) (i32.const 1)))",
            "proxy_on_vm_start failed",
            id="allocator-traps",
        ),
    ],
)
def test_modules_wasmd_refuses_say_why(runtime: Runtime, module: str, message: str) -> None:
    config = trial.plugin_config("refused", vm_configuration=b"vm-config")
    compiled = runtime.compile(wat(module))
    with pytest.raises(PluginLoadError, match=message):
        vm = PluginVm(runtime, compiled, config, logs=LogSink("refused", capture=True))
        try:
            vm.start()
        finally:
            vm.close()


def test_allocator_returning_zero_is_an_invalid_memory_access(runtime: Runtime) -> None:
    module = """
    (module
      (import "env" "proxy_get_buffer_bytes"
        (func $b (param i32 i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "malloc") (param i32) (result i32) (i32.const 0))
      (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
        (i32.store (i32.const 0)
          (call $b (i32.const 6) (i32.const 0) (i32.const 9) (i32.const 16) (i32.const 20)))
        (i32.const 1)))
    """
    config = trial.plugin_config("zero-alloc", vm_configuration=b"vm-config")
    vm = PluginVm(runtime, runtime.compile(wat(module)), config, logs=LogSink("z", capture=True))
    vm.start()
    try:
        assert vm.memory.read_u32(0) == 6
    finally:
        vm.close()


# -- proxy_log below the level (the fast path answers it in the callback) -------------------

LOGGER = """
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "hello")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 4096))
  (func (export "log") (param i32 i32 i32) (result i32)
    (call $log (local.get 0) (local.get 1) (local.get 2)))
  (func (export "grow") (result i32) (memory.grow (i32.const 1))))
"""
DEBUG, WARN, BEYOND = 1, 3, 6  # log levels; 6 is past CRITICAL
PAGE = 65536
# (level, ptr, size, result, logged) in order; "grow" adds a page before the last three.
LOG_CASES = [
    (DEBUG, 64, 5, WasmResult.OK, False),
    (DEBUG, PAGE - 2, 5, WasmResult.INVALID_MEMORY_ACCESS, False),
    (DEBUG, 0xFFFFFFF0, 0x20, WasmResult.INVALID_MEMORY_ACCESS, False),
    (WARN, 64, 5, WasmResult.OK, True),
    (WARN, PAGE - 2, 5, WasmResult.INVALID_MEMORY_ACCESS, False),
    (BEYOND, 64, 5, WasmResult.BAD_ARGUMENT, False),
    ("grow", 0, 0, 1, False),
    (DEBUG, PAGE + 10, 5, WasmResult.OK, False),  # in the new page: the view was stale
    (DEBUG, 2 * PAGE - 2, 5, WasmResult.INVALID_MEMORY_ACCESS, False),
    (DEBUG, 0, 0, WasmResult.OK, False),
]


def test_proxy_log_answers_the_same_below_and_above_the_level(runtime: Runtime) -> None:
    config = trial.plugin_config("logger", log_level="warn")
    logs = LogSink("logger", capture=True)
    vm = PluginVm(runtime, runtime.compile(wat(LOGGER)), config, logs=logs)
    vm.start()
    try:
        for level, ptr, size, expected, logged in LOG_CASES:
            before = len(logs.records)
            if level == "grow":
                assert vm.invoke(vm.root, "grow") == expected
                continue
            assert vm.invoke(vm.root, "log", level, ptr, size) == expected, (level, ptr, size)
            assert len(logs.records) - before == int(logged), (level, ptr, size)
        assert [r.message for r in logs.records] == ["hello"]
    finally:
        vm.close()


# -- the shortcut helper (fast path: a dropped line never leaves Wasm) ----------------------

SHORTCUT_LOGGER = LOGGER.replace(
    '(func (export "grow")',
    """(func $first (i32.store (i32.const 0)
    (call $log (i32.const 3) (i32.const 64) (i32.const 5))))
  START
  (func (export "grow")""",
)


def _counting_log_vm(runtime: Runtime, start: str) -> tuple[Any, list[tuple[int, ...]]]:
    """A raw VM over SHORTCUT_LOGGER whose proxy_log has a warn-level Shortcut; the list
    records the calls that reached the host function."""
    from workers.vm.base import Shortcut, ShortcutFn

    calls: list[tuple[int, ...]] = []
    created: list[Any] = []

    def host(level: int, ptr: int, size: int) -> int:
        calls.append((level, ptr, size))
        if level >= WARN:  # a line that is logged: its text must be readable
            assert created[0].memory.read(ptr, size) == b"hello"
        return 0

    def resolve(spec_: ImportSpec) -> HostFn:
        return ShortcutFn(host, Shortcut(below=WARN, result=0))

    module = runtime.compile(wat(SHORTCUT_LOGGER.replace("START", start)))
    return runtime.instantiate(module, resolve, on_created=created.append), calls


def test_dropped_lines_never_reach_the_host_and_the_helper_learns_growth() -> None:
    with Runtime(fast=True) as rt:
        vm, calls = _counting_log_vm(rt, "")
        try:
            assert vm.call("log", DEBUG, 64, 5) == 0
            assert calls == [], "answered by the helper"
            vm.call("log", DEBUG, PAGE - 2, 5)  # outside memory: the host answers
            assert calls == [(DEBUG, PAGE - 2, 5)]
            assert vm.call("grow") == 1
            vm.call("log", DEBUG, PAGE + 10, 5)  # the helper's limit is stale: the host
            vm.memory.read(PAGE + 10, 5)  # (which refreshes the view, and the limit)
            calls.clear()
            assert vm.call("log", DEBUG, PAGE + 10, 5) == 0
            assert calls == [], "the helper now knows the new page"
        finally:
            vm.close()


@pytest.mark.parametrize("start", ["", "(start $first)"], ids=["no-start", "start-section"])
def test_a_start_section_that_logs_first_still_reads_its_line(runtime: Runtime, start: str) -> None:
    """Regression guard: a helper's host calls cannot find the plugin's memory, so a start
    section whose first host call is proxy_log makes the fast path instantiate again
    without helpers; the line must still be read from the plugin's memory."""
    vm, calls = _counting_log_vm(runtime, start)
    try:
        if start:
            assert calls == [(WARN, 64, 5)]
            assert vm.memory.read_u32(0) == 0
        assert vm.call("log", DEBUG, 64, 5) == 0
        assert vm.call("log", WARN, 64, 5) == 0
        assert calls[-1] == (WARN, 64, 5)
        assert vm.memory.read(64, 5) == b"hello"
    finally:
        vm.close()


# -- duplicate imports ------------------------------------------------------------------------

# Two imports of the same function with the same type, both called: valid WebAssembly, and
# what Go's wasip1 c-shared output does with wasi_snapshot_preview1.fd_write.
TWICE_IMPORTED = """
(module
  (import "env" "proxy_log" (func $log_a (param i32 i32 i32) (result i32)))
  (import "env" "proxy_log" (func $log_b (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "via-avia-b")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $log_a (i32.const 2) (i32.const 16) (i32.const 5)))
    (drop (call $log_b (i32.const 2) (i32.const 21) (i32.const 5)))
    (i32.const 1)))
"""


@pytest.mark.parametrize("fast", [pytest.param(True, id="fast"), pytest.param(False, id="public")])
def test_a_function_imported_twice_links_once_and_serves_both(fast: bool) -> None:
    """Regression (issue 15): "import of `env::proxy_log` defined twice" refused Go modules."""
    with Runtime(fast=fast) as rt:
        sink = LogSink("twice", capture=True)
        vm = PluginVm(rt, rt.compile(wat(TWICE_IMPORTED)), trial.plugin_config("twice"), logs=sink)
        try:
            vm.start()
            assert [r.message for r in sink.records] == ["via-a", "via-b"]
        finally:
            vm.close()


def test_a_go_wasip1_module_imports_fd_write_twice() -> None:
    """The committed Go plugin has the shape this is about (else the test above is moot)."""
    info = read_module_info((REPO_ROOT / "plugins" / "go" / "build" / "headers.wasm").read_bytes())
    names = [(module, name) for module, name, _kind in info.imports]
    assert names.count(("wasi_snapshot_preview1", "fd_write")) == 2
