"""``[[services]]`` in a real daemon: one service host for the daemon, seen by every worker.

`wasmd serve` with 2 workers runs the HTTP plugin ``plugins/c/service_reader.c`` and the
service ``plugins/c/service_ticker.c`` (both in vm_id "svc"). The service, on every 50 ms
tick, increments shared data ``svc.counter`` (with CAS: a second writer would be counted
in ``svc.cas_mismatches``) and enqueues ``tick <n> <writer>``; the reader answers each
request with a local reply naming the counter, the writer, the tag and one dequeued
message. Requests reach a chosen worker through its slot's ext_proc socket, so "both
workers see it" is deterministic.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from envoy.config.core.v3 import base_pb2 as core
from envoy.service.ext_proc.v3 import external_processor_pb2 as ep
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as ep_grpc

from tests.helpers.daemon import FAST_SETTINGS, PLUGINS, Daemon, _toml
from tests.helpers.procs import spawn, wait_for
from wasmd.admin.model import DaemonStatus, ReloadOutcome, ServiceState, ServiceStatus

READER = PLUGINS / "c" / "build" / "service_reader.wasm"
TICKER = PLUGINS / "c" / "build" / "service_ticker.wasm"
RPC_TIMEOUT_S = 10.0
WAIT_S = 60.0  # spawn + compile on a loaded 2-core box

pytestmark = pytest.mark.timeout(180)


def write_config(
    tmp: Path, service: str | None, module: Path = TICKER, **service_keys: object
) -> Path:
    """The reader plugin, plus the ticker service with configuration ``service`` (None: no
    [[services]] at all)."""
    settings = {
        **FAST_SETTINGS,
        "runtime_dir": str(tmp / "run"),
        "cache_dir": str(tmp.parent / "cache"),
    }
    lines = ["[daemon]"] + [f"{k} = {_toml(v)}" for k, v in settings.items()]
    lines += [
        "[[plugins]]",
        'name = "reader"',
        f"module = {_toml(str(READER))}",
        'vm_id = "svc"',
        'configuration = "svc"',
    ]
    if service is not None:
        lines += [
            "[[services]]",
            'name = "ticker"',
            f"module = {_toml(str(module))}",
            'vm_id = "svc"',
            f"configuration = {_toml(service)}",
        ]
        lines += [f"{k} = {_toml(v)}" for k, v in service_keys.items()]
    path = tmp / "wasmd.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def ask(daemon: Daemon, slot: int) -> dict[str, str]:
    """One request through ``slot``; the reader's report as a dict."""
    channel = grpc.insecure_channel(f"unix:{daemon.runtime_dir / f'extproc-{slot}.sock'}")
    try:
        stub = ep_grpc.ExternalProcessorStub(channel)
        pairs = [(":method", "GET"), (":path", "/"), (":authority", "svc")]
        headers = core.HeaderMap(
            headers=[core.HeaderValue(key=k, raw_value=v.encode()) for k, v in pairs]
        )
        request = ep.ProcessingRequest(
            request_headers=ep.HttpHeaders(headers=headers, end_of_stream=True)
        )
        responses = stub.Process(iter([request]), timeout=RPC_TIMEOUT_S)
        reply = next(responses)
        responses.cancel()
    finally:
        channel.close()
    assert reply.WhichOneof("response") == "immediate_response", f"{reply}"
    body = reply.immediate_response.body.decode()
    head, _, msg = body.partition(" msg=")
    report = dict(part.split("=", 1) for part in head.split())
    report["msg"] = msg
    return report


def service(status: DaemonStatus) -> ServiceStatus:
    assert len(status.services) == 1, status.services
    return status.services[0]


def running(
    daemon: Daemon,
    pred: Callable[[ServiceStatus], bool] | None = None,
    what: str = "service running",
) -> ServiceStatus:
    def check(s: DaemonStatus) -> bool:
        v = s.services[0] if s.services else None
        return v is not None and v.state is ServiceState.RUNNING and (pred is None or pred(v))

    return service(daemon.wait_status(what, check, WAIT_S))


def _uids(pid: int) -> list[str]:
    """Real, effective, saved and filesystem uid of ``pid`` (/proc/PID/status)."""
    line = next(
        ln for ln in Path(f"/proc/{pid}/status").read_text().splitlines() if ln.startswith("Uid:")
    )
    return line.split()[1:]


