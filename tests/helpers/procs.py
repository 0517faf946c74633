"""Process utilities for tests that spawn real processes (Envoy, wasmd, workers).

Rules these helpers enforce, because leaked or hung children are the usual way an
e2e suite rots:
- every child runs in its own process group, so killing it also kills what it forked;
- every child is killed and reaped when the owning ``with`` block exits, even on error;
- every wait is on a condition with a deadline, never a fixed sleep;
- a failure message carries the tail of the child's log, so CI output is enough to debug.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# SIGTERM first so the child can flush its log; Envoy and Python exit well within this.
TERM_GRACE_S = 3.0
# Lines of a child's log quoted in failure messages: enough for a stack trace, short enough to read.
LOG_TAIL_LINES = 40


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free a moment ago on ``host``.

    Racy by nature (someone may bind it before you do); prefer binding port 0 yourself
    when the server supports reporting its port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(
    condition: Callable[[], object],
    timeout_s: float,
    interval_s: float = 0.02,
    what: str = "condition",
    diagnostics: Callable[[], str] | None = None,
) -> object:
    """Poll ``condition`` until it returns a truthy value, and return that value.

    Raises TimeoutError naming ``what`` (plus ``diagnostics()`` if given) when
    ``timeout_s`` passes first. Exceptions raised by ``condition`` propagate.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            extra = f"\n{diagnostics()}" if diagnostics is not None else ""
            raise TimeoutError(f"timed out after {timeout_s:.1f}s waiting for {what}{extra}")
        time.sleep(interval_s)


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """Last ``lines`` lines of a text file, or a note saying it is missing."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True, slots=True)
class Spawned:
    """A running child started by :func:`spawn`."""

    popen: subprocess.Popen[bytes]
    argv: tuple[str, ...]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def exited(self) -> bool:
        return self.popen.poll() is not None

    def returncode(self) -> int | None:
        return self.popen.poll()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return tail(self.log_path, lines)

    def describe(self) -> str:
        """A block for failure messages: command, exit status and the log tail."""
        status = "running" if self.returncode() is None else f"exit code {self.returncode()}"
        return (
            f"process {self.argv[0]} (pid {self.pid}, {status})\n"
            f"command: {shlex.join(self.argv)}\n"
            f"--- last lines of {self.log_path} ---\n{self.log_tail()}"
        )


def kill_group(popen: subprocess.Popen[bytes], grace_s: float = TERM_GRACE_S) -> None:
    """SIGTERM the child's process group, SIGKILL it after ``grace_s``, and reap the child."""
    _signal_group(popen.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        popen.wait(timeout=grace_s)
    # Also SIGKILL after a clean exit: grandchildren in the group may have ignored SIGTERM.
    _signal_group(popen.pid, signal.SIGKILL)
    popen.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@contextlib.contextmanager
def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    log_path: Path | None = None,
    grace_s: float = TERM_GRACE_S,
) -> Iterator[Spawned]:
    """Start ``argv`` in a new process group with stdout+stderr going to ``log_path``.

    On leaving the block the whole group is terminated and the child reaped. An
    exception escaping the block gets the child's log tail attached as a note.
    ``env`` replaces the environment entirely when given.
    """
    path = log_path if log_path is not None else _temp_log_path(argv[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as log:
        popen = subprocess.Popen(
            list(argv),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    child = Spawned(popen=popen, argv=tuple(argv), log_path=path)
    try:
        yield child
    except BaseException as exc:
        exc.add_note(child.describe())
        raise
    finally:
        kill_group(popen, grace_s)


def _temp_log_path(program: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=f"{Path(program).name}-", suffix=".log")
    os.close(fd)
    return Path(name)


@dataclass(frozen=True, slots=True)
class Completed:
    """Result of :func:`run`."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return (
            f"command: {shlex.join(self.argv)}\nexit code: {self.returncode}\n"
            f"--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}"
        )


def run(
    argv: Sequence[str],
    *,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
) -> Completed:
    """Run ``argv`` to completion in its own process group, killing the group on timeout.

    Raises TimeoutError (with whatever output was captured) when ``timeout_s`` passes.
    """
    popen = subprocess.Popen(
        list(argv),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = popen.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        kill_group(popen, grace_s=0.5)
        out, err = popen.communicate()
        partial = Completed(tuple(argv), -1, _text(out), _text(err))
        raise TimeoutError(f"timed out after {timeout_s:.1f}s\n{partial.describe()}") from None
    finally:
        if popen.poll() is None:
            kill_group(popen, grace_s=0.5)
    return Completed(tuple(argv), popen.returncode, _text(out), _text(err))


def _text(data: bytes | None) -> str:
    return (data or b"").decode(errors="replace")
