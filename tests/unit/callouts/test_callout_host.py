"""CalloutHost (workers/contexts/callouts.py): Envoy's validation and delivery rules, over a
fake loop that records what it was asked to start."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from wasmd.kernel.errors import PluginLoadError
from workers.abi.types import BufferType, MapType, WasmResult
from workers.callouts.messages import (
    GrpcClose,
    GrpcInitialMetadata,
    GrpcMessage,
    GrpcTrailingMetadata,
    HttpCallResponse,
)
from workers.contexts.callouts import CalloutHost, grpc_delivery, http_delivery

R = WasmResult
HEADERS = [(b":method", b"GET"), (b":path", b"/"), (b":authority", b"auth")]


@dataclass
class FakeServices:
    started: list[tuple[str, int, Any]] = field(default_factory=list)
    result: WasmResult = R.OK

    def http_call(self, vm: Any, token: int, request: Any) -> WasmResult:
        self.started.append(("http", token, request))
        return self.result

    def grpc_call(self, vm: Any, token: int, request: Any) -> WasmResult:
        self.started.append(("grpc_call", token, request))
        return self.result

    def grpc_stream(self, vm: Any, token: int, request: Any) -> WasmResult:
        self.started.append(("grpc_stream", token, request))
        return self.result

    def grpc_send(self, vm: Any, token: int, message: bytes, end: bool) -> WasmResult:
        self.started.append(("send", token, (message, end)))
        return R.OK

    def grpc_cancel(self, vm: Any, token: int) -> None:
        self.started.append(("cancel", token, None))

    def grpc_close(self, vm: Any, token: int) -> None:
        self.started.append(("close", token, None))


@dataclass
class FakeConfig:
    name: str = "p"


@dataclass
class FakeVm:
    services: FakeServices = field(default_factory=FakeServices)
    config: FakeConfig = field(default_factory=FakeConfig)


@pytest.fixture
def vm() -> FakeVm:
    return FakeVm()


@pytest.fixture
def host(vm: FakeVm) -> CalloutHost:
    return CalloutHost(vm, {"auth": "http://127.0.0.1:1", "g": "grpc://127.0.0.1:2"})  # type: ignore[arg-type]


def test_http_call_starts_and_tracks_the_token(host: CalloutHost, vm: FakeVm) -> None:
    assert host.http_call(b"auth", HEADERS, b"body", [], 100) == (R.OK, 4)
    kind, token, request = vm.services.started[0]
    assert (kind, token, request.body, request.timeout_ms) == ("http", 4, b"body", 100)
    assert host.claim_http(4) and not host.claim_http(4)  # delivered once


@pytest.mark.parametrize(
    ("upstream", "headers"),
    [
        (b"nope", HEADERS),  # unknown upstream
        (b"g", HEADERS),  # a gRPC upstream is not an HTTP cluster
        (b"auth", HEADERS[1:]),  # no :method
        (b"auth", HEADERS[:1] + HEADERS[2:]),  # no :path
        (b"auth", HEADERS[:2]),  # no :authority
    ],
)
def test_http_call_bad_argument(
    host: CalloutHost, vm: FakeVm, upstream: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    assert host.http_call(upstream, headers, b"", [], 0) == (R.BAD_ARGUMENT, 0)
    assert vm.services.started == []


def test_a_call_the_loop_cannot_start_is_not_tracked(host: CalloutHost, vm: FakeVm) -> None:
    vm.services.result = R.INTERNAL_FAILURE
    assert host.http_call(b"auth", HEADERS, b"", [], 0) == (R.INTERNAL_FAILURE, 0)
    assert host.pending == {}


def test_unknown_grpc_upstream_is_parse_failure_like_envoy(host: CalloutHost) -> None:
    assert host.grpc_call(b"nope", b"s", b"m", [], b"x", 0) == (R.PARSE_FAILURE, 0)


def test_grpc_call_ends_with_its_message(host: CalloutHost) -> None:
    assert host.grpc_call(b"g", b"svc", b"M", [], b"x", 0) == (R.OK, 5)
    assert host.claim_grpc(5, GrpcMessage(b"r"))
    assert not host.claim_grpc(5, GrpcClose(0, b""))


def test_grpc_stream_events_until_close(host: CalloutHost, vm: FakeVm) -> None:
    assert host.grpc_call(b"g", b"svc", b"M", [], None, 0) == (R.OK, 6)
    assert vm.services.started[0][2].path == "/svc/M"
    assert host.grpc_send(6, b"a", False) == R.OK
    for event in (GrpcInitialMetadata(()), GrpcMessage(b"a"), GrpcTrailingMetadata(())):
        assert host.claim_grpc(6, event)
    assert host.claim_grpc(6, GrpcClose(0, b""))
    assert not host.claim_grpc(6, GrpcMessage(b"late"))
    assert host.grpc_send(6, b"b", False) == R.NOT_FOUND


@pytest.mark.parametrize(("cancel", "asked"), [(True, "cancel"), (False, "close")])
def test_grpc_cancel_and_close_stop_delivery(
    host: CalloutHost, vm: FakeVm, cancel: bool, asked: str
) -> None:
    host.grpc_call(b"g", b"s", b"m", [], None, 0)
    assert host.grpc_end(6, cancel=cancel) == R.OK
    assert vm.services.started[-1][:2] == (asked, 6)
    assert not host.claim_grpc(6, GrpcMessage(b"x"))
    assert host.grpc_end(6, cancel=cancel) == R.NOT_FOUND


def test_grpc_end_on_an_http_token_is_bad_argument(host: CalloutHost) -> None:
    assert host.grpc_end(4, cancel=True) == R.BAD_ARGUMENT


def test_bad_upstream_url_fails_the_load(vm: FakeVm) -> None:
    with pytest.raises(PluginLoadError, match="plugin p: upstream 'x'"):
        CalloutHost(vm, {"x": "ftp://nope"})  # type: ignore[arg-type]


def test_http_delivery_views() -> None:
    response = HttpCallResponse(((b":status", b"200"), (b"a", b"1")), b"body", ((b"t", b"2"),))
    delivery = http_delivery(response)
    assert delivery.args == (2, 4, 1)
    assert delivery.view.maps[MapType.HTTP_CALL_RESPONSE_HEADERS].get(b"a") == b"1"
    assert delivery.view.buffers[BufferType.HTTP_CALL_RESPONSE_BODY].get(0, 4) == b"body"
    failed = http_delivery(None)
    assert failed.args == (0, 0, 0) and failed.view.status == (11, b"reset")


def test_grpc_delivery_exports() -> None:
    assert grpc_delivery(GrpcMessage(b"abc")).export == "proxy_on_grpc_receive"
    assert grpc_delivery(GrpcMessage(b"abc")).args == (3,)
    close = grpc_delivery(GrpcClose(5, b"gone"))
    assert (close.export, close.args, close.view.status) == (
        "proxy_on_grpc_close",
        (5,),
        (5, b"gone"),
    )


@pytest.mark.parametrize(
    "path", [b"@127.0.0.1:9/x", b":9/x", b"", b"/a\r\nb", b"/a\x00", b"/a\\b", b"/a#b", b"/a b"]
)
def test_http_call_refuses_a_path_that_could_leave_the_upstream(
    host: CalloutHost, vm: FakeVm, path: bytes
) -> None:
    headers = [(b":method", b"GET"), (b":path", path), (b":authority", b"auth")]
    assert host.http_call(b"auth", headers, b"", [], 0) == (R.BAD_ARGUMENT, 0)
    assert vm.services.started == []  # nothing is sent


@pytest.mark.parametrize(
    ("service", "method"),
    [
        (b"a/b", b"M"),
        (b"svc", b"M/x"),
        (b"svc", b"M\r\n"),
        (b"", b"M"),
        (b"svc", b""),
        (b"a..b", b"M"),
    ],
)
def test_grpc_call_refuses_names_that_are_not_identifiers(
    host: CalloutHost, vm: FakeVm, service: bytes, method: bytes
) -> None:
    assert host.grpc_call(b"g", service, method, [], b"x", 0) == (R.BAD_ARGUMENT, 0)
    assert host.grpc_call(b"g", service, method, [], None, 0) == (R.BAD_ARGUMENT, 0)
    assert vm.services.started == []


def test_pending_callouts_per_vm_are_capped(host: CalloutHost, vm: FakeVm) -> None:
    from workers.contexts.callouts import MAX_PENDING_CALLOUTS

    for _ in range(MAX_PENDING_CALLOUTS):
        assert host.http_call(b"auth", HEADERS, b"", [], 0)[0] == R.OK
    assert host.http_call(b"auth", HEADERS, b"", [], 0) == (R.INTERNAL_FAILURE, 0)
    assert host.grpc_call(b"g", b"svc", b"M", [], b"x", 0) == (R.INTERNAL_FAILURE, 0)
    assert len(vm.services.started) == MAX_PENDING_CALLOUTS  # nothing more was started
    assert host.claim_http(4)  # one answered: room for one more
    assert host.http_call(b"auth", HEADERS, b"", [], 0)[0] == R.OK
