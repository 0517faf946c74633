"""What the supervisor writes under ``runtime_dir``: the lock, the config snapshots.

Order at start (``prepare``): check ``runtime_dir``, ``runtime_dir/generations`` and
``cache_dir`` (``wasmd.kernel.private_dirs``), then take an exclusive ``flock`` on
``runtime_dir/wasmd.lock`` *before writing anything*: a second ``wasmd serve`` on the same
runtime_dir is refused without touching the running daemon's files. Then stale snapshots
of a daemon that died without cleaning up are removed (we hold the lock: nobody else uses
them).

Snapshots (``generations/N.toml``) are written 0600 with O_EXCL|O_NOFOLLOW, pruned to the
generations still in use and removed on a clean stop. They are for the operator to see
what each generation runs; workers never read them: they get the generation's bytes
through a sealed memfd the supervisor passes them (``config_fd``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from wasmd.kernel.config import DaemonSettings
from wasmd.kernel.errors import WasmdError
from wasmd.kernel.private_dirs import ensure_private_dir

LOCK_NAME = "wasmd.lock"
GENERATIONS = "generations"
SNAPSHOT_MODE = 0o600
_SEALS = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE


class RuntimeDirBusy(WasmdError):
    """Another wasmd holds the lock on this runtime_dir."""


@dataclass(slots=True)
class RuntimeFiles:
    """The held lock and the snapshot directory of one running supervisor."""

    runtime_dir: Path
    lock_fd: int

    @property
    def generations(self) -> Path:
        return self.runtime_dir / GENERATIONS

    def write_snapshot(self, number: int, raw: bytes) -> Path:
        """``generations/<number>.toml``: 0600, created exclusively (never overwritten)."""
        path = self.generations / f"{number}.toml"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(path, flags, SNAPSHOT_MODE)
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
        return path

    def prune(self, keep: Iterable[int]) -> None:
        """Remove the snapshots of every generation not in ``keep``."""
        wanted = {f"{n}.toml" for n in keep}
        for entry in _entries(self.generations):
            if entry.name not in wanted:
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()

    def close(self, *, clean: bool) -> None:
        """Release the lock; after a clean stop, remove every snapshot first."""
        if clean:
            self.prune(())
        if self.lock_fd >= 0:
            os.close(self.lock_fd)  # closing the last fd releases the flock
            self.lock_fd = -1


def _entries(directory: Path) -> list[Path]:
    try:
        return [p for p in directory.iterdir() if p.suffix == ".toml"]
    except FileNotFoundError:
        return []


def prepare(d: DaemonSettings) -> RuntimeFiles:
    """Check the directories, take the lock, clear stale snapshots (see the module doc).

    Raises ConfigError for an unsafe directory, RuntimeDirBusy if another daemon runs.
    """
    ensure_private_dir(d.runtime_dir, "runtime_dir")
    ensure_private_dir(d.cache_dir, "cache_dir")
    lock_path = d.runtime_dir / LOCK_NAME
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise RuntimeDirBusy(
            f"{d.runtime_dir}: another wasmd (pid {holder}) is running with this runtime_dir "
            f"(it holds {lock_path}); stop it or choose another runtime_dir"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    files = RuntimeFiles(d.runtime_dir, fd)
    try:
        ensure_private_dir(files.generations, "runtime_dir/generations")
    except BaseException:
        files.close(clean=False)
        raise
    files.prune(())  # a daemon that was killed left its snapshots; they are ours now
    return files


def config_fd(raw: bytes) -> int:
    """A sealed, read-only memfd holding ``raw`` (close-on-exec; pass it with pass_fds).

    The reader must use ``read_config_fd`` (pread from 0): the file offset is shared.
    """
    fd = os.memfd_create("wasmd-config", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view) :]
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, _SEALS)
    except BaseException:
        os.close(fd)
        raise
    return fd
