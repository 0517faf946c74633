"""systemd glue: sd_notify over a real datagram socket, the watchdog, and the unit file."""

from __future__ import annotations

import asyncio
import configparser
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.daemon import Daemon
from tests.helpers.procs import run, spawn
from tests.helpers.tools import missing_component, require_tool
from wasmd.clients.native import Client, ExchangeResult
from wasmd.supervisor import systemd

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "wasmd.service"
EXAMPLE_CONFIG = REPO / "systemd" / "wasmd.toml"
INSTALLED_WASMD = "/usr/local/bin/wasmd"  # scripts/install.sh links it


# --- sd_notify ---------------------------------------------------------------------------


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[socket.socket]:
    """What systemd does: a bound AF_UNIX datagram socket named by NOTIFY_SOCKET."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(5)
    try:
        yield sock
    finally:
        sock.close()


def received(sock: socket.socket) -> dict[str, str]:
    data = sock.recv(4096)
    return dict(line.split("=", 1) for line in data.decode().split("\n"))


def test_ready_status_watchdog_stopping(listener: socket.socket) -> None:
    with systemd.Notifier(listener.getsockname()) as notifier:
        assert notifier.ready("2/2 workers ready")
        assert received(listener) == {"READY": "1", "STATUS": "2/2 workers ready"}
        assert notifier.status("1/2 workers ready, slot 1 failed")
        assert received(listener) == {"STATUS": "1/2 workers ready, slot 1 failed"}
        assert notifier.watchdog()
        assert received(listener) == {"WATCHDOG": "1"}
        assert notifier.stopping("draining")
        assert received(listener) == {"STOPPING": "1", "STATUS": "draining"}


def test_reloading_carries_clock_monotonic_usec(listener: socket.socket) -> None:
    """systemd compares MONOTONIC_USEC with its own CLOCK_MONOTONIC; a wrong clock or unit
    makes `systemctl reload` hang (haproxy, trapperkeeper)."""
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    with systemd.Notifier(listener.getsockname()) as notifier:
        assert notifier.reloading()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    message = received(listener)
    assert message["RELOADING"] == "1"
    assert before <= int(message["MONOTONIC_USEC"]) <= after


def test_abstract_namespace_address() -> None:
    name = f"wasmd-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(5)
        with systemd.Notifier(f"@{name}") as notifier:
            assert notifier.ready()
        assert received(sock) == {"READY": "1"}


def test_not_under_systemd_is_a_no_op() -> None:
    notifier = systemd.Notifier(None)
    assert not notifier.enabled
    assert not notifier.ready()
    notifier.close()
    notifier.close()


def test_a_vanished_notify_socket_disables_without_raising(tmp_path: Path) -> None:
    notifier = systemd.Notifier(str(tmp_path / "gone.sock"))
    assert not notifier.ready()
    assert not notifier.enabled
    assert not notifier.watchdog()


def test_values_cannot_inject_extra_fields(listener: socket.socket) -> None:
    with systemd.Notifier(listener.getsockname()) as notifier:
        notifier.status("line one\nREADY=1")
    assert received(listener) == {"STATUS": "line one READY=1"}


def test_children_do_not_inherit_notify_socket(
    monkeypatch: pytest.MonkeyPatch, listener: socket.socket
) -> None:
    """Workers must never notify systemd: reading the environment removes the variables."""
    monkeypatch.setenv("NOTIFY_SOCKET", listener.getsockname())
    monkeypatch.setenv("WATCHDOG_USEC", "20000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    notifier = systemd.Notifier.from_environment()
    assert notifier.enabled and notifier.watchdog_s == 10.0
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; print(sorted(k for k in os.environ if 'WATCHDOG' in k"
            " or k == 'NOTIFY_SOCKET'))",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert child.stdout.strip() == "[]"
    assert notifier.ready()
    assert received(listener) == {"READY": "1"}


def test_child_environment_scrubs_systemd_variables() -> None:
    env = {"PATH": "/bin", "NOTIFY_SOCKET": "/run/systemd/notify", "LISTEN_FDS": "2"}
    assert systemd.child_environment(env) == {"PATH": "/bin"}


@pytest.mark.parametrize(
    ("env", "interval_s"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1234"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "999"}, None),
    ],
)
def test_watchdog_interval(env: dict[str, str], interval_s: float | None) -> None:
    assert systemd.watchdog_interval_s(env, pid=1234) == interval_s


# --- the unit file -----------------------------------------------------------------------


def unit_service_section() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser["Service"]


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    """verify checks ExecStart= points at an executable, so test a copy with this
    checkout's interpreter substituted; any warning (unknown key, bad value) fails too."""
    analyze = require_tool("systemd-analyze")
    unit = tmp_path / "wasmd.service"
    unit.write_text(UNIT.read_text().replace(INSTALLED_WASMD, sys.executable))
    done = run([analyze, "verify", str(unit)], timeout_s=60, cwd=tmp_path)
    assert done.returncode == 0, done.describe()
    assert done.stdout.strip() == "" and done.stderr.strip() == "", done.describe()


