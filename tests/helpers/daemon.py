"""A real `wasmd serve` for tests: config files, the daemon process, its CLI, and client load.

- ``write_config`` writes a daemon config under a test's tmp dir (sockets and runtime files
  stay under it; the compile cache is shared by the tests of one session).
- ``Daemon`` wraps the supervisor process started through :func:`daemons` (its own
  process group, killed with its workers at the end of the test) and observes it through
  the admin socket and the ``wasmd`` CLI.
- ``Load`` drives native-client exchanges from N concurrent tasks (each with its own
  ``wasmd.clients.native.Client``, so its own connection and, by the kernel's choice, its own
  worker) on an event loop in a background thread, and records every exchange with its
  start and end time, so a test can attribute each failure to what it did at a given
  moment (a kill, a SIGSTOP, a reload).
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers.procs import Completed, Spawned, run, spawn, wait_for
from wasmd.admin.client import AdminClient
from wasmd.admin.model import DaemonStatus, ReloadResult, SlotState
from wasmd.clients.native import Client, ExchangeResult

REPO = Path(__file__).resolve().parents[2]
PLUGINS = REPO / "plugins"
ADD_HEADER = PLUGINS / "as" / "build" / "add_header.wasm"
CONFORMANCE = PLUGINS / "c" / "build" / "conformance.wasm"
MEMBOMB = PLUGINS / "c" / "build" / "membomb.wasm"
CRASH_START = PLUGINS / "c" / "build" / "crash_start.wasm"
START_TIMEOUT_S = 60.0  # two workers compiling on a loaded 2-core CI box
CLI_TIMEOUT_S = 60.0
# An exchange that takes this long is lost (a hung worker is killed well before: the tests
# use heartbeat_timeout_s of a few seconds).
EXCHANGE_TIMEOUT_S = 30.0
STOP_GRACE_S = 35.0  # Load.stop: every task finishes its exchange (bounded by the above)
# A rolling reload waits, slot by slot, for the new worker to be READY (ready_timeout_s, 30 s
# below) and the old one to drain (drain_timeout_s, 5 s): far longer than the admin client's
# 10 s for a quick call. 2 workers took 5-8 s on a busy 2-core box, and over 10 s at times.
ROLLOUT_TIMEOUT_S = 2 * (30.0 + 5.0) + 30.0

# Daemon settings that make the tests quick: fast heartbeats and backoffs, no crash-loop
# breaker unless a test asks for one.
FAST_SETTINGS: dict[str, object] = {
    "workers": 2,
    "heartbeat_interval_s": 0.2,
    "heartbeat_timeout_s": 2.0,
    "ready_timeout_s": 30.0,
    "drain_timeout_s": 5.0,
    "restart_backoff_base_s": 0.1,
    "restart_backoff_cap_s": 0.5,
    "crash_loop_max_restarts": 50,
}


@dataclass(frozen=True, slots=True)
class PluginEntry:
    """One ``[[plugins]]`` table; ``settings`` holds the other keys (deadline_ms, ...)."""

    name: str
    module: Path
    root_id: str = ""
    configuration: str = ""
    settings: Mapping[str, object] = field(default_factory=dict)


def add_header(configuration: str = "v1", name: str = "add-header") -> PluginEntry:
    """The AS add_header plugin: request x-as-req: <configuration>, response x-as-resp."""
    return PluginEntry(name, ADD_HEADER, "as_add_header", configuration)


def write_config(
    tmp: Path,
    *,
    plugins: list[PluginEntry] | None = None,
    chains: Mapping[str, list[str]] | None = None,
    module: Path = ADD_HEADER,
    configuration: str = "v1",
    root_id: str = "as_add_header",
    **daemon: Any,
) -> Path:
    """Write ``tmp/wasmd.toml`` and return its path (rewrite it, then reload, to roll out).

    Without ``plugins``: one plugin "add-header" from ``module``/``root_id``/``configuration``.
    Without ``chains``: ``default`` = every plugin in order. ``daemon`` overrides FAST_SETTINGS.
    """
    entries = plugins or [PluginEntry("add-header", module, root_id, configuration)]
    settings = {"runtime_dir": str(tmp / "run"), "cache_dir": str(tmp.parent / "cache")}
    settings.update(daemon)
    path = tmp / "wasmd.toml"
    path.write_text(render_config(entries, chains, **settings))
    return path


def render_config(
    plugins: Sequence[PluginEntry], chains: Mapping[str, Sequence[str]] | None, **daemon: Any
) -> str:
    """A wasmd.toml: FAST_SETTINGS overridden by ``daemon``; ``chains`` defaults to one
    ``default`` chain of every plugin in order."""
    settings = {**FAST_SETTINGS, **daemon}
    lines = ["[daemon]"] + [f"{k} = {_toml(v)}" for k, v in settings.items()]
    for entry in plugins:
        lines += [
            "[[plugins]]",
            f"name = {_toml(entry.name)}",
            f"module = {_toml(str(entry.module))}",
            f"root_id = {_toml(entry.root_id)}",
            f"configuration = {_toml(entry.configuration)}",
        ]
        lines += [f"{k} = {_toml(v)}" for k, v in entry.settings.items()]
    lines.append("[chains]")
    for chain, names in (chains or {"default": [e.name for e in plugins]}).items():
        lines.append(f"{chain} = [{', '.join(_toml(n) for n in names)}]")
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    """A TOML value: strings quoted, mappings as inline tables, the rest as Python prints."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return str(value)


