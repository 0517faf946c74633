"""The worker process: hardening, config, WorkerService, native face, control channel.

Started by the supervisor as ``python -m workers --slot N --generation G --control-fd C
[--native-fd F] [--config FILE]`` (spawn/exec, never fork). Contract with the supervisor:

- READY is sent only once every plugin was loaded and configured (or failed to: such a
  plugin stays failed with its reason, its chains get its failure policy, and every
  heartbeat reports each plugin's ``state`` and ``error``) and the native socket is
  served; then a HEARTBEAT every ``heartbeat_interval_s`` from the event loop itself, so a
  stuck loop (a hung plugin, SIGSTOP) goes silent and gets killed.
- DRAIN stops accepting, lets in-flight streams finish up to the timeout, exits 0; STOP
  exits 0 at once; losing the control channel (the supervisor died) exits 0 too.
- Exit codes: 0 ok, 2 config error or (``--canary``) a plugin load error (the supervisor
  does not respawn at once), anything else is a crash.

``--canary`` compiles, instantiates and configures the named plugins (all if none are
named) in a throwaway process and exits 0, or 2 with the error on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import dataclasses
import hashlib
import os
import resource
import signal
import socket
import sys
import threading
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wasmd.kernel import control as ctl
from wasmd.kernel.config import DaemonConfig, default_config, load_config, parse_config
from wasmd.kernel.errors import ConfigError, PluginLoadError
from workers import config_bridge, metrics_export, sandbox
from workers.contexts import shared_remote
from workers.contexts.metrics import Metrics
from workers.contexts.metrics_remote import DaemonMetrics, MetricBatcher
from workers.contexts.policy import PluginState
from workers.faces.extproc import ExtProcServer
from workers.faces.native import NativeServer
from workers.service import PluginSource, WorkerService
from workers.vm.runtime import Runtime

if TYPE_CHECKING:
    from workers.faces.extproc_grpcio import GrpcioExtProcServer

EXIT_OK = 0
EXIT_LOAD_ERROR = 2
EXIT_CRASH = 1
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
THREAD_STACK_BYTES = 256 << 10  # RLIMIT_DATA counts 8 MiB default stacks; ours need far less
# asyncio re-listens an inherited socket with its own backlog (100) unless told, and that
# sets the queue of the one socket the supervisor and every worker share: keep the
# supervisor's length (daemon.LISTEN_BACKLOG, slot_sockets.LISTEN_BACKLOG), so connections
# opened while a slot's worker restarts wait in it instead of being refused.
NATIVE_BACKLOG = 1024
EXTPROC_BACKLOG = 1024


@dataclass(frozen=True, slots=True)
class WorkerArgs:
    config: Path | None
    config_origin: Path | None
    slot: int
    generation: int
    control_fd: int | None
    native_fd: int | None
    shared_fd: int | None
    canary: bool
    plugins: tuple[str, ...]
    quarantine: tuple[str, ...] = ()
    config_fd: int | None = None  # the supervisor's sealed memfd (replaces --config)
    services: bool = False  # the service host: run [[services]], serve no socket
    extproc_fd: int | None = None  # the slot's ext_proc listening socket, held by the supervisor


def parse_args(argv: Sequence[str]) -> WorkerArgs:
    p = argparse.ArgumentParser(prog="python -m workers")
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("--config-fd", type=int, default=None, help="read the config from this fd")
    p.add_argument(
        "--config-origin",
        type=Path,
        default=None,
        help="the operator's config file that --config is a snapshot of (paths resolve there)",
    )
    p.add_argument("--slot", type=int, default=0)
    p.add_argument("--generation", type=int, default=1)
    p.add_argument("--control-fd", type=int, default=None)
    p.add_argument("--native-fd", type=int, default=None)
    p.add_argument("--shared-fd", type=int, default=None)
    p.add_argument(
        "--extproc-fd",
        type=int,
        default=None,
        help="serve ext_proc on this inherited listening socket instead of binding the path",
    )
    p.add_argument("--canary", action="store_true")
    p.add_argument("--plugin", action="append", default=[], help="canary: only these plugins")
    p.add_argument(
        "--quarantine",
        action="append",
        default=[],
        help="a plugin not to load (it fails at start); its chains get its failure policy",
    )
    p.add_argument(
        "--services",
        action="store_true",
        help="be the service host: run the [[services]] once for the daemon, serve no socket",
    )
    a = p.parse_args(list(argv))
    fds = (a.control_fd, a.native_fd, a.shared_fd)
    plugins, quarantine = tuple(a.plugin), tuple(a.quarantine)
    return WorkerArgs(
        a.config,
        a.config_origin,
        a.slot,
        a.generation,
        *fds,
        a.canary,
        plugins,
        quarantine,
        a.config_fd,
        a.services,
        a.extproc_fd,
    )


def harden(data_limit_mib: int, *, keep_setid: bool = False) -> None:
    """Die with the supervisor, no privilege gain, the sandbox, hard RLIMIT_DATA, small
    thread stacks."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if os.getppid() == 1:  # the supervisor died before prctl took effect
        os._exit(EXIT_OK)
    sandbox.enter(keep_setid=keep_setid)  # no capabilities, seccomp (docs/security.md)
    if data_limit_mib > 0:
        limit = data_limit_mib << 20
        with contextlib.suppress(ValueError, OSError):  # cannot raise above an inherited cap
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    threading.stack_size(THREAD_STACK_BYTES)
    os.environ.pop("NOTIFY_SOCKET", None)  # only the supervisor talks to systemd


