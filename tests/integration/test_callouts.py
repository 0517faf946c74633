"""HTTP and gRPC callouts end to end: real wasmtime, real plugins, real upstreams.

Upstreams (tests/helpers/callout_upstreams.py) run in this process on 127.0.0.1 or unix
sockets; the plugins are plugins/c/http_callout.c and plugins/c/grpc_callout.c. Most tests
drive a ``WorkerService`` on an asyncio loop, the way a face does; one goes through the
``wasmd try`` CLI. What Envoy does for the same cases is pinned by the differential test.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.helpers.callout_upstreams import AuthUpstream, GrpcEcho, dead_port
from tests.helpers.manifest import REPO_ROOT
from tests.helpers.procs import run
from workers.abi.types import WasmResult
from workers.callouts.http import CallFailure, HttpCallouts
from workers.callouts.messages import HttpCallRequest
from workers.callouts.upstreams import parse_upstream
from workers.contexts.exchange import Step
from workers.service import AsyncExchange, PluginSource, WorkerService
from workers.trial import TrialRequest, plugin_config
from workers.trial import run as trial_run
from workers.vm.runtime import Runtime

pytestmark = pytest.mark.timeout(60)

HTTP_CALLOUT = REPO_ROOT / "plugins/c/build/http_callout.wasm"
GRPC_CALLOUT = REPO_ROOT / "plugins/c/build/grpc_callout.wasm"
AS_HTTP_CALLOUT = REPO_ROOT / "plugins/as/build/http_callout.wasm"
Pair = tuple[bytes, bytes]
T = TypeVar("T")
PAUSE_TIMEOUT_S = 10.0  # a paused exchange waits this long for its plugin; tests end sooner


@pytest.fixture(scope="module")
def runtime() -> Iterator[Runtime]:
    with Runtime() as rt:
        yield rt


@pytest.fixture
def auth() -> Iterator[AuthUpstream]:
    with AuthUpstream() as upstream:
        yield upstream


def _service(
    runtime: Runtime, wasm: Path, upstreams: dict[str, str], pause_timeout_s: float
) -> WorkerService:
    config = plugin_config("callout", upstreams=list(upstreams.items()))
    return WorkerService(
        runtime,
        [PluginSource(config, wasm.read_bytes())],
        {"default": ["callout"]},
        "default",
        capture_logs=True,
        pause_timeout_s=pause_timeout_s,
    )


def on_loop(
    runtime: Runtime,
    upstreams: dict[str, str],
    body: Callable[[WorkerService], Awaitable[T]],
    *,
    wasm: Path = HTTP_CALLOUT,
    pause_timeout_s: float = PAUSE_TIMEOUT_S,
) -> T:
    """Start a WorkerService with the callout plugin, run ``body`` on its loop, close it."""

    async def main() -> T:
        service = _service(runtime, wasm, upstreams, pause_timeout_s)
        try:
            service.start(asyncio.get_running_loop())
            return await body(service)
        finally:
            await service.aclose()

    return asyncio.run(main())


def _request(case: str, path: str = "/", selector: bytes = b"x-callout") -> list[Pair]:
    return [
        (b":authority", b"localhost"),
        (b":path", path.encode()),
        (b":method", b"GET"),
        (b":scheme", b"http"),
        (selector, case.encode()),
    ]


async def request_headers(
    service: WorkerService, case: str, path: str = "/", selector: bytes = b"x-callout"
) -> tuple[Step, AsyncExchange]:
    """Open an exchange and run its request headers; the step they ended with."""
    ax = service.open()
    step = await ax.request_headers(_request(case, path, selector), True)
    return step, ax


def added(ax: AsyncExchange) -> dict[str, str]:
    """Headers the plugin added to the request, as text."""
    skip = {b":authority", b":path", b":method", b":scheme", b"x-callout", b"x-grpc"}
    return {k.decode(): v.decode() for k, v in ax.exchange.request_headers.pairs() if k not in skip}


def one(
    runtime: Runtime,
    upstreams: dict[str, str],
    case: str,
    path: str = "/",
    *,
    wasm: Path = HTTP_CALLOUT,
) -> tuple[Step, AsyncExchange]:
    selector = b"x-grpc" if wasm == GRPC_CALLOUT else b"x-callout"

    async def body(service: WorkerService) -> tuple[Step, AsyncExchange]:
        step, ax = await request_headers(service, case, path, selector)
        ax.finish()
        return step, ax

    return on_loop(runtime, upstreams, body, wasm=wasm)


# -- HTTP ---------------------------------------------------------------------------------
def test_allowed_request_continues_with_the_auth_answer(
    runtime: Runtime, auth: AuthUpstream
) -> None:
    step, ax = one(runtime, {"auth": auth.url}, "auth", "/account")
    assert step is Step.CONTINUE
    assert added(ax) == {
        "x-auth-status": "200",
        "x-auth-user": "user:/account",
        "x-auth-body": "ok:/account",
    }
    method, path, headers, _ = auth.requests()[0]
    assert (method, path, headers.get("Host"), headers.get("x-from")) == (
        "GET", "/account", "auth", "http_callout",
    )  # fmt: skip
    assert "User-Agent" not in headers  # sent as the plugin built it, like Envoy


def test_denied_by_auth_answers_locally_with_its_body(runtime: Runtime, auth: AuthUpstream) -> None:
    step, ax = one(runtime, {"auth": auth.url}, "auth", "/deny-me")
    assert step is Step.LOCAL
    final = ax.exchange.final
    assert final is not None and final.local
    assert (final.status, final.body, final.details) == (403, b"no entry", "callout_denied")
    assert (b"x-auth-reason", b"denied-by-test") in final.headers


def test_unix_socket_upstream(runtime: Runtime, tmp_path: Path) -> None:
    with AuthUpstream(unix_path=tmp_path / "auth.sock") as unix_auth:
        step, ax = one(runtime, {"auth": unix_auth.url}, "auth", "/via-unix")
    assert step is Step.CONTINUE
    assert added(ax)["x-auth-body"] == "ok:/via-unix"


def test_slow_upstream_times_out_as_envoys_504(runtime: Runtime, auth: AuthUpstream) -> None:
    """Envoy's async client answers a timed-out callout itself: 504 'upstream request
    timeout' (not the 0-header failure callback)."""
    step, ax = one(runtime, {"auth": auth.url}, "slow")
    assert step is Step.CONTINUE
    assert added(ax) == {
        "x-auth-status": "504",
        "x-auth-user": "",
        "x-auth-body": "upstream request timeout",
    }


