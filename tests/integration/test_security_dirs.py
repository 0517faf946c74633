"""Directories and files only the daemon can write (issue 12 §2, docs/security.md).

Each test sets up what a local attacker could (another user's ownership, a writable
mode, a second ``wasmd serve``, a replaced snapshot, a substituted compile-cache entry)
and runs the real ``wasmd serve``. Ownership tests need root to ``chown`` to ``nobody``
(CI runs as root); the mode tests run as anyone.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import pwd
import shutil
import signal
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.daemon import (
    ADD_HEADER,
    PLUGINS,
    DaemonFactory,
    PluginEntry,
    daemons,
    write_config,
)
from tests.helpers.manifest import REPO_ROOT
from tests.helpers.procs import Completed, run, wait_for
from wasmd.admin.client import AdminClient
from wasmd.clients.native import Client

pytestmark = pytest.mark.timeout(180)

EX_CONFIG = 78
TRAP = PLUGINS / "c" / "build" / "trap.wasm"
SERVE_TIMEOUT_S = 60.0


def nobody() -> int:
    return pwd.getpwnam("nobody").pw_uid


needs_root = pytest.mark.skipif(
    os.geteuid() != 0 and os.environ.get("CI") != "true",
    reason="chown to nobody needs root: run the suite as root (CI does)",
)


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[DaemonFactory]:
    with daemons(tmp_path) as start:
        yield start


def serve_once(config: Path) -> Completed:
    """``wasmd serve`` that is expected to refuse and exit at once."""
    argv = [sys.executable, "-m", "wasmd", "serve", "--config", str(config)]
    return run(argv, timeout_s=SERVE_TIMEOUT_S, cwd=REPO_ROOT)


def assert_refused(done: Completed, path: Path, fix: str) -> None:
    assert done.returncode == EX_CONFIG, done.describe()
    assert str(path) in done.stderr and fix in done.stderr, done.describe()


# -- ownership and modes ----------------------------------------------------------------
@needs_root
@pytest.mark.parametrize("which", ["run", "run/generations", "cache"])
def test_refuses_a_directory_owned_by_another_user(tmp_path: Path, which: str) -> None:
    config = write_config(tmp_path, cache_dir=str(tmp_path / "cache"))
    target = tmp_path / which
    target.mkdir(parents=True, mode=0o700)
    os.chown(target, nobody(), -1)
    assert_refused(serve_once(config), target, "chown")
    assert not (tmp_path / "run" / "wasmd.sock").exists()
    assert not (tmp_path / "run" / "generations" / "1.toml").exists()


@pytest.mark.parametrize(("which", "mode"), [("run", 0o777), ("run/generations", 0o770),
                                             ("cache", 0o722)])  # fmt: skip
def test_refuses_a_directory_writable_by_group_or_others(
    tmp_path: Path, which: str, mode: int
) -> None:
    config = write_config(tmp_path, cache_dir=str(tmp_path / "cache"))
    target = tmp_path / which
    target.mkdir(parents=True, mode=0o700)
    os.chmod(target, mode)
    assert_refused(serve_once(config), target, "chmod go-w")
    assert not (tmp_path / "run" / "generations" / "1.toml").exists()


def test_refuses_a_world_writable_parent_without_the_sticky_bit(tmp_path: Path) -> None:
    """``nobody`` could rename runtime_dir away and put their own in its place."""
    parent = tmp_path / "shared"
    parent.mkdir()
    os.chmod(parent, 0o777)
    config = write_config(tmp_path, runtime_dir=str(parent / "run"))
    assert_refused(serve_once(config), parent, "chmod go-w")


# -- the lock and the snapshots ---------------------------------------------------------
def test_a_second_serve_is_refused_before_it_writes_anything(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    daemon = daemon_factory(write_config(tmp_path, workers=1, configuration="first"))
    daemon.all_ready()
    snapshot = daemon.runtime_dir / "generations" / "1.toml"
    before = snapshot.read_bytes()
    ino = snapshot.stat().st_ino
    other = tmp_path / "other"
    other.mkdir()
    second = write_config(
        other, workers=1, configuration="second", runtime_dir=str(daemon.runtime_dir)
    )
    done = serve_once(second)
    assert done.returncode != 0 and "another wasmd" in done.stderr, done.describe()
    assert snapshot.read_bytes() == before and snapshot.stat().st_ino == ino
    assert b"first" in before


def test_snapshots_are_private_pruned_and_removed_on_a_clean_stop(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    daemon = daemon_factory(write_config(tmp_path, workers=1, configuration="v1"))
    daemon.all_ready()
    generations = daemon.runtime_dir / "generations"
    assert stat.S_IMODE((generations / "1.toml").stat().st_mode) == 0o600
    for n in (2, 3):
        write_config(tmp_path, workers=1, configuration=f"v{n}")
        admin = AdminClient(daemon.admin_socket, timeout_s=SERVE_TIMEOUT_S)  # a canary + a spawn
        assert admin.reload(wait=True).outcome.value == "succeeded"
    wait_for(
        lambda: sorted(p.name for p in generations.iterdir()) == ["3.toml"],
        30.0,
        0.05,
        "generations/ pruned to the serving generation",
    )
    os.kill(daemon.proc.pid, signal.SIGTERM)
    wait_for(daemon.proc.exited, 30.0, 0.05, "the daemon stops")
    assert daemon.proc.returncode() == 0
    assert list(generations.iterdir()) == []


async def _request_header(sock: Path) -> dict[bytes, bytes]:
    async with await Client.connect(sock) as client:
        result = await client.exchange(
            request_headers=[(b":method", b"GET"), (b":path", b"/")],
            response_headers=[(b":status", b"200")],
        )
    return dict(result.request_headers)


def test_a_restarted_worker_does_not_read_a_replaced_snapshot(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    """The supervisor hands workers the config bytes (memfd), not the snapshot's path."""
    daemon = daemon_factory(write_config(tmp_path, workers=1, configuration="genuine"))
    first = daemon.all_ready().workers[0].pid
    snapshot = daemon.runtime_dir / "generations" / "1.toml"
    snapshot.write_bytes(snapshot.read_bytes().replace(b'"genuine"', b'"replaced"'))
    assert first is not None
    os.kill(first, signal.SIGKILL)
    daemon.wait_status(
        "a new worker ready",
        lambda s: s.workers[0].pid not in (None, first) and s.workers[0].state.value == "ready",
    )
    headers = asyncio.run(_request_header(daemon.socket))
    assert headers.get(b"x-as-req") == b"genuine", headers


