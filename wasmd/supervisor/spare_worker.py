"""One pre-started worker interpreter, so a slot whose worker died is served again sooner.

A worker that dies costs the streams it had in flight; the streams Envoy opens afterwards
wait in the slot's listen backlog (``slot_sockets.py``) until a successor accepts, against
Envoy's ``message_timeout``. Most of a fresh worker's start is Python importing its code
(measured in docs/BENCHMARKS.md), so the supervisor keeps one spare interpreter
(``python -m workers.spare``) that has done the imports and waits, not serving, for a
handoff: the worker's arguments and listening fds over its control socketpair (SCM_RIGHTS;
protocol in ``workers/spare.py``). ``spawn`` uses the spare when there is a live one and
starts the next spare at once; otherwise it spawns a fresh worker as before. A spare has
no plugin loaded (plugins belong to a generation), so it fits any slot and generation.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
from dataclasses import replace

from wasmd.supervisor.children import SpawnSpec, WorkerProcess, spawn_worker, worker_argv
from wasmd.supervisor.runtime_files import config_fd

HEADER = struct.Struct(">I")
SPARE_MODULE = "workers.spare"


def handoff_frame(spec: SpawnSpec) -> tuple[bytes, list[int]]:
    """The bytes and fds that turn a spare into the worker ``spec`` describes."""
    # The config goes as a sealed memfd too (as spawn_worker sends it): never as a path.
    cfd = config_fd(spec.config_raw) if spec.config_raw is not None else None
    flagged = [
        (flag, fd)
        for flag, fd in (
            ("--native-fd", spec.native_fd),
            ("--shared-fd", spec.shared_fd),
            ("--extproc-fd", spec.extproc_fd),
            ("--config-fd", cfd),
        )
        if fd is not None
    ]
    bare = replace(spec, native_fd=None, shared_fd=None, extproc_fd=None)
    if cfd is not None:
        bare = replace(bare, config=None, config_raw=None)
    argv = worker_argv(bare, -1)[3:]  # without "python -m workers"
    at = argv.index("--control-fd")
    args = argv[:at] + argv[at + 2 :]  # the spare adds its own control fd
    doc = {"args": args, "fd_flags": [f for f, _ in flagged], "env": spec.extra_env}
    body = json.dumps(doc).encode()
    return HEADER.pack(len(body)) + body, [fd for _, fd in flagged]


class SpareWorker:
    """At most one spare interpreter; ``close`` kills it (idempotent)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._spare: tuple[subprocess.Popen[bytes], socket.socket] | None = None

    def start(self) -> None:
        """Start a spare if there is none (cheap for the supervisor: one fork+exec)."""
        if not self.enabled or self._spare is not None:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        argv = [sys.executable, "-m", SPARE_MODULE, "--control-fd", str(theirs.fileno())]
        try:
            popen = subprocess.Popen(
                argv, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env=env
            )
        except OSError:
            ours.close()
            return  # no spare: workers start fresh, as without one
        finally:
            theirs.close()
        self._spare = (popen, ours)

    def spawn(self, spec: SpawnSpec) -> WorkerProcess:
        """The worker ``spec`` describes: the spare if one is alive, else a fresh process."""
        proc = self._take(spec)
        if proc is None:
            proc = spawn_worker(spec)
        self.start()
        return proc

    def _take(self, spec: SpawnSpec) -> WorkerProcess | None:
        spare, self._spare = self._spare, None
        if spare is None:
            return None
        popen, control = spare
        frame, fds = handoff_frame(spec)
        try:
            if popen.poll() is not None:
                raise OSError("spare exited")
            control.setblocking(True)
            socket.send_fds(control, [frame], fds)  # small: fits the socket buffer at once
        except OSError:
            self._discard(popen, control)
            return None
        finally:
            for fd in fds:  # the config memfd made for this handoff; the sockets stay ours
                if fd not in (spec.native_fd, spec.shared_fd, spec.extproc_fd):
                    os.close(fd)
        return WorkerProcess(spec, popen, control)

    @staticmethod
    def _discard(popen: subprocess.Popen[bytes], control: socket.socket) -> None:
        control.close()
        with contextlib.suppress(ProcessLookupError):
            popen.send_signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=5)

    def close(self) -> None:
        spare, self._spare = self._spare, None
        if spare is not None:
            self._discard(*spare)
