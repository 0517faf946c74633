"""The daemon with modules from a real registry and a real HTTPS server.

`wasmd serve` on configs whose modules are ``oci://`` and ``https://`` references: the
supervisor fetches before each generation; a failed fetch or a wrong digest refuses the
reload and the running generation keeps serving; a daemon starting while the registry is
down serves from the store when the pinned module is there.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.daemon import (
    ADD_HEADER,
    Daemon,
    DaemonFactory,
    PluginEntry,
    daemons,
    render_config,
    simple_request,
)
from tests.helpers.procs import wait_for
from tests.helpers.registry import (
    Registry,
    push_image,
    registry,
    with_custom_section,
)
from tests.helpers.registry_servers import Served, TlsServer, make_ca
from wasmd.admin.model import ReloadOutcome
from wasmd.clients.native import Client

pytestmark = pytest.mark.timeout(180)
MODULE = ADD_HEADER.read_bytes()
SHA = hashlib.sha256(MODULE).hexdigest()
V2 = with_custom_section(MODULE, b"v2")
SHA2 = hashlib.sha256(V2).hexdigest()


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[DaemonFactory]:
    with daemons(tmp_path) as start:
        yield start


@pytest.fixture
def reg(tmp_path: Path) -> Iterator[Registry]:
    with registry(tmp_path) as r:
        yield r


def write(tmp_path: Path, module: str, registry_toml: str = "", **plugin: object) -> Path:
    """A one-worker config whose add-header plugin comes from ``module`` (a reference)."""
    entry = PluginEntry("add-header", module, "as_add_header", "v1", plugin)  # type: ignore[arg-type]
    text = render_config(
        [entry],
        None,
        workers=1,
        runtime_dir=str(tmp_path / "run"),
        cache_dir=str(tmp_path / "cache"),
    )
    path = tmp_path / "wasmd.toml"
    path.write_text(text + (f"[registry]\n{registry_toml}\n" if registry_toml else ""))
    return path


def served(daemon: Daemon) -> bool:
    """One exchange through the daemon got the plugin's request header."""

    async def once() -> bool:
        client = Client(daemon.socket, max_frame_bytes=1 << 20, retries=3)
        try:
            result = await client.exchange(**simple_request(0, 0))
        finally:
            await client.close()
        return (b"x-as-req", b"v1") in result.request_headers

    return asyncio.run(asyncio.wait_for(once(), 30))


def module_sha(daemon: Daemon) -> str:
    return daemon.status().plugins[0].module_sha256


def test_pinned_image_serves_and_restarts_from_the_store_with_the_registry_down(
    tmp_path: Path, reg: Registry, daemon_factory: DaemonFactory
) -> None:
    digest = push_image(reg, "plugins/add-header", "v1", MODULE)
    config = write(tmp_path, f"oci://{reg.host}/plugins/add-header@sha256:{digest}")
    first = daemon_factory(config)
    first.all_ready()
    assert served(first) and module_sha(first) == SHA
    first.proc.popen.terminate()
    assert first.proc.popen.wait(timeout=30) == 0
    reg.stop()
    second = daemon_factory(config)
    second.all_ready()
    assert served(second) and module_sha(second) == SHA


def test_daemon_refuses_to_start_when_nothing_can_be_fetched(
    tmp_path: Path, reg: Registry, daemon_factory: DaemonFactory
) -> None:
    reg.stop()
    daemon = daemon_factory(write(tmp_path, f"oci://{reg.host}/plugins/add-header:v1"))
    wait_for(daemon.proc.exited, 60, what="the supervisor exits")
    assert daemon.proc.returncode() == 1
    assert "cannot connect" in daemon.proc.log_tail()


def test_tag_moved_between_reloads_and_registry_down_at_reload(
    tmp_path: Path, reg: Registry, daemon_factory: DaemonFactory
) -> None:
    push_image(reg, "plugins/add-header", "stable", MODULE, "compat-docker")
    config = write(tmp_path, f"oci://{reg.host}/plugins/add-header:stable", pull_policy="always")
    daemon = daemon_factory(config)
    daemon.all_ready()
    assert module_sha(daemon) == SHA
    same = daemon.reload()  # the tag did not move: nothing to roll out
    assert same.outcome is ReloadOutcome.UNCHANGED, same.message
    push_image(reg, "plugins/add-header", "stable", V2, "wasm-layer")
    moved = daemon.reload()
    assert moved.outcome is ReloadOutcome.SUCCEEDED, moved.message
    daemon.all_ready()
    assert daemon.status().generation == 2 and module_sha(daemon) == SHA2
    assert served(daemon)
    reg.stop()
    down = daemon.reload()
    assert down.outcome is ReloadOutcome.FAILED
    assert "module fetch failed, keeping generation 2" in down.message
    assert "cannot connect" in down.message
    status = daemon.status()
    assert status.generation == 2 and "cannot connect" in status.rollout.last_error
    assert served(daemon) and module_sha(daemon) == SHA2


def test_wrong_digest_refuses_the_reload(
    tmp_path: Path, reg: Registry, daemon_factory: DaemonFactory
) -> None:
    digest = push_image(reg, "plugins/add-header", "v1", MODULE)
    ref = f"oci://{reg.host}/plugins/add-header:v1"
    daemon = daemon_factory(write(tmp_path, ref, sha256=digest))
    daemon.all_ready()
    push_image(reg, "plugins/add-header", "v1", V2)  # the tag moves away from the pin
    write(tmp_path, ref, sha256="ab" * 32)
    result = daemon.reload()
    assert result.outcome is ReloadOutcome.FAILED
    assert f"but the config pins sha256:{'ab' * 32}" in result.message
    assert daemon.status().generation == 1 and served(daemon) and module_sha(daemon) == SHA


def test_https_module_with_a_private_ca(tmp_path: Path, daemon_factory: DaemonFactory) -> None:
    ca = make_ca(tmp_path / "ca")
    with TlsServer(ca, {"/add_header.wasm": Served(MODULE), "/v2.wasm": Served(V2, 64)}) as web:
        trusted = f'ca_file = "{ca.ca}"'
        config = write(tmp_path, web.url("/add_header.wasm"), trusted, sha256=SHA)
        daemon = daemon_factory(config)
        daemon.all_ready()
        assert served(daemon) and module_sha(daemon) == SHA
        write(tmp_path, web.url("/v2.wasm"), trusted, sha256=SHA2)  # served truncated
        cut = daemon.reload()
        assert cut.outcome is ReloadOutcome.FAILED and "truncated" in cut.message
        write(tmp_path, web.url("/v2.wasm"), "", sha256=SHA2)  # no CA named
        untrusted = daemon.reload()
        assert untrusted.outcome is ReloadOutcome.FAILED and "TLS failed" in untrusted.message
        assert daemon.status().generation == 1 and served(daemon)
