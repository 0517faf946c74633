"""The spare worker's handoff frame: what the supervisor sends is what the spare runs."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from wasmd.supervisor.children import SpawnSpec, worker_argv
from wasmd.supervisor.spare_worker import HEADER, handoff_frame
from workers.spare import MAX_HANDOFF_BYTES, receive_handoff


def _spec(native_fd: int, shared_fd: int, extproc_fd: int) -> SpawnSpec:
    config, origin = Path("/run/g/3.toml"), Path("/etc/wasmd.toml")
    return SpawnSpec(
        7,
        1,
        3,
        config,
        origin,
        native_fd,
        shared_fd,
        extra_env={"WASMD_SPARE_TEST": "k"},
        quarantine=("bad",),
        extproc_fd=extproc_fd,
    )


def test_the_spare_gets_the_workers_argv_with_its_own_fd_numbers() -> None:
    ours, theirs = socket.socketpair()
    pipes = [os.pipe() for _ in range(3)]
    try:
        spec = _spec(native_fd=pipes[0][0], shared_fd=pipes[1][0], extproc_fd=pipes[2][0])
        frame, fds = handoff_frame(spec)
        socket.send_fds(ours, [frame], fds)
        args = receive_handoff(theirs)
        got = dict(zip(args[::2], args[1::2], strict=True))
        expected = worker_argv(spec, 99)[3:]
        for flag in ("--slot", "--generation", "--config", "--config-origin", "--quarantine"):
            assert got[flag] == expected[expected.index(flag) + 1]
        for flag, (read, write) in zip(
            ("--native-fd", "--shared-fd", "--extproc-fd"), pipes, strict=True
        ):
            received = int(got[flag])
            assert received != read  # a new fd in the receiver, to the same pipe
            os.write(write, b"x")
            assert os.read(received, 1) == b"x"
            os.close(received)
        assert "--control-fd" not in got  # the spare adds its own
        assert os.environ.pop("WASMD_SPARE_TEST") == "k"  # what a fresh worker's env had
    finally:
        ours.close()
        theirs.close()
        for read, write in pipes:
            os.close(read)
            os.close(write)


def test_a_handoff_over_the_size_limit_is_refused() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.sendall(HEADER.pack(MAX_HANDOFF_BYTES + 1))
        with pytest.raises(ValueError, match="over"):
            receive_handoff(theirs)


def test_a_closed_control_socket_is_no_handoff() -> None:
    ours, theirs = socket.socketpair()
    ours.close()
    with theirs, pytest.raises(EOFError):
        receive_handoff(theirs)
