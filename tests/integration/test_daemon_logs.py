"""Logs of a real daemon: one JSON object per line, from the supervisor and every worker.

Regression (issue 13): worker warnings from the HTTP/2 layer came out as key=value text when
the worker's stderr was a terminal and the supervisor's stdout was not, and lines of
different processes sharing one file ran together as ``}{`` (``print`` writes the text and
the newline separately). The daemon here runs two workers whose plugin logs as fast as the
host lets it, while a client makes a worker's HTTP/2 layer log a warning; every line the
processes wrote into their shared log file must parse on its own.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.daemon import (
    PLUGINS,
    DaemonFactory,
    Load,
    PluginEntry,
    daemons,
    write_config,
)
from tests.helpers.procs import wait_for

pytestmark = pytest.mark.timeout(180)

LOGFLOOD = PLUGINS / "c" / "build" / "logflood.wasm"
FLOOD_EXCHANGES = 6  # each logs until its CPU budget ends it (up to 1000 lines a second)


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[DaemonFactory]:
    with daemons(tmp_path) as start:
        yield start


def flood_request(task: int, seq: int) -> dict[str, object]:
    return {
        "request_headers": [(b":method", b"GET"), (b":path", b"/"), (b"x-hostile", b"logs")],
        "response_headers": [(b":status", b"200")],
    }


def garble_extproc(path: Path) -> None:
    """Not an HTTP/2 preface: the worker's HTTP/2 layer closes the connection with a warning."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10.0)
        sock.connect(str(path))
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + b"\0" * 64)
        while sock.recv(4096):
            pass


def parsed_lines(log: Path) -> list[dict[str, object]]:
    lines = log.read_bytes().decode("utf-8", "replace").splitlines()
    bad = [line for line in lines if not _is_json_object(line)]
    assert not bad, f"{len(bad)} of {len(lines)} lines are not one JSON object: {bad[:3]}"
    return [json.loads(line) for line in lines]


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def test_every_process_logs_one_json_object_per_line(
    daemon_factory: DaemonFactory, tmp_path: Path
) -> None:
    # The default 100 ms CPU budget cuts each flood short (the exchange fails closed): enough
    # lines from both workers at once, without starving a worker's heartbeat.
    plugin = PluginEntry("flood", LOGFLOOD)
    daemon = daemon_factory(write_config(tmp_path, plugins=[plugin]))
    daemon.all_ready()
    with Load(daemon.socket, tasks=2, request=flood_request) as load:
        for slot in (0, 1):
            garble_extproc(daemon.runtime_dir / f"extproc-{slot}.sock")
        load.wait_served(FLOOD_EXCHANGES, timeout_s=120.0)
    log = daemon.proc.log_path
    wait_for(
        lambda: b"closing an HTTP/2 connection" in log.read_bytes(),
        30.0,
        what="the HTTP/2 layer's warning in the log",
    )
    daemon.proc.popen.terminate()
    daemon.proc.popen.wait(timeout=60)
    records = parsed_lines(log)
    processes = {(r.get("process"), r.get("slot")) for r in records}
    assert ("supervisor", None) in processes, processes
    assert {("worker", 0), ("worker", 1)} <= processes, processes
    assert any("logflood" in str(r.get("event")) for r in records)
    assert any(r.get("event") == "closing an HTTP/2 connection" for r in records)
