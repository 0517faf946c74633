"""Worker processes as the supervisor sees them: spawn, control channel, exit, RSS.

Thin shell: ``spawn_worker`` starts ``python -m workers`` with the shared listening socket
and a private socketpair end (``pass_fds``, spawn/exec, never fork of this process image);
the child's exit is noticed through a pidfd on the event loop, and its frames through the
socketpair. Everything is turned into policy events by the caller's callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from wasmd.kernel import control as ctl
from wasmd.kernel.errors import ProtocolError
from wasmd.supervisor.runtime_files import config_fd

OnMessage = Callable[[int, dict[str, Any]], None]
OnExit = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class SpawnSpec:
    """What a worker is started with."""

    wid: int
    slot: int
    generation: int
    config: Path | None  # the generation's snapshot (None: built-in default config)
    config_origin: Path | None
    native_fd: int | None
    shared_fd: int | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    quarantine: tuple[str, ...] = ()  # plugins the worker must not load (they fail at start)
    config_raw: bytes | None = None  # the generation's config, handed over in a sealed memfd
    services: bool = False  # the service host (supervisor/services.py), not a worker
    extproc_fd: int | None = None  # the slot's ext_proc listening socket (slot_sockets.py)


class WorkerProcess:
    """One spawned worker: its Popen, control channel and pidfd watcher. ``close`` is idempotent."""

    def __init__(self, spec: SpawnSpec, popen: subprocess.Popen[bytes], control: socket.socket):
        self.spec = spec
        self.popen = popen
        self.control = control
        self.pid = popen.pid
        self.returncode: int | None = None
        self.last_heartbeat: dict[str, Any] = {}
        self.ready: dict[str, Any] = {}
        self._proc: Any = None
        self._pidfd: int | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None

    async def watch(self, on_message: OnMessage, on_exit: OnExit) -> None:
        """Start delivering this worker's frames and its exit to the callbacks."""
        loop = asyncio.get_running_loop()
        reader, self._writer = await asyncio.open_unix_connection(sock=self.control)
        self._reader_task = asyncio.create_task(self._read(reader, on_message))
        self._pidfd = os.pidfd_open(self.pid)
        loop.add_reader(self._pidfd, self._reap, on_exit)

    async def _read(self, reader: asyncio.StreamReader, on_message: OnMessage) -> None:
        frames = ctl.FrameReader()
        try:
            while data := await reader.read(65536):
                for message in frames.feed(data):
                    on_message(self.spec.wid, message)
        except (ProtocolError, ConnectionError):
            self.kill()  # a worker that garbles its control channel is not trusted

    def _reap(self, on_exit: OnExit) -> None:
        code = self.popen.poll()
        if code is None:
            return
        self.returncode = code
        self._stop_watching()
        on_exit(self.spec.wid, code)

    def _stop_watching(self) -> None:
        if self._pidfd is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None

    def send(self, message: dict[str, Any]) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(ctl.encode(message))

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def rss_bytes(self) -> int:
        """Resident set size (psutil memory_info: ~30 us; USS would cost 30-300x more)."""
        if self._proc is None:
            self._proc = psutil.Process(self.pid)
        try:
            return int(self._proc.memory_info().rss)
        except psutil.Error:
            return 0

    def cpu_s(self) -> float:
        try:
            if self._proc is None:
                self._proc = psutil.Process(self.pid)
            t = self._proc.cpu_times()
            return float(t.user + t.system)
        except psutil.Error:
            return 0.0

    def close(self) -> None:
        self._stop_watching()
        if self._reader_task is not None:
            self._reader_task.cancel()
        if self._writer is not None:
            self._writer.close()
        self.control.close()


def worker_argv(spec: SpawnSpec, control_fd: int, config_fd: int | None = None) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "workers",
        "--slot",
        str(spec.slot),
        "--generation",
        str(spec.generation),
        "--control-fd",
        str(control_fd),
    ]
    if config_fd is not None:
        argv += ["--config-fd", str(config_fd)]
    elif spec.config is not None:
        argv += ["--config", str(spec.config)]
    if spec.config_origin is not None:
        argv += ["--config-origin", str(spec.config_origin)]
    if spec.native_fd is not None:
        argv += ["--native-fd", str(spec.native_fd)]
    if spec.shared_fd is not None:
        argv += ["--shared-fd", str(spec.shared_fd)]
    for name in spec.quarantine:
        argv += ["--quarantine", name]
    if spec.services:
        argv.append("--services")
    if spec.extproc_fd is not None:
        argv += ["--extproc-fd", str(spec.extproc_fd)]
    return argv


def spawn_worker(spec: SpawnSpec) -> WorkerProcess:
    """Start the worker; its stdout/stderr are the supervisor's (journald gets both)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    # The config travels as bytes in a sealed memfd: the worker never opens a path someone
    # could replace (docs/security.md).
    cfd = config_fd(spec.config_raw) if spec.config_raw is not None else None
    fds = [theirs.fileno()]
    fds += [fd for fd in (spec.native_fd, spec.shared_fd, spec.extproc_fd, cfd) if fd is not None]
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    env.update(spec.extra_env)
    try:
        popen = subprocess.Popen(
            worker_argv(spec, theirs.fileno(), cfd),
            pass_fds=fds,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    finally:
        theirs.close()
        if cfd is not None:
            os.close(cfd)
    return WorkerProcess(spec, popen, ours)
