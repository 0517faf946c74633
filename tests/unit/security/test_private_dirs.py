"""wasmd/kernel/private_dirs.py: the StrictModes-style rules, on stat results."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from wasmd.kernel.errors import ConfigError
from wasmd.kernel.private_dirs import ancestor_problem, dir_problem, ensure_private_dir

ME = 1000


def st(mode: int, uid: int = ME) -> os.stat_result:
    return os.stat_result((mode, 0, 0, 1, uid, 0, 0, 0, 0, 0))


DIR = stat.S_IFDIR


def test_a_private_directory_passes() -> None:
    assert dir_problem(Path("/d"), st(DIR | 0o700), ME, "runtime_dir") is None
    assert dir_problem(Path("/d"), st(DIR | 0o755), ME, "runtime_dir") is None


@pytest.mark.parametrize(
    ("mode", "uid", "fix"),
    [
        (DIR | 0o700, 65534, "chown"),
        (DIR | 0o770, ME, "chmod go-w"),
        (DIR | 0o707, ME, "chmod go-w"),
        (stat.S_IFLNK | 0o777, ME, "symlink"),
        (stat.S_IFREG | 0o600, ME, "not a directory"),
    ],
)
def test_unsafe_directories_are_refused_with_the_fix(mode: int, uid: int, fix: str) -> None:
    problem = dir_problem(Path("/d"), st(mode, uid), ME, "runtime_dir")
    assert problem is not None and "/d" in problem and fix in problem


def test_ancestors() -> None:
    assert ancestor_problem(Path("/tmp"), st(DIR | stat.S_ISVTX | 0o777, 0), ME) is None
    assert ancestor_problem(Path("/"), st(DIR | 0o755, 0), ME) is None
    assert ancestor_problem(Path("/x"), st(DIR | 0o777, 0), ME) is not None
    assert ancestor_problem(Path("/x"), st(DIR | 0o755, 65534), ME) is not None


def test_ensure_creates_0700(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    ensure_private_dir(target, "cache_dir")
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    os.chmod(target, 0o777)
    with pytest.raises(ConfigError, match="chmod go-w"):
        ensure_private_dir(target, "cache_dir")