def test_dead_upstream_reports_envoys_503(runtime: Runtime, auth: AuthUpstream) -> None:
    upstreams = {"auth": auth.url, "dead": f"http://127.0.0.1:{dead_port()}"}
    step, ax = one(runtime, upstreams, "dead")
    assert step is Step.CONTINUE
    headers = added(ax)
    assert headers["x-auth-status"] == "503"
    assert headers["x-auth-body"].startswith("upstream connect error or disconnect/reset")


def test_dead_unix_socket_reports_envoys_503(runtime: Runtime, tmp_path: Path) -> None:
    step, ax = one(runtime, {"auth": "unix:///nonexistent/x.sock", "dead": "unix:///no"}, "dead")
    assert step is Step.CONTINUE and added(ax)["x-auth-status"] == "503"


@pytest.mark.parametrize(
    ("case", "why"),
    [("unknown", "upstream not configured"), ("nopath", "no :path header")],
)
def test_bad_callouts_return_bad_argument(
    runtime: Runtime, auth: AuthUpstream, case: str, why: str
) -> None:
    step, ax = one(runtime, {"auth": auth.url}, case)
    assert step is Step.CONTINUE
    assert added(ax) == {"x-callout-result": str(int(WasmResult.BAD_ARGUMENT))}, why
    assert auth.requests() == []


def test_three_concurrent_callouts_on_one_stream(runtime: Runtime, auth: AuthUpstream) -> None:
    step, ax = one(runtime, {"auth": auth.url}, "three")
    assert step is Step.CONTINUE
    assert added(ax) == {"x-auth-bodies": "ok:/one,ok:/two,ok:/three"}
    assert sorted(r[1] for r in auth.requests()) == ["/one", "/three", "/two"]


def test_many_concurrent_exchanges_each_with_three_callouts(
    runtime: Runtime, auth: AuthUpstream
) -> None:
    exchanges = 40

    async def body(service: WorkerService) -> list[tuple[Step, dict[str, str]]]:
        started = [request_headers(service, "three") for _ in range(exchanges)]
        done = await asyncio.gather(*started)
        return [(step, added(ax)) for step, ax in done]

    results = on_loop(runtime, {"auth": auth.url}, body)
    expected = (Step.CONTINUE, {"x-auth-bodies": "ok:/one,ok:/two,ok:/three"})
    assert results == [expected] * exchanges
    assert len(auth.requests()) == 3 * exchanges


def test_response_after_the_vm_failed_is_not_delivered(
    runtime: Runtime, auth: AuthUpstream
) -> None:
    """A callout in flight when its VM traps: the answer arrives and is dropped; the paused
    exchange is not resumed by it (the VM is gone), and no callback runs on a failed VM."""

    async def body(service: WorkerService) -> tuple[Step, bool]:
        handle = service.handles["callout"]
        vm = handle.vm
        assert vm is not None
        paused = asyncio.ensure_future(request_headers(service, "slow"))
        await _until(lambda: vm.callouts.pending)  # the 50 ms callout is in flight
        trapped, _ = await request_headers(service, "trap")
        assert trapped is Step.LOCAL  # fail_closed: 503
        assert vm.failed is not None
        await _until(lambda: service.callouts.in_flight() == 0)  # answered (504), dropped
        step, _ = await paused
        return step, bool(vm.callouts.pending)

    step, still_pending = on_loop(runtime, {"auth": auth.url}, body, pause_timeout_s=0.3)
    assert step is Step.PAUSE
    assert still_pending  # never claimed: nothing was delivered to the failed VM