class Daemon:
    """A running ``wasmd serve`` and the ways to look at it."""

    def __init__(self, proc: Spawned, runtime_dir: Path) -> None:
        self.proc = proc
        self.runtime_dir = runtime_dir
        self.socket = runtime_dir / "wasmd.sock"
        self.admin_socket = runtime_dir / "admin.sock"
        self.admin = AdminClient(self.admin_socket, timeout_s=10.0)

    def status(self) -> DaemonStatus:
        return self.admin.status()

    def reload(self) -> ReloadResult:
        """``reload --wait``: roll the config file out, waiting as long as a rollout may take
        (``ROLLOUT_TIMEOUT_S``; ``self.admin``'s timeout is for quick calls)."""
        client = AdminClient(self.admin_socket, timeout_s=ROLLOUT_TIMEOUT_S)
        try:
            return client.reload(wait=True)
        finally:
            client.close()

    def wait_status(
        self,
        what: str,
        pred: Callable[[DaemonStatus], object],
        timeout_s: float = START_TIMEOUT_S,
    ) -> DaemonStatus:
        """Poll status until ``pred`` holds; fails at once if the supervisor exits."""

        def check() -> DaemonStatus | None:
            assert not self.proc.exited(), "the supervisor exited"
            try:
                status = self.status()
            except Exception:
                return None
            return status if pred(status) else None

        result = wait_for(check, timeout_s, 0.05, what, diagnostics=self.proc.describe)
        assert isinstance(result, DaemonStatus)
        return result

    def all_ready(self, timeout_s: float = START_TIMEOUT_S) -> DaemonStatus:
        """Every slot READY with a heartbeat seen."""
        return self.wait_status(
            "every slot ready",
            lambda s: all(
                w.state is SlotState.READY and w.heartbeat_age_s is not None for w in s.workers
            ),
            timeout_s,
        )

    def cli(self, *args: str, timeout_s: float = CLI_TIMEOUT_S) -> Completed:
        """Run ``wasmd <args> --admin-socket <ours>`` (the operator's commands)."""
        argv = [sys.executable, "-m", "wasmd", *args, "--admin-socket", str(self.admin_socket)]
        return run(argv, timeout_s=timeout_s, cwd=REPO)

    def status_json(self) -> dict[str, Any]:
        """``wasmd status --json``, parsed."""
        done = self.cli("status", "--json")
        assert done.returncode == 0, done.describe()
        result: dict[str, Any] = json.loads(done.stdout)
        return result


DaemonFactory = Callable[[Path], Daemon]


