"""Tests for workers/abi/linking.py: the import resolver, stubs and phase gating."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.unit.abi.test_host import FakeHost
from workers.abi.host import UNIMPLEMENTED_IMPORTS, ProxyAbi
from workers.abi.linking import PROXY_SIGNATURES, WASI_MODULES, Phase, make_resolver
from workers.abi.types import LogLevel, WasiErrno, WasmResult
from workers.abi.wasi import WASI_SIGNATURES, Wasi
from workers.vm.base import HostFn, HostTrap, ImportSpec

R = WasmResult
NOTCAPABLE = int(WasiErrno.NOTCAPABLE)
NOSYS = int(WasiErrno.NOSYS)


@dataclass
class LinkHost:
    phase: Phase = Phase.NORMAL
    warnings: list[str] = field(default_factory=list)

    def link_warning(self, message: str) -> None:
        self.warnings.append(message)


@dataclass
class Linked:
    link: LinkHost
    proxy: FakeHost
    wasi_logs: list[tuple[LogLevel, str]]

    def resolve(
        self, module: str, name: str, params: tuple[str, ...], results: tuple[str, ...]
    ) -> HostFn:
        abi = ProxyAbi(self.proxy)
        wasi = Wasi(lambda: self.proxy.memory, log=lambda lv, m: self.wasi_logs.append((lv, m)))
        return make_resolver(self.link, abi, wasi)(ImportSpec(module, name, params, results))

    def declared(self, module: str, name: str) -> HostFn:
        table = WASI_SIGNATURES if module in WASI_MODULES else PROXY_SIGNATURES
        params, results = table[name]
        return self.resolve(module, name, params, results)


@pytest.fixture
def linked() -> Linked:
    return Linked(LinkHost(), FakeHost(), [])


SERVED_ENV = sorted(n for n in PROXY_SIGNATURES if n not in UNIMPLEMENTED_IMPORTS)


def _zeros(params: tuple[str, ...]) -> list[int]:
    return [0] * len(params)


@pytest.mark.parametrize("name", SERVED_ENV)
def test_every_env_import_links_to_the_real_function(linked: Linked, name: str) -> None:
    """Called with zeros, a real function runs against the host; a stub would warn."""
    fn = linked.declared("env", name)
    result = fn(*_zeros(PROXY_SIGNATURES[name][0]))
    assert linked.link.warnings == []
    if PROXY_SIGNATURES[name][1]:
        assert result != R.UNIMPLEMENTED
    else:
        assert result is None


@pytest.mark.parametrize("module", WASI_MODULES)
@pytest.mark.parametrize("name", sorted(WASI_SIGNATURES))
def test_every_wasi_import_links_under_both_modules(linked: Linked, module: str, name: str) -> None:
    fn = linked.declared(module, name)
    try:
        fn(*_zeros(WASI_SIGNATURES[name][0]))
    except HostTrap:
        assert name == "proc_exit"
    assert linked.link.warnings == []


def test_linked_function_acts_on_the_host(linked: Linked) -> None:
    fn = linked.declared("env", "proxy_continue_stream")
    assert fn(1) == R.OK
    assert linked.proxy.actions == [("continue", 1)]


STUB_CASES = [
    # (module, name, params, results, what the stub answers)
    ("env", "proxy_unknown_call", ("i32",), ("i32",), int(R.UNIMPLEMENTED)),
    ("env", "proxy_unknown_void", ("i32",), (), None),
    ("env", "proxy_http_call", ("i32",) * 9, ("i32",), int(R.UNIMPLEMENTED)),  # served, bad type
    ("env", "proxy_grpc_call", ("i32",) * 11, ("i32",), int(R.UNIMPLEMENTED)),  # served, bad type
    ("env", "proxy_dispatch_http_call", ("i32",) * 10, ("i32",), int(R.UNIMPLEMENTED)),
    ("env", "proxy_log", ("i32", "i32"), ("i32",), int(R.UNIMPLEMENTED)),  # too few params
    ("env", "proxy_log", ("i32", "i64", "i32"), ("i32",), int(R.UNIMPLEMENTED)),
    ("env", "proxy_log", ("i32",) * 3, ("i64",), int(R.UNIMPLEMENTED)),  # wrong result type
    ("env", "proxy_increment_metric", ("i32", "i32"), ("i32",), int(R.UNIMPLEMENTED)),
    ("envoy", "envoy_resolve_dns", ("i32",) * 3, ("i32",), int(R.UNIMPLEMENTED)),
    ("foo", "bar", (), (), None),
    ("wasi_snapshot_preview1", "sock_open", ("i32",) * 3, ("i32",), NOSYS),
    ("wasi_unstable", "fd_write", ("i32",) * 3, ("i32",), NOSYS),  # mismatched WASI type
]


@pytest.mark.parametrize(("module", "name", "params", "results", "answer"), STUB_CASES)
def test_unservable_import_links_to_a_stub_that_warns_once(
    linked: Linked,
    module: str,
    name: str,
    params: tuple[str, ...],
    results: tuple[str, ...],
    answer: int | None,
) -> None:
    fn = linked.resolve(module, name, params, results)
    assert linked.link.warnings == []  # linking is silent; the first call warns
    assert fn(*_zeros(params)) == answer
    assert fn(*_zeros(params)) == answer
    assert len(linked.link.warnings) == 1
    assert f"{module}.{name}" in linked.link.warnings[0]
    assert linked.proxy.actions == [] and linked.proxy.logs == []


def test_stubs_warn_independently(linked: Linked) -> None:
    a = linked.resolve("env", "proxy_a", (), ("i32",))
    b = linked.resolve("env", "proxy_b", (), ("i32",))
    a(), a(), b(), b()
    assert len(linked.link.warnings) == 2


@pytest.mark.parametrize(
    ("name", "stream"), [("proxy_continue_request", 0), ("proxy_continue_response", 1)]
)
def test_result_less_0_1_0_continue_is_served(linked: Linked, name: str, stream: int) -> None:
    """Spec 0.1.0 declares continue_request with no result; the cpp-host returns i32."""
    fn = linked.resolve("env", name, (), ())
    fn()
    assert linked.proxy.actions == [("continue", stream)]
    assert linked.link.warnings == []


def test_i32_variant_of_continue_request_is_served(linked: Linked) -> None:
    assert linked.resolve("env", "proxy_continue_request", (), ("i32",))() == R.OK
    assert linked.proxy.actions == [("continue", 0)]


# --- phase gating -------------------------------------------------------------------------------
# (phase, module, name, allowed)
GATE_CASES = [
    (Phase.START, "env", "proxy_log", True),
    (Phase.START, "env", "emscripten_notify_memory_growth", True),
    (Phase.START, "env", "proxy_get_log_level", False),
    (Phase.START, "env", "proxy_get_property", False),
    (Phase.START, "env", "proxy_define_metric", False),
    (Phase.START, "env", "proxy_set_tick_period_milliseconds", False),
    (Phase.START, "wasi_snapshot_preview1", "fd_write", True),
    (Phase.START, "wasi_snapshot_preview1", "random_get", True),
    (Phase.START, "wasi_snapshot_preview1", "environ_sizes_get", True),
    (Phase.START, "wasi_unstable", "poll_oneoff", True),
    (Phase.START, "wasi_unstable", "fd_fdstat_get", True),
    (Phase.ALLOC, "env", "proxy_log", True),
    (Phase.ALLOC, "env", "proxy_get_header_map_value", False),
    (Phase.ALLOC, "env", "proxy_get_log_level", False),
    (Phase.ALLOC, "wasi_snapshot_preview1", "fd_write", True),
    (Phase.ALLOC, "wasi_snapshot_preview1", "clock_time_get", True),
    (Phase.ALLOC, "wasi_snapshot_preview1", "poll_oneoff", True),
    (Phase.ALLOC, "wasi_unstable", "clock_time_get", True),
    (Phase.ALLOC, "wasi_snapshot_preview1", "random_get", False),
    (Phase.ALLOC, "wasi_snapshot_preview1", "environ_get", False),
    (Phase.ALLOC, "wasi_unstable", "fd_fdstat_get", False),
    (Phase.NORMAL, "env", "proxy_get_log_level", True),
    (Phase.NORMAL, "wasi_snapshot_preview1", "random_get", True),
]


@pytest.mark.parametrize(("phase", "module", "name", "allowed"), GATE_CASES)
def test_phase_gating(linked: Linked, phase: Phase, module: str, name: str, allowed: bool) -> None:
    fn = linked.declared(module, name)  # linked in NORMAL; the gate is checked per call
    linked.link.phase = phase
    is_wasi = module in WASI_MODULES
    args = _zeros((WASI_SIGNATURES if is_wasi else PROXY_SIGNATURES)[name][0])
    if not allowed and phase is Phase.ALLOC:
        # Inside the allocator a refused call traps (cpp-host's "restricted_callback").
        with pytest.raises(HostTrap, match="restricted_callback"):
            fn(*args)
        assert len(linked.link.warnings) == 1 and name in linked.link.warnings[0]
        return
    result = fn(*args)
    if allowed:
        assert linked.link.warnings == []
        assert result != (NOTCAPABLE if is_wasi else R.INTERNAL_FAILURE)
    else:
        assert result == (NOTCAPABLE if is_wasi else R.INTERNAL_FAILURE)
        assert len(linked.link.warnings) == 1
        assert name in linked.link.warnings[0] and phase.value in linked.link.warnings[0]


def test_refused_call_does_not_reach_the_host(linked: Linked) -> None:
    fn = linked.declared("env", "proxy_continue_stream")
    linked.link.phase = Phase.START
    assert fn(0) == R.INTERNAL_FAILURE
    assert linked.proxy.actions == []
    linked.link.phase = Phase.NORMAL
    assert fn(0) == R.OK
    assert linked.proxy.actions == [("continue", 0)]


def test_allowed_log_during_start_reaches_the_host(linked: Linked) -> None:
    fn = linked.declared("env", "proxy_log")
    linked.link.phase = Phase.START
    ptr, size = linked.proxy.put(b"booting")
    assert fn(LogLevel.WARN, ptr, size) == R.OK  # the fake host's level is WARN
    assert linked.proxy.logs == [(LogLevel.WARN, "booting")]


def test_refusals_warn_every_time(linked: Linked) -> None:
    fn = linked.declared("env", "proxy_done")
    linked.link.phase = Phase.START
    fn(), fn()
    assert len(linked.link.warnings) == 2
    linked.link.phase = Phase.ALLOC  # there each refusal traps, and warns too
    for _ in range(2):
        with pytest.raises(HostTrap):
            fn()
    assert len(linked.link.warnings) == 4
