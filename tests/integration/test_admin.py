"""The admin gRPC server on a real Unix socket, driven by the real `wasmd` CLI.

The supervisor is a fake ``SupervisorControl`` here (the daemon's end-to-end tests go
through the real one); everything else is real: grpc.aio on its own event loop thread,
the socket file and its mode, and `python -m wasmd status|metrics|reload|drain` processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.helpers.procs import Completed, run, wait_for
from tests.unit.admin import samples
from wasmd.admin import model
from wasmd.admin.client import AdminClient
from wasmd.admin.server import AdminServer
from wasmd.kernel.errors import WasmdError

pytestmark = pytest.mark.timeout(60)

REPO = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_S = 30.0
T = TypeVar("T")

METRICS = (
    "# HELP wasmd_requests_total Requests served.\n"
    "# TYPE wasmd_requests_total counter\n"
    'wasmd_requests_total{slot="0"} 10234.0\n'
)


@dataclass
class FakeSupervisor:
    """A SupervisorControl with canned answers; records the calls it got."""

    status_value: model.DaemonStatus = samples.STATUS
    reload_result: model.ReloadResult = model.ReloadResult(model.ReloadOutcome.SUCCEEDED, 4)
    reload_gate: asyncio.Event | None = None
    fail_status_with: Exception | None = None
    calls: list[tuple[str, object]] = field(default_factory=list)
    reloads_finished: int = 0

    async def refresh(self) -> None:
        pass  # canned answers are always fresh

    def status(self) -> model.DaemonStatus:
        self.calls.append(("status", None))
        if self.fail_status_with is not None:
            raise self.fail_status_with
        return self.status_value

    async def reload(self, wait: bool) -> model.ReloadResult:
        self.calls.append(("reload", wait))
        if self.reload_gate is not None:
            await self.reload_gate.wait()
        self.reloads_finished += 1
        return self.reload_result

    async def drain(self, slot: int) -> model.DrainResult:
        self.calls.append(("drain", slot))
        if slot >= len(self.status_value.workers):
            return model.DrainResult(model.DrainOutcome.UNKNOWN_SLOT, slot, message="slots: 0..1")
        return model.DrainResult(model.DrainOutcome.DRAINED, slot, old_pid=4243, new_pid=5000)

    def metrics_text(self) -> str:
        return METRICS

    def plugins(self) -> tuple[model.PluginInfo, ...]:
        return (samples.PLUGIN_INFO,)


class LoopThread:
    """An asyncio loop on a daemon thread, standing in for the supervisor's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop if loop is not None else asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 10.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    try:
        yield thread
    finally:
        thread.close()


@pytest.fixture
def fake() -> FakeSupervisor:
    return FakeSupervisor()


@pytest.fixture
def server(loop: LoopThread, fake: FakeSupervisor, tmp_path: Path) -> Iterator[AdminServer]:
    srv = AdminServer(fake, tmp_path / "admin.sock")
    loop.run(srv.start())
    try:
        yield srv
    finally:
        loop.run(srv.close())


