"""Tests for workers/abi/host.py: ``ProxyAbi`` marshalling over a fake ``ProxyHost``.

Every call goes through ``ProxyAbi.lookup`` (what the linker installs), so a guest error
surfaces as the ABI code it would see. The fake host keeps real HeaderMap/BodyBuffer
objects, a bump allocator over a ``BytesMemory`` and a list of the actions it was asked
to take.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.abi import pairs
from workers.abi.host import UNIMPLEMENTED_IMPORTS, ProxyAbi
from workers.abi.linking import PROXY_SIGNATURES
from workers.abi.types import (
    MAX_PAIRS_BYTES,
    MAX_PAIRS_COUNT,
    AbiVersion,
    BufferType,
    LogLevel,
    MapType,
    MetricType,
    NotSerializable,
    WasmResult,
)
from workers.contexts.maps import BodyBuffer, HeaderMap
from workers.vm.base import BytesMemory

R = WasmResult
MEMORY_BYTES = 65536
HEAP_START = 32768  # the bump allocator hands out [HEAP_START, MEMORY_BYTES)
INPUT_START = 1024  # guest-side inputs are laid out from here
RET_A, RET_B, RET_C = 16, 24, 32  # out-pointers (u32 or u64 slots)
SENTINEL = 0xDEADBEEF
NEG16 = 0xFFFFFFF0  # -16 as the guest's unsigned i32
VALID_RESULTS = {int(r) for r in WasmResult}

REQUEST_HEADERS = [(b":authority", b"example.com"), (b"host", b"example.com"), (b"x-a", b"1")]
CONFIG = b'{"deny": true}'
BODY = b"0123456789"
STATUS = (14, b"upstream reset")


@dataclass
class FakeHost:
    """A ProxyHost whose state is plain data and whose actions are recorded."""

    abi: AbiVersion = AbiVersion.V0_2_1
    memory_bytes: int = MEMORY_BYTES
    heap: int = HEAP_START
    alloc_fails: bool = False
    alloc_override: int | None = None
    config: bytes | None = CONFIG
    status: tuple[int, bytes] | None = STATUS
    maps: dict[MapType, HeaderMap] = field(default_factory=dict)
    buffers: dict[BufferType, BodyBuffer] = field(default_factory=dict)
    props: dict[tuple[bytes, ...], bytes] = field(default_factory=dict)
    metrics: dict[int, int] = field(default_factory=lambda: {0: 42, 4: 7})
    shared: dict[bytes, tuple[bytes, int]] = field(default_factory=dict)
    queues: dict[int, list[bytes]] = field(default_factory=dict)
    actions: list[tuple[Any, ...]] = field(default_factory=list)
    logs: list[tuple[LogLevel, str]] = field(default_factory=list)
    map_requests: list[tuple[MapType, bool]] = field(default_factory=list)
    allocations: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.memory = BytesMemory(self.memory_bytes)
        self.maps.setdefault(MapType.HTTP_REQUEST_HEADERS, HeaderMap(REQUEST_HEADERS))
        self.maps.setdefault(MapType.HTTP_RESPONSE_HEADERS, HeaderMap())
        self.buffers.setdefault(BufferType.HTTP_REQUEST_BODY, BodyBuffer(BODY))
        self.props.setdefault((b"plugin_name",), b"deny")
        self.shared.setdefault(b"key", (b"shared-value", 9))
        self.queues.setdefault(1, [b"first", b"second"])

    # -- memory -----------------------------------------------------------------------------
    def allocate(self, size: int) -> int:
        self.allocations.append(size)
        if self.alloc_override is not None:
            return self.alloc_override
        if self.alloc_fails or self.heap + size > self.memory.size():
            return 0
        ptr, self.heap = self.heap, self.heap + size
        return ptr

    # -- logging, time ----------------------------------------------------------------------
    def log(self, level: LogLevel, message: str) -> None:
        self.logs.append((level, message))

    def log_level(self) -> LogLevel:
        return LogLevel.WARN

    def now_ns(self) -> int:
        return 1_700_000_000_123_456_789

    def set_tick_period(self, period_ms: int) -> WasmResult:
        self.actions.append(("tick", period_ms))
        return R.OK

    # -- buffers and maps -------------------------------------------------------------------
    def configuration(self) -> bytes | None:
        return self.config

    def buffer(self, kind: BufferType) -> BodyBuffer | None:
        return self.buffers.get(kind)

    def header_map(self, kind: MapType, *, write: bool) -> HeaderMap | WasmResult:
        self.map_requests.append((kind, write))
        found = self.maps.get(kind)
        if found is None:
            return R.NOT_FOUND
        if write and not found.writable:
            return R.BAD_ARGUMENT
        return found

    # -- stream control ---------------------------------------------------------------------
    def continue_stream(self, stream: int) -> WasmResult:
        self.actions.append(("continue", stream))
        return R.OK if stream <= 3 else R.BAD_ARGUMENT

    def close_stream(self, stream: int) -> WasmResult:
        self.actions.append(("close", stream))
        return R.OK if stream <= 3 else R.BAD_ARGUMENT

    def clear_route_cache(self) -> WasmResult:
        self.actions.append(("clear_route_cache",))
        return R.OK

    def send_local_response(
        self,
        status: int,
        details: bytes,
        body: bytes,
        headers: list[tuple[bytes, bytes]],
        grpc_status: int,
    ) -> WasmResult:
        self.actions.append(("local", status, details, body, headers, grpc_status))
        return R.OK

    def get_status(self) -> tuple[int, bytes] | None:
        return self.status

    def set_effective_context(self, context_id: int) -> WasmResult:
        self.actions.append(("effective", context_id))
        return R.OK if context_id == 2 else R.BAD_ARGUMENT

    def done(self) -> WasmResult:
        self.actions.append(("done",))
        return R.NOT_FOUND

    # -- properties, foreign functions ------------------------------------------------------
    def get_property(self, path: list[bytes]) -> bytes | None:
        if path == [b"unserializable"]:
            raise NotSerializable("a null")
        return self.props.get(tuple(path))

    def set_property(self, path: list[bytes], value: bytes) -> WasmResult:
        self.actions.append(("set_property", path, value))
        self.props[tuple(path)] = value
        return R.OK

    def call_foreign_function(self, name: bytes, args: bytes) -> tuple[WasmResult, bytes]:
        self.actions.append(("foreign", name, args))
        if name == b"echo":
            return R.OK, args[::-1]
        return R.NOT_FOUND, b"ignored"

    # -- metrics ----------------------------------------------------------------------------
    def define_metric(self, kind: MetricType, name: bytes) -> int:
        self.actions.append(("define", kind, name))
        return 100 + int(kind)

    def increment_metric(self, metric_id: int, delta: int) -> WasmResult:
        self.actions.append(("increment", metric_id, delta))
        return R.OK if metric_id in self.metrics else R.NOT_FOUND

    def record_metric(self, metric_id: int, value: int) -> WasmResult:
        self.actions.append(("record", metric_id, value))
        return R.OK if metric_id in self.metrics else R.NOT_FOUND

    def get_metric(self, metric_id: int) -> tuple[WasmResult, int]:
        if metric_id not in self.metrics:
            return R.NOT_FOUND, 0
        return R.OK, self.metrics[metric_id]

    # -- shared data and queues -------------------------------------------------------------
    def get_shared_data(self, key: bytes) -> tuple[bytes, int] | None:
        return self.shared.get(key)

    def set_shared_data(self, key: bytes, value: bytes, cas: int) -> WasmResult:
        self.actions.append(("set_shared", key, value, cas))
        return R.OK

    def register_shared_queue(self, name: bytes) -> int:
        self.actions.append(("register", name))
        return 5

    def resolve_shared_queue(self, vm_id: bytes, name: bytes) -> int | None:
        return 5 if (vm_id, name) == (b"vm", b"q") else None

    def enqueue_shared_queue(self, queue_id: int, value: bytes) -> WasmResult:
        self.actions.append(("enqueue", queue_id, value))
        return R.OK if queue_id in self.queues else R.NOT_FOUND

    def dequeue_shared_queue(self, queue_id: int) -> tuple[WasmResult, bytes]:
        queue = self.queues.get(queue_id)
        if queue is None:
            return R.NOT_FOUND, b""
        if not queue:
            return R.EMPTY, b""
        return R.OK, queue.pop(0)

    # -- callouts ---------------------------------------------------------------------------
    def http_call(
        self,
        upstream: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        trailers: list[tuple[bytes, bytes]],
        timeout_ms: int,
    ) -> tuple[WasmResult, int]:
        self.actions.append(("http_call", upstream, headers, body, trailers, timeout_ms))
        return (R.OK, 4) if upstream == b"auth" else (R.BAD_ARGUMENT, 0)

    def grpc_call(
        self,
        upstream: bytes,
        service: bytes,
        method: bytes,
        metadata: list[tuple[bytes, bytes]],
        message: bytes | None,
        timeout_ms: int,
    ) -> tuple[WasmResult, int]:
        self.actions.append(("grpc_call", upstream, service, method, metadata, message, timeout_ms))
        return R.OK, 5 if message is not None else 6

    def grpc_send(self, token: int, message: bytes, end_stream: bool) -> WasmResult:
        self.actions.append(("grpc_send", token, message, end_stream))
        return R.OK

    def grpc_cancel(self, token: int) -> WasmResult:
        self.actions.append(("grpc_cancel", token))
        return R.OK

    def grpc_close(self, token: int) -> WasmResult:
        self.actions.append(("grpc_close", token))
        return R.OK

    # -- test helpers -----------------------------------------------------------------------
    def put(self, data: bytes) -> tuple[int, int]:
        """Write guest input at the next free input slot; returns (ptr, size)."""
        ptr = getattr(self, "_input", INPUT_START)
        self.memory.write(ptr, data)
        self._input = ptr + len(data) + 8
        assert self._input < HEAP_START
        return ptr, len(data)

    def u32(self, ptr: int) -> int:
        return self.memory.read_u32(ptr)

    def u64(self, ptr: int) -> int:
        return self.memory.read_u64(ptr)

    def out_bytes(self, ptr_ptr: int = RET_A, size_ptr: int = RET_B) -> bytes:
        """The bytes a _copy_out wrote: follow (ptr, size) from the two out-pointers."""
        return self.memory.read(self.u32(ptr_ptr), self.u32(size_ptr))

    def poison(self, *ptrs: int) -> None:
        for ptr in ptrs:
            self.memory.write_u32(ptr, SENTINEL)


def call(abi: ProxyAbi, name: str, *args: int) -> int | None:
    """Call the import as the linker would (through lookup)."""
    fn = abi.lookup(name)
    assert fn is not None, name
    return fn(*args)


@pytest.fixture
def host() -> FakeHost:
    return FakeHost()


@pytest.fixture
def abi(host: FakeHost) -> ProxyAbi:
    return ProxyAbi(host)


# --- one valid call per import, as data ------------------------------------------------------
# Each argument is ("val", n), ("in", bytes) -> ptr and size, ("out32",) or ("out64",) ->
# a fresh out-pointer. Against a fresh FakeHost every call below succeeds.
Arg = tuple[Any, ...]
VALID_CALLS: dict[str, list[Arg]] = {
    "proxy_log": [("val", 2), ("in", b"hello")],
    "proxy_get_log_level": [("out32",)],
    "proxy_get_current_time_nanoseconds": [("out64",)],
    "proxy_get_configuration": [("out32",), ("out32",)],
    "proxy_get_buffer_bytes": [("val", 0), ("val", 0), ("val", 100), ("out32",), ("out32",)],
    "proxy_set_buffer_bytes": [("val", 0), ("val", 0), ("val", 0), ("in", b"pre")],
    "proxy_get_buffer_status": [("val", 0), ("out32",), ("out32",)],
    "proxy_get_header_map_pairs": [("val", 0), ("out32",), ("out32",)],
    "proxy_set_header_map_pairs": [("val", 0), ("in", pairs.encode([(b"k", b"v")]))],
    "proxy_get_header_map_size": [("val", 0), ("out32",)],
    "proxy_get_header_map_value": [("val", 0), ("in", b"x-a"), ("out32",), ("out32",)],
    "proxy_add_header_map_value": [("val", 0), ("in", b"x-b"), ("in", b"2")],
    "proxy_replace_header_map_value": [("val", 0), ("in", b"x-a"), ("in", b"3")],
    "proxy_remove_header_map_value": [("val", 0), ("in", b"x-a")],
    "proxy_send_local_response": [
        ("val", 403),
        ("in", b"denied"),
        ("in", b"go away"),
        ("in", pairs.encode([(b"x-deny", b"1")])),
        ("val", 7),
    ],
    "proxy_get_status": [("out32",), ("out32",), ("out32",)],
    "proxy_get_property": [("in", b"plugin_name"), ("out32",), ("out32",)],
    "proxy_set_property": [("in", b"a\0b"), ("in", b"v")],
    "proxy_call_foreign_function": [("in", b"echo"), ("in", b"abc"), ("out32",), ("out32",)],
    "proxy_define_metric": [("val", 0), ("in", b"requests"), ("out32",)],
    "proxy_get_metric": [("val", 0), ("out64",)],
    "proxy_get_shared_data": [("in", b"key"), ("out32",), ("out32",), ("out32",)],
    "proxy_set_shared_data": [("in", b"key"), ("in", b"value"), ("val", 0)],
    "proxy_register_shared_queue": [("in", b"q"), ("out32",)],
    "proxy_resolve_shared_queue": [("in", b"vm"), ("in", b"q"), ("out32",)],
    "proxy_enqueue_shared_queue": [("val", 1), ("in", b"item")],
    "proxy_dequeue_shared_queue": [("val", 1), ("out32",), ("out32",)],
    "proxy_http_call": [
        ("in", b"auth"),
        ("in", pairs.encode([(b":path", b"/"), (b":method", b"GET"), (b":authority", b"a")])),
        ("in", b"body"),
        ("in", pairs.encode([(b"t", b"1")])),
        ("val", 100),
        ("out32",),
    ],
    "proxy_grpc_call": [
        ("in", b"g"),
        ("in", b"svc"),
        ("in", b"Method"),
        ("in", pairs.encode([(b"k", b"v")])),
        ("in", b"msg"),
        ("val", 100),
        ("out32",),
    ],
    "proxy_grpc_stream": [
        ("in", b"g"),
        ("in", b"svc"),
        ("in", b"Method"),
        ("in", pairs.encode([(b"k", b"v")])),
        ("out32",),
    ],
    "proxy_grpc_send": [("val", 6), ("in", b"msg"), ("val", 1)],
}
OUT_SLOTS = [64, 72, 80, 88]  # 8-byte apart so a u64 fits in each


def build_args(host: FakeHost, spec: list[Arg]) -> tuple[list[int], list[tuple[str, int]]]:
    """Lay the inputs out in guest memory; return the args and (kind, index) of each pointer."""
    args: list[int] = []
    pointers: list[tuple[str, int]] = []
    outs = iter(OUT_SLOTS)
    for arg in spec:
        if arg[0] == "val":
            args.append(arg[1])
        elif arg[0] == "in":
            ptr, size = host.put(arg[1])
            pointers.append(("in", len(args)))
            args += [ptr, size]
        else:
            pointers.append((arg[0], len(args)))
            args.append(next(outs))
    return args, pointers


def test_every_served_proxy_import_has_a_valid_call_case() -> None:
    pointerful = {
        name
        for name, (params, _) in PROXY_SIGNATURES.items()
        if name.startswith("proxy_") and name not in UNIMPLEMENTED_IMPORTS and len(params) >= 2
    }
    assert pointerful - {"proxy_increment_metric", "proxy_record_metric"} <= set(VALID_CALLS)


@pytest.mark.parametrize("name", sorted(VALID_CALLS))
def test_valid_call_returns_ok(name: str) -> None:
    host = FakeHost()
    args, _ = build_args(host, VALID_CALLS[name])
    assert call(ProxyAbi(host), name, *args) == R.OK


def _bad_pointer_cases() -> list[tuple[str, int, str, str]]:
    cases = []
    for name, spec in sorted(VALID_CALLS.items()):
        _, pointers = build_args(FakeHost(), spec)
        for kind, index in pointers:
            bads = ["beyond", "negative", "straddle"] + (["size_overflow"] if kind == "in" else [])
            cases += [(name, index, kind, bad) for bad in bads]
    return cases


@pytest.mark.parametrize(("name", "index", "kind", "bad"), _bad_pointer_cases())
def test_bad_pointer_is_invalid_memory_access(name: str, index: int, kind: str, bad: str) -> None:
    """Every pointer argument, made bad four ways, gives INVALID_MEMORY_ACCESS, never raises."""
    host = FakeHost()
    args, _ = build_args(host, VALID_CALLS[name])
    width = {"out32": 4, "out64": 8, "in": args[index + 1] if kind == "in" else 0}[kind]
    if bad == "beyond":
        args[index] = MEMORY_BYTES
    elif bad == "negative":
        args[index] = NEG16
    elif bad == "straddle":
        args[index] = MEMORY_BYTES - width + 1
    else:  # pointer + size wraps in 32 bits: a C host doing u32 arithmetic would accept it
        args[index + 1] = 0x100000000 - args[index] + 4
    assert call(ProxyAbi(host), name, *args) == R.INVALID_MEMORY_ACCESS
    if kind == "in":
        # inputs are read before the host is asked to do anything
        assert host.actions == []
        assert host.logs == []


# --- logging, time, timers -------------------------------------------------------------------
def test_log_passes_level_and_text(host: FakeHost, abi: ProxyAbi) -> None:
    ptr, size = host.put(b"hello \xff world")
    assert call(abi, "proxy_log", LogLevel.ERROR, ptr, size) == R.OK
    assert host.logs == [(LogLevel.ERROR, "hello \ufffd world")]


def test_log_below_the_level_is_dropped_but_a_bad_pointer_is_still_an_error(
    host: FakeHost, abi: ProxyAbi
) -> None:
    """Lines below the host's level (WARN here) never reach it, as in Envoy; a bad pointer
    still gets InvalidMemoryAccess, because Envoy reads the message before the level check."""
    ptr, size = host.put(b"chatty")
    assert call(abi, "proxy_log", LogLevel.DEBUG, ptr, size) == R.OK
    assert call(abi, "proxy_log", LogLevel.INFO, 0xFFFFFFF0, 8) == R.INVALID_MEMORY_ACCESS
    assert host.logs == []


@pytest.mark.parametrize("level", [6, 7, 100, 0x7FFFFFFF, 0xFFFFFFFF])
def test_log_bad_level_is_bad_argument(host: FakeHost, abi: ProxyAbi, level: int) -> None:
    ptr, size = host.put(b"x")
    assert call(abi, "proxy_log", level, ptr, size) == R.BAD_ARGUMENT
    assert host.logs == []


def test_get_log_level_writes_u32(host: FakeHost, abi: ProxyAbi) -> None:
    host.poison(RET_A)
    assert call(abi, "proxy_get_log_level", RET_A) == R.OK
    assert host.u32(RET_A) == LogLevel.WARN


def test_current_time_writes_u64(host: FakeHost, abi: ProxyAbi) -> None:
    assert call(abi, "proxy_get_current_time_nanoseconds", RET_A) == R.OK
    assert host.u64(RET_A) == 1_700_000_000_123_456_789


def test_tick_period_is_passed_through(host: FakeHost, abi: ProxyAbi) -> None:
    assert call(abi, "proxy_set_tick_period_milliseconds", 250) == R.OK
    assert host.actions == [("tick", 250)]


# --- configuration and buffers ----------------------------------------------------------------
def test_get_configuration_copies_into_guest(host: FakeHost, abi: ProxyAbi) -> None:
    assert call(abi, "proxy_get_configuration", RET_A, RET_B) == R.OK
    assert host.u32(RET_A) == HEAP_START
    assert host.out_bytes() == CONFIG
    assert host.allocations == [len(CONFIG)]


def test_get_configuration_missing_is_not_found(host: FakeHost, abi: ProxyAbi) -> None:
    host.config = None
    host.poison(RET_A, RET_B)
    assert call(abi, "proxy_get_configuration", RET_A, RET_B) == R.NOT_FOUND
    assert (host.u32(RET_A), host.u32(RET_B)) == (SENTINEL, SENTINEL)


@pytest.mark.parametrize(
    ("start", "max_size", "expected"),
    [
        (0, 10, BODY),
        (0, 100, BODY),  # clamped to the buffer
        (0, 0xFFFFFFFF, BODY),
        (2, 3, b"234"),
        (8, 100, b"89"),
        (9, 1, b"9"),
        (10, 5, b""),  # at the end
        (11, 5, b""),  # past the end
        (0, 0, b""),  # zero length
        (NEG16, 0x20, b""),
        (0xFFFFFFFF, 0xFFFFFFFF, b""),
    ],
)
def test_get_buffer_bytes_clamps(
    host: FakeHost, abi: ProxyAbi, start: int, max_size: int, expected: bytes
) -> None:
    host.poison(RET_A, RET_B)
    assert call(abi, "proxy_get_buffer_bytes", 0, start, max_size, RET_A, RET_B) == R.OK
    if expected:
        assert host.out_bytes() == expected
        assert host.allocations == [len(expected)]
    else:
        # an empty read still writes (0, 0) and allocates nothing
        assert (host.u32(RET_A), host.u32(RET_B)) == (0, 0)
        assert host.allocations == []


@pytest.mark.parametrize("name", ["proxy_get_buffer_bytes", "proxy_set_buffer_bytes"])
@pytest.mark.parametrize("kind", [9, 10, 0xFF, 0xFFFFFFFF])
def test_buffer_bad_type_is_bad_argument(
    host: FakeHost, abi: ProxyAbi, name: str, kind: int
) -> None:
    ptr, size = host.put(b"x")
    args = (0, 1, RET_A, RET_B) if name == "proxy_get_buffer_bytes" else (0, 0, ptr, size)
    assert call(abi, name, kind, *args) == R.BAD_ARGUMENT


@pytest.mark.parametrize("kind", [9, 0xFFFFFFFF])
def test_buffer_status_bad_type_is_bad_argument(host: FakeHost, abi: ProxyAbi, kind: int) -> None:
    assert call(abi, "proxy_get_buffer_status", kind, RET_A, RET_B) == R.BAD_ARGUMENT


@pytest.mark.parametrize("kind", [1, 2, 8])
def test_buffer_absent_is_not_found(host: FakeHost, abi: ProxyAbi, kind: int) -> None:
    ptr, size = host.put(b"x")
    assert call(abi, "proxy_get_buffer_bytes", kind, 0, 1, RET_A, RET_B) == R.NOT_FOUND
    assert call(abi, "proxy_set_buffer_bytes", kind, 0, 0, ptr, size) == R.NOT_FOUND
    assert call(abi, "proxy_get_buffer_status", kind, RET_A, RET_B) == R.NOT_FOUND


@pytest.mark.parametrize(
    ("start", "length", "data", "result", "after"),
    [
        (0, 0, b"<<", R.OK, b"<<" + BODY),  # prepend
        (0, 10, b"new", R.OK, b"new"),  # replace the whole body
        (0, 4, b"ab", R.OK, b"ab456789"),  # drop a prefix, then prepend
        (10, 0, b">>", R.OK, BODY + b">>"),  # append at the end
        (50, 0, b">>", R.OK, BODY + b">>"),  # ... or past it
        (5, 1, b"mid", R.BAD_ARGUMENT, BODY),  # the middle is not supported
    ],
)
def test_set_buffer_bytes_follows_copy_from(
    host: FakeHost, abi: ProxyAbi, start: int, length: int, data: bytes, result: R, after: bytes
) -> None:
    ptr, size = host.put(data)
    assert call(abi, "proxy_set_buffer_bytes", 0, start, length, ptr, size) == result
    assert bytes(host.buffers[BufferType.HTTP_REQUEST_BODY].data) == after


def test_set_buffer_bytes_read_only_is_bad_argument(host: FakeHost, abi: ProxyAbi) -> None:
    host.buffers[BufferType.HTTP_REQUEST_BODY].writable = False
    ptr, size = host.put(b"x")
    assert call(abi, "proxy_set_buffer_bytes", 0, 0, 0, ptr, size) == R.BAD_ARGUMENT
    assert bytes(host.buffers[BufferType.HTTP_REQUEST_BODY].data) == BODY


def test_get_buffer_status_writes_size_and_zero_flags(host: FakeHost, abi: ProxyAbi) -> None:
    host.poison(RET_A, RET_B)
    assert call(abi, "proxy_get_buffer_status", 0, RET_A, RET_B) == R.OK
    assert (host.u32(RET_A), host.u32(RET_B)) == (len(BODY), 0)


# --- header maps -------------------------------------------------------------------------------
MAP_CALLS: dict[str, Callable[[FakeHost, int], tuple[int, ...]]] = {
    "proxy_get_header_map_pairs": lambda h, m: (m, RET_A, RET_B),
    "proxy_set_header_map_pairs": lambda h, m: (m, *h.put(pairs.encode([(b"k", b"v")]))),
    "proxy_get_header_map_size": lambda h, m: (m, RET_A),
    "proxy_get_header_map_value": lambda h, m: (m, *h.put(b"host"), RET_A, RET_B),
    "proxy_add_header_map_value": lambda h, m: (m, *h.put(b"k"), *h.put(b"v")),
    "proxy_replace_header_map_value": lambda h, m: (m, *h.put(b"k"), *h.put(b"v")),
    "proxy_remove_header_map_value": lambda h, m: (m, *h.put(b"host")),
}
WRITES_MAP = {
    "proxy_set_header_map_pairs",
    "proxy_add_header_map_value",
    "proxy_replace_header_map_value",
    "proxy_remove_header_map_value",
}


@pytest.mark.parametrize("name", sorted(MAP_CALLS))
@pytest.mark.parametrize("map_type", [8, 9, 0x100, 0xFFFFFFFF])
def test_map_bad_type_is_bad_argument(host: FakeHost, name: str, map_type: int) -> None:
    assert call(ProxyAbi(host), name, *MAP_CALLS[name](host, map_type)) == R.BAD_ARGUMENT
    assert host.map_requests == []


@pytest.mark.parametrize("name", sorted(MAP_CALLS))
def test_map_asks_for_write_access_only_when_mutating(host: FakeHost, name: str) -> None:
    assert call(ProxyAbi(host), name, *MAP_CALLS[name](host, 0)) == R.OK
    assert host.map_requests == [(MapType.HTTP_REQUEST_HEADERS, name in WRITES_MAP)]


@pytest.mark.parametrize("name", sorted(MAP_CALLS))
def test_map_refusal_from_host_is_returned(host: FakeHost, name: str) -> None:
    """A map the phase does not expose (host says NOT_FOUND) surfaces as that code."""
    args = MAP_CALLS[name](host, MapType.HTTP_CALL_RESPONSE_TRAILERS)
    assert call(ProxyAbi(host), name, *args) == R.NOT_FOUND


def test_get_header_map_pairs_serializes(host: FakeHost, abi: ProxyAbi) -> None:
    assert call(abi, "proxy_get_header_map_pairs", 0, RET_A, RET_B) == R.OK
    assert host.out_bytes() == pairs.encode(REQUEST_HEADERS)


def test_get_header_map_pairs_empty_map_is_zero_zero(host: FakeHost, abi: ProxyAbi) -> None:
    host.poison(RET_A, RET_B)
    assert call(abi, "proxy_get_header_map_pairs", MapType.HTTP_RESPONSE_HEADERS, RET_A, RET_B) == 0
    assert (host.u32(RET_A), host.u32(RET_B)) == (0, 0)
    assert host.allocations == []


def test_set_header_map_pairs_replaces_and_lowercases(host: FakeHost, abi: ProxyAbi) -> None:
    new = [(b"X-One", b"1"), (b"x-two", b"2"), (b"x-two", b"3")]
    assert call(abi, "proxy_set_header_map_pairs", 0, *host.put(pairs.encode(new))) == R.OK
    assert host.maps[MapType.HTTP_REQUEST_HEADERS].pairs() == [
        (b"x-one", b"1"),
        (b"x-two", b"2"),
        (b"x-two", b"3"),
    ]


@pytest.mark.parametrize("buf", [b"", b"\x00", struct.pack("<I", 0)])
def test_set_header_map_pairs_empty_forms_clear(host: FakeHost, abi: ProxyAbi, buf: bytes) -> None:
    ptr = host.put(buf)[0] if buf else INPUT_START
    assert call(abi, "proxy_set_header_map_pairs", 0, ptr, len(buf)) == R.OK
    assert host.maps[MapType.HTTP_REQUEST_HEADERS].pairs() == []


def _good(n: int = 1) -> bytearray:
    return bytearray(pairs.encode([(b"key", b"val")] * n))


def _patched(buf: bytearray, index: int, value: int) -> bytes:
    buf[index] = value
    return bytes(buf)


MALFORMED_PAIRS = {
    "shorter_than_count": b"\x01\x00",
    "count_without_table": struct.pack("<I", 1),
    "table_without_bodies": struct.pack("<III", 1, 3, 3),
    "body_truncated": bytes(_good())[:-1],
    "key_nul_missing": _patched(_good(), 4 + 8 + 3, ord("X")),
    "value_nul_missing": _patched(_good(), -1, ord("X")),
    "trailing_bytes": bytes(_good()) + b"\x00",
    "lengths_past_end": struct.pack("<III", 1, 0xFFFFFFFF, 0) + b"\x00\x00",
    "count_huge": struct.pack("<I", 0xFFFFFFFF) + b"\x00" * 16,
    "too_many_pairs": pairs.encode([(b"a", b"b")] * (MAX_PAIRS_COUNT + 1)),
    "too_many_bytes": pairs.encode([(b"k", b"x" * MAX_PAIRS_BYTES)]),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_PAIRS))
def test_set_header_map_pairs_malformed_is_bad_argument(case: str) -> None:
    buf = MALFORMED_PAIRS[case]
    host = FakeHost(memory_bytes=4 << 20)
    ptr = HEAP_START  # large inputs do not fit the input area; nothing allocates here
    host.memory.write(ptr, buf)
    assert call(ProxyAbi(host), "proxy_set_header_map_pairs", 0, ptr, len(buf)) == R.BAD_ARGUMENT
    assert host.maps[MapType.HTTP_REQUEST_HEADERS].pairs() == REQUEST_HEADERS


def test_set_header_map_pairs_limits_are_inclusive(host: FakeHost) -> None:
    ok = pairs.encode([(b"a", b"b")] * MAX_PAIRS_COUNT)
    big = FakeHost(memory_bytes=1 << 21)
    big.memory.write(HEAP_START, ok)
    assert call(ProxyAbi(big), "proxy_set_header_map_pairs", 0, HEAP_START, len(ok)) == R.OK
    assert len(big.maps[MapType.HTTP_REQUEST_HEADERS]) == MAX_PAIRS_COUNT


def test_get_header_map_size_is_byte_size(host: FakeHost, abi: ProxyAbi) -> None:
    assert call(abi, "proxy_get_header_map_size", 0, RET_A) == R.OK
    assert host.u32(RET_A) == sum(len(k) + len(v) for k, v in REQUEST_HEADERS)


def test_get_header_map_value_found(host: FakeHost, abi: ProxyAbi) -> None:
    assert call(abi, "proxy_get_header_map_value", 0, *host.put(b"X-A"), RET_A, RET_B) == R.OK
    assert host.out_bytes() == b"1"


@pytest.mark.parametrize(
    ("version", "result"),
    [(AbiVersion.V0_1_0, R.OK), (AbiVersion.V0_2_0, R.NOT_FOUND), (AbiVersion.V0_2_1, R.NOT_FOUND)],
)
def test_get_header_map_value_missing_by_abi(version: AbiVersion, result: R) -> None:
    """0.1.0 reads a missing header as empty (writes 0/0); 0.2.x says NOT_FOUND."""
    host = FakeHost(abi=version)
    host.poison(RET_A, RET_B)
    args = (0, *host.put(b"x-missing"), RET_A, RET_B)
    assert call(ProxyAbi(host), "proxy_get_header_map_value", *args) == result
    expected = (0, 0) if result == R.OK else (SENTINEL, SENTINEL)
    assert (host.u32(RET_A), host.u32(RET_B)) == expected
    assert host.allocations == []


def test_add_replace_remove(host: FakeHost, abi: ProxyAbi) -> None:
    headers = host.maps[MapType.HTTP_REQUEST_HEADERS]
    assert call(abi, "proxy_add_header_map_value", 0, *host.put(b"X-A"), *host.put(b"2")) == 0
    assert [v for k, v in headers.pairs() if k == b"x-a"] == [b"1", b"2"]
    assert call(abi, "proxy_replace_header_map_value", 0, *host.put(b"x-a"), *host.put(b"9")) == 0
    assert [v for k, v in headers.pairs() if k == b"x-a"] == [b"9"]
    assert call(abi, "proxy_remove_header_map_value", 0, *host.put(b"x-a")) == R.OK
    assert headers.get(b"x-a") is None
    assert call(abi, "proxy_remove_header_map_value", 0, *host.put(b"absent")) == R.OK


def test_write_to_read_only_map_is_refused(host: FakeHost, abi: ProxyAbi) -> None:
    host.maps[MapType.HTTP_REQUEST_HEADERS].writable = False
    args = (0, *host.put(b"k"), *host.put(b"v"))
    assert call(abi, "proxy_add_header_map_value", *args) == R.BAD_ARGUMENT
    assert host.maps[MapType.HTTP_REQUEST_HEADERS].pairs() == REQUEST_HEADERS


# --- stream control ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "args", "action"),
    [
        ("proxy_continue_stream", (1,), ("continue", 1)),
        ("proxy_close_stream", (0,), ("close", 0)),
        ("proxy_continue_request", (), ("continue", 0)),
        ("proxy_continue_response", (), ("continue", 1)),
        ("proxy_clear_route_cache", (), ("clear_route_cache",)),
        ("proxy_set_effective_context", (2,), ("effective", 2)),
        ("proxy_done", (), ("done",)),
    ],
)
def test_stream_control_is_delegated(
    host: FakeHost, abi: ProxyAbi, name: str, args: tuple[int, ...], action: tuple[Any, ...]
) -> None:
    expected = R.NOT_FOUND if name == "proxy_done" else R.OK
    assert call(abi, name, *args) == expected
    assert host.actions == [action]


def test_host_codes_pass_through(host: FakeHost, abi: ProxyAbi) -> None:
    assert call(abi, "proxy_continue_stream", 9) == R.BAD_ARGUMENT
    assert call(abi, "proxy_set_effective_context", 77) == R.BAD_ARGUMENT


def _local_response_args(host: FakeHost, headers: bytes) -> tuple[int, ...]:
    return (403, *host.put(b"denied"), *host.put(b"go away"), *host.put(headers), 7)


def test_send_local_response_passes_everything(host: FakeHost, abi: ProxyAbi) -> None:
    headers = [(b"x-deny", b"1"), (b"content-type", b"text/plain")]
    args = _local_response_args(host, pairs.encode(headers))
    assert call(abi, "proxy_send_local_response", *args) == R.OK
    assert host.actions == [("local", 403, b"denied", b"go away", headers, 7)]


def test_send_local_response_without_headers(host: FakeHost, abi: ProxyAbi) -> None:
    args = (401, *host.put(b"d"), *host.put(b"b"), 0, 0, 0)
    assert call(abi, "proxy_send_local_response", *args) == R.OK
    assert host.actions == [("local", 401, b"d", b"b", [], 0)]


@pytest.mark.parametrize("case", ["shorter_than_count", "key_nul_missing", "trailing_bytes"])
def test_send_local_response_malformed_headers_still_replies(
    host: FakeHost, abi: ProxyAbi, case: str
) -> None:
    """A deny plugin with a bad header list must still deny: headers dropped, WARN logged."""
    args = _local_response_args(host, MALFORMED_PAIRS[case])
    assert call(abi, "proxy_send_local_response", *args) == R.OK
    assert host.actions == [("local", 403, b"denied", b"go away", [], 7)]
    assert [level for level, _ in host.logs] == [LogLevel.WARN]


def test_get_status_writes_code_and_message(host: FakeHost, abi: ProxyAbi) -> None:
    assert call(abi, "proxy_get_status", RET_C, RET_A, RET_B) == R.OK
    assert host.u32(RET_C) == STATUS[0]
    assert host.out_bytes() == STATUS[1]


def test_get_status_empty_message_writes_zero_zero(host: FakeHost, abi: ProxyAbi) -> None:
    host.status = (0, b"")
    host.poison(RET_A, RET_B)
    assert call(abi, "proxy_get_status", RET_C, RET_A, RET_B) == R.OK
    assert (host.u32(RET_C), host.u32(RET_A), host.u32(RET_B)) == (0, 0, 0)


def test_get_status_outside_callout_is_not_found(host: FakeHost, abi: ProxyAbi) -> None:
    host.status = None
    assert call(abi, "proxy_get_status", RET_C, RET_A, RET_B) == R.NOT_FOUND


# --- properties and foreign functions ---------------------------------------------------------
def test_get_property_splits_path_on_nul(host: FakeHost, abi: ProxyAbi) -> None:
    host.props[(b"request", b"headers", b"x-a")] = b"1"
    path = host.put(b"request\0headers\0x-a")
    assert call(abi, "proxy_get_property", *path, RET_A, RET_B) == R.OK
    assert host.out_bytes() == b"1"


def test_get_property_missing_is_not_found(host: FakeHost, abi: ProxyAbi) -> None:
    host.poison(RET_A)
    assert call(abi, "proxy_get_property", *host.put(b"nope"), RET_A, RET_B) == R.NOT_FOUND
    assert host.u32(RET_A) == SENTINEL


def test_get_property_unserializable_is_serialization_failure(
    host: FakeHost, abi: ProxyAbi
) -> None:
    host.poison(RET_A)
    path = host.put(b"unserializable")
    assert call(abi, "proxy_get_property", *path, RET_A, RET_B) == R.SERIALIZATION_FAILURE
    assert host.u32(RET_A) == SENTINEL


def test_get_property_empty_value_is_zero_zero(host: FakeHost, abi: ProxyAbi) -> None:
    host.props[(b"empty",)] = b""
    assert call(abi, "proxy_get_property", *host.put(b"empty"), RET_A, RET_B) == R.OK
    assert (host.u32(RET_A), host.u32(RET_B)) == (0, 0)


def test_set_property_splits_path(host: FakeHost, abi: ProxyAbi) -> None:
    assert call(abi, "proxy_set_property", *host.put(b"a\0b"), *host.put(b"v")) == R.OK
    assert host.actions == [("set_property", [b"a", b"b"], b"v")]


def test_foreign_function_ok_copies_result(host: FakeHost, abi: ProxyAbi) -> None:
    args = (*host.put(b"echo"), *host.put(b"abc"), RET_A, RET_B)
    assert call(abi, "proxy_call_foreign_function", *args) == R.OK
    assert host.out_bytes() == b"cba"


def test_foreign_function_error_writes_nothing(host: FakeHost, abi: ProxyAbi) -> None:
    host.poison(RET_A, RET_B)
    args = (*host.put(b"nope"), *host.put(b"abc"), RET_A, RET_B)
    assert call(abi, "proxy_call_foreign_function", *args) == R.NOT_FOUND
    assert (host.u32(RET_A), host.u32(RET_B)) == (SENTINEL, SENTINEL)
    assert host.allocations == []


# --- metrics -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", [0, 1, 2])
def test_define_metric_writes_id(host: FakeHost, abi: ProxyAbi, kind: int) -> None:
    assert call(abi, "proxy_define_metric", kind, *host.put(b"reqs"), RET_A) == R.OK
    assert host.u32(RET_A) == 100 + kind
    assert host.actions == [("define", MetricType(kind), b"reqs")]


@pytest.mark.parametrize("kind", [3, 4, 0xFFFFFFFF])
def test_define_metric_bad_type_is_bad_argument(host: FakeHost, abi: ProxyAbi, kind: int) -> None:
    host.poison(RET_A)
    assert call(abi, "proxy_define_metric", kind, *host.put(b"reqs"), RET_A) == R.BAD_ARGUMENT
    assert host.u32(RET_A) == SENTINEL
    assert host.actions == []


def test_increment_metric_keeps_signed_delta(host: FakeHost, abi: ProxyAbi) -> None:
    assert call(abi, "proxy_increment_metric", 4, -3) == R.OK
    assert host.actions == [("increment", 4, -3)]


@pytest.mark.parametrize(("raw", "value"), [(5, 5), (-1, 2**64 - 1), (2**63, 2**63)])
def test_record_metric_value_is_unsigned(
    host: FakeHost, abi: ProxyAbi, raw: int, value: int
) -> None:
    assert call(abi, "proxy_record_metric", 0, raw) == R.OK
    assert host.actions == [("record", 0, value)]


def test_get_metric_writes_u64(host: FakeHost, abi: ProxyAbi) -> None:
    assert call(abi, "proxy_get_metric", 0, RET_A) == R.OK
    assert host.u64(RET_A) == 42


def test_get_metric_negative_gauge_is_twos_complement(host: FakeHost, abi: ProxyAbi) -> None:
    host.metrics[1] = -2
    assert call(abi, "proxy_get_metric", 1, RET_A) == R.OK
    assert host.u64(RET_A) == 2**64 - 2


def test_get_metric_unknown_writes_nothing(host: FakeHost, abi: ProxyAbi) -> None:
    host.poison(RET_A)
    assert call(abi, "proxy_get_metric", 99, RET_A) == R.NOT_FOUND
    assert host.u32(RET_A) == SENTINEL


# --- shared data and queues --------------------------------------------------------------------
def test_get_shared_data_writes_value_and_cas(host: FakeHost, abi: ProxyAbi) -> None:
    assert call(abi, "proxy_get_shared_data", *host.put(b"key"), RET_A, RET_B, RET_C) == R.OK
    assert host.out_bytes() == b"shared-value"
    assert host.u32(RET_C) == 9


def test_get_shared_data_missing_is_not_found(host: FakeHost, abi: ProxyAbi) -> None:
    assert call(abi, "proxy_get_shared_data", *host.put(b"k2"), RET_A, RET_B, RET_C) == 1


def test_set_shared_data_passes_cas(host: FakeHost, abi: ProxyAbi) -> None:
    assert call(abi, "proxy_set_shared_data", *host.put(b"k"), *host.put(b"v"), 0xFFFFFFFF) == 0
    assert host.actions == [("set_shared", b"k", b"v", 0xFFFFFFFF)]


def test_register_and_resolve_queue(host: FakeHost, abi: ProxyAbi) -> None:
    assert call(abi, "proxy_register_shared_queue", *host.put(b"q"), RET_A) == R.OK
    assert host.u32(RET_A) == 5
    assert call(abi, "proxy_resolve_shared_queue", *host.put(b"vm"), *host.put(b"q"), RET_B) == 0
    assert host.u32(RET_B) == 5
    host.poison(RET_B)
    args = (*host.put(b"vm"), *host.put(b"other"), RET_B)
    assert call(abi, "proxy_resolve_shared_queue", *args) == R.NOT_FOUND
    assert host.u32(RET_B) == SENTINEL


def test_enqueue_and_dequeue(host: FakeHost, abi: ProxyAbi) -> None:
    assert call(abi, "proxy_enqueue_shared_queue", 1, *host.put(b"third")) == R.OK
    assert call(abi, "proxy_enqueue_shared_queue", 2, *host.put(b"x")) == R.NOT_FOUND
    assert call(abi, "proxy_dequeue_shared_queue", 1, RET_A, RET_B) == R.OK
    assert host.out_bytes() == b"first"
    host.queues[1].clear()
    assert call(abi, "proxy_dequeue_shared_queue", 1, RET_A, RET_B) == R.EMPTY
    assert call(abi, "proxy_dequeue_shared_queue", 3, RET_A, RET_B) == R.NOT_FOUND


# --- allocator failure ---------------------------------------------------------------------------
COPY_OUT_CALLS = [
    "proxy_get_configuration",
    "proxy_get_buffer_bytes",
    "proxy_get_header_map_pairs",
    "proxy_get_header_map_value",
    "proxy_get_status",
    "proxy_get_property",
    "proxy_call_foreign_function",
    "proxy_get_shared_data",
    "proxy_dequeue_shared_queue",
]


@pytest.mark.parametrize("name", COPY_OUT_CALLS)
@pytest.mark.parametrize("returned", [0, MEMORY_BYTES, NEG16])
def test_allocator_failure_is_invalid_memory_access(name: str, returned: int) -> None:
    """The guest allocator returning 0 (or a pointer outside memory) -> code 6, no raise."""
    host = FakeHost(alloc_override=returned)
    args, _ = build_args(host, VALID_CALLS[name])
    assert call(ProxyAbi(host), name, *args) == R.INVALID_MEMORY_ACCESS
    assert host.allocations  # the allocator was asked


# --- odds and ends, dispatch ---------------------------------------------------------------------
def test_emscripten_and_pthread(abi: ProxyAbi) -> None:
    assert call(abi, "emscripten_notify_memory_growth", 0) is None
    assert call(abi, "pthread_equal", 3, 3) == 1
    assert call(abi, "pthread_equal", 3, 4) == 0


@pytest.mark.parametrize("name", ["proxy_nope", "_read", "_copy_out", "lookup", "__init__"])
def test_lookup_refuses_non_imports(abi: ProxyAbi, name: str) -> None:
    assert abi.lookup(name) is None


def test_lookup_keeps_the_import_name(abi: ProxyAbi) -> None:
    fn = abi.lookup("proxy_log")
    assert fn is not None and fn.__name__ == "proxy_log"


# --- property: random arguments never raise ----------------------------------------------
SERVED = sorted(
    name
    for name in PROXY_SIGNATURES
    if name.startswith("proxy_") and name not in UNIMPLEMENTED_IMPORTS
)
U32 = st.integers(0, 0xFFFFFFFF)
I64 = st.integers(-(2**63), 2**63 - 1)
# Biased toward values that hit real code paths: small enums, in-memory pointers, edges.
U32_INTERESTING = st.one_of(
    U32,
    st.integers(0, 12),
    st.integers(0, MEMORY_BYTES + 8),
    st.sampled_from([NEG16, 0xFFFFFFFF, 0x80000000, MEMORY_BYTES - 4, HEAP_START]),
)


@st.composite
def random_call(draw: st.DrawFn) -> tuple[str, list[int], bytes]:
    name = draw(st.sampled_from(SERVED))
    params = PROXY_SIGNATURES[name][0]
    args = [draw(I64 if kind == "i64" else U32_INTERESTING) for kind in params]
    memory = draw(st.binary(max_size=64))  # arbitrary bytes at INPUT_START (maybe pairs)
    return name, args, memory


@settings(max_examples=500, deadline=None)
@given(random_call(), st.sampled_from(list(AbiVersion)), st.booleans())
def test_random_arguments_never_raise(
    case: tuple[str, list[int], bytes], version: AbiVersion, alloc_fails: bool
) -> None:
    name, args, memory = case
    host = FakeHost(abi=version, alloc_fails=alloc_fails)
    host.memory.write(INPUT_START, memory)
    result = call(ProxyAbi(host), name, *args)
    assert isinstance(result, int)
    assert result in VALID_RESULTS


# --- callouts ---------------------------------------------------------------------------------
def test_http_call_passes_everything_and_writes_the_token(host: FakeHost, abi: ProxyAbi) -> None:
    args, _ = build_args(host, VALID_CALLS["proxy_http_call"])
    assert call(abi, "proxy_http_call", *args) == R.OK
    assert host.u32(args[-1]) == 4
    assert host.actions[-1] == (
        "http_call",
        b"auth",
        [(b":path", b"/"), (b":method", b"GET"), (b":authority", b"a")],
        b"body",
        [(b"t", b"1")],
        100,
    )


def test_http_call_refused_leaves_the_token_untouched(host: FakeHost, abi: ProxyAbi) -> None:
    spec = [("in", b"nope"), *VALID_CALLS["proxy_http_call"][1:]]
    args, _ = build_args(host, spec)
    host.poison(args[-1])
    assert call(abi, "proxy_http_call", *args) == R.BAD_ARGUMENT
    assert host.u32(args[-1]) == SENTINEL


def test_http_call_malformed_headers_are_bad_argument(host: FakeHost, abi: ProxyAbi) -> None:
    spec = [("in", b"auth"), ("in", b"\x05\x00"), *VALID_CALLS["proxy_http_call"][2:]]
    args, _ = build_args(host, spec)
    assert call(abi, "proxy_http_call", *args) == R.BAD_ARGUMENT
    assert host.actions == []


def test_grpc_stream_is_a_call_without_message(host: FakeHost, abi: ProxyAbi) -> None:
    args, _ = build_args(host, VALID_CALLS["proxy_grpc_stream"])
    assert call(abi, "proxy_grpc_stream", *args) == R.OK
    assert host.u32(args[-1]) == 6
    assert host.actions[-1] == ("grpc_call", b"g", b"svc", b"Method", [(b"k", b"v")], None, 0)


@pytest.mark.parametrize(
    ("name", "action"), [("proxy_grpc_cancel", "grpc_cancel"), ("proxy_grpc_close", "grpc_close")]
)
def test_grpc_cancel_and_close_pass_the_token(
    host: FakeHost, abi: ProxyAbi, name: str, action: str
) -> None:
    assert call(abi, name, 6) == R.OK
    assert host.actions[-1] == (action, 6)