def service_host_pids(daemon: Daemon) -> list[int]:
    """Children of the supervisor started with --services (from /proc: what really runs)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == daemon.proc.pid and b"--services" in cmdline:
            out.append(int(entry.name))
    return out


def report_where(
    daemon: Daemon, slot: int, pred: Callable[[dict[str, str]], bool], what: str
) -> dict[str, str]:
    """The first report from ``slot`` that ``pred`` accepts (the service ticks meanwhile)."""

    def check() -> dict[str, str] | None:
        report = ask(daemon, slot)
        return report if pred(report) else None

    result = wait_for(check, WAIT_S, 0.05, f"{what} via slot {slot}")
    assert isinstance(result, dict)
    return result


def counter_after(daemon: Daemon, slot: int, floor: int) -> dict[str, str]:
    def past(r: dict[str, str]) -> bool:
        return r["counter"].isdigit() and int(r["counter"]) > floor

    return report_where(daemon, slot, past, f"counter past {floor}")


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    config = write_config(tmp_path, "tick_ms=50 tag=one")
    argv = [sys.executable, "-m", "wasmd", "serve", "--config", str(config)]
    with spawn(argv, log_path=tmp_path / "serve.log", cwd=tmp_path) as proc:
        d = Daemon(proc, tmp_path / "run")
        d.all_ready(WAIT_S)
        running(d)
        yield d
        d.admin.close()


def test_one_service_feeds_both_workers(daemon: Daemon) -> None:
    status = daemon.status()
    v = service(status)
    worker_pids = {w.pid for w in status.workers}
    assert v.pid is not None and v.pid not in worker_pids and v.generation == 1
    assert service_host_pids(daemon) == [v.pid]  # exactly one service process
    if os.geteuid() == 0:  # a root supervisor's service host drops privileges as workers do
        worker_pid = next(w.pid for w in status.workers if w.pid is not None)
        assert _uids(v.pid) == _uids(worker_pid) and _uids(v.pid)[0] != "0"
    seen: list[int] = []
    ticks: list[int] = []
    writers = set()
    for i in range(8):
        report = counter_after(daemon, i % 2, seen[-1] if seen else 0)
        seen.append(int(report["counter"]))
        writers.add(report["writer"])
        assert report["tag"] == "one" and report["misses"] == "-", report  # one writer: no CAS loss
        if report["msg"] != "-":
            n, writer = report["msg"].split()[1:]
            ticks.append(int(n))
            writers.add(writer)
    assert seen == sorted(set(seen)), seen  # strictly increasing, over both workers
    assert ticks == sorted(set(ticks)) and ticks, ticks  # one FIFO queue, read by both
    assert len(writers) == 1, writers  # one service VM wrote everything
    text = daemon.cli("status").stdout
    assert "SERVICE" in text and "ticker" in text and str(v.pid) in text
    js = daemon.status_json()["services"]
    assert [(s["name"], s["pid"], s["state"]) for s in js] == [("ticker", v.pid, "running")]


def test_killed_service_host_is_restarted(daemon: Daemon) -> None:
    before = service(daemon.status())
    first = counter_after(daemon, 0, 0)
    assert before.pid is not None
    os.kill(before.pid, signal.SIGKILL)
    after = running(daemon, lambda v: v.pid != before.pid, "a new service host")
    assert after.restarts == before.restarts + 1 and "SIGKILL" in after.last_exit_reason

    # Shared data lives in the supervisor: the new service continues the same counter (it
    # would drop back to 1 if the data had died with the old host).
    counters = [int(first["counter"])]

    def continued(r: dict[str, str]) -> bool:
        counters.append(int(r["counter"]))
        return r["writer"] != first["writer"] and counters[-1] > counters[0]

    report_where(daemon, 1, continued, "the new writer continuing the counter")
    assert counters == sorted(counters), counters
    assert service_host_pids(daemon) == [after.pid]
    assert all(w.restarts == 0 for w in daemon.status().workers)  # workers untouched


def test_reload_rolls_the_service(daemon: Daemon, tmp_path: Path) -> None:
    before = service(daemon.status())
    write_config(tmp_path, "tick_ms=50 tag=two")
    result = daemon.reload()
    assert result.generation == 2, result
    after = running(daemon, lambda v: v.generation == 2, "the service on generation 2")
    assert after.pid != before.pid and after.restarts == before.restarts  # planned, not a crash
    report = report_where(daemon, 0, lambda r: r["tag"] == "two", "tag two")
    assert report["misses"] == "-"
    assert service_host_pids(daemon) == [after.pid]  # the old host is gone: never two


@pytest.mark.parametrize(
    ("policy", "restarted"), [("fail_closed", True), ("reload", False)], ids=str
)
def test_failure_policy(tmp_path: Path, policy: str, restarted: bool) -> None:
    """A service that traps on its 3rd tick: fail_closed restarts the host process, reload
    rebuilds the VM inside the same host."""
    config = write_config(tmp_path, "tick_ms=50 trap_at=3", failure_policy=policy)
    argv = [sys.executable, "-m", "wasmd", "serve", "--config", str(config)]
    with spawn(argv, log_path=tmp_path / "serve.log", cwd=tmp_path) as proc:
        d = Daemon(proc, tmp_path / "run")
        first = running(d)
        if restarted:
            v = running(d, lambda v: v.restarts >= 1 and v.pid != first.pid, "host restarted")
            assert v.last_exit_reason.startswith("service ticker: trapped"), v
        else:
            v = running(d, lambda v: v.reloads >= 1, "service VM reloaded")
            assert v.pid == first.pid and v.restarts == 0, v
        d.admin.close()


def test_a_bad_service_is_refused_by_the_canary_and_removing_services_stops_the_host(
    daemon: Daemon, tmp_path: Path
) -> None:
    before = service(daemon.status())
    write_config(tmp_path, "", module=PLUGINS / "c" / "build" / "bad_configure.wasm")
    result = daemon.reload()
    assert result.outcome is ReloadOutcome.FAILED and "canary" in result.message, result
    assert service(daemon.status()).pid == before.pid  # the running service is untouched
    write_config(tmp_path, None)
    assert daemon.reload().outcome is ReloadOutcome.SUCCEEDED
    daemon.wait_status("no services", lambda s: not s.services and not service_host_pids(daemon))