@contextmanager
def daemons(tmp_path: Path) -> Iterator[DaemonFactory]:
    """``start(config) -> Daemon``; every daemon started is killed (group) on exit.

    Test modules wrap it in their ``daemon_factory`` fixture.
    """
    started: list[Any] = []

    def start(config: Path) -> Daemon:
        cm = spawn(
            [sys.executable, "-m", "wasmd", "serve", "--config", str(config)],
            log_path=tmp_path / f"serve-{len(started)}.log",
            cwd=tmp_path,
        )
        proc = cm.__enter__()
        started.append(cm)
        return Daemon(proc, config.parent / "run")

    try:
        yield start
    finally:
        for cm in reversed(started):
            cm.__exit__(None, None, None)


# -- load ----------------------------------------------------------------------------------

Request = dict[str, Any]  # keyword arguments of Client.exchange
RequestFactory = Callable[[int, int], Request]  # (task, sequence number) -> request


def simple_request(task: int, seq: int) -> Request:
    """Request + response headers; x-echo makes each exchange's response identifiable."""
    return {
        "request_headers": [
            (b":method", b"GET"),
            (b":path", b"/"),
            (b"x-echo", f"{task}-{seq}".encode()),
        ],
        "response_headers": [(b":status", b"200")],
    }


@dataclass(frozen=True, slots=True)
class Record:
    """One exchange as a load task saw it (monotonic seconds)."""

    task: int
    seq: int
    started_s: float
    ended_s: float
    result: ExchangeResult | None
    error: BaseException | None

    @property
    def ok(self) -> bool:
        return self.error is None


class Load:
    """N client tasks running exchanges back to back until ``stop``; a context manager.

    Each task owns a Client (one connection at a time; the client reconnects after a
    GOAWAY or a dead connection and retries streams that got no reply). Failures are
    recorded, never raised, and the task carries on with its next exchange.
    """

    def __init__(
        self, socket: Path, *, tasks: int, request: RequestFactory = simple_request
    ) -> None:
        self.socket = socket
        self.tasks = tasks
        self.request = request
        self.records: list[Record] = []
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._main, name="load", daemon=True)
        self._crash: BaseException | None = None

    # -- control (test thread) -----------------------------------------------------------
    def start(self) -> Load:
        self._thread.start()
        return self

    def stop(self) -> list[Record]:
        """Let every task finish its current exchange, then return every record."""
        self._stop.set()
        self._thread.join(STOP_GRACE_S)
        assert not self._thread.is_alive(), "load tasks did not finish"
        if self._crash is not None:
            raise self._crash
        return list(self.records)

    def __enter__(self) -> Load:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join(STOP_GRACE_S)

    def count(self, *, ok: bool = True, since_s: float = 0.0) -> int:
        """Exchanges that ended (successfully, or not) at or after ``since_s``."""
        return sum(1 for r in list(self.records) if r.ok is ok and r.ended_s >= since_s)

    def wait_served(self, n: int, timeout_s: float = 30.0, what: str = "") -> None:
        """Wait until ``n`` more exchanges succeed than have so far."""
        since = time.monotonic()
        wait_for(
            lambda: self.count(since_s=since) >= n,
            timeout_s,
            what=what or f"{n} more exchanges served",
            diagnostics=lambda: f"records: {len(self.records)}, failures: {self.failures()[-3:]}",
        )

    def failures(self) -> list[Record]:
        return [r for r in list(self.records) if not r.ok]

    # -- the load thread -----------------------------------------------------------------
    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # surfaced by stop()
            self._crash = exc

    async def _run(self) -> None:
        await asyncio.gather(*(self._task(i) for i in range(self.tasks)))

    async def _task(self, task: int) -> None:
        client = Client(self.socket, max_frame_bytes=1 << 20, retries=3)
        seq = 0
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    result = await asyncio.wait_for(
                        client.exchange(**self.request(task, seq)), EXCHANGE_TIMEOUT_S
                    )
                    error: BaseException | None = None
                except Exception as exc:
                    result, error = None, exc
                self.records.append(Record(task, seq, started, time.monotonic(), result, error))
                seq += 1
        finally:
            await client.close()


def header(pairs: tuple[tuple[bytes, bytes], ...], name: bytes) -> bytes | None:
    """The first value of ``name`` in ``pairs``, or None."""
    return next((v for k, v in pairs if k == name), None)
