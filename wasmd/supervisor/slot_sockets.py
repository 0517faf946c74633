"""Each slot's ext_proc listening socket, held by the supervisor for the daemon's lifetime.

Why: a worker that dies (``kill -9``, OOM, a crash in native code) must cost only the
streams it had in flight. If the worker owned its slot's socket, the path would refuse
connections (ECONNREFUSED) from the moment it died until its successor bound a new one, and
every stream Envoy opened in that gap would fail. The supervisor binds
``extproc-<slot>.sock`` once and passes the listening fd to every worker of that slot
(``pass_fds``, as for the native socket, gunicorn's arbiter style); a connection Envoy opens
while no worker accepts waits in the kernel's listen backlog until the successor accepts it.

Contract:
- ``open`` binds every slot's socket on a private path, gives it its mode, listens, and
  renames it onto the public path (the public path never exists with the wrong mode).
- ``fileno(slot)`` is the fd to pass to that slot's workers; several workers of one slot
  (the old one draining during a reload, the new one serving) accept from the same queue.
- ``close`` closes the fds and unlinks only the paths that are still ours (same inode).
- A worker that drains closes only its own copy of the fd. The socket's own name is the
  private path it was bound on (renamed since), so an event loop that unlinks a Unix
  server's path on close (CPython >= 3.13 ``cleanup_socket``) finds nothing to unlink.
- Only wasmd's own HTTP/2 transport can serve an inherited socket; with
  ``extproc_transport = "grpcio"`` nothing is held here (grpcio binds its own path, so the
  gap between a worker's death and its successor's bind remains there).
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

from wasmd.kernel.config import DaemonSettings

LISTEN_BACKLOG = 1024  # streams Envoy opens while the slot's worker restarts wait here


def bind_listening(path: Path, mode: int, backlog: int = LISTEN_BACKLOG) -> socket.socket:
    """A listening Unix socket on ``path`` (replacing any file there), mode ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(tmp))
        os.chmod(tmp, mode)
        sock.listen(backlog)
        os.rename(tmp, path)
    except OSError:
        sock.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return sock


class SlotSockets:
    """The slots' ext_proc listening sockets (empty when the transport cannot adopt one)."""

    def __init__(self) -> None:
        self._socks: dict[int, tuple[socket.socket, Path, tuple[int, int]]] = {}

    @staticmethod
    def adoptable(settings: DaemonSettings) -> bool:
        """Whether workers serve an inherited socket (wasmd's HTTP/2 layer, not grpcio)."""
        return settings.extproc_transport != "grpcio"

    def open(self, settings: DaemonSettings) -> None:
        if not self.adoptable(settings):
            return
        for slot in range(settings.workers):
            path = settings.extproc_socket(slot)
            sock = bind_listening(path, settings.native_socket_mode)
            st = os.stat(path)
            self._socks[slot] = (sock, path, (st.st_dev, st.st_ino))

    def fileno(self, slot: int) -> int | None:
        """The listening fd slot ``slot``'s workers inherit (None: they bind their own)."""
        held = self._socks.get(slot)
        return held[0].fileno() if held is not None else None

    def close(self) -> None:
        for sock, path, ino in self._socks.values():
            sock.close()
            with contextlib.suppress(FileNotFoundError):
                st = os.stat(path)
                if (st.st_dev, st.st_ino) == ino:
                    path.unlink()
        self._socks.clear()
