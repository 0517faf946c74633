"""``python -m workers.spare``: a pre-started interpreter that becomes a worker on demand.

Why: a fresh worker spends most of its start importing (wasmtime, the Envoy protos, the
HTTP/2 layer: ~0.5 s of CPU, 1.5 s and more on a busy machine) before it loads a single
plugin, and while a slot's worker restarts, the streams Envoy opens wait in the slot's
listen backlog against Envoy's ``message_timeout``. The supervisor keeps one spare that
has done those imports already; when a slot needs a worker it hands the spare the worker's
arguments and listening sockets, and the spare runs ``workers.process.main`` at once.

Handoff (one frame on the control socketpair, read before anything else uses it): a 4-byte
big-endian length, then a JSON object ``{"args": [...], "fd_flags": [...], "env": {...}}``;
the fds ride on the same ``sendmsg`` (SCM_RIGHTS), one per entry of ``fd_flags``
(``--native-fd``, ...); ``env`` is what a fresh worker would get on top of the supervisor's
environment (read lazily by the worker, so setting it before ``main`` is enough).
The control socketpair then becomes the worker's ``--control-fd``. A spare whose
supervisor goes away, or that gets a malformed handoff, exits without serving.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import socket
import struct
import sys
from collections.abc import Sequence

# The imports a worker would otherwise do after it is needed (the point of a spare).
import workers.process as process

HEADER = struct.Struct(">I")
MAX_HANDOFF_BYTES = 1 << 16
MAX_FDS = 8
PR_SET_PDEATHSIG = 1


def _recv_exact(sock: socket.socket, n: int, fds: list[int]) -> bytes:
    data = b""
    while len(data) < n:
        chunk, got, _, _ = socket.recv_fds(sock, n - len(data), MAX_FDS)
        fds.extend(got)
        if not chunk:
            raise EOFError("the supervisor closed the control socket before the handoff")
        data += chunk
    return data


def receive_handoff(sock: socket.socket) -> list[str]:
    """Block until the handoff; set its environment; return the worker's argv (the fd
    flags point at the received fds)."""
    fds: list[int] = []
    (length,) = HEADER.unpack(_recv_exact(sock, HEADER.size, fds))
    if length > MAX_HANDOFF_BYTES:
        raise ValueError(f"handoff of {length} bytes is over {MAX_HANDOFF_BYTES}")
    doc = json.loads(_recv_exact(sock, length, fds))
    args, flags = [str(a) for a in doc["args"]], [str(f) for f in doc["fd_flags"]]
    if len(flags) != len(fds):
        raise ValueError(f"handoff names {len(flags)} fds but carried {len(fds)}")
    os.environ.update({str(k): str(v) for k, v in doc.get("env", {}).items()})
    for flag, fd in zip(flags, fds, strict=True):
        os.set_inheritable(fd, False)
        args += [flag, str(fd)]
    return args


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m workers.spare")
    p.add_argument("--control-fd", type=int, required=True)
    control_fd = p.parse_args(list(argv)).control_fd
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the supervisor died before prctl took effect
        return process.EXIT_OK
    from wasmd.kernel import logs

    logs.configure("info", stream=sys.stdout, process={"process": "spare", "pid": os.getpid()})
    logs.get_logger(component="spare").info("spare_ready")  # imports done: a handoff is fast
    sock = socket.socket(fileno=control_fd)
    try:
        args = receive_handoff(sock)
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        print(f"wasmd spare worker: no handoff ({exc}); exiting", file=sys.stderr)
        return process.EXIT_OK
    sock.detach()  # the worker opens the same fd as its control socket
    return process.main([*args, "--control-fd", str(control_fd)])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