def read_config_fd(fd: int) -> bytes:
    """All of the supervisor's config memfd (pread from 0: the offset is shared), then close."""
    try:
        return os.pread(fd, os.fstat(fd).st_size, 0)
    finally:
        os.close(fd)


def load(path: Path | None, origin: Path | None, fd: int | None = None) -> DaemonConfig:
    """The generation's config: a snapshot the supervisor took, read as if it were ``origin``.

    Workers of one generation must all run the same config even if the operator edits the
    file during a rollout, so the supervisor hands them a copy, not the live file: as a
    sealed memfd (``fd``), never a path someone else could replace.
    """
    if fd is not None and origin is not None:
        try:
            doc = tomllib.loads(read_config_fd(fd).decode())
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the config from fd {fd}: {exc}") from None
        return parse_config(doc, origin.absolute())
    if path is None:
        return default_config()
    if origin is None:
        return load_config(path)
    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config snapshot: {exc}") from None
    return parse_config(doc, origin.absolute())


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    from wasmd.kernel import logs

    # Logs go where the supervisor's go, in its format (logs.FORMAT_ENV), from the first line.
    me: dict[str, Any] = {"process": "worker", "pid": os.getpid(), "slot": args.slot}
    if args.services:
        me = {"process": "service-host", "pid": os.getpid()}
    logs.configure("info", stream=sys.stdout, process=me)
    log = logs.get_logger(generation=args.generation)
    try:
        config = load(args.config, args.config_origin, args.config_fd)
    except ConfigError as exc:
        log.error("worker cannot read its config", error=str(exc))
        return EXIT_LOAD_ERROR
    identity = sandbox.worker_identity(config.daemon.worker_user)
    harden(config.daemon.worker_data_limit_mib, keep_setid=identity is not None)
    logs.configure(config.daemon.log_level, stream=sys.stdout, process=me)
    import uvloop

    try:
        if args.canary:
            return uvloop.run(canary(config, args.plugins, identity))
        if args.services:
            from workers.service_host import ServiceHostRunner

            return uvloop.run(ServiceHostRunner(config, args, identity).run())
        return uvloop.run(WorkerRunner(config, args, identity).run())
    except PluginLoadError as exc:
        log.error("worker failed to load its plugins", error=str(exc))
        return EXIT_LOAD_ERROR


