"""Real nginx and HAProxy in front of a real wasmd, for the e2e tests of the Lua clients.

Each proxy runs from its own directory under the test's tmp dir (its config, pid file and
temp files there, its log the spawn log), on a port of its own, with the configuration
``wasmd nginx-config`` / ``wasmd haproxy-config`` prints: the tests run what users run.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgpack
import pytest

from tests.e2e.test_daemon_envoy import Reply, exchange
from tests.helpers.procs import Spawned, free_port, run, spawn, wait_for
from tests.helpers.tools import require_tool
from tests.helpers.upstream import Upstream
from wasmd.admin.client import AdminClient
from wasmd.admin.model import ReloadOutcome
from wasmd.kernel import native_protocol as p

READY_TIMEOUT_S = 20.0
LOAD_THREADS = 4


@dataclass(frozen=True, slots=True)
class Front:
    """A running proxy listening on 127.0.0.1:``port``."""

    proc: Spawned
    port: int
    config: Path


def generated(kind: str, config: Path, listen_port: int, upstream_port: int, *args: str) -> str:
    """``wasmd <kind>-config`` output for this daemon config."""
    argv = [sys.executable, "-m", "wasmd", f"{kind}-config", "--config", str(config)]
    argv += ["--listen", f"127.0.0.1:{listen_port}", "--upstream", f"127.0.0.1:{upstream_port}"]
    done = run([*argv, *args], timeout_s=30)
    assert done.returncode == 0, done.describe()
    return done.stdout


def _accepting(port: int, proc: Spawned) -> bool:
    assert not proc.exited(), proc.describe()
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def nginx_front(
    workdir: Path, name: str, config: Path, upstream_port: int, args: Sequence[str] = ()
) -> Iterator[Front]:
    """nginx with ``wasmd nginx-config`` for ``config`` (plus ``args``), ready to serve."""
    binary = require_tool("nginx")
    prefix = workdir / name
    prefix.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(generated("nginx", config, port, upstream_port, *args))
    # As root nginx's workers would switch to nobody, who may not reach the test's socket.
    directives = "daemon off; master_process on;" + (" user root;" if os.geteuid() == 0 else "")
    argv = [binary, "-p", str(prefix), "-c", str(conf), "-g", directives]
    with spawn(argv, log_path=prefix / "nginx.log", cwd=prefix) as proc:
        wait_for(lambda: _accepting(port, proc), READY_TIMEOUT_S, what=f"nginx {name} listening")
        yield Front(proc, port, conf)


@contextlib.contextmanager
def haproxy_front(
    workdir: Path, name: str, config: Path, upstream_port: int, args: Sequence[str] = ()
) -> Iterator[Front]:
    """HAProxy with ``wasmd haproxy-config`` for ``config`` (plus ``args``), ready to serve."""
    binary = require_tool("haproxy")
    home = workdir / name
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = home / "haproxy.cfg"
    conf.write_text(generated("haproxy", config, port, upstream_port, *args))
    argv = [binary, "-db", "-f", str(conf)]  # -db: foreground, log to stderr
    with spawn(argv, log_path=home / "haproxy.log", cwd=home) as proc:
        wait_for(lambda: _accepting(port, proc), READY_TIMEOUT_S, what=f"haproxy {name} listening")
        yield Front(proc, port, conf)


def config_elsewhere(config: Path, name: str) -> tuple[Path, Path]:
    """A copy of the daemon ``config`` whose runtime dir (so its native socket) is another,
    where no daemon runs: (the new config, its runtime dir)."""
    work = config.parent
    runtime = work / name
    runtime.mkdir(exist_ok=True)
    path = work / f"{name}.toml"
    path.write_text(config.read_text().replace(str(work / "run"), str(runtime)))
    return path, runtime


_PHASES = (
    p.RequestHeaders,
    p.RequestBody,
    p.RequestTrailers,
    p.ResponseHeaders,
    p.ResponseBody,
    p.ResponseTrailers,
)


class FakeWasmd:
    """A scripted wasmd on a Unix socket, for failures the real daemon does not produce.

    ``hello`` is the server's HELLO payload (msgpack-able; default: version 1); every phase
    is answered with ``reply(stream_id)`` (default: a plain CONTINUE).
    """

    def __init__(
        self,
        path: Path,
        hello: object = (1, (1,), 1 << 20),
        reply: Callable[[int], p.Reply] | None = None,
    ) -> None:
        self.hello = msgpack.packb(list(hello))  # type: ignore[call-overload]
        self.reply = reply or (lambda sid: p.Continue(sid))
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(str(path))
        self.server.listen()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.server.accept()
                threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        proto = p.Connection(p.Role.SERVER)
        with conn, contextlib.suppress(OSError, p.ProtocolError):
            while data := conn.recv(65536):
                for msg in proto.receive_data(data):
                    if isinstance(msg, p.Hello):
                        conn.sendall(struct.pack(">I", len(self.hello)) + self.hello)
                        proto.send(p.Hello((1,), 1 << 20))
                    elif isinstance(msg, _PHASES):
                        conn.sendall(proto.send(self.reply(msg.stream_id)))

    def close(self) -> None:
        self.server.close()


def broken_wasmd(path: Path) -> FakeWasmd:
    """Answers HELLO with a version nobody speaks: a protocol failure."""
    return FakeWasmd(path, hello=(1, (9,), 1 << 20))


def run_load(port: int, total: int) -> list[Reply | BaseException]:
    results: list[Reply | BaseException] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            try:
                reply: Reply | BaseException = exchange(port, f"/load/{n}")
            except Exception as exc:
                reply = exc
            with lock:
                results.append(reply)

    threads = [threading.Thread(target=worker) for _ in range(LOAD_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def load_around(
    port: int, total: int, upstream: Upstream, action: Callable[[], None]
) -> list[Reply | BaseException]:
    """``total`` requests from LOAD_THREADS clients, with ``action`` run once the upstream
    has seen some of them; every request's outcome."""
    start = upstream.request_count()
    done: list[list[Reply | BaseException]] = []
    loader = threading.Thread(target=lambda: done.append(run_load(port, total)))
    loader.start()
    try:
        wait_for(lambda: upstream.request_count() > start + 10, 30, what="load started")
        action()
    finally:
        loader.join(120)
    assert done, "the load did not finish"
    return done[0]


def failed(results: list[Reply | BaseException]) -> list[Reply | BaseException]:
    return [r for r in results if not isinstance(r, Reply) or r.status != 200]


RELOAD_TIMEOUT_S = 120.0  # a rollout on a loaded 2-core box: compile, canary, every slot


def reload_with(config: Path, admin_socket: Path, old: str, new: str) -> None:
    """Rewrite ``old`` to ``new`` in the daemon's config and roll it out (wait for it)."""
    config.write_text(config.read_text().replace(old, new))
    with contextlib.closing(AdminClient(admin_socket, timeout_s=RELOAD_TIMEOUT_S)) as admin:
        result = admin.reload(wait=True)
    assert result.outcome is ReloadOutcome.SUCCEEDED, result


def shared_cache(factory: pytest.TempPathFactory) -> Path:
    """One compile cache for the daemons of a session's Lua-proxy tests: each daemon then
    compiles only what no earlier one did (the corpus daemons load the same 21 modules)."""
    return factory.getbasetemp() / "wasmd-cache"
