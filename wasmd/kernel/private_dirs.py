"""Directories only the daemon's user can write (sshd ``StrictModes`` style).

wasmd trusts what it finds in ``runtime_dir`` (its sockets, the config snapshots in
``generations/``) and in ``cache_dir`` (compiled machine code that wasmtime runs as is).
Anyone who can write one of them, or rename entries in one of their parents, can replace
what the daemon trusts. ``ensure_private_dir`` therefore refuses, with the path and the
fix, a directory that:

- is not a directory (a symlink is refused too: it could be re-pointed),
- is not owned by the daemon's effective user,
- is writable by group or others;

and any existing ancestor that is writable by group or others without the sticky bit
(``/tmp`` is fine: others cannot rename our entries in it), or owned by someone other
than root or the daemon's user. Missing directories are created 0700.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from wasmd.kernel.errors import ConfigError

PRIVATE_DIR_MODE = 0o700
_WRITABLE_BY_OTHERS = stat.S_IWGRP | stat.S_IWOTH


def _user(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (KeyError, ImportError):
        return str(uid)


def dir_problem(path: Path, st: os.stat_result, euid: int, what: str) -> str | None:
    """Why the directory ``path`` (``st`` from lstat) cannot be trusted; None if it can."""
    if stat.S_ISLNK(st.st_mode):
        return f"{path} ({what}) is a symlink; use the real directory's path"
    if not stat.S_ISDIR(st.st_mode):
        return f"{path} ({what}) is not a directory; remove it or choose another path"
    if st.st_uid != euid:
        return (
            f"{path} ({what}) is owned by {_user(st.st_uid)}, not by {_user(euid)} (the "
            f"daemon's user): run `chown {_user(euid)} {path}` or choose another path"
        )
    if st.st_mode & _WRITABLE_BY_OTHERS:
        return (
            f"{path} ({what}) is writable by group or others (mode "
            f"{stat.S_IMODE(st.st_mode):04o}): run `chmod go-w {path}`"
        )
    return None


def ancestor_problem(path: Path, st: os.stat_result, euid: int) -> str | None:
    """Why the ancestor ``path`` lets others replace what is below it; None if it does not."""
    if st.st_uid not in (0, euid):
        return (
            f"{path} (a parent of a wasmd directory) is owned by {_user(st.st_uid)}: "
            "they could replace wasmd's files; move runtime_dir/cache_dir elsewhere"
        )
    sticky = st.st_mode & stat.S_ISVTX
    if st.st_mode & _WRITABLE_BY_OTHERS and not sticky:
        return (
            f"{path} (a parent of a wasmd directory) is writable by group or others "
            f"(mode {stat.S_IMODE(st.st_mode):04o}): run `chmod go-w {path}` or move "
            "runtime_dir/cache_dir elsewhere"
        )
    return None


def ensure_private_dir(path: Path, what: str, *, euid: int | None = None) -> None:
    """Create ``path`` (0700) if missing, then check it and its ancestors.

    Raises ConfigError naming the path and the fix (``wasmd serve`` exits 78 on it).
    """
    euid = os.geteuid() if euid is None else euid
    path = Path(os.path.abspath(path))
    for parent in reversed(path.parents):
        try:
            st = os.stat(parent)  # a symlinked /var/run -> /run is fine: check the target
        except FileNotFoundError:
            break
        problem = ancestor_problem(parent, st, euid)
        if problem:
            raise ConfigError(problem)
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=PRIVATE_DIR_MODE, parents=True)
    problem = dir_problem(path, os.lstat(path), euid, what)
    if problem:
        raise ConfigError(problem)