def wasmd(*args: str) -> Completed:
    """Run the real CLI in a child process (its own process group, killed on timeout)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(REPO)
    return run([sys.executable, "-m", "wasmd", *args], timeout_s=CLI_TIMEOUT_S, env=env, cwd=REPO)


def test_status_json_through_the_cli(server: AdminServer) -> None:
    done = wasmd("status", "--json", "--admin-socket", str(server.path))
    assert done.returncode == 0, done.describe()
    doc = json.loads(done.stdout)
    assert doc["pid"] == 4242
    assert doc["rollout"]["state"] == "failed"
    assert [w["state"] for w in doc["workers"]] == ["ready", "failed"]
    assert doc["workers"][1]["pid"] is None
    assert doc["plugins"][0]["module_sha256"] == samples.SHA
    assert doc["plugins"][0]["p99_call_us"] == 1680.0


def test_status_table_through_the_cli(server: AdminServer) -> None:
    done = wasmd("status", "--admin-socket", str(server.path))
    assert done.returncode == 0, done.describe()
    assert "workers: 1/2 ready" in done.stdout
    assert "add-header  loaded  3f2a1b9c0d1e" in done.stdout


def test_socket_is_published_with_its_mode_and_no_temp_files(server: AdminServer) -> None:
    st = os.stat(server.path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert sorted(p.name for p in server.path.parent.iterdir()) == ["admin.sock"]


def test_status_finds_the_socket_through_the_config(server: AdminServer, tmp_path: Path) -> None:
    config = tmp_path / "wasmd.toml"
    module = REPO / "plugins" / "as" / "build" / "add_header.wasm"
    config.write_text(
        f'[daemon]\nruntime_dir = "{tmp_path}"\nadmin_socket = "admin.sock"\n\n'
        f'[[plugins]]\nname = "add-header"\nmodule = "{module}"\n\n'
        '[chains]\ndefault = ["add-header"]\n'
    )
    done = wasmd("status", "--json", "--config", str(config))
    assert done.returncode == 0, done.describe()
    assert json.loads(done.stdout)["generation"] == 3


def test_metrics_prints_the_supervisor_text(server: AdminServer) -> None:
    done = wasmd("metrics", "--admin-socket", str(server.path))
    assert done.returncode == 0, done.describe()
    assert done.stdout == METRICS


def test_reload_wait_success(server: AdminServer, fake: FakeSupervisor) -> None:
    done = wasmd("reload", "--wait", "--admin-socket", str(server.path))
    assert done.returncode == 0, done.describe()
    assert done.stdout.strip() == "reloaded: now serving generation 4"
    assert ("reload", True) in fake.calls


def test_failed_rollout_exits_nonzero_and_says_why(
    server: AdminServer, fake: FakeSupervisor
) -> None:
    fake.reload_result = model.ReloadResult(
        model.ReloadOutcome.FAILED,
        3,
        "canary: plugin add-header: proxy_on_configure returned false",
    )
    done = wasmd("reload", "--wait", "--admin-socket", str(server.path))
    assert done.returncode == 1, done.describe()
    assert "reload failed; still serving generation 3" in done.stderr
    assert "proxy_on_configure returned false" in done.stderr


def test_drain(server: AdminServer, fake: FakeSupervisor) -> None:
    done = wasmd("drain", "0", "--admin-socket", str(server.path))
    assert done.returncode == 0, done.describe()
    assert done.stdout.strip() == "slot 0: drained (pid 4243 -> 5000)"
    unknown = wasmd("drain", "7", "--admin-socket", str(server.path))
    assert unknown.returncode == 1, unknown.describe()
    assert "slot 7: unknown slot" in unknown.stderr
    assert fake.calls.count(("drain", 0)) == 1


def test_list_plugins_through_the_client(server: AdminServer) -> None:
    with AdminClient(server.path) as client:
        assert client.plugins() == (samples.PLUGIN_INFO,)


@pytest.mark.parametrize(
    ("error", "code", "text"),
    [
        (WasmdError("no worker is ready yet"), 70, "status: no worker is ready yet"),
        (RuntimeError("boom"), 70, "status failed (INTERNAL): status: RuntimeError: boom"),
    ],
)
def test_supervisor_errors_reach_the_operator(
    server: AdminServer, fake: FakeSupervisor, error: Exception, code: int, text: str
) -> None:
    fake.fail_status_with = error
    done = wasmd("status", "--admin-socket", str(server.path))
    assert done.returncode == code, done.describe()
    assert text in done.stderr


def test_not_running_names_the_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "admin.sock"
    done = wasmd("status", "--admin-socket", str(path))
    assert done.returncode == 69, done.describe()
    assert f"wasmd is not running: no admin socket at {path}" in done.stderr


def test_status_json_with_the_daemon_down_prints_a_json_error(tmp_path: Path) -> None:
    """Regression (issue 13): a script reading stdout got nothing it could parse."""
    path = tmp_path / "admin.sock"
    done = wasmd("status", "--json", "--admin-socket", str(path))
    assert done.returncode == 69, done.describe()
    error = json.loads(done.stdout)["error"]
    assert (error["kind"], error["exit_code"]) == ("unavailable", 69)
    assert error["message"].startswith(f"wasmd is not running: no admin socket at {path}")
    assert error["message"] in done.stderr


def test_status_into_a_closed_pipe_exits_quietly(server: AdminServer) -> None:
    """Regression (issue 13): `wasmd status | head -1` ended in a BrokenPipe traceback. The
    reading end is closed before the CLI writes, so its first write meets EPIPE."""
    reader, writer = os.pipe()
    os.close(reader)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(REPO)
    argv = [sys.executable, "-m", "wasmd", "status", "--admin-socket", str(server.path)]
    try:
        proc = subprocess.run(
            argv, stdout=writer, stderr=subprocess.PIPE, env=env, cwd=REPO, timeout=CLI_TIMEOUT_S
        )
    finally:
        os.close(writer)
    assert proc.returncode == 141, proc.stderr
    assert b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr, proc.stderr


def test_stale_socket_file_is_reported_as_not_running(tmp_path: Path) -> None:
    """A socket file nobody listens on (daemon killed -9) reads as 'nothing listens'."""
    path = tmp_path / "admin.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))
    done = wasmd("metrics", "--admin-socket", str(path))
    assert done.returncode == 69, done.describe()
    assert f"nothing listens on the admin socket {path}" in done.stderr


def test_client_giving_up_does_not_cancel_the_rollout(
    loop: LoopThread, server: AdminServer, fake: FakeSupervisor
) -> None:
    """Regression guard: a client deadline (or Ctrl-C) cancels the RPC's handler task;
    the supervisor's reload must keep going (the server shields it)."""
    gate = loop.run(_make_event())
    fake.reload_gate = gate
    done = wasmd("reload", "--wait", "--timeout", "0.5", "--admin-socket", str(server.path))
    assert done.returncode == 70, done.describe()
    assert "no answer" in done.stderr
    loop.loop.call_soon_threadsafe(gate.set)
    wait_for(lambda: fake.reloads_finished == 1, timeout_s=10, what="the shielded reload")


