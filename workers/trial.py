"""``wasmd try``: load a plugin in-process and run one full HTTP exchange through it.

The upstream is simulated: it answers with the given status, headers and body. The
result says what a proxy would do: what goes upstream, what the client gets, the
plugin's logs and metrics. Exit codes: 0 loaded and ran, 2 failed to load, 3 failed
while running (trap, deadline, memory, stalled exchange).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wasmd.kernel.errors import PluginLoadError
from wasmd.kernel.visibility import VisibilitySpec
from workers.abi.types import LogLevel
from workers.callouts.upstreams import Protocol, parse_upstream
from workers.contexts.exchange import Exchange, FinalResponse, Step
from workers.contexts.maps import Pair
from workers.contexts.metadata import DynamicMetadata, WithMetadata
from workers.contexts.plugin import FailurePolicy, PluginConfig
from workers.contexts.visibility import compile_spec
from workers.service import PluginSource, WorkerService
from workers.vm.runtime import Runtime

EXIT_OK = 0
EXIT_LOAD_FAILED = 2
EXIT_RUN_FAILED = 3


@dataclass(frozen=True, slots=True)
class TrialRequest:
    method: str = "GET"
    path: str = "/"
    authority: str = "localhost"
    headers: tuple[Pair, ...] = ()
    body: bytes = b""
    status: int = 200
    response_headers: tuple[Pair, ...] = ()
    response_body: bytes = b""
    properties: dict[str, bytes] = field(default_factory=dict)
    # Dynamic metadata: namespace -> JSON-like object (``metadata.filter_metadata.*``).
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)


def _supplied(req: TrialRequest) -> Mapping[str, bytes]:
    """The request's properties, and its dynamic metadata if it has any."""
    if not req.metadata:
        return req.properties
    return WithMetadata(req.properties, DynamicMetadata(req.metadata))


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _pairs_json(pairs: Sequence[Pair]) -> list[list[str]]:
    return [[_text(k), _text(v)] for k, v in pairs]


def _request_headers(req: TrialRequest) -> list[Pair]:
    headers: list[Pair] = [
        (b":authority", req.authority.encode()),
        (b":path", req.path.encode()),
        (b":method", req.method.encode()),
        (b":scheme", b"http"),
    ]
    headers.extend(req.headers)
    if req.body:
        headers.append((b"content-length", str(len(req.body)).encode()))
    return headers


def _response_headers(req: TrialRequest) -> list[Pair]:
    headers: list[Pair] = [(b":status", str(req.status).encode())]
    headers.extend(req.response_headers)
    if req.response_body:
        headers.append((b"content-length", str(len(req.response_body)).encode()))
    return headers


async def _exchange(service: WorkerService, req: TrialRequest) -> tuple[Exchange, str | None]:
    """Run the phases on the loop; return the exchange and why it could not complete."""
    ax = service.open(properties=_supplied(req))
    phases: list[Callable[[], Awaitable[Step]]] = [
        lambda: ax.request_headers(_request_headers(req), not req.body)
    ]
    if req.body:
        phases.append(lambda: ax.request_body(req.body, True))
    phases.append(lambda: ax.response_headers(_response_headers(req), not req.response_body))
    if req.response_body:
        phases.append(lambda: ax.response_body(req.response_body, True))
    step = Step.CONTINUE
    for phase in phases:
        step = await phase()
        if step is not Step.CONTINUE:
            break
    ax.finish()
    ex = ax.exchange
    if step in (Step.PAUSE, Step.BUFFER):
        return ex, (
            f"the plugin paused the exchange in {ex.paused_in or 'a body callback'} and did not "
            f"resume it within {service.pause_timeout_s * 1000:.0f} ms (a proxy would hold it)"
        )
    if step is Step.RESET:
        return ex, "the plugin closed (reset) the stream"
    return ex, None


def run(
    wasm_path: Path,
    config: PluginConfig,
    req: TrialRequest,
    *,
    fast: bool = True,
    pause_timeout_ms: int = 1000,
    wait_ms: int = 0,
    compile_cache: Path | None = None,
) -> tuple[dict[str, Any], int]:
    """Load and run; return the JSON-able result and the exit code.

    ``wait_ms`` keeps the loop running that long between loading and the exchange, so
    ticks and queue deliveries happen; a host log line then says how many did.
    ``compile_cache`` is a compiled-module cache directory, as the daemon's ``cache_dir``."""
    result: dict[str, Any] = {
        "loaded": False,
        "error": None,
        "local_response": None,
        "request": {"headers": [], "body": ""},
        "response": {"status": 0, "headers": [], "body": ""},
        "logs": [],
        "metrics": {},
    }
    try:
        wasm = wasm_path.read_bytes()
    except OSError as exc:
        result["error"] = f"cannot read {wasm_path}: {exc.strerror}"
        return result, EXIT_LOAD_FAILED
    return asyncio.run(
        _run(wasm, config, req, fast, pause_timeout_ms, result, wait_ms, compile_cache)
    )


