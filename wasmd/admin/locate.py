"""Where the running daemon's admin socket is, when the config no longer says.

The supervisor records the admin socket it listens on in ``<runtime_dir>/admin-socket.path``.
``wasmd reload --config FILE`` after an edit of ``admin_socket`` (the systemd unit's
ExecReload) then still reaches the running daemon through the old socket, which answers
"restart required for daemon.admin_socket" instead of the CLI claiming it is not running.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

RECORD_NAME = "admin-socket.path"


def record(runtime_dir: Path, admin_socket: Path) -> Path:
    """Write the record (atomically: a CLI never reads half of it); return its path."""
    path = runtime_dir / RECORD_NAME
    tmp = path.with_name(f".{RECORD_NAME}.{os.getpid()}")
    tmp.write_text(f"{Path(admin_socket).absolute()}\n")
    os.replace(tmp, path)
    return path


def recorded(runtime_dir: Path) -> Path | None:
    """The admin socket a daemon recorded under ``runtime_dir``, or None."""
    with contextlib.suppress(OSError, UnicodeDecodeError):
        text = (runtime_dir / RECORD_NAME).read_text().strip()
        return Path(text) if text else None
    return None


def forget(runtime_dir: Path, admin_socket: Path) -> None:
    """Remove the record if it still names ``admin_socket`` (another daemon may own it)."""
    if recorded(runtime_dir) == Path(admin_socket).absolute():
        with contextlib.suppress(FileNotFoundError):
            (runtime_dir / RECORD_NAME).unlink()
