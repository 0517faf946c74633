"""Reloads say what they did, and status shows the daemon (real daemon, issue 13 items 5, 6).

- A ``[daemon]`` key bound at start (workers, sockets, runtime_dir) is refused with "restart
  required for daemon.X" and a non-zero exit; nothing is applied. Other keys are applied and
  listed.
- After an edit of ``admin_socket``, ``wasmd reload --config FILE`` reaches the running daemon
  through the socket it recorded and gets that refusal (not "wasmd is not running").
- ``reload --wait`` returns once the old workers drained and exited, printing per-slot
  progress to stderr; ``reload`` alone names the generation being rolled out.
- ``status`` shows sockets with their modes, chains and draining workers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.daemon import (
    CLI_TIMEOUT_S,
    REPO,
    Daemon,
    DaemonFactory,
    Load,
    add_header,
    daemons,
    write_config,
)
from tests.helpers.procs import Completed, run

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[DaemonFactory]:
    with daemons(tmp_path) as start:
        yield start


def _config(tmp_path: Path, configuration: str = "v1", **daemon: Any) -> Path:
    return write_config(
        tmp_path,
        plugins=[add_header(configuration)],
        chains={"default": ["add-header"], "other": ["add-header"]},
        **daemon,
    )


def _reload(config: Path, *args: str) -> Completed:
    """``wasmd reload --config FILE`` as the systemd unit's ExecReload runs it."""
    argv = [sys.executable, "-m", "wasmd", "reload", "--config", str(config), *args]
    return run(argv, timeout_s=CLI_TIMEOUT_S * 3, cwd=REPO)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_restart_only_daemon_key_is_refused_and_nothing_applied(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    daemon = daemon_factory(_config(tmp_path))
    before = daemon.all_ready()
    config = _config(tmp_path, "v2", workers=3, native_socket_mode=0o600)
    done = _reload(config, "--wait")
    assert done.returncode == 1, done.describe()
    assert "restart required for daemon.workers, daemon.native_socket_mode" in done.stderr
    after = daemon.all_ready()
    assert after.generation == before.generation and len(after.workers) == 2
    assert [w.pid for w in after.workers] == [w.pid for w in before.workers]


def test_live_daemon_keys_are_applied_and_listed(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    daemon = daemon_factory(_config(tmp_path))
    daemon.all_ready()
    config = _config(tmp_path, heartbeat_timeout_s=3.0, max_requests=100000)
    done = _reload(config)
    assert done.returncode == 0, done.describe()
    assert "reload started: generation 2 is rolling out" in done.stdout
    assert "generation 1 serves each slot until it is swapped to 2" in done.stdout
    assert "daemon.heartbeat_timeout_s, daemon.max_requests" in done.stdout
    daemon.wait_status("generation 2 serving", lambda s: s.generation == 2)


def test_reload_after_an_admin_socket_edit_reaches_the_running_daemon(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    daemon = daemon_factory(_config(tmp_path))
    daemon.all_ready()
    config = _config(tmp_path, admin_socket=str(tmp_path / "run" / "admin-new.sock"))
    done = _reload(config)
    assert done.returncode == 1, done.describe()
    assert f"the running daemon listens on {daemon.admin_socket}" in done.stderr
    assert "restart required for daemon.admin_socket" in done.stderr
    assert "not running" not in done.stderr


def test_reload_wait_returns_once_the_old_workers_drained_and_shows_progress(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    daemon = daemon_factory(_config(tmp_path))
    before = daemon.all_ready()
    with Load(daemon.socket, tasks=4) as load:
        load.wait_served(20)
        done = _reload(_config(tmp_path, "v2"), "--wait")
        status = daemon.status()  # right after: nothing of generation 1 is left
        load.wait_served(20)
        records = load.stop()
    assert done.returncode == 0, done.describe()
    assert "reloaded: now serving generation 2" in done.stdout
    assert "old drained" in done.stdout
    assert status.draining == ()
    assert not any(_alive(w.pid) for w in before.workers if w.pid is not None)
    for w in before.workers:
        assert f"slot {w.slot}: generation 2 ready" in done.stderr, done.stderr
        assert f"slot {w.slot}: old worker pid {w.pid} drained and exited" in done.stderr
    assert [r.error for r in records if not r.ok] == []


def test_status_shows_sockets_modes_and_chains(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    daemon: Daemon = daemon_factory(_config(tmp_path))
    status = daemon.all_ready()
    roles = {s.role: s for s in status.sockets}
    assert set(roles) == {"native", "admin", "extproc-0", "extproc-1"}
    assert roles["admin"].path == str(daemon.admin_socket) and roles["admin"].mode == 0o600
    assert {c.name: c.plugins for c in status.chains} == {
        "default": ("add-header",),
        "other": ("add-header",),
    }
    shown = daemon.cli("status")
    assert shown.returncode == 0, shown.describe()
    assert "default (default)  add-header" in shown.stdout
    rows = {line.split()[0]: line.split()[1:] for line in shown.stdout.splitlines() if line}
    assert rows["admin"] == ["0600", str(daemon.admin_socket)]
    as_json = daemon.status_json()
    assert {s["role"] for s in as_json["sockets"]} == set(roles)
    assert as_json["draining"] == []