async def _run(
    wasm: bytes,
    config: PluginConfig,
    req: TrialRequest,
    fast: bool,
    pause_timeout_ms: int,
    result: dict[str, Any],
    wait_ms: int = 0,
    compile_cache: Path | None = None,
) -> tuple[dict[str, Any], int]:
    with Runtime(fast=fast, cache_dir=compile_cache) as runtime:
        service = WorkerService(
            runtime,
            [PluginSource(config, wasm)],
            {"default": [config.name]},
            "default",
            capture_logs=True,
            pause_timeout_s=pause_timeout_ms / 1000,
        )
        try:
            try:
                service.start(asyncio.get_running_loop())
            except PluginLoadError as exc:
                result["error"] = str(exc)
                _collect(result, service, config.name)
                return result, EXIT_LOAD_FAILED
            result["loaded"] = True
            _import_callout_clients(config)
            if wait_ms > 0:
                await _wait(service, config.name, wait_ms)
            ex, stalled = await _exchange(service, req)
            _fill(result, ex, req)
            _collect(result, service, config.name)
            failure = next((f.failure for f in ex.filters if f.failure is not None), None)
            if failure is not None:
                result["error"] = f"plugin {config.name} failed: {failure}"
                return result, EXIT_RUN_FAILED
            if stalled is not None:
                result["error"] = stalled
                return result, EXIT_RUN_FAILED
            return result, EXIT_OK
        finally:
            await service.aclose()


def _import_callout_clients(config: PluginConfig) -> None:
    """Import the callout client libraries the plugin's upstreams use, before the exchange.

    A worker imports them on its first callout (a cheaper start-up); here that import (0.3 s
    on an idle box, over 1 s on a busy one) would run inside the paused exchange and count
    against ``pause_timeout_ms``, so a callout to a live upstream could time out."""
    for name, url in config.upstreams.items():
        if parse_upstream(name, url).protocol is Protocol.GRPC:
            import grpc  # noqa: F401
        else:
            import aiohttp  # noqa: F401


async def _wait(service: WorkerService, name: str, wait_ms: int) -> None:
    """Let the loop run (timers, queue deliveries), then log what it delivered."""
    await asyncio.sleep(wait_ms / 1000)
    done = service.callbacks.get(name)
    if done is not None and name in service.logs:
        service.logs[name].emit(
            LogLevel.INFO,
            f"waited {wait_ms} ms: {done.ticks} proxy_on_tick, "
            f"{done.queue_ready} proxy_on_queue_ready delivered",
            source="host",
        )


def _collect(result: dict[str, Any], service: WorkerService, name: str) -> None:
    sink = service.logs.get(name)
    if sink is not None:
        sink.flush()
        result["logs"] = [{"level": r.level, "message": r.message} for r in sink.records]
    metrics = service.metrics.get(name)
    if metrics is not None:
        result["metrics"] = metrics.snapshot()


def _fill(result: dict[str, Any], ex: Exchange, req: TrialRequest) -> None:
    result["request"] = {
        "headers": _pairs_json(ex.request_headers.pairs()),
        "body": _text(bytes(ex.request_body)),
    }
    final = ex.final
    if final is not None and final.local:
        result["local_response"] = {
            "status": final.status,
            "headers": _pairs_json(final.headers),
            "body": _text(final.body),
            "details": final.details,
        }
    if final is None:
        status = ex.response_headers.get(b":status")
        headers = [(k, v) for k, v in ex.response_headers.pairs() if k != b":status"]
        final = FinalResponse(
            int(status) if status and status.isdigit() else req.status,
            headers,
            bytes(ex.response_body),
        )
    result["response"] = {
        "status": final.status,
        "headers": _pairs_json(final.headers),
        "body": _text(final.body),
    }


def parse_header(text: str) -> Pair:
    """'name: value' -> (b'name', b'value'); raises ValueError with a usable message."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise ValueError(f"header {text!r} is not of the form 'name: value'")
    return name.strip().lower().encode(), value.strip().encode()


def plugin_config(
    name: str,
    *,
    root_id: str = "",
    vm_id: str = "",
    configuration: bytes = b"",
    vm_configuration: bytes = b"",
    env: Sequence[tuple[str, str]] = (),
    failure_policy: str = "fail_closed",
    log_level: str = "info",
    deadline_ms: int | None = None,
    memory_limit_bytes: int | None = None,
    upstreams: Sequence[tuple[str, str]] = (),
    visibility: VisibilitySpec | None = None,
) -> PluginConfig:
    """A PluginConfig from ``wasmd try``'s options. ``visibility``: the plugin's policy; its
    redaction key is this process's own (random), so markers differ from the daemon's."""
    extra: dict[str, Any] = {}
    if deadline_ms is not None:
        extra["deadline_ms"] = deadline_ms
    if memory_limit_bytes is not None:
        extra["memory_limit_bytes"] = memory_limit_bytes
    return PluginConfig(
        name=name,
        root_id=root_id,
        vm_id=vm_id,
        configuration=configuration,
        vm_configuration=vm_configuration,
        env=tuple(env),
        failure_policy=FailurePolicy(failure_policy),
        log_level=LogLevel[log_level.upper()],
        upstreams=dict(upstreams),
        visibility=None if visibility is None else compile_spec(visibility),
        **extra,
    )
