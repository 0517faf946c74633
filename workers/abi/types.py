"""Proxy-Wasm ABI enums and limits (spec v0.2.1 "Types", proxy-wasm-cpp-sdk enums)."""

from __future__ import annotations

from enum import IntEnum


class AbiVersion(IntEnum):
    V0_1_0 = 10
    V0_2_0 = 20
    V0_2_1 = 21


ABI_MARKERS: dict[str, AbiVersion] = {
    "proxy_abi_version_0_1_0": AbiVersion.V0_1_0,
    "proxy_abi_version_0_2_0": AbiVersion.V0_2_0,
    "proxy_abi_version_0_2_1": AbiVersion.V0_2_1,
}


class WasmResult(IntEnum):
    OK = 0
    NOT_FOUND = 1
    BAD_ARGUMENT = 2
    SERIALIZATION_FAILURE = 3
    PARSE_FAILURE = 4
    BAD_EXPRESSION = 5
    INVALID_MEMORY_ACCESS = 6
    EMPTY = 7
    CAS_MISMATCH = 8
    RESULT_MISMATCH = 9
    INTERNAL_FAILURE = 10
    BROKEN_CONNECTION = 11
    UNIMPLEMENTED = 12


class LogLevel(IntEnum):
    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4
    CRITICAL = 5


class BufferType(IntEnum):
    HTTP_REQUEST_BODY = 0
    HTTP_RESPONSE_BODY = 1
    DOWNSTREAM_DATA = 2
    UPSTREAM_DATA = 3
    HTTP_CALL_RESPONSE_BODY = 4
    GRPC_CALL_MESSAGE = 5
    VM_CONFIGURATION = 6
    PLUGIN_CONFIGURATION = 7
    FOREIGN_FUNCTION_ARGUMENTS = 8


class MapType(IntEnum):
    HTTP_REQUEST_HEADERS = 0
    HTTP_REQUEST_TRAILERS = 1
    HTTP_RESPONSE_HEADERS = 2
    HTTP_RESPONSE_TRAILERS = 3
    GRPC_CALL_INITIAL_METADATA = 4
    GRPC_CALL_TRAILING_METADATA = 5
    HTTP_CALL_RESPONSE_HEADERS = 6
    HTTP_CALL_RESPONSE_TRAILERS = 7


class StreamType(IntEnum):
    HTTP_REQUEST = 0
    HTTP_RESPONSE = 1
    DOWNSTREAM = 2
    UPSTREAM = 3


class MetricType(IntEnum):
    COUNTER = 0
    GAUGE = 1
    HISTOGRAM = 2


class HeadersStatus(IntEnum):
    """What a header callback returns (proxy-wasm-cpp-sdk FilterHeadersStatus)."""

    CONTINUE = 0
    STOP_ITERATION = 1
    CONTINUE_AND_END_STREAM = 2
    STOP_ALL_ITERATION_AND_BUFFER = 3
    STOP_ALL_ITERATION_AND_WATERMARK = 4


class DataStatus(IntEnum):
    """What a body callback returns (proxy-wasm-cpp-sdk FilterDataStatus)."""

    CONTINUE = 0
    STOP_ITERATION_AND_BUFFER = 1
    STOP_ITERATION_AND_WATERMARK = 2
    STOP_ITERATION_NO_BUFFER = 3


class NotSerializable(ValueError):
    """A property exists but its value cannot be serialized (a null in dynamic metadata):
    proxy_get_property answers SERIALIZATION_FAILURE, as Envoy does."""


class WasiErrno(IntEnum):
    SUCCESS = 0
    BADF = 8
    FAULT = 21
    INVAL = 28
    NOENT = 44
    NOSYS = 52
    NOTSUP = 58
    NOTCAPABLE = 76


# Limits copied from proxy-wasm-cpp-host include/proxy-wasm/limits.h so that a plugin
# which works in Envoy works here and one that is refused there is refused here.
MAX_PAIRS_COUNT = 1024
MAX_PAIRS_BYTES = 1 << 20
MAX_RANDOM_GET_BYTES = 64 << 10
