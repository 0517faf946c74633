"""Real nginx and HAProxy in front of a real wasmd, for the e2e tests of the Lua clients.

Each proxy runs from its own directory under the test's tmp dir (its config, pid file and
temp files there, its log the spawn log), on a port of its own, with the configuration
``wasmd nginx-config`` / ``wasmd haproxy-config`` prints: the tests run what users run.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.procs import Spawned, free_port, run, spawn, wait_for
from tests.helpers.proxy_tools import require_tool

READY_TIMEOUT_S = 20.0


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
