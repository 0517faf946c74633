"""Shared helpers for the integration tests: real wasmtime, real plugin binaries, no mocks.

Two ways to run a plugin in-process:

* ``run_case(spec, case)``: ``workers.trial.run`` with the argument conventions of
  ``tests/helpers/wasmd_try.py`` (vm_id = plugin name, log level warn, the manifest's
  root_id, config, vm_config, env and failure policy), returning the JSON-able result.
* ``Plugin`` + ``drive``: a ``PluginHandle`` over a shared ``Runtime`` and an ``Exchange``
  driven phase by phase, for tests that need the VM, the handle, the log sink or a clock.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import wasmtime

from tests.helpers.manifest import CaseSpec, PluginSpec, load_all
from tests.helpers.tools import compile_cache
from workers import trial
from workers.contexts.exchange import Exchange, Step
from workers.contexts.logsink import LogSink
from workers.contexts.metrics import Metrics
from workers.contexts.plugin import PluginConfig, PluginVm
from workers.contexts.policy import PluginHandle
from workers.vm.runtime import Runtime

Pair = tuple[bytes, bytes]


@functools.cache
def specs() -> dict[str, PluginSpec]:
    """Every plugin of every manifest, by name."""
    return {s.name: s for s in load_all()}


def spec(name: str) -> PluginSpec:
    return specs()[name]


def case(plugin: PluginSpec | str, name: str) -> CaseSpec:
    p = spec(plugin) if isinstance(plugin, str) else plugin
    for c in p.cases:
        if c.name == name:
            return c
    raise KeyError(f"{p.name} has no case {name!r}")


def config_for(p: PluginSpec, **overrides: Any) -> PluginConfig:
    """The PluginConfig ``wasmd try`` builds for ``p`` (see tests/helpers/wasmd_try.py)."""
    args: dict[str, Any] = {
        "root_id": p.root_id,
        "vm_id": p.name,
        "configuration": p.config.encode(),
        "vm_configuration": p.vm_config.encode(),
        "env": p.env,
        "failure_policy": p.failure_policy,
        "log_level": "warn",
    }
    args.update(overrides)
    return trial.plugin_config(p.name, **args)


def _header(name: str, value: str) -> Pair:
    # What `-H 'name: value'` becomes (trial.parse_header): lower-cased name, stripped value.
    return trial.parse_header(f"{name}: {value}")


def request_for(c: CaseSpec) -> trial.TrialRequest:
    return trial.TrialRequest(
        method=c.method,
        path=c.path,
        headers=tuple(_header(k, v) for k, v in c.headers),
        body=c.body.encode(),
        status=c.status,
        response_headers=tuple(_header(k, v) for k, v in c.response_headers),
        response_body=c.response_body.encode(),
    )


def run_case(
    p: PluginSpec | str,
    c: CaseSpec | str,
    *,
    fast: bool = True,
    pause_timeout_ms: int = 1000,
    **overrides: Any,
) -> tuple[dict[str, Any], int]:
    """``workers.trial.run`` for one manifest case: (result JSON, exit code)."""
    p = spec(p) if isinstance(p, str) else p
    c = case(p, c) if isinstance(c, str) else c
    return trial.run(
        p.wasm,
        config_for(p, **overrides),
        request_for(c),
        fast=fast,
        pause_timeout_ms=pause_timeout_ms,
        compile_cache=compile_cache(),
    )


def first(pairs: Sequence[Sequence[str]], name: str) -> str | None:
    """The first value of header ``name`` in a JSON header list, or None."""
    return next((v for k, v in pairs if k == name), None)


def values(pairs: Sequence[Sequence[str]], name: str) -> list[str]:
    return [v for k, v in pairs if k == name]


def results(result: dict[str, Any]) -> dict[str, str]:
    """The ``x-r-*`` result headers conformance.c adds to the client response."""
    return {k: v for k, v in result["response"]["headers"] if k.startswith("x-r-")}


# -------------------------------------------------------------------------------------
# In-process handles and exchanges
# -------------------------------------------------------------------------------------


class Plugin:
    """One configured plugin on a (possibly shared) Runtime: its handle, logs, metrics.

    ``vms`` lists every VM the handle's factory built, oldest first, so tests can tell a
    reload (a new VM object) from reuse.
    """

    def __init__(
        self,
        runtime: Runtime,
        wasm: Path | bytes,
        config: PluginConfig,
        *,
        clock: Callable[[], float] | None = None,
        logs: LogSink | None = None,
    ) -> None:
        self.runtime = runtime
        self.config = config
        self.logs = logs if logs is not None else LogSink(config.name, capture=True)
        self.metrics = Metrics()
        data = wasm if isinstance(wasm, bytes) else wasm.read_bytes()
        self.compiled = runtime.compile(data)
        self.vms: list[PluginVm] = []
        kwargs: dict[str, Any] = {} if clock is None else {"clock": clock}
        self.handle = PluginHandle(config.name, config.failure_policy, self._make_vm, **kwargs)

    def _make_vm(self) -> PluginVm:
        vm = PluginVm(
            self.runtime, self.compiled, self.config, logs=self.logs, metrics=self.metrics
        )
        try:
            vm.start()
        except BaseException:
            vm.close()
            raise
        self.vms.append(vm)
        return vm

    @classmethod
    def from_spec(
        cls, runtime: Runtime, name: str, *, clock: Callable[[], float] | None = None, **kw: Any
    ) -> Plugin:
        p = spec(name)
        return cls(runtime, p.wasm, config_for(p, **kw), clock=clock)

    def log_messages(self) -> list[str]:
        return [r.message for r in self.logs.records]

    def close(self) -> None:
        self.handle.close()


@dataclass
class Driven:
    """What one exchange did, read back from the Exchange."""

    exchange: Exchange
    step: Step
    upstream_reached: bool
    status: int
    headers: list[Pair]
    body: bytes
    details: str = ""
    local: bool = False
    failures: list[Any] = field(default_factory=list)

    def header(self, name: bytes) -> bytes | None:
        return next((v for k, v in self.headers if k == name), None)

    @property
    def upstream_headers(self) -> list[Pair]:
        return self.exchange.request_headers.pairs()


def drive(
    handles: Sequence[PluginHandle],
    headers: Sequence[Pair] = (),
    *,
    method: bytes = b"GET",
    path: bytes = b"/",
    upstream_status: int = 200,
    upstream_headers: Sequence[Pair] = (),
    upstream_body: bytes = b"hello",
) -> Driven:
    """Run one GET-like exchange (no request body) through ``handles``, without pauses."""
    ex = Exchange(list(handles))
    request = [(b":authority", b"localhost"), (b":path", path), (b":method", method)]
    step = ex.on_request_headers(request + list(headers), True)
    upstream_reached = step is Step.CONTINUE
    if upstream_reached:
        response = [(b":status", str(upstream_status).encode()), *upstream_headers]
        step = ex.on_response_headers(response, not upstream_body)
        if step is Step.CONTINUE and upstream_body:
            step = ex.on_response_body(upstream_body, True)
    ex.finish()
    failures = [f.failure for f in ex.filters if f.failure is not None]
    final = ex.final
    if final is not None:
        return Driven(
            ex,
            step,
            upstream_reached,
            final.status,
            list(final.headers),
            final.body,
            final.details,
            final.local,
            failures,
        )
    status = ex.response_headers.get(b":status") or b"0"
    resp = [(k, v) for k, v in ex.response_headers.pairs() if k != b":status"]
    return Driven(
        ex,
        step,
        upstream_reached,
        int(status),
        resp,
        bytes(ex.response_body),
        "",
        False,
        failures,
    )


class FakeClock:
    """A monotonic clock the test advances by hand (for the reload backoff)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def wat(text: str) -> bytes:
    """Assemble a WAT module with wasmtime's own assembler."""
    return bytes(wasmtime.wat2wasm(text))
