"""The daemon with real processes, sockets and signals: `wasmd serve` on a temp config.

Each test starts the supervisor in its own process group (tests.helpers.procs.spawn kills
the group on exit, workers included) and observes it through the admin socket.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.daemon import (
    CRASH_START,
    START_TIMEOUT_S,
    DaemonFactory,
    daemons,
    write_config,
)
from tests.helpers.procs import wait_for
from wasmd.admin.client import AdminClient
from wasmd.admin.model import PluginState, ReloadOutcome, SlotState

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[DaemonFactory]:
    with daemons(tmp_path) as start:
        yield start


def test_starts_ready_and_sigterm_drains_and_exits_zero(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    daemon = daemon_factory(write_config(tmp_path))
    status = daemon.all_ready()
    assert len(status.workers) == 2 and status.generation == 1
    # Sampled when the worker reported READY, not the few MiB it had at spawn (a loaded
    # worker holds Python, wasmtime and the compiled plugin: tens of MiB).
    assert all(w.rss_bytes > 20 << 20 for w in status.workers), status.workers
    assert (tmp_path / "run" / "wasmd.sock").exists()
    assert oct((tmp_path / "run" / "wasmd.sock").stat().st_mode & 0o777) == "0o660"
    slot_sockets = [tmp_path / "run" / f"extproc-{slot}.sock" for slot in (0, 1)]
    assert all(path.exists() for path in slot_sockets), "each worker serves its ext_proc slot"
    pids = [w.pid for w in status.workers]
    os.kill(daemon.proc.pid, signal.SIGTERM)
    assert daemon.proc.popen.wait(timeout=30) == 0
    for pid in pids:
        assert pid is not None
        wait_for(lambda pid=pid: not _alive(pid), 10, what=f"worker {pid} gone")
    assert not (tmp_path / "run" / "wasmd.sock").exists()
    # Regression: stale extproc-<slot>.sock files were left behind, refusing connections.
    assert not any(path.exists() for path in slot_sockets)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_kill_9_worker_is_replaced_and_counted(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    daemon = daemon_factory(write_config(tmp_path))
    before = daemon.all_ready()
    victim = before.workers[0].pid
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    after = daemon.wait_status(
        "slot 0 served by a new worker",
        lambda s: s.workers[0].state is SlotState.READY and s.workers[0].pid != victim,
    )
    assert after.workers[0].restarts == 1
    assert after.workers[0].last_exit_reason == "SIGKILL"
    assert after.workers[1].pid == before.workers[1].pid  # the other slot is untouched


def test_sigstopped_worker_is_killed_after_heartbeat_timeout(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    daemon = daemon_factory(write_config(tmp_path))
    victim = daemon.all_ready().workers[1].pid
    assert victim is not None
    os.kill(victim, signal.SIGSTOP)
    after = daemon.wait_status(
        "hung worker replaced",
        lambda s: s.workers[1].state is SlotState.READY and s.workers[1].pid != victim,
    )
    assert after.workers[1].restarts == 1
    assert "no heartbeat" in after.workers[1].last_exit_reason
    assert not _alive(victim)


def test_a_sole_plugin_that_fails_to_load_keeps_the_slot_up(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    """The worker keeps the plugin as failed and serves (its chain answers by the policy)
    instead of exiting 2 into the crash-loop breaker; a fixed config loads it."""
    config = write_config(
        tmp_path, module=CRASH_START, root_id="", crash_loop_max_restarts=2, workers=1
    )
    daemon = daemon_factory(config)
    status = daemon.wait_status(
        "plugin failed, slot ready",
        lambda s: (
            s.plugins[0].state is PluginState.FAILED and s.workers[0].state is SlotState.READY
        ),
    )
    assert status.workers[0].restarts == 0
    assert "proxy_on_vm_start" in status.plugins[0].error
    write_config(tmp_path, workers=1)  # fixed config: reload loads it
    result = AdminClient(daemon.admin_socket, timeout_s=START_TIMEOUT_S).reload(wait=True)
    assert result.outcome is ReloadOutcome.SUCCEEDED, result.message
    daemon.wait_status("plugin loaded", lambda s: s.plugins[0].state is PluginState.LOADED)


def test_reload_rolls_every_slot_to_the_new_generation(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    daemon = daemon_factory(write_config(tmp_path, configuration="v1"))
    before = daemon.all_ready()
    write_config(tmp_path, configuration="v2")
    result = daemon.reload()
    assert result.outcome is ReloadOutcome.SUCCEEDED, result.message
    after = daemon.all_ready()
    assert after.generation == 2
    assert [w.generation for w in after.workers] == [2, 2]
    assert not {w.pid for w in after.workers} & {w.pid for w in before.workers}
    assert all(w.restarts == 0 for w in after.workers)  # swaps are not crashes


def test_invalid_config_or_failing_canary_keeps_the_generation(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    config = write_config(tmp_path)
    daemon = daemon_factory(config)
    pids = [w.pid for w in daemon.all_ready().workers]
    config.write_text(
        config.read_text().replace("deadline", "").replace("workers = 2", "workers = -1")
    )
    bad = daemon.reload()
    assert bad.outcome is ReloadOutcome.FAILED and "workers" in bad.message
    write_config(tmp_path, module=CRASH_START, root_id="")
    canary = daemon.reload()
    assert canary.outcome is ReloadOutcome.FAILED and "canary" in canary.message
    status = daemon.status()
    assert status.generation == 1 and [w.pid for w in status.workers] == pids
    assert "canary" in status.rollout.last_error


def test_sighup_reloads(tmp_path: Path, daemon_factory: DaemonFactory) -> None:
    daemon = daemon_factory(write_config(tmp_path, workers=1))
    daemon.all_ready()
    write_config(tmp_path, workers=1, configuration="v2")
    os.kill(daemon.proc.pid, signal.SIGHUP)
    daemon.wait_status(
        "generation 2 serving",
        lambda s: (
            s.generation == 2
            and s.workers[0].generation == 2
            and s.workers[0].state is SlotState.READY
        ),
    )