def test_unit_keeps_the_jit_working_and_the_drain_whole() -> None:
    from wasmd.kernel.config import default_config

    service = unit_service_section()
    assert service["Type"] == "notify"
    assert service["NotifyAccess"] == "main"
    assert "MemoryDenyWriteExecute" not in service  # Cranelift needs W^X flips
    assert "LimitAS" not in service  # wasmtime reserves GiBs of address space
    assert service["OOMPolicy"] == "continue"
    assert service["KillMode"] == "mixed"
    assert service["RuntimeDirectory"] == "wasmd"
    assert service["ExecReload"].startswith(INSTALLED_WASMD + " reload --wait")
    assert int(service["WatchdogSec"]) > 0
    drain_s = default_config().daemon.drain_timeout_s
    assert int(service["TimeoutStopSec"]) > drain_s


def test_the_documented_install_serves_as_written(tmp_path: Path) -> None:
    """Regression (issue 13): the example config named a module nothing installed, and the
    unit a wasmd nothing put there. scripts/install.sh stages the install into a root; the
    unit's ExecStart then runs, re-rooted, with the directories systemd would give it
    ($RUNTIME_DIRECTORY, $CACHE_DIRECTORY), and the sample plugin answers."""
    root = tmp_path / "root"
    argv = ["bash", str(REPO / "scripts" / "install.sh"), "--root", str(root)]
    done = run([*argv, "--venv", sys.prefix, "--no-start"], timeout_s=120, cwd=tmp_path)
    assert done.returncode == 0, done.describe()
    installed = root / "etc" / "systemd" / "system" / "wasmd.service"
    assert installed.read_text() == UNIT.read_text()
    exec_start = shlex.split(unit_service_section()["ExecStart"])
    assert exec_start[:4] == [INSTALLED_WASMD, "serve", "--config", "/etc/wasmd/wasmd.toml"]
    rerooted = [str(root) + exec_start[0], *exec_start[1:3], str(root) + exec_start[3]]
    env = {**os.environ, "RUNTIME_DIRECTORY": str(tmp_path / "run")}
    env["CACHE_DIRECTORY"] = str(tmp_path / "cache")
    with spawn(rerooted, env=env, cwd=tmp_path, log_path=tmp_path / "serve.log") as proc:
        daemon = Daemon(proc, tmp_path / "run")
        daemon.all_ready()
        result = asyncio.run(_one_exchange(daemon.socket))
    assert (b"x-as-req", b"hello-from-wasmd") in result.request_headers


EXPOSURE_BOUND = 2.0  # systemd-analyze security, offline; 1.6 with this unit (252)


