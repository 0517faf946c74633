"""The supervisor's asyncio shell: sockets, signals, workers, reload and status.

One loop does everything (gunicorn's arbiter, without the 1,000 lines): signal handlers
only enqueue; a ticker feeds ``now`` to the policy; control-channel frames and pidfd exits
become policy events; the policy's actions become spawns, DRAIN frames and SIGKILLs.
``Supervisor`` implements ``wasmd.admin.model.SupervisorControl`` for the admin server.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import secrets
import signal
import socket
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasmd import __version__
from wasmd.admin import locate, model
from wasmd.kernel import control as ctl
from wasmd.kernel.config import DaemonConfig, DaemonSettings, load_config, parse_config
from wasmd.kernel.errors import ConfigError, WasmdError
from wasmd.kernel.logs import get_logger, set_log_level
from wasmd.kernel.metric_set import KINDS, MONOTONIC_KINDS, MetricSet
from wasmd.kernel.visibility import REDACTION_KEY_ENV
from wasmd.registry.generation import ModuleFetchError, resolve_generation
from wasmd.supervisor import policy as p
from wasmd.supervisor import status_parts
from wasmd.supervisor.children import SpawnSpec, WorkerProcess, spawn_worker
from wasmd.supervisor.freshness import HeartbeatWaiter
from wasmd.supervisor.reload_plan import daemon_changes, describe_rollout, drained
from wasmd.supervisor.runtime_files import RuntimeFiles, config_fd, prepare
from wasmd.supervisor.services import ServiceGeneration, ServiceHost
from wasmd.supervisor.shared_channel import SharedChannels
from wasmd.supervisor.shared_store import SharedStore, refusals
from wasmd.supervisor.slot_sockets import SlotSockets
from wasmd.supervisor.spare_worker import SpareWorker
from wasmd.supervisor.stats import daemon_metrics, plugin_statuses, shared_quotas, store_metrics
from wasmd.supervisor.systemd import Notifier

TICK_S = 0.05  # policy clock resolution: timeouts and backoffs are checked this often
LISTEN_BACKLOG = 1024  # connections queued while every worker is busy or restarting
CANARY_TIMEOUT_FLOOR_S = 10.0
DRAIN_WAIT_MARGIN_S = 5.0  # reload --wait: past the policy's own drain kill
MIB = 1 << 20


def policy_settings(d: DaemonSettings) -> p.PolicySettings:
    return p.PolicySettings(
        workers=d.workers,
        heartbeat_timeout_s=d.heartbeat_timeout_s,
        ready_timeout_s=d.ready_timeout_s,
        drain_timeout_s=d.drain_timeout_s,
        rss_soft_limit_bytes=d.worker_rss_soft_limit_mib * MIB,
        max_requests=d.max_requests,
        restart_backoff_base_s=d.restart_backoff_base_s,
        restart_backoff_cap_s=d.restart_backoff_cap_s,
        crash_loop_max_restarts=d.crash_loop_max_restarts,
        crash_loop_window_s=d.crash_loop_window_s,
    )


@dataclass(frozen=True, slots=True)
class Generation:
    """One config generation: what its workers run."""

    number: int
    config: DaemonConfig
    snapshot: Path | None  # a private copy of the file, so edits cannot leak into it
    module_sha256: dict[str, str]
    # Plugins its workers must not load (they failed at start), with why: their chains get
    # the plugin's failure policy while every other chain is served.
    quarantine: tuple[tuple[str, str], ...] = ()
    raw: bytes | None = None  # the snapshot's bytes: workers get them through a memfd


def module_digests(config: DaemonConfig) -> dict[str, str]:
    """sha256 of each plugin's and service's module file ('' if unreadable: the canary will
    say why)."""
    out = {}
    for spec in (*config.plugins, *config.services):
        try:
            out[spec.name] = hashlib.sha256(spec.module.read_bytes()).hexdigest()
        except OSError:
            out[spec.name] = ""
    return out


def changed_plugins(old: Generation, new: DaemonConfig, digests: dict[str, str]) -> list[str]:
    """Plugins whose spec or module bytes differ from the serving generation."""
    before = {s.name: s for s in (*old.config.plugins, *old.config.services)}
    return [
        s.name
        for s in (*new.plugins, *new.services)
        if before.get(s.name) != s or old.module_sha256.get(s.name) != digests[s.name]
    ]


class Supervisor:
    """Owns the native socket, the worker processes and the policy. Run with ``run()``."""

    def __init__(
        self,
        config: DaemonConfig,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        files: RuntimeFiles | None = None,
    ) -> None:
        self.clock = clock
        # The lock on runtime_dir and the snapshots (serve() takes the lock before this).
        self.files = files if files is not None else prepare(config.daemon)
        self.started_at = clock()
        self.settings = config.daemon
        self.config_path = config.path
        self.policy = p.Policy(policy_settings(config.daemon), rng or random.Random())
        self.generations: dict[int, Generation] = {}
        # oci:// and https:// modules are fetched (or found in the store) before generation 1;
        # at start a tag the registry cannot answer for falls back to its stored resolution.
        config, raw = resolve_generation(
            config, config.path.read_bytes() if config.path else None, allow_stale=True
        )
        self.serving = self._register(1, config, raw)
        self.procs: dict[int, WorkerProcess] = {}
        self.rollout = model.RolloutStatus()
        self.log = get_logger(component="supervisor")
        self._signals: asyncio.Queue[str] = asyncio.Queue()
        self._exit: asyncio.Future[int] | None = None
        self._native: socket.socket | None = None
        self._native_ino: tuple[int, int] | None = None
        self.slot_sockets = SlotSockets()  # each slot's ext_proc socket outlives its workers
        self.spare = SpareWorker(self.settings.spare_worker)  # adopts a dead slot in ~0.1 s
        self._rollout_waiters: dict[int, asyncio.Future[model.ReloadResult]] = {}
        self._load_failures: dict[int, dict[str, str]] = {}  # generation -> plugin -> error
        self._reload_lock = asyncio.Lock()
        self._last_rss_poll = 0.0
        self._last_watchdog = 0.0
        self._announced_ready = False
        self._last_status_line = ""
        self.notifier = Notifier.from_environment()  # also unsets NOTIFY_SOCKET for workers
        # Daemon-wide shared data and queues: outlive every worker and every generation.
        self.shared = SharedChannels(
            SharedStore(shared_quotas(config.daemon)), on_broken=self._shared_broken
        )
        # Redacted header values are keyed hashes under this key: the same for every worker
        # and generation, so plugins can compare them for the daemon's life (docs/visibility.md).
        self.redaction_key = secrets.token_hex(32)
        # Metrics snapshots from heartbeats, per live worker; counters and histograms of
        # exited workers are kept in _retired so aggregated counters never go backwards.
        self._worker_metrics: dict[int, list[Any]] = {}
        self._retired = MetricSet()
        self._heartbeats = HeartbeatWaiter()  # for refresh(): fresh status and metrics
        # [[services]]: one service host process for the daemon (supervisor/services.py).
        self.services = ServiceHost(
            policy_settings(config.daemon), spawn_worker, self.shared.open, self.shared.close, clock
        )

    # -- generations ------------------------------------------------------------------------
    def _register(
        self,
        number: int,
        config: DaemonConfig,
        raw: bytes | None,
        quarantine: tuple[tuple[str, str], ...] = (),
    ) -> Generation:
        snapshot = self.files.write_snapshot(number, raw) if raw is not None else None
        digests = module_digests(config)
        gen = Generation(number, config, snapshot, digests, quarantine, raw)
        self.generations[number] = gen
        return gen

    def _service_generation(self) -> ServiceGeneration:
        gen = self.serving
        return ServiceGeneration.of(gen.number, gen.snapshot, gen.config, gen.module_sha256)

    # -- main -------------------------------------------------------------------------------
    async def run(self) -> int:
        """Serve until stopped; the exit code is 0 after a graceful or fast stop."""
        loop = asyncio.get_running_loop()
        self._exit = loop.create_future()
        self._bind_native()
        self.slot_sockets.open(self.settings)
        for sig, what in (
            (signal.SIGHUP, "reload"),
            (signal.SIGTERM, "stop"),
            (signal.SIGINT, "fast"),
            (signal.SIGQUIT, "fast"),
        ):
            loop.add_signal_handler(sig, self._signals.put_nowait, what)
        admin = await self._start_admin()
        self.log.info(
            "starting",
            workers=self.settings.workers,
            pid=os.getpid(),
            native_socket=str(self.settings.native_socket),
        )
        self._apply(self.policy.start(self.clock()))
        self.services.start(self._service_generation())
        tasks = [asyncio.create_task(self._ticker()), asyncio.create_task(self._dispatch())]
        code = 1
        try:
            code = await self._exit
        finally:
            for task in tasks:
                task.cancel()
            if admin is not None:
                await admin.close()
                locate.forget(self.settings.runtime_dir, self.settings.admin_socket)
            self._close_native()
            self.services.close()
            self.slot_sockets.close()
            self.spare.close()
            for proc in self.procs.values():
                proc.kill()
                proc.close()
            self.shared.close_all()
            self._remove_slot_sockets()
            self.files.close(clean=code == 0)
        self.log.info("stopped", code=code)
        return code

    def _remove_slot_sockets(self) -> None:
        """The workers' ext_proc sockets outlive them (grpcio bound a private path that was
        renamed): on final exit nothing serves them, so a proxy must see ENOENT, not a stale
        file that refuses connections."""
        d = self.settings
        for slot in range(d.workers):
            with contextlib.suppress(FileNotFoundError):
                d.extproc_socket(slot).unlink()

    async def _start_admin(self) -> Any:
        try:
            from wasmd.admin.server import AdminServer
        except ImportError:  # grpc missing: run without the admin face
            return None
        d = self.settings
        server = AdminServer(self, d.admin_socket, d.admin_socket_mode)
        await server.start()
        locate.record(d.runtime_dir, d.admin_socket)  # for a CLI holding a newer config
        return server

    async def _dispatch(self) -> None:
        """Signals arrive here as words; handlers did nothing but enqueue them."""
        while True:
            what = await self._signals.get()
            self.log.info("signal", action=what)
            if what == "reload":
                result = await self.reload(wait=False)
                self.log.info("reload", outcome=result.outcome.value, message=result.message)
            else:
                self.notifier.stopping("draining workers" if what == "stop" else "stopping")
                self.services.stop()
                self._apply(self.policy.handle(p.Stop(graceful=what == "stop"), self.clock()))

    async def _ticker(self) -> None:
        while True:
            now = self.clock()
            if now - self._last_rss_poll >= self.settings.heartbeat_interval_s:
                self._last_rss_poll = now
                for wid, proc in list(self.procs.items()):
                    self.policy.handle(p.RssSample(wid, proc.rss_bytes()), now)
            self._apply(self.policy.tick(now))
            self.services.tick(now)
            self._notify_systemd(now)
            await asyncio.sleep(TICK_S)

    def _notify_systemd(self, now: float) -> None:
        """READY once every slot first served, STATUS on change, WATCHDOG from this loop."""
        states = [self.policy.slot_state(s) for s in self.policy.slots]
        ready = sum(st is p.WorkerState.READY for st in states)
        failed = sum(st is p.WorkerState.FAILED for st in states)
        line = f"{ready}/{len(states)} workers ready, generation {self.serving.number}"
        if failed:
            line += f", {failed} slot(s) FAILED"
        if not self._announced_ready and ready + failed == len(states):
            self._announced_ready = True
            self.notifier.ready(line)
        elif line != self._last_status_line:
            self.notifier.status(line)
        self._last_status_line = line
        wd = self.notifier.watchdog_s
        if wd is not None and now - self._last_watchdog >= wd:
            self._last_watchdog = now
            self.notifier.watchdog()

    # -- actions ----------------------------------------------------------------------------
    def _apply(self, actions: list[p.Action]) -> None:
        for action in actions:
            match action:
                case p.Spawn(wid, slot, generation):
                    self._spawn(wid, slot, generation)
                case p.Drain(wid, timeout_s):
                    self.log.info("drain", wid=wid, pid=self._pid(wid), slot=self._slot(wid))
                    self._send(wid, {"t": ctl.DRAIN, "timeout_s": timeout_s})
                case p.Kill(wid, reason):
                    self.log.warning("kill", wid=wid, pid=self._pid(wid), reason=reason)
                    if wid in self.procs:
                        self.procs[wid].kill()
                case p.SlotFailed(slot, reason):
                    self.log.error("slot_failed", slot=slot, reason=reason)
                case p.RolloutDone(generation, ok, reason):
                    self._rollout_done(generation, ok, reason)
                case p.ExitDaemon(code):
                    if self._exit is not None and not self._exit.done():
                        self._exit.set_result(code)

    def _spawn(self, wid: int, slot: int, generation: int) -> None:
        gen = self.generations[generation]
        native_fd = self._native.fileno() if self._native is not None else None
        theirs = self.shared.open(wid)
        spec = SpawnSpec(
            wid,
            slot,
            generation,
            gen.snapshot,
            gen.config.path,
            native_fd,
            theirs.fileno(),
            quarantine=tuple(name for name, _ in gen.quarantine),
            extra_env={REDACTION_KEY_ENV: self.redaction_key},
            config_raw=gen.raw,
            extproc_fd=self.slot_sockets.fileno(slot),
        )
        try:
            proc = self.spare.spawn(spec)
        except BaseException:
            self.shared.close(wid)
            raise
        finally:
            theirs.close()  # the child holds its own copy now
        self.procs[wid] = proc
        self.log.info("spawn", wid=wid, slot=slot, generation=generation, pid=proc.pid)
        asyncio.get_running_loop().create_task(proc.watch(self._on_message, self._on_exit))

    def _shared_broken(self, wid: int, reason: str) -> None:
        """A worker that garbles its shared channel is not trusted (as for control)."""
        self.log.error("kill", wid=wid, pid=self._pid(wid), reason=f"shared channel: {reason}")
        if wid in self.procs:
            self.procs[wid].kill()
        self.services.kill(wid)

    def _send(self, wid: int, message: dict[str, Any]) -> None:
        if wid in self.procs:
            self.procs[wid].send(message)

    def _pid(self, wid: int) -> int | None:
        proc = self.procs.get(wid)
        return proc.pid if proc is not None else None

    def _slot(self, wid: int) -> int | None:
        worker = self.policy.workers.get(wid)
        return worker.slot if worker is not None else None

    # -- observations -----------------------------------------------------------------------
    def _on_message(self, wid: int, message: dict[str, Any]) -> None:
        proc = self.procs.get(wid)
        if proc is None:
            return
        now = self.clock()
        kind = message["t"]
        if kind == ctl.READY:
            proc.ready = message
            self.log.info(
                "ready", wid=wid, pid=proc.pid, slot=proc.spec.slot, generation=proc.spec.generation
            )
            # A worker's memory grows while it loads: sample it now, so `wasmd status` never
            # shows a READY worker with the RSS it had at spawn.
            self.policy.handle(p.RssSample(wid, proc.rss_bytes()), now)
            self._apply(self.policy.handle(p.Ready(wid), now))
        elif kind == ctl.LOAD_FAILED and isinstance(message.get("plugin"), str):
            failures = self._load_failures.setdefault(proc.spec.generation, {})
            failures[message["plugin"]] = str(message.get("error", ""))
        elif kind == ctl.HEARTBEAT:
            proc.last_heartbeat = message
            self._heartbeats.seen(wid)
            if isinstance(message.get("metrics"), list):
                self._worker_metrics[wid] = message["metrics"]
            event = p.Heartbeat(
                wid, int(message.get("requests", 0)), int(message.get("in_flight", 0))
            )
            self._apply(self.policy.handle(event, now))

    def _on_exit(self, wid: int, code: int) -> None:
        proc = self.procs.pop(wid, None)
        if proc is not None:
            proc.close()
        self.shared.close(wid)  # its queue registrations go; queued data stays
        self._heartbeats.forget(wid)
        self._retire_metrics(wid)
        worker = self.policy.workers.get(wid)
        level = "info" if worker is None or worker.state is p.WorkerState.DRAINING else "warning"
        getattr(self.log, level)(
            "exit", wid=wid, pid=proc.pid if proc else None, reason=p.exit_reason(code)
        )
        self._apply(self.policy.handle(p.Exited(wid, code), self.clock()))
        self.policy.forget_exited(keep=self.procs)
        self._prune_snapshots()
        if proc is not None:
            self._maybe_quarantine(proc.spec.generation)

    def _maybe_quarantine(self, number: int) -> None:
        """A slot's crash-loop breaker tripped on plugins that fail at start: roll out a
        generation that leaves them out, so the chains that do not need them are served.
        Their own chains get each plugin's failure policy; a reload with a fixed config
        ends the quarantine. Nothing changes when no plugin would be left to serve."""
        gen = self.generations.get(number)
        failures = self._load_failures.get(number)
        if gen is None or not failures or self.rollout.state is model.RolloutState.ROLLING:
            return
        failed = [s for s in self.policy.slots if self.policy.slot_state(s) is p.WorkerState.FAILED]
        if not failed:
            return
        quarantine = dict(gen.quarantine) | failures
        if {spec.name for spec in gen.config.plugins} <= set(quarantine):
            return
        latest = self.generations[max(self.generations)]
        if latest.config == gen.config and set(dict(latest.quarantine)) >= set(quarantine):
            target = latest.number  # already quarantined there: roll the failed slots onto it
            if all(slot.generation == target for slot in failed):
                return  # they failed on the quarantine generation itself: nothing more to do
        else:
            target = max(self.generations) + 1
            self._register(target, gen.config, gen.raw, tuple(sorted(quarantine.items())))
        reason = quarantine_reason(quarantine)
        self.log.error("quarantine", generation=target, plugins=sorted(quarantine), reason=reason)
        self.rollout = model.RolloutStatus(model.RolloutState.ROLLING, target, reason)
        self.notifier.status(f"quarantining {', '.join(sorted(quarantine))}")
        self._apply(self.policy.handle(p.Reload(target), self.clock()))

    # -- native socket ----------------------------------------------------------------------
    def _bind_native(self) -> None:
        """Bind once; workers inherit the fd, so the backlog outlives any one worker."""
        d = self.settings
        d.runtime_dir.mkdir(parents=True, exist_ok=True)
        path = d.native_socket
        _refuse_if_live(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(tmp))
        os.chmod(tmp, d.native_socket_mode)
        sock.listen(LISTEN_BACKLOG)
        os.rename(tmp, path)  # the public path never exists with the wrong mode
        st = os.stat(path)
        self._native, self._native_ino = sock, (st.st_dev, st.st_ino)

    def _close_native(self) -> None:
        if self._native is None:
            return
        self._native.close()
        self._native = None
        path = self.settings.native_socket
        with contextlib.suppress(FileNotFoundError):
            st = os.stat(path)
            if (st.st_dev, st.st_ino) == self._native_ino:
                path.unlink()

    # -- SupervisorControl ------------------------------------------------------------------
    async def refresh(self) -> None:
        """Every worker that heartbeats sends one now; wait for them (bounded)."""
        wids = [wid for wid, proc in self.procs.items() if proc.last_heartbeat]
        marks = self._heartbeats.marks(wids)
        for wid in wids:
            self._send(wid, {"t": ctl.REFRESH})
        await self._heartbeats.wait(marks)

    def status(self) -> model.DaemonStatus:
        now = self.clock()
        workers = tuple(self._slot_status(slot, now) for slot in self.policy.slots)
        live = [proc for proc in self.procs.values() if proc.last_heartbeat]
        return model.DaemonStatus(
            version=__version__,
            pid=os.getpid(),
            uptime_s=now - self.started_at,
            generation=self.serving.number,
            rollout=self.rollout,
            config_path=str(self.config_path or "(built-in default)"),
            workers=workers,
            plugins=plugin_statuses(
                self.serving.config,
                self.serving.module_sha256,
                live,
                refusals(self.shared.store),
            ),
            draining=status_parts.draining_workers(self.policy.workers.values(), self._proc, now),
            sockets=status_parts.sockets(self.settings),
            chains=status_parts.chains(self.serving.config),
            services=self.services.status(now),
        )

    def _proc(self, wid: int) -> tuple[int, float] | None:
        proc = self.procs.get(wid)
        return (proc.pid, proc.cpu_s()) if proc is not None else None

    def _slot_status(self, slot: p.Slot, now: float) -> model.WorkerStatus:
        state = model.SlotState(self.policy.slot_state(slot).value)
        worker = self.policy.workers.get(slot.active) if slot.active is not None else None
        proc = self.procs.get(slot.active) if slot.active is not None else None
        return model.WorkerStatus(
            slot=slot.index,
            pid=proc.pid if proc is not None else None,
            state=state,
            generation=slot.generation,
            uptime_s=now - worker.started_at if worker is not None else 0.0,
            rss_bytes=worker.rss_bytes if worker is not None else 0,
            cpu_s=proc.cpu_s() if proc is not None else 0.0,
            requests_served=worker.requests if worker is not None else 0,
            in_flight=worker.in_flight if worker is not None else 0,
            restarts=slot.restarts,
            last_exit_reason=slot.failed_reason or slot.last_exit_reason or "",
            heartbeat_age_s=(now - worker.last_seen_at)
            if worker is not None and worker.state is not p.WorkerState.SPAWNING
            else None,
        )

    def metrics_text(self) -> str:
        """Workers' plugin metrics and host stats summed (live + retired), then the
        supervisor's own series; a supervisor family never shadows a worker's."""
        out = MetricSet()
        for wid, snapshot in self._worker_metrics.items():
            self._add_snapshot(out, wid, snapshot)
        self._add_snapshot(out, 0, self._retired.snapshot())
        out.add_text(daemon_metrics(self.status()), only_new=True)
        out.add_text(self._shared_metrics(), only_new=True)
        return out.render()

    def _add_snapshot(
        self, out: MetricSet, wid: int, snapshot: list[Any], kinds: frozenset[str] = KINDS
    ) -> None:
        try:
            out.add_snapshot(snapshot, kinds)
        except ValueError as exc:
            self.log.warning("bad_metrics_snapshot", wid=wid, error=str(exc))

    def _retire_metrics(self, wid: int) -> None:
        snapshot = self._worker_metrics.pop(wid, None)
        if snapshot is not None:
            self._add_snapshot(self._retired, wid, snapshot, MONOTONIC_KINDS)

    def _shared_metrics(self) -> str:
        calls, pushes = self.shared.calls, self.shared.pushes
        return (
            "# HELP wasmd_shared_calls_total Shared data and queue calls served to workers.\n"
            "# TYPE wasmd_shared_calls_total counter\n"
            f"wasmd_shared_calls_total {calls}\n"
            "# HELP wasmd_shared_queue_pushes_total Queue-ready pushes to another worker.\n"
            "# TYPE wasmd_shared_queue_pushes_total counter\n"
            f"wasmd_shared_queue_pushes_total {pushes}\n"
        ) + store_metrics(self.shared.store)

    def plugins(self) -> tuple[model.PluginInfo, ...]:
        config = self.serving.config
        return tuple(
            model.PluginInfo(
                name=s.name,
                module=str(s.module),
                module_sha256=self.serving.module_sha256[s.name],
                root_id=s.root_id,
                vm_id=s.vm_id,
                failure_policy=s.failure_policy,
                deadline_ms=s.deadline_ms,
                memory_limit_mib=s.memory_limit_mib,
                chains=tuple(c for c, members in config.chains.items() if s.name in members),
                generation=self.serving.number,
            )
            for s in config.plugins
        )

    async def drain(self, slot: int) -> model.DrainResult:
        if not 0 <= slot < len(self.policy.slots):
            return model.DrainResult(
                model.DrainOutcome.UNKNOWN_SLOT,
                slot,
                message=f"slots are 0..{len(self.policy.slots) - 1}",
            )
        s = self.policy.slots[slot]
        old = s.active
        actions = self.policy.handle(p.DrainSlot(slot), self.clock())
        if not any(isinstance(a, p.Spawn) for a in actions):
            return model.DrainResult(
                model.DrainOutcome.REFUSED,
                slot,
                self._pid(old or 0),
                message="the slot is not serving or already swapping",
            )
        old_pid = self._pid(old or 0)
        self._apply(actions)
        deadline = self.clock() + self.settings.ready_timeout_s
        while s.active == old and self.clock() < deadline:
            await asyncio.sleep(TICK_S)
        if s.active == old:
            return model.DrainResult(
                model.DrainOutcome.FAILED,
                slot,
                old_pid,
                message="the replacement did not get ready",
            )
        return model.DrainResult(
            model.DrainOutcome.DRAINED, slot, old_pid, self._pid(s.active or 0)
        )

    async def reload(self, wait: bool) -> model.ReloadResult:
        """Re-read, canary the changed plugins, then roll; failures keep what serves."""
        async with self._reload_lock:
            result, future = await self._start_reload()
        if future is None or not wait:
            return result
        done = await asyncio.shield(future)
        if done.outcome is not model.ReloadOutcome.SUCCEEDED:
            return done
        # Done means drained: the old generation's workers finish their streams first.
        bound = self.settings.drain_timeout_s + p.DRAIN_GRACE_S + DRAIN_WAIT_MARGIN_S
        left = await drained(self.policy, done.generation, bound, TICK_S)
        state = f"{left} old worker(s) still alive after {bound:g}s" if left else "old drained"
        return model.ReloadResult(done.outcome, done.generation, f"{done.message}; {state}")

    async def _start_reload(
        self,
    ) -> tuple[model.ReloadResult, asyncio.Future[model.ReloadResult] | None]:
        current = self.serving.number
        path = self.config_path
        if path is None:
            return model.ReloadResult(
                model.ReloadOutcome.UNCHANGED, current, "running the built-in default config"
            ), None
        try:
            raw = path.read_bytes()
            config = parse_config(tomllib.loads(raw.decode()), path.absolute())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ConfigError) as exc:
            return self._reload_failed(f"invalid config, keeping generation {current}: {exc}")
        changes = daemon_changes(self.settings, config.daemon)
        if changes.restart:
            return self._reload_failed(changes.refusal(current))
        try:
            config, snapshot = await asyncio.to_thread(resolve_generation, config, raw)
        except ModuleFetchError as exc:
            return self._reload_failed(f"module fetch failed, keeping generation {current}: {exc}")
        digests = module_digests(config)
        changed = changed_plugins(self.serving, config, digests)
        if not changed and config == self.serving.config:
            return model.ReloadResult(model.ReloadOutcome.UNCHANGED, current, "no change"), None
        number = max(self.generations) + 1
        gen = self._register(number, config, snapshot)
        self.rollout = model.RolloutStatus(model.RolloutState.CANARY, number)
        self.notifier.reloading(f"canary for generation {number}")
        error = await self._canary(gen, changed)
        if error is not None:
            return self._reload_failed(f"canary failed, keeping generation {current}: {error}")
        self.rollout = model.RolloutStatus(model.RolloutState.ROLLING, number)
        future: asyncio.Future[model.ReloadResult] = asyncio.get_running_loop().create_future()
        self._rollout_waiters[number] = future
        self.log.info("rollout", generation=number, changed=changed, daemon=changes.live)
        self._apply_live_settings(config.daemon)
        self._apply(self.policy.handle(p.Reload(number), self.clock()))
        message = describe_rollout(number, current, changed, changes)
        return model.ReloadResult(model.ReloadOutcome.STARTED, number, message), future

    def _apply_live_settings(self, settings: DaemonSettings) -> None:
        """The [daemon] keys a reload may change (reload_plan): policy knobs now; the
        worker-side ones come with the new generation's workers."""
        self.settings = settings
        self.policy.settings = policy_settings(settings)
        set_log_level(settings.log_level)

    def _reload_failed(self, message: str) -> tuple[model.ReloadResult, None]:
        self.log.error("reload_failed", reason=message)
        self.notifier.ready(f"reload failed: {message[:200]}")
        self.rollout = model.RolloutStatus(
            model.RolloutState.FAILED, self.rollout.target_generation, message
        )
        return model.ReloadResult(model.ReloadOutcome.FAILED, self.serving.number, message), None

    async def _canary(self, gen: Generation, plugins: list[str]) -> str | None:
        """A throwaway worker compiles, instantiates and configures ``plugins``."""
        if not plugins:
            return None
        argv = [sys.executable, "-m", "workers", "--canary"]
        fd = config_fd(gen.raw) if gen.raw is not None else None
        if fd is not None:
            argv += ["--config-fd", str(fd), "--config-origin", str(gen.config.path)]
        for name in plugins:
            argv += ["--plugin", name]
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                pass_fds=() if fd is None else (fd,),
            )
        finally:
            if fd is not None:
                os.close(fd)
        timeout_s = max(CANARY_TIMEOUT_FLOOR_S, gen.config.daemon.ready_timeout_s)
        try:
            _, err = await asyncio.wait_for(proc.communicate(), timeout_s)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return f"the canary did not finish within {timeout_s:g}s"
        if proc.returncode == 0:
            return None
        lines = [ln for ln in err.decode(errors="replace").splitlines() if ln.strip()]
        return lines[-1] if lines else f"canary exited with {p.exit_reason(proc.returncode or 0)}"

    def _rollout_done(self, generation: int, ok: bool, reason: str) -> None:
        if generation not in self.generations:
            return
        if ok:
            self.serving = self.generations[generation]
            self.services.roll(self._service_generation())
            quarantined = quarantine_reason(dict(self.serving.quarantine))
            self.rollout = model.RolloutStatus(model.RolloutState.IDLE, generation, quarantined)
            result = model.ReloadResult(model.ReloadOutcome.SUCCEEDED, generation, reason)
            self.log.info("rollout_done", generation=generation)
        else:
            self.rollout = model.RolloutStatus(model.RolloutState.FAILED, generation, reason)
            result = model.ReloadResult(model.ReloadOutcome.FAILED, self.serving.number, reason)
            self.log.error("rollout_failed", generation=generation, reason=reason)
        self.notifier.ready(f"generation {self.serving.number}: {reason[:200]}")
        self._prune_snapshots()
        future = self._rollout_waiters.pop(generation, None)
        if future is not None and not future.done():
            future.set_result(result)
        for number in list(self._load_failures):  # slots that failed during the rollout
            self._maybe_quarantine(number)

    def _prune_snapshots(self) -> None:
        """Keep the snapshots of the generations serving, rolling out or still running."""
        in_use = {self.serving.number, max(self.generations)}
        in_use |= {proc.spec.generation for proc in self.procs.values()}
        self.files.prune(in_use)


