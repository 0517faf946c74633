"""A plugin that fails to load breaks only its own chains (real daemon, issue 13 item 1).

Each worker keeps a plugin that fails to load (compile, instantiate, proxy_on_vm_start or
proxy_on_configure) as failed, with the reason: the worker stays up, the plugin's chains get
its failure policy at once, every other chain is served from the first request, and
``wasmd status`` (+ ``--json``) shows the plugin's state and why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.daemon import (
    CRASH_START,
    PLUGINS,
    START_TIMEOUT_S,
    Daemon,
    DaemonFactory,
    Load,
    PluginEntry,
    add_header,
    daemons,
    header,
    write_config,
)
from tests.helpers.procs import wait_for
from wasmd.admin.client import AdminClient
from wasmd.admin.model import DaemonStatus, PluginState, ReloadOutcome, SlotState
from wasmd.clients.native import Client

pytestmark = pytest.mark.timeout(120)
BAD_CONFIGURE = PLUGINS / "c" / "build" / "bad_configure.wasm"
NESTED_ALLOC_TRAP = PLUGINS / "c" / "build" / "nested_alloc_trap.wasm"
REQUEST = ((b":method", b"GET"), (b":path", b"/"), (b":authority", b"x"), (b":scheme", b"http"))
RESPONSE = ((b":status", b"200"),)


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[DaemonFactory]:
    with daemons(tmp_path) as start:
        yield start


def _exchange(daemon: Daemon, chain: str) -> tuple[int | None, bytes | None]:
    """(local response status or None, x-as-req seen upstream) for one exchange."""

    async def run() -> tuple[int | None, bytes | None]:
        async with await Client.connect(str(daemon.socket)) as client:
            result = await client.exchange(
                chain=chain, request_headers=REQUEST, response_headers=RESPONSE
            )
        local = result.local_response.status if result.local_response is not None else None
        return local, header(result.request_headers, b"x-as-req")

    return asyncio.run(run())


def _plugin_failed(*names: str) -> Callable[[DaemonStatus], bool]:
    def check(status: DaemonStatus) -> bool:
        plugins = {p.name: p for p in status.plugins}
        failed = all(plugins[name].state is PluginState.FAILED for name in names)
        return failed and all(
            w.state is SlotState.READY and w.heartbeat_age_s is not None for w in status.workers
        )

    return check


def test_a_plugin_whose_configure_fails_breaks_only_its_chain(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    config = write_config(
        tmp_path,
        plugins=[
            add_header("good"),
            PluginEntry("bad", BAD_CONFIGURE, "", "not-ok"),
            PluginEntry("nested", NESTED_ALLOC_TRAP, "", "cfg"),
        ],
        chains={"default": ["add-header"], "needs-bad": ["bad"], "nested": ["nested"]},
        crash_loop_max_restarts=2,
    )
    daemon = daemon_factory(config)
    # Load on the healthy chain from the moment the supervisor binds its socket: it waits
    # in the listen backlog until the workers are up, and not one exchange fails.
    wait_for(daemon.socket.exists, START_TIMEOUT_S, what="the native socket bound")
    with Load(daemon.socket, tasks=2) as load:
        status = daemon.wait_status(
            "plugins bad and nested failed, workers ready", _plugin_failed("bad", "nested")
        )
        load.wait_served(50)
        records = load.stop()
    assert records and all(r.ok for r in records), [r.error for r in records if not r.ok][:3]
    assert all(header(r.result.request_headers, b"x-as-req") == b"good" for r in records)  # type: ignore[union-attr]
    assert all(w.restarts == 0 for w in status.workers)
    bad = {p.name: p for p in status.plugins}["bad"]
    assert "proxy_on_configure returned false" in bad.error
    assert {p.name: p for p in status.plugins}["add-header"].state is PluginState.LOADED
    assert _exchange(daemon, "needs-bad") == (503, None)  # fail_closed, at once
    # Loaded, but its VM failed in a nested call (a trap in its allocator while configuring):
    # as in Envoy, its streams get the failure policy.
    nested = {p.name: p for p in daemon.status().plugins}["nested"]
    assert nested.state is PluginState.FAILED and "restricted_callback" in nested.error
    assert _exchange(daemon, "nested") == (503, None)
    # The CLI shows it too, human and JSON.
    shown = daemon.cli("status")
    assert shown.returncode == 0, shown.describe()
    assert "bad failed: plugin bad failed to load" in shown.stdout
    plugins = {p["name"]: p for p in daemon.status_json()["plugins"]}
    assert plugins["bad"]["state"] == "failed"
    assert "proxy_on_configure" in plugins["bad"]["error"]
    assert plugins["add-header"]["state"] == "loaded"
    assert all(w.restarts == 0 for w in daemon.status().workers)


def test_fail_open_skips_a_plugin_that_failed_to_load_and_a_reload_fixes_it(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    def config(broken: bool) -> Path:
        bad = (
            PluginEntry("bad", CRASH_START, settings={"failure_policy": "fail_open"})
            if broken
            else add_header("fixed", name="bad")
        )
        return write_config(
            tmp_path,
            plugins=[add_header("good"), bad],
            chains={
                "default": ["add-header"],
                "needs-bad": ["add-header", "bad"],
                "only-bad": ["bad"],
            },
        )

    daemon = daemon_factory(config(broken=True))
    status = daemon.wait_status("plugin bad failed, workers ready", _plugin_failed("bad"))
    assert "proxy_on_vm_start" in {p.name: p for p in status.plugins}["bad"].error
    assert _exchange(daemon, "needs-bad") == (None, b"good")  # bad skipped: fail_open
    assert _exchange(daemon, "default") == (None, b"good")
    config(broken=False)
    result = AdminClient(daemon.admin_socket, timeout_s=START_TIMEOUT_S).reload(wait=True)
    assert result.outcome is ReloadOutcome.SUCCEEDED, result.message
    status = daemon.wait_status(
        "plugin bad loaded",
        lambda s: {p.name: p for p in s.plugins}["bad"].state is PluginState.LOADED,
    )
    assert _exchange(daemon, "only-bad") == (None, b"fixed")
