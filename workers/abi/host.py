"""The proxy_* host functions: pure marshalling between guest memory and a ``ProxyHost``.

Each method validates its arguments, reads guest memory, asks the host (the contexts
layer) to do the work and writes results back, returning a ``WasmResult``. Guest mistakes
(bad pointers, malformed pairs, unknown enum values) become error codes here; nothing a
guest passes raises out of this module. Semantics (which map exists when, what a local
reply does) live in workers/contexts, as in proxy-wasm-cpp-host's exports.cc/context.cc.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from workers.abi import pairs
from workers.abi.types import (
    AbiVersion,
    BufferType,
    LogLevel,
    MapType,
    MetricType,
    NotSerializable,
    WasmResult,
)
from workers.vm.base import GuestMemory, GuestMemoryError, Shortcut

R = WasmResult
_LOG_LEVELS = tuple(LogLevel)  # by value: an index instead of an enum lookup per line
_MAX_BUFFER_TYPE = max(BufferType)
_MAX_MAP_TYPE = max(MapType)
# MapType(n) by index: the enum's call costs ~1 us, a header-map host call ~3 us in all.
_MAP_TYPES = tuple(sorted(MapType))
assert [int(t) for t in _MAP_TYPES] == list(range(len(_MAP_TYPES)))


class HeaderMap(Protocol):
    """A mutable, ordered multimap with lower-cased keys. A write may answer a WasmResult
    (a plugin's visibility view refuses some names, workers/contexts/visibility.py); None
    means OK."""

    def get(self, key: bytes) -> bytes | None: ...
    def add(self, key: bytes, value: bytes) -> WasmResult | None: ...
    def replace(self, key: bytes, value: bytes) -> WasmResult | None: ...
    def remove(self, key: bytes) -> WasmResult | None: ...
    def pairs(self) -> list[tuple[bytes, bytes]]: ...
    def set_pairs(self, items: Sequence[tuple[bytes, bytes]]) -> WasmResult | None: ...
    def byte_size(self) -> int: ...


class Buffer(Protocol):
    def size(self) -> int: ...
    def get(self, start: int, length: int) -> bytes: ...
    def copy_from(self, start: int, length: int, data: bytes) -> WasmResult: ...


class ProxyHost(Protocol):
    """What the ABI layer needs from the contexts layer (the current/effective context)."""

    abi: AbiVersion

    @property
    def memory(self) -> GuestMemory: ...

    def allocate(self, size: int) -> int: ...
    def log(self, level: LogLevel, message: str) -> None: ...
    def log_level(self) -> LogLevel:
        """The plugin's log level; fixed for the VM's life (see ProxyAbi.shortcuts)."""
        ...

    def now_ns(self) -> int: ...
    def set_tick_period(self, period_ms: int) -> WasmResult: ...
    def configuration(self) -> bytes | None: ...
    def buffer(self, kind: BufferType) -> Buffer | None: ...
    def header_map(self, kind: MapType, *, write: bool) -> HeaderMap | WasmResult: ...
    def continue_stream(self, stream: int) -> WasmResult: ...
    def close_stream(self, stream: int) -> WasmResult: ...
    def clear_route_cache(self) -> WasmResult: ...
    def send_local_response(
        self,
        status: int,
        details: bytes,
        body: bytes,
        headers: list[tuple[bytes, bytes]],
        grpc_status: int,
    ) -> WasmResult: ...
    def get_status(self) -> tuple[int, bytes] | None: ...
    def set_effective_context(self, context_id: int) -> WasmResult: ...
    def done(self) -> WasmResult: ...
    def get_property(self, path: list[bytes]) -> bytes | None: ...
    def set_property(self, path: list[bytes], value: bytes) -> WasmResult: ...
    def call_foreign_function(self, name: bytes, args: bytes) -> tuple[WasmResult, bytes]: ...
    def define_metric(self, kind: MetricType, name: bytes) -> int: ...
    def increment_metric(self, metric_id: int, delta: int) -> WasmResult: ...
    def record_metric(self, metric_id: int, value: int) -> WasmResult: ...
    def get_metric(self, metric_id: int) -> tuple[WasmResult, int]: ...
    def get_shared_data(self, key: bytes) -> tuple[bytes, int] | None: ...
    def set_shared_data(self, key: bytes, value: bytes, cas: int) -> WasmResult: ...
    def register_shared_queue(self, name: bytes) -> int: ...
    def resolve_shared_queue(self, vm_id: bytes, name: bytes) -> int | None: ...
    def enqueue_shared_queue(self, queue_id: int, value: bytes) -> WasmResult: ...
    def dequeue_shared_queue(self, queue_id: int) -> tuple[WasmResult, bytes]: ...
    def http_call(
        self,
        upstream: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        trailers: list[tuple[bytes, bytes]],
        timeout_ms: int,
    ) -> tuple[WasmResult, int]: ...
    def grpc_call(
        self,
        upstream: bytes,
        service: bytes,
        method: bytes,
        metadata: list[tuple[bytes, bytes]],
        message: bytes | None,
        timeout_ms: int,
    ) -> tuple[WasmResult, int]: ...
    def grpc_send(self, token: int, message: bytes, end_stream: bool) -> WasmResult: ...
    def grpc_cancel(self, token: int) -> WasmResult: ...
    def grpc_close(self, token: int) -> WasmResult: ...


def property_path(raw: bytes) -> list[bytes]:
    """The parts of a ``proxy_get_property`` path, read as Envoy reads it.

    Parts are separated by NUL. The Rust and Go SDKs join them (``request\\0path``); the C++
    SDK ends every part with a NUL (``request\\0path\\0``). Envoy stops at the end of the
    buffer, so one trailing NUL ends the last part rather than starting an empty one; an
    empty part anywhere else is kept (and finds nothing).
    """
    parts = raw.split(b"\0")
    if len(parts) > 1 and not parts[-1]:
        parts.pop()
    return parts


class AbiFailure(Exception):
    """Raised inside a host function to answer the guest with ``result``; the caller
    (``lookup``'s wrapper, or the linker's gate) turns it into the return code."""

    def __init__(self, result: WasmResult) -> None:
        self.result = result


class ProxyAbi:
    """One instance per VM; methods are named exactly like the imports they serve."""

    def __init__(self, host: ProxyHost) -> None:
        self.host = host

    # -- marshalling helpers -----------------------------------------------------------
    def _read(self, ptr: int, size: int) -> bytes:
        try:
            return self.host.memory.read(ptr, size)
        except GuestMemoryError:
            raise AbiFailure(R.INVALID_MEMORY_ACCESS) from None

    def _read2(self, ptr: int, size: int, ptr2: int, size2: int) -> tuple[bytes, bytes]:
        """Two reads in one frame (key and value of the header-map calls), in order."""
        memory = self.host.memory
        try:
            return memory.read(ptr, size), memory.read(ptr2, size2)
        except GuestMemoryError:
            raise AbiFailure(R.INVALID_MEMORY_ACCESS) from None

    def _u32_out(self, ptr: int, value: int) -> None:
        try:
            self.host.memory.write_u32(ptr, value)
        except GuestMemoryError:
            raise AbiFailure(R.INVALID_MEMORY_ACCESS) from None

    def _u64_out(self, ptr: int, value: int) -> None:
        try:
            self.host.memory.write_u64(ptr, value)
        except GuestMemoryError:
            raise AbiFailure(R.INVALID_MEMORY_ACCESS) from None

    def _copy_out(self, data: bytes, ptr_ptr: int, size_ptr: int) -> None:
        """Allocate guest memory, copy data into it, write (ptr, size); like copyToPointerSize."""
        ptr = 0
        if data:
            ptr = self.host.allocate(len(data))
            if ptr == 0:
                raise AbiFailure(R.INVALID_MEMORY_ACCESS)
        memory = self.host.memory  # after allocate(): the allocator may grow memory
        try:
            if data:
                memory.write(ptr, data)
            memory.write_u32(ptr_ptr, ptr)
            memory.write_u32(size_ptr, len(data))
        except GuestMemoryError:
            raise AbiFailure(R.INVALID_MEMORY_ACCESS) from None

    def _map(self, map_type: int, *, write: bool) -> HeaderMap:
        if map_type > _MAX_MAP_TYPE:
            raise AbiFailure(R.BAD_ARGUMENT)
        found = self.host.header_map(_MAP_TYPES[map_type], write=write)
        if isinstance(found, WasmResult):
            raise AbiFailure(found)
        return found

    def _pairs(self, ptr: int, size: int) -> list[tuple[bytes, bytes]]:
        try:
            return pairs.decode(self._read(ptr, size))
        except pairs.PairsError:
            raise AbiFailure(R.BAD_ARGUMENT) from None

    # -- logging, time, timers ----------------------------------------------------------
    def proxy_log(self, level: int, ptr: int, size: int) -> int:
        # Answers every mistake with a code, never AbiFailure (see NEVER_RAISES).
        if level > LogLevel.CRITICAL:
            return R.BAD_ARGUMENT
        try:
            data = self.host.memory.read(ptr, size)  # a bad pointer is an error even for a
        except GuestMemoryError:  # line that is dropped
            return R.INVALID_MEMORY_ACCESS
        if level < self.host.log_level():
            return R.OK  # SDKs log at debug on every request: drop it before any decoding
        self.host.log(_LOG_LEVELS[level], data.decode("utf-8", "replace"))
        return R.OK

    def proxy_get_log_level(self, ret: int) -> int:
        self._u32_out(ret, self.host.log_level())
        return R.OK

    def proxy_get_current_time_nanoseconds(self, ret: int) -> int:
        self._u64_out(ret, self.host.now_ns())
        return R.OK

    def proxy_set_tick_period_milliseconds(self, period_ms: int) -> int:
        return self.host.set_tick_period(period_ms)

    # -- configuration and buffers --------------------------------------------------------
    def proxy_get_configuration(self, ptr_ptr: int, size_ptr: int) -> int:
        config = self.host.configuration()
        if config is None:
            return R.NOT_FOUND
        self._copy_out(config, ptr_ptr, size_ptr)
        return R.OK

    def proxy_get_buffer_bytes(
        self, kind: int, start: int, length: int, ptr_ptr: int, size_ptr: int
    ) -> int:
        if kind > _MAX_BUFFER_TYPE:
            return R.BAD_ARGUMENT
        buffer = self.host.buffer(BufferType(kind))
        if buffer is None:
            return R.NOT_FOUND
        length = min(length, max(0, buffer.size() - start))
        # Like the cpp-host, an empty read still writes (0, 0) to the out-pointers.
        self._copy_out(buffer.get(start, length) if length else b"", ptr_ptr, size_ptr)
        return R.OK

    def proxy_set_buffer_bytes(
        self, kind: int, start: int, length: int, ptr: int, size: int
    ) -> int:
        if kind > _MAX_BUFFER_TYPE:
            return R.BAD_ARGUMENT
        buffer = self.host.buffer(BufferType(kind))
        if buffer is None:
            return R.NOT_FOUND
        return buffer.copy_from(start, length, self._read(ptr, size))

    def proxy_get_buffer_status(self, kind: int, size_ptr: int, flags_ptr: int) -> int:
        if kind > _MAX_BUFFER_TYPE:
            return R.BAD_ARGUMENT
        buffer = self.host.buffer(BufferType(kind))
        if buffer is None:
            return R.NOT_FOUND
        self._u32_out(size_ptr, buffer.size())
        self._u32_out(flags_ptr, 0)
        return R.OK

    # -- header maps ----------------------------------------------------------------------
    def proxy_get_header_map_pairs(self, map_type: int, ptr_ptr: int, size_ptr: int) -> int:
        items = self._map(map_type, write=False).pairs()
        self._copy_out(pairs.encode(items) if items else b"", ptr_ptr, size_ptr)
        return R.OK

    def proxy_set_header_map_pairs(self, map_type: int, ptr: int, size: int) -> int:
        items = self._pairs(ptr, size)
        return self._map(map_type, write=True).set_pairs(items) or R.OK

    def proxy_get_header_map_size(self, map_type: int, size_ptr: int) -> int:
        self._u32_out(size_ptr, self._map(map_type, write=False).byte_size())
        return R.OK

    def proxy_get_header_map_value(
        self, map_type: int, key_ptr: int, key_size: int, ptr_ptr: int, size_ptr: int
    ) -> int:
        key = self._read(key_ptr, key_size)
        value = self._map(map_type, write=False).get(key)
        if value is None:
            if self.host.abi != AbiVersion.V0_1_0:
                return R.NOT_FOUND
            value = b""  # ABI 0.1.0: a missing header reads as empty
        self._copy_out(value, ptr_ptr, size_ptr)
        return R.OK

    def proxy_add_header_map_value(
        self, map_type: int, key_ptr: int, key_size: int, value_ptr: int, value_size: int
    ) -> int:
        key, value = self._read2(key_ptr, key_size, value_ptr, value_size)
        return self._map(map_type, write=True).add(key, value) or R.OK

    def proxy_replace_header_map_value(
        self, map_type: int, key_ptr: int, key_size: int, value_ptr: int, value_size: int
    ) -> int:
        key, value = self._read2(key_ptr, key_size, value_ptr, value_size)
        return self._map(map_type, write=True).replace(key, value) or R.OK

    def proxy_remove_header_map_value(self, map_type: int, key_ptr: int, key_size: int) -> int:
        key = self._read(key_ptr, key_size)
        return self._map(map_type, write=True).remove(key) or R.OK

    # -- stream control -------------------------------------------------------------------
    def proxy_continue_stream(self, stream: int) -> int:
        return self.host.continue_stream(stream)

    def proxy_close_stream(self, stream: int) -> int:
        return self.host.close_stream(stream)

    def proxy_continue_request(self) -> int:
        return self.host.continue_stream(0)

    def proxy_continue_response(self) -> int:
        return self.host.continue_stream(1)

    def proxy_clear_route_cache(self) -> int:
        return self.host.clear_route_cache()

    def proxy_send_local_response(
        self,
        status: int,
        details_ptr: int,
        details_size: int,
        body_ptr: int,
        body_size: int,
        headers_ptr: int,
        headers_size: int,
        grpc_status: int,
    ) -> int:
        details = self._read(details_ptr, details_size)
        body = self._read(body_ptr, body_size)
        try:
            headers = pairs.decode(self._read(headers_ptr, headers_size))
        except pairs.PairsError as exc:
            # Still reply (as Envoy does): a deny plugin with a bad header list must not
            # let the request through. The headers are dropped and the plugin told so.
            self.host.log(LogLevel.WARN, f"proxy_send_local_response: headers ignored: {exc}")
            headers = []
        return self.host.send_local_response(status, details, body, headers, grpc_status)

    def proxy_get_status(self, code_ptr: int, msg_ptr_ptr: int, msg_size_ptr: int) -> int:
        status = self.host.get_status()
        if status is None:
            return R.NOT_FOUND
        self._u32_out(code_ptr, status[0])
        self._copy_out(status[1], msg_ptr_ptr, msg_size_ptr)
        return R.OK

    def proxy_set_effective_context(self, context_id: int) -> int:
        return self.host.set_effective_context(context_id)

    def proxy_done(self) -> int:
        return self.host.done()

    # -- properties and foreign functions -------------------------------------------------
    def proxy_get_property(self, path_ptr: int, path_size: int, ptr_ptr: int, size_ptr: int) -> int:
        path = property_path(self._read(path_ptr, path_size))
        try:
            value = self.host.get_property(path)
        except NotSerializable:
            return R.SERIALIZATION_FAILURE
        if value is None:
            return R.NOT_FOUND
        self._copy_out(value, ptr_ptr, size_ptr)
        return R.OK

    def proxy_set_property(self, path_ptr: int, path_size: int, ptr: int, size: int) -> int:
        path = self._read(path_ptr, path_size).split(b"\0")
        return self.host.set_property(path, self._read(ptr, size))

    def proxy_call_foreign_function(
        self,
        name_ptr: int,
        name_size: int,
        args_ptr: int,
        args_size: int,
        ptr_ptr: int,
        size_ptr: int,
    ) -> int:
        name, args = self._read(name_ptr, name_size), self._read(args_ptr, args_size)
        result, out = self.host.call_foreign_function(name, args)
        if result == R.OK:
            self._copy_out(out, ptr_ptr, size_ptr)
        return result

    # -- metrics --------------------------------------------------------------------------
    def proxy_define_metric(self, kind: int, name_ptr: int, name_size: int, id_ptr: int) -> int:
        if kind > MetricType.HISTOGRAM:
            return R.BAD_ARGUMENT
        metric_id = self.host.define_metric(MetricType(kind), self._read(name_ptr, name_size))
        self._u32_out(id_ptr, metric_id)
        return R.OK

    def proxy_increment_metric(self, metric_id: int, delta: int) -> int:
        return self.host.increment_metric(metric_id, delta)  # i64, signed

    def proxy_record_metric(self, metric_id: int, value: int) -> int:
        return self.host.record_metric(metric_id, value & 0xFFFFFFFFFFFFFFFF)

    def proxy_get_metric(self, metric_id: int, value_ptr: int) -> int:
        result, value = self.host.get_metric(metric_id)
        if result == R.OK:
            self._u64_out(value_ptr, value)
        return result

    # -- shared data and queues -------------------------------------------------------------
    def proxy_get_shared_data(
        self, key_ptr: int, key_size: int, ptr_ptr: int, size_ptr: int, cas_ptr: int
    ) -> int:
        found = self.host.get_shared_data(self._read(key_ptr, key_size))
        if found is None:
            return R.NOT_FOUND
        self._copy_out(found[0], ptr_ptr, size_ptr)
        self._u32_out(cas_ptr, found[1])
        return R.OK

    def proxy_set_shared_data(
        self, key_ptr: int, key_size: int, value_ptr: int, value_size: int, cas: int
    ) -> int:
        key, value = self._read(key_ptr, key_size), self._read(value_ptr, value_size)
        return self.host.set_shared_data(key, value, cas)

    def proxy_register_shared_queue(self, name_ptr: int, name_size: int, id_ptr: int) -> int:
        queue_id = self.host.register_shared_queue(self._read(name_ptr, name_size))
        self._u32_out(id_ptr, queue_id)
        return R.OK

    def proxy_resolve_shared_queue(
        self, vm_ptr: int, vm_size: int, name_ptr: int, name_size: int, id_ptr: int
    ) -> int:
        vm_id, name = self._read(vm_ptr, vm_size), self._read(name_ptr, name_size)
        queue_id = self.host.resolve_shared_queue(vm_id, name)
        if queue_id is None:
            return R.NOT_FOUND
        self._u32_out(id_ptr, queue_id)
        return R.OK

    def proxy_enqueue_shared_queue(self, queue_id: int, ptr: int, size: int) -> int:
        return self.host.enqueue_shared_queue(queue_id, self._read(ptr, size))

    def proxy_dequeue_shared_queue(self, queue_id: int, ptr_ptr: int, size_ptr: int) -> int:
        result, value = self.host.dequeue_shared_queue(queue_id)
        if result == R.OK:
            self._copy_out(value, ptr_ptr, size_ptr)
        return result

    # -- callouts ---------------------------------------------------------------------------
    def proxy_http_call(
        self,
        upstream_ptr: int,
        upstream_size: int,
        headers_ptr: int,
        headers_size: int,
        body_ptr: int,
        body_size: int,
        trailers_ptr: int,
        trailers_size: int,
        timeout_ms: int,
        token_ptr: int,
    ) -> int:
        upstream = self._read(upstream_ptr, upstream_size)
        headers = self._pairs(headers_ptr, headers_size)
        body = self._read(body_ptr, body_size)
        trailers = self._pairs(trailers_ptr, trailers_size)
        result, token = self.host.http_call(upstream, headers, body, trailers, timeout_ms)
        if result == R.OK:
            self._u32_out(token_ptr, token)
        return result

    def proxy_grpc_call(
        self,
        upstream_ptr: int,
        upstream_size: int,
        service_ptr: int,
        service_size: int,
        method_ptr: int,
        method_size: int,
        metadata_ptr: int,
        metadata_size: int,
        message_ptr: int,
        message_size: int,
        timeout_ms: int,
        token_ptr: int,
    ) -> int:
        upstream, service, method, metadata = self._grpc_target(
            upstream_ptr, upstream_size, service_ptr, service_size, method_ptr, method_size,
            metadata_ptr, metadata_size,
        )  # fmt: skip
        message = self._read(message_ptr, message_size)
        result, token = self.host.grpc_call(
            upstream, service, method, metadata, message, timeout_ms
        )
        if result == R.OK:
            self._u32_out(token_ptr, token)
        return result

    def proxy_grpc_stream(
        self,
        upstream_ptr: int,
        upstream_size: int,
        service_ptr: int,
        service_size: int,
        method_ptr: int,
        method_size: int,
        metadata_ptr: int,
        metadata_size: int,
        token_ptr: int,
    ) -> int:
        upstream, service, method, metadata = self._grpc_target(
            upstream_ptr, upstream_size, service_ptr, service_size, method_ptr, method_size,
            metadata_ptr, metadata_size,
        )  # fmt: skip
        result, token = self.host.grpc_call(upstream, service, method, metadata, None, 0)
        if result == R.OK:
            self._u32_out(token_ptr, token)
        return result

    def _grpc_target(self, *ptrs: int) -> tuple[bytes, bytes, bytes, list[tuple[bytes, bytes]]]:
        """(upstream, service, method, metadata) from four (ptr, size) pairs."""
        upstream = self._read(ptrs[0], ptrs[1])
        service = self._read(ptrs[2], ptrs[3])
        method = self._read(ptrs[4], ptrs[5])
        return upstream, service, method, self._pairs(ptrs[6], ptrs[7])

    def proxy_grpc_send(self, token: int, message_ptr: int, message_size: int, end: int) -> int:
        message = self._read(message_ptr, message_size)
        return self.host.grpc_send(token, message, bool(end))

    def proxy_grpc_cancel(self, token: int) -> int:
        return self.host.grpc_cancel(token)

    def proxy_grpc_close(self, token: int) -> int:
        return self.host.grpc_close(token)

    # -- emscripten / libc odds and ends --------------------------------------------------
    def emscripten_notify_memory_growth(self, _memory_index: int) -> None:
        return None

    def pthread_equal(self, left: int, right: int) -> int:
        return int(left == right)

    # -- dispatch ---------------------------------------------------------------------------
    def method(self, name: str) -> Callable[..., int | None] | None:
        """The bound method serving import ``env.<name>``; it may raise AbiFailure."""
        method = getattr(self, name, None)
        if method is None or name.startswith("_") or name in _NOT_IMPORTS:
            return None
        return method  # type: ignore[no-any-return]

    def shortcuts(self) -> dict[str, Shortcut]:
        """Imports whose calls the VM binding may answer itself: a proxy_log line below
        the plugin's level whose text lies inside memory is dropped with OK (what
        proxy_log does with it, minus ~1 us of Python per line)."""
        return {"proxy_log": Shortcut(below=int(self.host.log_level()), result=int(R.OK))}

    def lookup(self, name: str) -> Callable[..., int | None] | None:
        """The method serving ``env.<name>``, wrapped to turn AbiFailure into its code."""
        method = self.method(name)
        if method is None:
            return None

        def served(*args: int) -> int | None:
            try:
                result: int | None = method(*args)
                return result
            except AbiFailure as failure:
                return int(failure.result)

        served.__name__ = name
        return served


_NOT_IMPORTS = frozenset({"lookup", "method", "shortcuts"})  # public, but serve no import

# Methods that answer every guest mistake with a code and never raise AbiFailure: the
# linker need not wrap them when no phase refuses them (proxy_log: ten calls per request
# from the AssemblyScript SDK).
NEVER_RAISES = frozenset({"proxy_log"})

# Imports wasmd links but does not serve: they answer Unimplemented.
# proxy_dispatch_http_call is the deleted vNEXT draft's name (no SDK in use calls it).
UNIMPLEMENTED_IMPORTS = frozenset(
    {
        "proxy_dispatch_http_call",
    }
)