async def _make_event() -> asyncio.Event:
    return asyncio.Event()


def test_close_removes_only_its_own_socket(
    loop: LoopThread, fake: FakeSupervisor, tmp_path: Path
) -> None:
    """grpc unlinks the path it bound on stop, whoever owns it by then; a server that
    took the path over must survive the old server's close."""
    path = tmp_path / "admin.sock"
    old, new = AdminServer(fake, path), AdminServer(fake, path)
    loop.run(old.start())
    try:
        loop.run(new.start())
        loop.run(old.close())
        assert path.exists()
        with AdminClient(path) as client:
            assert client.status().pid == 4242
    finally:
        loop.run(old.close())
        loop.run(new.close())
    assert not path.exists()
    loop.run(new.close())  # idempotent


def test_serves_on_uvloop(fake: FakeSupervisor, tmp_path: Path) -> None:
    """The supervisor may run uvloop; grpc.aio must serve on it too."""
    import uvloop  # a dependency of wasmd (pyproject.toml): missing is an error, not a skip

    thread = LoopThread(uvloop.new_event_loop())
    server = AdminServer(fake, tmp_path / "admin.sock")
    try:
        thread.run(server.start())
        done = wasmd("status", "--json", "--admin-socket", str(server.path))
        assert done.returncode == 0, done.describe()
        assert json.loads(done.stdout)["pid"] == 4242
    finally:
        thread.run(server.close())
        thread.close()
