"""A plugin that fails at start does not take the other chains down (real daemon).

Every worker loads every plugin, so one plugin failing at start crashes every slot. The
crash-loop breaker trips, the supervisor quarantines the plugins its workers reported
(LOAD_FAILED) and rolls out a generation without them: the chains that do not need them
are served again, theirs get the plugin's failure policy, and status says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.daemon import (
    CRASH_START,
    Daemon,
    DaemonFactory,
    PluginEntry,
    add_header,
    daemons,
    write_config,
)
from wasmd.admin.model import DaemonStatus, ReloadOutcome, RolloutState, SlotState
from wasmd.clients.native import Client

pytestmark = pytest.mark.timeout(120)
REQUEST = ((b":method", b"GET"), (b":path", b"/"), (b":authority", b"x"), (b":scheme", b"http"))
RESPONSE = ((b":status", b"200"),)


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[DaemonFactory]:
    with daemons(tmp_path) as start:
        yield start


def _config(tmp_path: Path, *, broken: bool) -> Path:
    bad = PluginEntry("bad", CRASH_START) if broken else add_header("fixed", name="bad")
    return write_config(
        tmp_path,
        plugins=[add_header("good"), bad],
        chains={"default": ["add-header"], "needs-bad": ["bad"]},
        crash_loop_max_restarts=2,
    )


def _exchange(daemon: Daemon, chain: str) -> tuple[int | None, bytes | None]:
    """(local response status or None, x-as-req seen upstream) for one exchange."""

    async def run() -> tuple[int | None, bytes | None]:
        async with await Client.connect(str(daemon.runtime_dir / "wasmd.sock")) as client:
            result = await client.exchange(
                chain=chain, request_headers=REQUEST, response_headers=RESPONSE
            )
        local = result.local_response.status if result.local_response is not None else None
        return local, dict(result.request_headers).get(b"x-as-req")

    return asyncio.run(run())


def _serving_quarantine(status: DaemonStatus) -> bool:
    return (
        all(w.state is SlotState.READY for w in status.workers)
        and status.rollout.state is RolloutState.IDLE
        and "quarantined" in status.rollout.last_error
    )


def test_a_plugin_failing_at_start_is_quarantined_and_other_chains_are_served(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    daemon = daemon_factory(_config(tmp_path, broken=True))
    status = daemon.wait_status("the failing plugin quarantined", _serving_quarantine)
    assert "plugin bad quarantined" in status.rollout.last_error
    assert "proxy_on_vm_start" in status.rollout.last_error  # says why it failed
    assert status.generation > 1
    assert _exchange(daemon, "default") == (None, b"good")  # served by the healthy plugin
    assert _exchange(daemon, "needs-bad") == (503, None)  # fail_closed for its own chain
    # A fixed config ends the quarantine.
    _config(tmp_path, broken=False)
    result = daemon.reload()
    assert result.outcome is ReloadOutcome.SUCCEEDED, result.message
    assert daemon.all_ready().rollout.last_error == ""
    assert _exchange(daemon, "needs-bad") == (None, b"fixed")