def quarantine_reason(quarantine: dict[str, str]) -> str:
    """What status says about quarantined plugins ('' when none)."""
    return "; ".join(f"plugin {n} quarantined: {e}" for n, e in sorted(quarantine.items()))


def _refuse_if_live(path: Path) -> None:
    """Remove a stale socket file; refuse to steal the path from a running daemon."""
    if not path.exists():
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        path.unlink()
        return
    finally:
        probe.close()
    raise WasmdError(f"{path}: another wasmd is serving this socket; stop it or pick another path")


def serve(config_path: Path | None) -> int:
    """``wasmd serve``: run the supervisor until stopped; 0 on a clean stop, 78 on bad config."""
    from wasmd.kernel.config import default_config

    try:
        config = load_config(config_path) if config_path is not None else default_config()
    except ConfigError as exc:
        print(f"wasmd serve: {exc}", file=sys.stderr)
        return 78  # EX_CONFIG: systemd's Restart= should not hammer a broken file
    from wasmd.kernel import logs

    try:
        files = prepare(config.daemon)  # the directory checks and the lock, before any write
    except ConfigError as exc:
        print(f"wasmd serve: {exc}", file=sys.stderr)
        return 78
    except WasmdError as exc:
        print(f"wasmd serve: {exc}", file=sys.stderr)
        return 1
    logs.configure(
        config.daemon.log_level,
        stream=sys.stdout,
        process={"process": "supervisor", "pid": os.getpid()},
    )
    logs.pass_format_to_children(sys.stdout)
    try:
        return asyncio.run(Supervisor(config, files=files).run())
    except WasmdError as exc:
        print(f"wasmd serve: {exc}", file=sys.stderr)
        return 1
    finally:
        files.close(clean=False)  # run() already cleaned up after a clean stop