# -- the compile cache ------------------------------------------------------------------
def test_a_substituted_cache_entry_never_runs(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    """trap.wasm's compiled entry copied under add_header.wasm's name: add_header still
    runs (the entry names the wrong module, so it is recompiled), trap code never does."""
    cache = tmp_path / "cache"
    sha = hashlib.sha256(ADD_HEADER.read_bytes()).hexdigest()
    plugins = [PluginEntry("trap", TRAP), PluginEntry("add-header", ADD_HEADER, "as_add_header",
                                                      "v1", {"sha256": sha})]  # fmt: skip
    warm = daemon_factory(write_config(tmp_path, plugins=plugins, workers=1, cache_dir=str(cache)))
    warm.all_ready()
    os.kill(warm.proc.pid, signal.SIGTERM)
    wait_for(warm.proc.exited, 30.0, 0.05, "the warm-up daemon stops")
    trap_sha = hashlib.sha256(TRAP.read_bytes()).hexdigest()
    (trap_entry,) = cache.glob(f"{trap_sha[:16]}-*.cwasm")
    (victim,) = cache.glob(f"{sha[:16]}-*.cwasm")
    shutil.copyfile(trap_entry, victim)
    only_add_header = [plugins[1]]
    daemon = daemon_factory(
        write_config(tmp_path, plugins=only_add_header, workers=1, cache_dir=str(cache))
    )
    daemon.all_ready()
    headers = asyncio.run(_request_header(daemon.socket))
    assert headers.get(b"x-as-req") == b"v1", headers
    assert b"x-trap-plugin" not in headers, "trap code ran under add_header's name"