async def _until(condition: Callable[[], object], timeout_s: float = 10.0) -> None:
    """Yield to the loop until ``condition()`` holds (the asyncio twin of wait_for)."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.005)


def test_assemblyscript_sdk_http_call(runtime: Runtime, auth: AuthUpstream) -> None:
    """The AssemblyScript SDK's RootContext.httpCall keeps its own token map and routes the
    response back with set_effective_context: tokens and root-context delivery must match
    Envoy's for it to work at all."""
    config = plugin_config(
        "as_http_callout", root_id="as_http_callout", upstreams=[("auth", auth.url)]
    )
    request = TrialRequest(path="/as", headers=((b"x-as-callout", b"auth"),))
    result, code = trial_run(AS_HTTP_CALLOUT, config, request)
    assert code == 0, result
    assert ["x-as-auth-body", "ok:/as"] in result["request"]["headers"]


# -- gRPC ---------------------------------------------------------------------------------
@pytest.fixture
def echo(tmp_path: Path) -> Iterator[GrpcEcho]:
    with GrpcEcho(unix_path=tmp_path / "echo.sock") as server:
        yield server


def grpc_one(runtime: Runtime, url: str, case: str, path: str = "/") -> dict[str, str]:
    step, ax = one(runtime, {"echo": url}, case, path, wasm=GRPC_CALLOUT)
    assert step is Step.CONTINUE
    return added(ax)


def test_grpc_unary_reply_over_a_unix_socket(runtime: Runtime, echo: GrpcEcho) -> None:
    assert grpc_one(runtime, echo.url, "unary", "/hello") == {"x-grpc-reply": "echo:/hello"}


def test_grpc_unary_over_tcp(runtime: Runtime) -> None:
    with GrpcEcho() as tcp_echo:
        assert grpc_one(runtime, tcp_echo.url, "unary", "/t") == {"x-grpc-reply": "echo:/t"}


def test_grpc_unary_failure_closes_with_envoys_status(runtime: Runtime, echo: GrpcEcho) -> None:
    closed = grpc_one(runtime, echo.url, "fail")
    assert closed == {"x-grpc-close": "5 5 no such thing{via_upstream}"}  # NOT_FOUND


def test_grpc_stream_delivers_metadata_messages_and_close(runtime: Runtime, echo: GrpcEcho) -> None:
    assert grpc_one(runtime, echo.url, "stream") == {
        "x-grpc-initial": "open",
        "x-grpc-messages": "echo:a,echo:b",
        "x-grpc-trailer": "done",
        "x-grpc-close": "0 0 via_upstream",
    }


def test_grpc_unknown_upstream_is_parse_failure(runtime: Runtime, echo: GrpcEcho) -> None:
    assert grpc_one(runtime, echo.url, "unknown") == {
        "x-grpc-result": str(int(WasmResult.PARSE_FAILURE))
    }


def test_grpc_cancel_then_cancel_again_is_not_found(runtime: Runtime, echo: GrpcEcho) -> None:
    assert grpc_one(runtime, echo.url, "cancel") == {
        "x-grpc-result": str(int(WasmResult.OK)),
        "x-grpc-again": str(int(WasmResult.NOT_FOUND)),
    }


def test_grpc_dead_upstream_closes_unavailable(runtime: Runtime) -> None:
    closed = grpc_one(runtime, f"grpc://127.0.0.1:{dead_port()}", "unary")
    assert closed["x-grpc-close"].startswith("14 14 ")  # UNAVAILABLE


# -- wasmd try --upstream ---------------------------------------------------------------------
def _try(args: Sequence[str]) -> tuple[int, dict[str, Any]]:
    argv = [sys.executable, "-m", "wasmd", "try", str(HTTP_CALLOUT), "--json", *args]
    done = run(argv, timeout_s=60, cwd=REPO_ROOT)
    return done.returncode, json.loads(done.stdout)


def test_wasmd_try_upstream_flag(auth: AuthUpstream) -> None:
    code, result = _try([f"--upstream=auth={auth.url}", "-H", "x-callout: auth", "--path=/cli"])
    assert code == 0, result
    assert ["x-auth-body", "ok:/cli"] in result["request"]["headers"]


def test_wasmd_try_rejects_a_bad_upstream_url() -> None:
    code, result = _try(["--upstream=auth=ftp://example.com"])
    assert code == 2
    assert "upstream 'auth'" in result["error"] and "scheme" in result["error"]


# -- the HTTP client alone ------------------------------------------------------------------
def test_a_request_aiohttp_refuses_is_a_failure_not_a_hang(auth: AuthUpstream) -> None:
    """Regression: a header value with CR/LF made aiohttp raise ValueError inside the task,
    so no callback ever ran and the stream stayed paused."""
    request = HttpCallRequest(
        parse_upstream("auth", auth.url),
        ((b":method", b"GET"), (b":path", b"/"), (b":authority", b"a"), (b"x-bad", b"a\r\nb")),
        b"",
        (),
        1000,
    )

    async def fetch() -> object:
        client = HttpCallouts()
        try:
            return await client.fetch(request)
        finally:
            await client.aclose()

    assert asyncio.run(fetch()) is CallFailure.RESET
    assert auth.requests() == []
