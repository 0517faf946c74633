"""A slot's ext_proc socket outlives its worker (``wasmd/supervisor/slot_sockets.py``).

Real ``wasmd serve`` with one worker; the worker is ``kill -9``-ed and, the moment the
process is gone (pidfd), a NEW connection is opened to ``extproc-0.sock``: with wasmd's
HTTP/2 transport it is queued in the supervisor's listen backlog (never refused) and
answered by the successor (likewise a native exchange on the shared ``wasmd.sock``), and
the socket file is the same one (same inode) throughout. With
``extproc_transport = "grpcio"`` (which cannot adopt a socket) the successor binds a new
file, as before; the slot serves again once it is READY. Both with the spare worker
(``workers/spare.py``) and with fresh processes.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.daemon import Daemon, DaemonFactory, daemons, write_config
from tests.helpers.extproc_probe import extproc_once
from tests.helpers.procs import wait_for
from wasmd.admin.model import ReloadOutcome, SlotState

pytestmark = pytest.mark.timeout(180)

PROBE_TIMEOUT_S = 60.0  # a fresh worker on a loaded machine; the test asserts no refusal
REQUEST = ((b":authority", b"x"), (b":path", b"/"), (b":method", b"GET"), (b":scheme", b"http"))
RESPONSE = ((b":status", b"200"),)


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[DaemonFactory]:
    with daemons(tmp_path) as start:
        yield start


def _kill_and_wait_gone(daemon: Daemon) -> int:
    pid = daemon.all_ready().workers[0].pid
    assert pid is not None
    fd = os.pidfd_open(pid)
    try:
        os.kill(pid, signal.SIGKILL)
        readable, _, _ = select.select([fd], [], [], PROBE_TIMEOUT_S)
        assert readable, f"worker {pid} did not exit after SIGKILL"
    finally:
        os.close(fd)
    return pid


def _native_once(path: Path) -> None:
    """One native exchange on a new connection (the shared ``wasmd.sock``)."""
    from wasmd.clients.native import Client

    async def one() -> None:
        async with await Client.connect(path) as client:
            await client.exchange(request_headers=REQUEST, response_headers=RESPONSE)

    asyncio.run(asyncio.wait_for(one(), PROBE_TIMEOUT_S))


def _ready_again(daemon: Daemon, old_pid: int) -> None:
    daemon.wait_status(
        "slot 0 READY on a new worker",
        lambda s: s.workers[0].state is SlotState.READY and s.workers[0].pid != old_pid,
        PROBE_TIMEOUT_S,
    )


@pytest.mark.parametrize("spare", [True, False], ids=["spare", "fresh"])
def test_a_new_connection_during_a_restart_waits_and_is_served(
    tmp_path: Path, daemon_factory: DaemonFactory, spare: bool
) -> None:
    daemon = daemon_factory(write_config(tmp_path, workers=1, spare_worker=spare))
    path = daemon.runtime_dir / "extproc-0.sock"
    daemon.all_ready()
    extproc_once(path, PROBE_TIMEOUT_S)
    inode = path.stat().st_ino
    for face in ("extproc", "native"):
        old = _kill_and_wait_gone(daemon)
        # Nothing accepts now: the connect must still succeed (queued, not refused).
        for socket_path in (path, daemon.socket):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            probe.connect(str(socket_path))
            probe.close()
        if face == "extproc":
            extproc_once(path, PROBE_TIMEOUT_S)  # a new stream, answered by the successor
        else:
            _native_once(daemon.socket)
        _ready_again(daemon, old)
        assert path.stat().st_ino == inode, "the slot socket was re-bound"


def test_grpcio_transport_still_restarts_on_its_own_socket(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    config = write_config(tmp_path, workers=1, extproc_transport="grpcio")
    daemon = daemon_factory(config)
    path = daemon.runtime_dir / "extproc-0.sock"
    daemon.all_ready()
    extproc_once(path, PROBE_TIMEOUT_S)
    inode = path.stat().st_ino
    old = _kill_and_wait_gone(daemon)
    _ready_again(daemon, old)
    extproc_once(path, PROBE_TIMEOUT_S)
    assert path.stat().st_ino != inode, "grpcio binds its own socket (no adoption)"


def test_slot_sockets_are_removed_on_stop(tmp_path: Path, daemon_factory: DaemonFactory) -> None:
    daemon = daemon_factory(write_config(tmp_path, workers=2))
    daemon.all_ready()
    paths = [daemon.runtime_dir / f"extproc-{slot}.sock" for slot in range(2)]
    assert all(p.exists() for p in paths)
    daemon.proc.popen.send_signal(signal.SIGTERM)
    wait_for(lambda: daemon.proc.exited(), PROBE_TIMEOUT_S, what="the daemon exits")
    assert not any(p.exists() for p in paths)


def test_a_rolling_reload_keeps_the_slot_socket(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    """The old worker drains and closes its copy of the listening socket; the path (and
    the supervisor's socket behind it) stays, and the new worker serves it."""
    daemon = daemon_factory(write_config(tmp_path, workers=1, configuration="v1"))
    path = daemon.runtime_dir / "extproc-0.sock"
    old = daemon.all_ready().workers[0].pid
    inode = path.stat().st_ino
    write_config(tmp_path, workers=1, configuration="v2")
    assert daemon.reload().outcome is ReloadOutcome.SUCCEEDED
    assert old is not None
    _ready_again(daemon, old)
    wait_for(
        lambda: not Path(f"/proc/{old}").exists(), PROBE_TIMEOUT_S, what="the old worker reaped"
    )
    extproc_once(path, PROBE_TIMEOUT_S)
    assert path.stat().st_ino == inode
