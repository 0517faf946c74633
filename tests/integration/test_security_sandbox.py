"""Workers run sandboxed (issue 12 §5, docs/security.md "Workers"): no capabilities,
NO_NEW_PRIVS, and a seccomp filter that denies execve, ptrace, other processes' memory and
exotic socket families.

The first test reads /proc/PID/status of the real workers of a real ``wasmd serve`` (and
checks they still serve). The second runs ``workers.sandbox.enter`` in a real process,
as the worker does at start, and tries each denied thing from the main thread and from a
thread started before the filter (TSYNC).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.daemon import DaemonFactory, daemons, write_config
from tests.helpers.manifest import REPO_ROOT
from tests.helpers.procs import run
from wasmd.clients.native import Client

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[DaemonFactory]:
    with daemons(tmp_path) as start:
        yield start


def proc_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k: v.strip() for k, _, v in (ln.partition(":") for ln in lines)}


async def _served(sock: Path) -> dict[bytes, bytes]:
    async with await Client.connect(sock) as client:
        result = await client.exchange(
            request_headers=[(b":method", b"GET"), (b":path", b"/")],
            response_headers=[(b":status", b"200")],
        )
    return dict(result.request_headers)


def test_real_workers_have_no_capabilities_and_a_seccomp_filter(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    daemon = daemon_factory(write_config(tmp_path, workers=2))
    status = daemon.all_ready()
    for worker in status.workers:
        assert worker.pid is not None
        st = proc_status(worker.pid)
        assert st["Seccomp"] == "2", st  # SECCOMP_MODE_FILTER
        assert st["NoNewPrivs"] == "1", st
        assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0, st
        assert int(st["CapAmb"], 16) == 0, st
        if os.geteuid() == 0:  # only a privileged process can shrink its bounding set
            assert int(st["CapBnd"], 16) == 0, st
    assert asyncio.run(_served(daemon.socket)).get(b"x-as-req") == b"v1"


PROBE = """
import ctypes, errno, os, socket, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS, as workers.process.harden does
started = threading.Event()
go = threading.Event()
result = {}
def early():
    started.set(); go.wait(10)
    try:
        os.execv("/bin/true", ["true"])
    except OSError as exc:
        result["thread_exec"] = exc.errno
t = threading.Thread(target=early); t.start(); started.wait(10)
from workers import sandbox
sandbox.enter()
go.set(); t.join(10)
out = dict(result)
try:
    os.execv("/bin/true", ["true"])
except OSError as exc:
    out["exec"] = exc.errno
libc.ptrace.restype = ctypes.c_long
out["ptrace"] = ctypes.get_errno() if libc.ptrace(0, 0, 0, 0) == -1 else 0  # TRACEME
for name, fam in (("netlink", socket.AF_NETLINK), ("packet", socket.AF_PACKET)):
    try:
        socket.socket(fam, socket.SOCK_RAW).close(); out[name] = 0
    except OSError as exc:
        out[name] = exc.errno
for name, fam in (("unix", socket.AF_UNIX), ("inet", socket.AF_INET), ("inet6", socket.AF_INET6)):
    socket.socket(fam, socket.SOCK_STREAM).close(); out[name] = 0
if os.geteuid() == 0 and len(sys.argv) > 1:  # root without CAP_DAC_OVERRIDE
    try:
        open(os.path.join(sys.argv[1], "x"), "w").close(); out["others_dir"] = 0
    except OSError as exc:
        out["others_dir"] = exc.errno
print(sorted(out.items()))
"""


def test_the_sandbox_denies_exec_ptrace_and_exotic_sockets(tmp_path: Path) -> None:
    others = tmp_path / "nobodys"
    others.mkdir(mode=0o700)
    if os.geteuid() == 0:
        os.chown(others, pwd.getpwnam("nobody").pw_uid, -1)
    done = run([sys.executable, "-c", PROBE, str(others)], timeout_s=60, cwd=REPO_ROOT)
    assert done.returncode == 0, done.describe()
    out = dict(eval(done.stdout))  # noqa: S307 - our own probe's repr of a list of pairs
    eperm = 1
    assert out["exec"] == eperm and out["thread_exec"] == eperm, out
    assert out["ptrace"] == eperm, out
    assert out["netlink"] == eperm and out["packet"] == eperm, out
    assert out["unix"] == out["inet"] == out["inet6"] == 0, out
    if os.geteuid() == 0:
        assert out["others_dir"] == 13, out  # EACCES: no capability overrides modes


# -- the uid drop (root only) -----------------------------------------------------------
needs_root = pytest.mark.skipif(
    os.geteuid() != 0 and os.environ.get("CI") != "true",
    reason="the uid drop happens only under a root supervisor: run as root (CI does)",
)


@needs_root
def test_workers_of_a_root_supervisor_run_as_nobody(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    nobody = pwd.getpwnam("nobody")
    daemon = daemon_factory(write_config(tmp_path, workers=1, worker_user="nobody"))
    status = daemon.all_ready()
    pid = status.workers[0].pid
    assert pid is not None
    st = proc_status(pid)
    assert st["Uid"].split() == [str(nobody.pw_uid)] * 4, st
    assert st["Gid"].split() == [str(nobody.pw_gid)] * 4, st
    assert st["Groups"] == "", st
    assert int(st["CapEff"], 16) == int(st["CapPrm"], 16) == int(st["CapBnd"], 16) == 0, st
    assert asyncio.run(_served(daemon.socket)).get(b"x-as-req") == b"v1"
    # What that user can do to the daemon's files, tried by a real process as the worker
    # drops (workers.sandbox.drop_user): nothing.
    done = run(
        [sys.executable, "-c", AS_WORKER_USER, str(nobody.pw_uid), str(nobody.pw_gid),
         str(daemon.runtime_dir), str(tmp_path.parent / "cache")],
        timeout_s=60,
        cwd=REPO_ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.describe()
    assert done.stdout.split() == ["denied"] * 5, done.describe()


AS_WORKER_USER = """
import os, socket, sys
from workers import sandbox
uid, gid, run_dir, cache_dir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
sandbox.drop_user(uid, gid)
def attempt(fn):
    try:
        fn()
        print("allowed")
    except PermissionError:
        print("denied")
attempt(lambda: open(os.path.join(run_dir, "x"), "w"))
attempt(lambda: open(os.path.join(run_dir, "generations", "x"), "w"))
attempt(lambda: open(os.path.join(cache_dir, "x"), "w"))
for name in ("admin.sock", "wasmd.sock"):
    s = socket.socket(socket.AF_UNIX)
    attempt(lambda: s.connect(os.path.join(run_dir, name)))
"""
