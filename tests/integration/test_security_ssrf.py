"""SSRF through callouts (issue 12 §1, docs/security.md "Callouts go only where the config
says"): a client-chosen ``:path`` must not move a callout off its configured upstream.

The bundled ``http_callout`` sample forwards the client's path to its ``auth`` upstream. A
path of ``@127.0.0.1:PORT/stolen`` once turned the configured host into userinfo and sent
the callout (and the proxy's view of the answer) to PORT. Each test listens on the would-be
target port with a real socket and checks that nothing connected to it, through
``wasmd try`` and through a real ``wasmd serve`` with the native client.
"""

from __future__ import annotations

import asyncio
import json
import select
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.callout_upstreams import AuthUpstream
from tests.helpers.daemon import DaemonFactory, PluginEntry, daemons, write_config
from tests.helpers.manifest import REPO_ROOT
from tests.helpers.procs import run
from wasmd.clients.native import Client
from workers.abi.types import WasmResult

pytestmark = pytest.mark.timeout(120)

HTTP_CALLOUT = REPO_ROOT / "plugins/c/build/http_callout.wasm"
BAD_ARGUMENT = str(int(WasmResult.BAD_ARGUMENT))


class Trap:
    """A real listener on 127.0.0.1 that must never see a connection."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])

    def connected(self) -> bool:
        """Whether a connection is queued (the kernel completes the handshake itself)."""
        readable, _, _ = select.select([self.sock], [], [], 0)
        return bool(readable)


@pytest.fixture
def trap() -> Iterator[Trap]:
    t = Trap()
    try:
        yield t
    finally:
        t.sock.close()


@pytest.fixture
def auth() -> Iterator[AuthUpstream]:
    with AuthUpstream() as upstream:
        yield upstream


def hostile_paths(port: int) -> list[str]:
    return [
        f"@127.0.0.1:{port}/stolen",
        f":{port}/stolen",
        f"\\\\127.0.0.1:{port}/stolen",
        f"/x#@127.0.0.1:{port}/",
    ]


def _try(auth: AuthUpstream, path: str) -> dict[str, object]:
    argv = [sys.executable, "-m", "wasmd", "try", str(HTTP_CALLOUT), "--json"]
    argv += [f"--upstream=auth={auth.url}", "-H", "x-callout: auth", f"--path={path}"]
    argv.append("--pause-timeout-ms=20000")  # the callout itself times out after 1 s
    done = run(argv, timeout_s=60, cwd=REPO_ROOT)
    assert done.returncode == 0, done.describe()
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("which", range(4))
def test_wasmd_try_refuses_a_path_that_leaves_the_upstream(
    trap: Trap, auth: AuthUpstream, which: int
) -> None:
    path = hostile_paths(trap.port)[which]
    result = _try(auth, path)
    headers = result["request"]["headers"]  # type: ignore[index]
    assert ["x-callout-result", BAD_ARGUMENT] in headers, result
    assert not trap.connected(), f"a callout for :path {path!r} reached the trap port"
    assert auth.requests() == [], "nothing is sent for a refused :path"


def test_wasmd_try_still_calls_out_for_a_normal_path(trap: Trap, auth: AuthUpstream) -> None:
    result = _try(auth, "/account?x=1")
    assert ["x-auth-body", "ok:/account?x=1"] in result["request"]["headers"]  # type: ignore[index]
    assert not trap.connected()


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[DaemonFactory]:
    with daemons(tmp_path) as start:
        yield start


async def _exchange(sock: Path, path: str) -> list[tuple[bytes, bytes]]:
    async with await Client.connect(sock) as client:
        result = await client.exchange(
            request_headers=[
                (b":method", b"GET"),
                (b":path", path.encode()),
                (b":authority", b"proxy"),
                (b"x-callout", b"auth"),
            ],
            response_headers=[(b":status", b"200")],
        )
    return list(result.request_headers)


def test_daemon_refuses_the_ssrf_path_and_the_target_sees_nothing(
    tmp_path: Path, daemon_factory: DaemonFactory, trap: Trap, auth: AuthUpstream
) -> None:
    plugin = PluginEntry("callout", HTTP_CALLOUT, settings={"upstreams": {"auth": auth.url}})
    daemon = daemon_factory(write_config(tmp_path, plugins=[plugin], workers=1))
    daemon.all_ready()
    for path in hostile_paths(trap.port):
        headers = asyncio.run(_exchange(daemon.socket, path))
        assert (b"x-callout-result", BAD_ARGUMENT.encode()) in headers, (path, headers)
        assert not trap.connected(), f"the daemon sent a callout for {path!r} to the trap"
    headers = asyncio.run(_exchange(daemon.socket, "/fine"))
    assert (b"x-auth-body", b"ok:/fine") in headers
    assert [p for _, p, _, _ in auth.requests()] == ["/fine"]
