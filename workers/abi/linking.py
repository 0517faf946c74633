"""Link exactly the imports a module declares, adapting to each declared type.

A module must never fail to instantiate because it imports something it does not use:
an import wasmd cannot serve (unknown name, unexpected signature, or a callout that is not
implemented yet) links to a stub that logs once and answers Unimplemented.

Host calls are gated by phase, as proxy-wasm-cpp-host does: during start-up
(``_initialize``/``_start``/start section) only ``proxy_log`` and WASI are allowed, and
inside the guest allocator only ``proxy_log``, ``fd_write``, ``clock_time_get`` and
``poll_oneoff``. During start-up a refused proxy call gets InternalFailure, a refused WASI
call ENOTCAPABLE; inside the allocator a refused call traps, as in cpp-host (its
"restricted_callback" trap): the allocation fails, the VM is failed, and the host call that
allocated answers the plugin with InvalidMemoryAccess (``PluginVm.allocate``).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Protocol

from workers.abi.host import NEVER_RAISES, UNIMPLEMENTED_IMPORTS, AbiFailure, ProxyAbi
from workers.abi.types import WasiErrno, WasmResult
from workers.abi.wasi import WASI_SIGNATURES, Wasi
from workers.vm.base import HostFn, HostTrap, ImportSpec, ShortcutFn

WASI_MODULES = ("wasi_snapshot_preview1", "wasi_unstable")

_I32 = "i32"
_I64 = "i64"


def _sig(n: int) -> tuple[str, ...]:
    return (_I32,) * n


# Declared types of every env import served (params, results), ABI v0.1.0 - v0.2.1.
PROXY_SIGNATURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "proxy_log": (_sig(3), _sig(1)),
    "proxy_get_log_level": (_sig(1), _sig(1)),
    "proxy_get_current_time_nanoseconds": (_sig(1), _sig(1)),
    "proxy_set_tick_period_milliseconds": (_sig(1), _sig(1)),
    "proxy_get_configuration": (_sig(2), _sig(1)),
    "proxy_get_buffer_bytes": (_sig(5), _sig(1)),
    "proxy_set_buffer_bytes": (_sig(5), _sig(1)),
    "proxy_get_buffer_status": (_sig(3), _sig(1)),
    "proxy_get_header_map_pairs": (_sig(3), _sig(1)),
    "proxy_set_header_map_pairs": (_sig(3), _sig(1)),
    "proxy_get_header_map_size": (_sig(2), _sig(1)),
    "proxy_get_header_map_value": (_sig(5), _sig(1)),
    "proxy_add_header_map_value": (_sig(5), _sig(1)),
    "proxy_replace_header_map_value": (_sig(5), _sig(1)),
    "proxy_remove_header_map_value": (_sig(3), _sig(1)),
    "proxy_continue_stream": (_sig(1), _sig(1)),
    "proxy_close_stream": (_sig(1), _sig(1)),
    "proxy_continue_request": ((), _sig(1)),
    "proxy_continue_response": ((), _sig(1)),
    "proxy_clear_route_cache": ((), _sig(1)),
    "proxy_send_local_response": (_sig(8), _sig(1)),
    "proxy_get_status": (_sig(3), _sig(1)),
    "proxy_set_effective_context": (_sig(1), _sig(1)),
    "proxy_done": ((), _sig(1)),
    "proxy_get_property": (_sig(4), _sig(1)),
    "proxy_set_property": (_sig(4), _sig(1)),
    "proxy_call_foreign_function": (_sig(6), _sig(1)),
    "proxy_define_metric": (_sig(4), _sig(1)),
    "proxy_increment_metric": ((_I32, _I64), _sig(1)),
    "proxy_record_metric": ((_I32, _I64), _sig(1)),
    "proxy_get_metric": (_sig(2), _sig(1)),
    "proxy_get_shared_data": (_sig(5), _sig(1)),
    "proxy_set_shared_data": (_sig(5), _sig(1)),
    "proxy_register_shared_queue": (_sig(3), _sig(1)),
    "proxy_resolve_shared_queue": (_sig(5), _sig(1)),
    "proxy_enqueue_shared_queue": (_sig(3), _sig(1)),
    "proxy_dequeue_shared_queue": (_sig(3), _sig(1)),
    "proxy_http_call": (_sig(10), _sig(1)),
    "proxy_grpc_call": (_sig(12), _sig(1)),
    "proxy_grpc_stream": (_sig(9), _sig(1)),
    "proxy_grpc_send": (_sig(4), _sig(1)),
    "proxy_grpc_cancel": (_sig(1), _sig(1)),
    "proxy_grpc_close": (_sig(1), _sig(1)),
    "emscripten_notify_memory_growth": (_sig(1), ()),
    "pthread_equal": (_sig(2), _sig(1)),
}


class Phase(Enum):
    """Which host calls a guest may make right now."""

    START = "start"  # _initialize / main / _start / start section
    ALLOC = "alloc"  # inside the guest's allocator
    NORMAL = "normal"


_START_ENV = frozenset({"proxy_log", "emscripten_notify_memory_growth"})
_ALLOC_ENV = frozenset({"proxy_log"})
_ALLOC_WASI = frozenset({"fd_write", "clock_time_get", "poll_oneoff"})


class LinkHost(Protocol):
    phase: Phase

    def link_warning(self, message: str) -> None: ...


def _allowed(phase: Phase, is_wasi: bool, name: str) -> bool:
    if phase is Phase.NORMAL:
        return True
    if phase is Phase.START:
        return is_wasi or name in _START_ENV
    return name in (_ALLOC_WASI if is_wasi else _ALLOC_ENV)


def _allowed_always(is_wasi: bool, name: str) -> bool:
    return all(_allowed(phase, is_wasi, name) for phase in Phase)


def _gated(host: LinkHost, fn: HostFn, is_wasi: bool, name: str) -> HostFn:
    """``fn`` behind the phase gate; an AbiFailure it raises becomes its code (one Python
    frame per host call for both jobs: this runs on every call a plugin makes).

    ``fn`` itself when there is nothing to do: no phase refuses it and it never raises
    AbiFailure (WASI functions answer errno codes; see also host.NEVER_RAISES).
    """
    if _allowed_always(is_wasi, name) and (is_wasi or name in NEVER_RAISES):
        return fn
    refused = int(WasiErrno.NOTCAPABLE if is_wasi else WasmResult.INTERNAL_FAILURE)
    where = "wasi" if is_wasi else "env"

    normal, alloc = Phase.NORMAL, Phase.ALLOC  # locals: this check runs on every host call

    def call(*args: int) -> int | None:
        phase = host.phase
        if phase is not normal and not _allowed(phase, is_wasi, name):
            host.link_warning(f"{where}.{name} is not allowed during {phase.value}")
            if phase is alloc:  # cpp-host traps it there ("restricted_callback")
                raise HostTrap(f"restricted_callback: {where}.{name} inside the allocator")
            return refused
        try:
            return fn(*args)
        except AbiFailure as failure:
            return int(failure.result)

    return call


def _stub(host: LinkHost, spec: ImportSpec, why: str) -> HostFn:
    warned = False
    result = 0 if not spec.results else int(WasmResult.UNIMPLEMENTED)
    if spec.module in WASI_MODULES and spec.results:
        result = int(WasiErrno.NOSYS)

    def stub(*_args: int) -> int | None:
        nonlocal warned
        if not warned:
            warned = True
            host.link_warning(f"{spec.module}.{spec.name} called but {why}")
        return result if spec.results else None

    return stub


def make_resolver(host: LinkHost, abi: ProxyAbi, wasi: Wasi) -> Callable[[ImportSpec], HostFn]:
    """Return the function that picks the host function for each declared import."""
    shortcuts = abi.shortcuts()

    def resolve(spec: ImportSpec) -> HostFn:
        is_wasi = spec.module in WASI_MODULES
        if is_wasi:
            expected = WASI_SIGNATURES.get(spec.name)
            fn = wasi.lookup(spec.name)
        elif spec.module == "env":
            expected = PROXY_SIGNATURES.get(spec.name)
            fn = None if spec.name in UNIMPLEMENTED_IMPORTS else abi.method(spec.name)
        else:
            return _stub(host, spec, f"wasmd does not provide module {spec.module!r}")
        if expected is None or fn is None:
            return _stub(host, spec, "wasmd does not implement it (Unimplemented)")
        params, results = expected
        # Some SDKs declare a result-less variant (spec 0.1.0 continue_request); the VM
        # binding drops the result then. Any other difference cannot be served safely.
        if spec.params != params or (spec.results and spec.results != results):
            return _stub(
                host,
                spec,
                f"its declared type {spec.params}->{spec.results} is not {params}->{results}",
            )
        gated = _gated(host, fn, is_wasi, spec.name)
        # A shortcut skips the gate too: only for imports no phase refuses.
        shortcut = None if is_wasi else shortcuts.get(spec.name)
        if shortcut is not None and not _allowed_always(is_wasi, spec.name):
            shortcut = None
        return gated if shortcut is None else ShortcutFn(gated, shortcut)

    return resolve