def test_unit_hardening_keys_from_the_security_review() -> None:
    """Issue 12: no restart loop on a bad config, an fd limit, no IP unless allowed, and
    ProtectHome that does not hide a venv under /home or /root."""
    service = unit_service_section()
    assert service["RestartPreventExitStatus"] == "78"  # wasmd serve's EX_CONFIG
    assert int(service["LimitNOFILE"]) >= 4096
    assert service["IPAddressDeny"] == "any"
    assert "#IPAddressAllow=" in UNIT.read_text()  # left to the operator, commented
    assert service["ProtectHome"] == "read-only"
    assert service["NoNewPrivileges"] == "yes" and service["CapabilityBoundingSet"] == ""


def test_systemd_analyze_security_exposure(tmp_path: Path) -> None:
    analyze = require_tool("systemd-analyze")
    unit = tmp_path / "wasmd.service"
    unit.write_text(UNIT.read_text())
    done = run([analyze, "security", "--offline=true", str(unit)], timeout_s=60, cwd=tmp_path)
    lines = [ln for ln in done.stdout.splitlines() if "Overall exposure level" in ln]
    assert lines, done.describe()
    score = float(lines[0].split(":")[1].split()[0])
    assert score <= EXPOSURE_BOUND, done.describe()


async def _one_exchange(path: Path) -> ExchangeResult:
    async with await Client.connect(path) as client:
        return await client.exchange(
            request_headers=[(b":method", b"GET"), (b":path", b"/")],
            response_headers=[(b":status", b"200")],
        )


# --- the syscall filter ------------------------------------------------------------------

_UNDER_FILTER = """
import asyncio, sys
from wasmd.cli import main
from wasmd.admin.client import AdminClient
from wasmd.admin.server import AdminServer
from tests.integration.test_admin import FakeSupervisor

code = main(["try", sys.argv[1], "--root-id", "as_add_header", "--config", "v", "--json"])
assert code == 0, code

async def admin() -> None:
    async with AdminServer(FakeSupervisor(), sys.argv[2]) as srv:
        status = await asyncio.to_thread(lambda: AdminClient(srv.path).status())
        assert status.pid == 4242
asyncio.run(admin())
"""


def allowed_syscalls(analyze: str, group: str) -> set[str]:
    """Expand a systemd syscall group (nested @groups included) to syscall names."""
    out = run([analyze, "syscall-filter"], timeout_s=30).stdout
    groups: dict[str, set[str]] = {}
    current = ""
    for line in out.splitlines():
        if line.startswith("@"):
            current = line.strip()
            groups[current] = set()
        elif line.strip() and not line.strip().startswith("#") and current:
            groups[current].add(line.strip())

    def expand(name: str) -> set[str]:
        names: set[str] = set()
        for member in groups.get(name, ()):
            names |= expand(member) if member.startswith("@") else {member}
        return names

    return expand(group)


@pytest.mark.slow  # ~7 s under strace
def test_syscall_filter_allows_wasmtime_and_grpc(tmp_path: Path) -> None:
    """Every syscall of a plugin run under wasmtime (JIT, epoch thread) and of the admin
    gRPC server and client is in the unit's SystemCallFilter; an outside one would get
    EPERM under systemd and fail in ways that are hard to trace back."""
    analyze, strace = require_tool("systemd-analyze"), require_tool("strace")
    summary = tmp_path / "strace.txt"
    plugin = REPO / "plugins" / "as" / "build" / "add_header.wasm"
    argv = [strace, "-f", "-qq", "-c", "-o", str(summary), sys.executable, "-c", _UNDER_FILTER]
    done = run([*argv, str(plugin), str(tmp_path / "admin.sock")], timeout_s=90, cwd=REPO)
    if "ptrace" in done.stderr and done.returncode != 0:
        missing_component(f"strace cannot trace here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.describe()
    rows = summary.read_text().splitlines()[2:]
    used = {row.split()[-1] for row in rows if row.strip() and not row.startswith("-")}
    used -= {"total"}
    group = unit_service_section()["SystemCallFilter"]
    assert group.startswith("@")
    assert used, done.describe()
    assert used <= allowed_syscalls(analyze, group), sorted(used - allowed_syscalls(analyze, group))