def preload_before_drop(config: DaemonConfig) -> None:
    """Import what a worker may otherwise import late, while it can still read it.

    After ``sandbox.drop_user`` the worker may not be able to read the interpreter's files
    (root's pyenv under /root is 0700): the callout clients, imported on the first callout
    to spare workers that never make one, must be imported before the drop.
    """
    import concurrent.futures.thread  # noqa: F401 - the loop's default executor (getaddrinfo)
    import encodings.idna  # noqa: F401 - host names

    urls = [url for spec in config.plugins for url in spec.upstreams.values()]
    if any(not url.startswith("grpc") for url in urls):
        import aiohttp.client_exceptions  # noqa: F401
        import multidict  # noqa: F401
    if any(url.startswith("grpc") for url in urls):
        import workers.callouts.grpc  # noqa: F401


def plugin_sources(config: DaemonConfig, names: Sequence[str] = ()) -> list[PluginSource]:
    """Every configured plugin (or only ``names``), module bytes read and sha256-checked.
    A canary names services too: they load the same way."""
    specs = config.plugins if not names else (*config.plugins, *config.services)
    return [config_bridge.plugin_source(s) for s in specs if not names or s.name in names]


def build_service(
    config: DaemonConfig,
    names: Sequence[str] = (),
    shared: tuple[Any, Any] | None = None,
    quarantine: Sequence[str] = (),
    metrics_factory: Callable[[str], Metrics] | None = None,
) -> WorkerService:
    """A WorkerService with the configured plugins and chains (not started yet)."""
    sources = plugin_sources(config, names)
    loaded = {s.config.name for s in sources}
    chains = {c: m for c, m in config.chains.items() if set(m) <= loaded}
    default = config.daemon.default_chain
    if default not in chains:  # canary of a subset: any chain will do, it is never served
        chains[default] = tuple(sorted(loaded))[:1]
    runtime = Runtime(cache_dir=config.daemon.cache_dir)
    data, queues = shared if shared is not None else (None, None)
    return WorkerService(
        runtime,
        sources,
        chains,
        default,
        shared_data=data,
        shared_queues=queues,
        pause_timeout_s=config.daemon.pause_timeout_s,
        quarantine={name: "quarantined: it failed to load at start" for name in quarantine},
        metrics_factory=metrics_factory or (lambda plugin: Metrics()),
    )


async def canary(
    config: DaemonConfig, names: Sequence[str], identity: tuple[int, int] | None = None
) -> int:
    """Compile, instantiate and configure the plugins; 0 or PluginLoadError (exit 2).

    With ``identity``, compile (and fill the cache) first, then drop to that user before
    any plugin code runs: a canary binds nothing."""
    service = build_service(config, names)
    try:
        if identity is not None:
            for source in plugin_sources(config, names):
                with contextlib.suppress(PluginLoadError):  # start() reports it
                    service.runtime.precompile(source.wasm)
            preload_before_drop(config)
            sandbox.drop_user(*identity)
        service.start(asyncio.get_running_loop())
    finally:
        await service.aclose()  # also closes the callout clients' connections
        service.runtime.close()
    return EXIT_OK


def plugin_stats(service: WorkerService) -> dict[str, dict[str, Any]]:
    """Per plugin: failure counters, live VM count and the call-time histogram."""
    out: dict[str, dict[str, Any]] = {}
    for name, handle in service.handles.items():
        entry: dict[str, Any] = dataclasses.asdict(handle.stats)
        entry["vms"] = int(handle.vm is not None and handle.vm.failed is None)
        entry["state"] = handle.state.value  # loaded | failed | quarantined
        entry["error"] = handle.last_error if handle.state is not PluginState.LOADED else None
        stats = service.call_stats.get(name)
        entry["calls"] = stats.to_wire() if stats is not None else None
        out[name] = entry
    return out


