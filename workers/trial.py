"""``wasmd try``: load a plugin in-process and run one full HTTP exchange through it.

The upstream is simulated: it answers with the given status, headers and body. The
result says what a proxy would do: what goes upstream, what the client gets, the
plugin's logs and metrics. Exit codes: 0 loaded and ran, 2 failed to load, 3 failed
while running (trap, deadline, memory, stalled exchange).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wasmd.errors import PluginLoadError, PluginTrap
from workers.abi.types import LogLevel
from workers.contexts.exchange import Exchange, FinalResponse, Step
from workers.contexts.logsink import LogSink
from workers.contexts.maps import Pair
from workers.contexts.metrics import Metrics
from workers.contexts.plugin import FailurePolicy, PluginConfig, PluginVm
from workers.contexts.policy import PluginHandle
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


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _pairs_json(pairs: Sequence[Pair]) -> list[list[str]]:
    return [[_text(k), _text(v)] for k, v in pairs]


class _Trial:
    def __init__(self, wasm: bytes, config: PluginConfig, *, fast: bool) -> None:
        self.config = config
        self.runtime = Runtime(fast=fast)
        self.logs = LogSink(config.name, capture=True)
        self.metrics = Metrics()
        self.compiled = self.runtime.compile(wasm)

    def make_vm(self) -> PluginVm:
        vm = PluginVm(
            self.runtime, self.compiled, self.config, logs=self.logs, metrics=self.metrics
        )
        try:
            vm.start()
        except BaseException:
            vm.close()
            raise
        return vm

    def close(self) -> None:
        self.runtime.close()


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


def _exchange(
    handle: PluginHandle, req: TrialRequest, pause_timeout_ms: int
) -> tuple[Exchange, str | None]:
    """Run the phases; return the exchange and why it could not complete (if so)."""
    ex = Exchange([handle], req.properties)
    phases: list[Callable[[], Step]] = [
        lambda: ex.on_request_headers(_request_headers(req), not req.body)
    ]
    if req.body:
        phases.append(lambda: ex.on_request_body(req.body, True))
    phases.append(lambda: ex.on_response_headers(_response_headers(req), not req.response_body))
    if req.response_body:
        phases.append(lambda: ex.on_response_body(req.response_body, True))
    step = Step.CONTINUE
    for phase in phases:
        step = phase()
        if step is Step.PAUSE:
            step = _wait_for_resume(handle, ex, pause_timeout_ms)
        if step is not Step.CONTINUE:
            break
    ex.finish()
    if step in (Step.PAUSE, Step.BUFFER):
        return ex, (
            f"the plugin paused the exchange in {ex.paused_in or 'a body callback'} and did not "
            f"resume it within {pause_timeout_ms} ms (a proxy would hold the request)"
        )
    if step is Step.RESET:
        return ex, "the plugin closed (reset) the stream"
    return ex, None


def _wait_for_resume(handle: PluginHandle, ex: Exchange, timeout_ms: int) -> Step:
    """Run the plugin's timer while the exchange is paused, until it continues or times out."""
    vm = handle.vm
    deadline = time.monotonic() + timeout_ms / 1000
    while vm is not None and vm.failed is None and vm.tick_period_ms > 0:
        if ex.paused_filter_continued():
            return ex.resume()
        wait_s = min(vm.tick_period_ms / 1000, deadline - time.monotonic())
        if wait_s <= 0:
            break
        time.sleep(wait_s)
        try:
            vm.tick()
        except PluginTrap as trap:
            handle.report(vm, trap)
            break
    if ex.paused_filter_continued():
        return ex.resume()
    return Step.PAUSE


def run(
    wasm_path: Path,
    config: PluginConfig,
    req: TrialRequest,
    *,
    fast: bool = True,
    pause_timeout_ms: int = 1000,
) -> tuple[dict[str, Any], int]:
    """Load and run; return the JSON-able result and the exit code."""
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
    trial: _Trial | None = None
    try:
        trial = _Trial(wasm, config, fast=fast)
        handle = PluginHandle(config.name, config.failure_policy, trial.make_vm)
    except PluginLoadError as exc:
        result["error"] = f"plugin {config.name} failed to load: {exc}"
        if trial is not None:
            result["logs"] = [{"level": r.level, "message": r.message} for r in trial.logs.records]
            trial.close()
        return result, EXIT_LOAD_FAILED
    try:
        result["loaded"] = True
        ex, stalled = _exchange(handle, req, pause_timeout_ms)
        _fill(result, ex, req)
        failure = next((f.failure for f in ex.filters if f.failure is not None), None)
        result["logs"] = [{"level": r.level, "message": r.message} for r in trial.logs.records]
        result["metrics"] = trial.metrics.snapshot()
        if failure is not None:
            result["error"] = f"plugin {config.name} failed: {failure}"
            return result, EXIT_RUN_FAILED
        if stalled is not None:
            result["error"] = stalled
            return result, EXIT_RUN_FAILED
        return result, EXIT_OK
    finally:
        handle.close()
        trial.close()


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
) -> PluginConfig:
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
        **extra,
    )
