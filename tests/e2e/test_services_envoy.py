"""Singleton services: wasmd's ``[[services]]`` against Envoy's ``envoy.bootstrap.wasm``.

The same two modules run in real Envoy 1.40 (V8, ``--concurrency 2``: two worker threads,
each with its own reader VM) and in wasmd (2 worker processes + the service host):
``plugins/c/service_ticker.c`` as a singleton bootstrap service and
``plugins/c/service_reader.c`` as the HTTP filter, both in vm_id "svc". The reports are
time-dependent (the counter), so what is compared is what must hold in both: the same report
shape, one writer, a strictly increasing counter with no CAS loss, the queue read in FIFO
order starting at ``tick 1``.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.envoy_harness import unique_base_id
from tests.helpers.daemon import Daemon
from tests.helpers.procs import free_port, spawn, wait_for
from tests.helpers.tools import require_tool
from tests.integration.test_singleton_services import (
    READER,
    TICKER,
    ask,
    running,
    write_config,
)

pytestmark = [pytest.mark.envoy, pytest.mark.timeout(180)]

WAIT_S = 60.0
REQUESTS = 8
_STRING = "type.googleapis.com/google.protobuf.StringValue"


def _wasm(name: str, module: Path, configuration: str) -> dict[str, Any]:
    return {
        "name": name,
        "root_id": "",
        "vm_config": {
            "vm_id": "svc",
            "runtime": "envoy.wasm.runtime.v8",
            "code": {"local": {"filename": str(module)}},
        },
        "configuration": {"@type": _STRING, "value": configuration},
    }


def envoy_bootstrap(port: int) -> dict[str, Any]:
    """A listener whose only route is the reader's local reply, and the ticker as a singleton
    ``envoy.bootstrap.wasm`` service."""
    hcm = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network."
        "http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "in",
        "route_config": {
            "virtual_hosts": [
                {
                    "name": "all",
                    "domains": ["*"],
                    "routes": [{"match": {"prefix": "/"}, "direct_response": {"status": 404}}],
                }
            ]
        },
        "http_filters": [
            {
                "name": "envoy.filters.http.wasm",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
                    "config": _wasm("reader", READER, "svc"),
                },
            },
            {
                "name": "envoy.filters.http.router",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
                },
            },
        ],
    }
    address = {"socket_address": {"address": "127.0.0.1", "port_value": port}}
    return {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
        "bootstrap_extensions": [
            {
                "name": "envoy.bootstrap.wasm",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.wasm.v3.WasmService",
                    "singleton": True,
                    "config": _wasm("ticker", TICKER, "tick_ms=50 tag=one"),
                },
            }
        ],
        "static_resources": {
            "listeners": [
                {
                    "name": "l",
                    "address": address,
                    "filter_chains": [
                        {
                            "filters": [
                                {
                                    "name": "envoy.filters.network.http_connection_manager",
                                    "typed_config": hcm,
                                }
                            ]
                        }
                    ],
                }
            ]
        },
    }


def parse(body: str) -> dict[str, str]:
    head, _, msg = body.partition(" msg=")
    report = dict(part.split("=", 1) for part in head.split())
    report["msg"] = msg
    return report


def check_reports(reports: list[dict[str, str]]) -> dict[str, object]:
    """What must hold with one singleton service; returns the comparable summary."""
    counters = [int(r["counter"]) for r in reports]
    ticks = [int(r["msg"].split()[1]) for r in reports if r["msg"] != "-"]
    writers = {r["writer"] for r in reports} | {
        r["msg"].split()[2] for r in reports if r["msg"] != "-"
    }
    assert counters == sorted(set(counters)), counters
    assert ticks == sorted(set(ticks)), ticks
    assert len(writers) == 1, writers
    return {
        "keys": [sorted(r) for r in reports][0],
        "tags": {r["tag"] for r in reports},
        "misses": {r["misses"] for r in reports},
        "first_tick": ticks[0] if ticks else None,
    }


def collect(fetch: Any, first: dict[str, str] | None = None) -> list[dict[str, str]]:
    """``first`` (the readiness probe's report: it dequeued too) and REQUESTS reports, each
    with a counter past the previous one."""
    reports: list[dict[str, str]] = [first] if first is not None else []
    for i in range(REQUESTS):
        floor = int(reports[-1]["counter"]) if reports else 0

        def past(i: int = i, floor: int = floor) -> dict[str, str] | None:
            r = fetch(i)
            return r if r["counter"].isdigit() and int(r["counter"]) > floor else None

        report = wait_for(past, WAIT_S, 0.05, f"counter past {floor}")
        assert isinstance(report, dict)
        reports.append(report)
    return reports


def envoy_reports(tmp_path: Path) -> list[dict[str, str]]:
    envoy = require_tool("envoy")
    port = free_port()
    config = tmp_path / "envoy.json"
    config.write_text(json.dumps(envoy_bootstrap(port)))
    argv = [envoy, "-c", str(config), "--concurrency", "2", "-l", "warn"]
    argv += ["--disable-hot-restart", "--base-id", str(unique_base_id())]

    def fetch(_: int) -> dict[str, str]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as reply:
            return parse(reply.read().decode())

    with spawn(argv, log_path=tmp_path / "envoy.log") as proc:

        def up() -> dict[str, str] | None:
            assert not proc.exited(), proc.describe()
            try:
                return fetch(0)
            except OSError:
                return None

        first = wait_for(up, WAIT_S, 0.1, "envoy serving", proc.describe)
        assert isinstance(first, dict)
        return collect(fetch, first if first["counter"].isdigit() else None)


def wasmd_reports(tmp_path: Path) -> list[dict[str, str]]:
    config = write_config(tmp_path, "tick_ms=50 tag=one")
    argv = [sys.executable, "-m", "wasmd", "serve", "--config", str(config)]
    with spawn(argv, log_path=tmp_path / "serve.log", cwd=tmp_path) as proc:
        daemon = Daemon(proc, tmp_path / "run")
        try:
            daemon.all_ready(WAIT_S)
            running(daemon)
            return collect(lambda i: ask(daemon, i % 2))  # both worker processes
        finally:
            daemon.admin.close()


def test_a_singleton_service_behaves_as_in_envoy(tmp_path: Path) -> None:
    (tmp_path / "envoy").mkdir()
    (tmp_path / "wasmd").mkdir()
    in_envoy = check_reports(envoy_reports(tmp_path / "envoy"))
    in_wasmd = check_reports(wasmd_reports(tmp_path / "wasmd"))
    assert in_wasmd == in_envoy
    assert in_envoy == {
        "keys": ["counter", "misses", "msg", "tag", "writer"],
        "tags": {"one"},
        "misses": {"-"},
        "first_tick": 1,
    }