def _stat(stats: object, key: str) -> int:
    value = stats.get(key, 0) if isinstance(stats, dict) else getattr(stats, key, 0)
    return int(value or 0)


class WorkerRunner:
    """The worker's asyncio main: serve, report, obey DRAIN/STOP."""

    def __init__(
        self, config: DaemonConfig, args: WorkerArgs, identity: tuple[int, int] | None = None
    ) -> None:
        self.config = config
        self.args = args
        self.identity = identity  # the user to drop to once bound (None: stay)
        self.service: WorkerService | None = None
        self.server: NativeServer | None = None
        self.extproc: ExtProcServer | GrpcioExtProcServer | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._done: asyncio.Future[int] | None = None
        self._shared: shared_remote.SharedLink | None = None
        self._last_metrics: list[Any] | None = None
        self._ready_sent = False

    async def run(self) -> int:
        """Load, serve, report READY; return the exit code once told to stop."""
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._finish, EXIT_OK)
        shared = self._shared_stores()
        self.service = build_service(
            self.config,
            shared=shared,
            quarantine=self.args.quarantine,
            metrics_factory=self._daemon_metrics() if shared is not None else None,
        )
        try:
            await self._open_control()
            try:
                self.service.start(loop, strict=False)
            except PluginLoadError as exc:
                # Say which plugin, so the supervisor can quarantine it and keep serving
                # the chains that do not need it.
                self._send({"t": ctl.LOAD_FAILED, "plugin": exc.plugin, "error": str(exc)})
                if self._writer is not None:
                    await self._writer.drain()
                raise
            await self._serve()
            ready = self._ready()  # reads the module files: before the drop
            if self.identity is not None:
                # Everything that needs root is done (config, modules, cache, the ext_proc
                # socket in runtime_dir); nothing has been served yet.
                preload_before_drop(self.config)
                sandbox.drop_user(*self.identity)
            self._send(ready)
            self._ready_sent = True
            heartbeats = asyncio.create_task(self._heartbeats())
            code = await self._done
            heartbeats.cancel()
            return code
        finally:
            await self._close()

    def _shared_stores(self) -> tuple[Any, Any] | None:
        """The supervisor's daemon-wide store over --shared-fd (pushes read on this loop)."""
        if self.args.shared_fd is None:
            return None
        sock = socket.socket(fileno=self.args.shared_fd)
        self._shared, data, queues = shared_remote.connect(sock, asyncio.get_running_loop())
        return data, queues

    def _daemon_metrics(self) -> Callable[[str], Metrics]:
        """Plugin metrics read daemon-wide through the supervisor (metrics_remote)."""
        assert self._shared is not None
        batcher = MetricBatcher(self._shared, asyncio.get_running_loop())
        return lambda plugin: DaemonMetrics(plugin, batcher)

    async def _serve(self) -> None:
        await self._serve_extproc()
        if self.args.native_fd is None:
            return
        assert self.service is not None
        sock = socket.socket(fileno=self.args.native_fd)
        self.server = NativeServer(
            self.service,
            max_frame_bytes=self.config.daemon.max_frame_bytes,
            limits=self.config.daemon.client_limits(),
        )
        await self.server.start(sock, backlog=NATIVE_BACKLOG)

    async def _serve_extproc(self) -> None:
        """The Envoy face on this slot's ``extproc-<slot>.sock``: the listening socket the
        supervisor holds for the slot (--extproc-fd), else (grpcio) a rename takeover."""
        assert self.service is not None
        daemon = self.config.daemon
        path = daemon.extproc_socket(self.args.slot)
        streamed = daemon.extproc_body_mode == "streamed"
        if daemon.extproc_transport == "grpcio":
            from workers.faces.extproc_grpcio import GrpcioExtProcServer

            self.extproc = GrpcioExtProcServer(self.service, path, streamed_bodies=streamed)
        else:
            self.extproc = ExtProcServer(
                self.service,
                path,
                streamed_bodies=streamed,
                limits=self.config.daemon.client_limits(),
            )
        if self.args.extproc_fd is not None and isinstance(self.extproc, ExtProcServer):
            sock = socket.socket(fileno=self.args.extproc_fd)
            await self.extproc.start(sock=sock, backlog=EXTPROC_BACKLOG)
        else:
            await self.extproc.start(mode=daemon.native_socket_mode)
        from wasmd.kernel.logs import get_logger

        get_logger(component="worker", slot=self.args.slot).info(
            "extproc_serving",
            socket=str(path),
            transport=daemon.extproc_transport,
            body_mode=daemon.extproc_body_mode,
        )

    async def _open_control(self) -> None:
        if self.args.control_fd is None:
            return
        sock = socket.socket(fileno=self.args.control_fd)
        reader, self._writer = await asyncio.open_unix_connection(sock=sock)
        asyncio.create_task(self._control(reader))

    async def _control(self, reader: asyncio.StreamReader) -> None:
        frames = ctl.FrameReader()
        while True:
            data = await reader.read(65536)
            if not data:
                self._finish(EXIT_OK)  # the supervisor is gone
                return
            for message in frames.feed(data):
                if message["t"] == ctl.DRAIN:
                    asyncio.create_task(self._drain(float(message.get("timeout_s", 30.0))))
                elif message["t"] == ctl.STOP:
                    self._finish(EXIT_OK)
                elif message["t"] == ctl.REFRESH and self._ready_sent:
                    self._send(self._heartbeat())  # fresh numbers for status and metrics

    async def _drain(self, timeout_s: float) -> None:
        drains = [face.drain(timeout_s) for face in (self.server, self.extproc) if face is not None]
        await asyncio.gather(*drains)
        self._finish(EXIT_OK)

    def _finish(self, code: int) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_result(code)

    def _send(self, message: dict[str, Any]) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(ctl.encode(message))

    def _ready(self) -> dict[str, Any]:
        shas = {
            s.name: hashlib.sha256(s.module.read_bytes()).hexdigest() for s in self.config.plugins
        }
        return {
            "t": ctl.READY,
            "quarantined": list(self.args.quarantine),
            "pid": os.getpid(),
            "slot": self.args.slot,
            "generation": self.args.generation,
            "plugins": shas,
        }

    async def _heartbeats(self) -> None:
        """From the loop itself: a stuck loop stops them, and the supervisor notices."""
        interval_s = self.config.daemon.heartbeat_interval_s
        while True:
            self._send(self._heartbeat())
            await asyncio.sleep(interval_s)

    def _heartbeat(self) -> dict[str, Any]:
        assert self.service is not None
        stats: object = self.server.stats() if self.server is not None else {}
        envoy: object = self.extproc.stats() if self.extproc is not None else {}
        message = {
            "t": ctl.HEARTBEAT,
            "requests": _stat(stats, "requests") + _stat(envoy, "streams"),
            "in_flight": _stat(stats, "in_flight") + _stat(envoy, "in_flight"),
            "plugins": plugin_stats(self.service),
        }
        # Plugin metrics for `wasmd metrics`, only when they changed: an idle worker's
        # heartbeat stays small (the supervisor keeps the last snapshot it got).
        metrics = metrics_export.snapshot(self.service)
        if metrics != self._last_metrics:
            message["metrics"] = self._last_metrics = metrics
        return message

    async def _close(self) -> None:
        for face in (self.server, self.extproc):
            if face is not None:
                with contextlib.suppress(Exception):
                    await face.close()
        if self.service is not None:
            await self.service.aclose()  # also closes the callout clients' connections
            self.service.runtime.close()
        if self._shared is not None:
            self._shared.close()
        if self._writer is not None:
            self._writer.close()
