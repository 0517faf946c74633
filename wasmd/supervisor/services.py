"""The service host as the supervisor sees it: one process for the daemon's ``[[services]]``.

Services (plugins without a request path, Envoy's singleton ``envoy.bootstrap.wasm``) must
run once per daemon, not once per worker: one extra child, ``python -m workers --services``,
spawned with the workers' machinery (control channel, shared channel, pidfd), serving no
socket. Contract:

1. At most one host runs at a time, so a service never runs twice (not even during a
   reload: the old host is drained, and only once it exited is the new one spawned).
2. A host that exits unasked (crash, load error, heartbeat timeout, SIGKILL) is restarted
   after the workers' restart backoff; more than ``crash_loop_max_restarts`` exits within
   ``crash_loop_window_s`` mark it FAILED until the next reload that changes the services.
3. ``roll(generation)`` moves the host to a generation whose services differ (spec or
   module bytes); a generation without services stops it.
"""

from __future__ import annotations

import asyncio
import enum
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wasmd.admin import model
from wasmd.kernel import control as ctl
from wasmd.kernel.config import DaemonConfig, PluginSpec
from wasmd.kernel.logs import get_logger
from wasmd.supervisor import policy as p
from wasmd.supervisor.children import SpawnSpec, WorkerProcess

HOST_WID_BASE = 1 << 40  # service hosts' ids: never one of the policy's worker ids
DRAIN_GRACE_S = 5.0  # a draining host gets this long for its services' proxy_on_done


class HostState(enum.Enum):
    STARTING = "starting"  # spawned, not READY yet
    RUNNING = "running"
    DRAINING = "draining"  # told to stop for a reload or shutdown
    BACKOFF = "backoff"  # exited unasked: waiting before the restart
    FAILED = "failed"  # crash loop: not restarted until a reload changes the services
    STOPPED = "stopped"  # no services configured


@dataclass(frozen=True, slots=True)
class ServiceGeneration:
    """What a host of one generation runs (the supervisor's Generation, reduced)."""

    number: int
    snapshot: Path | None
    origin: Path | None
    services: tuple[PluginSpec, ...]
    digests: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls, number: int, snapshot: Path | None, config: DaemonConfig, digests: Mapping[str, str]
    ) -> ServiceGeneration:
        names = {s.name for s in config.services}
        own = {k: v for k, v in digests.items() if k in names}
        return cls(number, snapshot, config.path, config.services, own)

    def same_services(self, other: ServiceGeneration) -> bool:
        return self.services == other.services and dict(self.digests) == dict(other.digests)


Spawn = Callable[[SpawnSpec], WorkerProcess]


class ServiceHost:
    """Spawns, watches, restarts and rolls the one service host (see the module doc)."""

    def __init__(
        self,
        settings: p.PolicySettings,
        spawn: Spawn,
        open_shared: Callable[[int], Any],
        close_shared: Callable[[int], None],
        clock: Callable[[], float],
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self._spawn_process = spawn
        self._open_shared = open_shared
        self._close_shared = close_shared
        self.clock = clock
        self.rng = rng or random.Random()
        self.log = get_logger(component="services")
        self.state = HostState.STOPPED
        self.target: ServiceGeneration | None = None  # what should run
        self.proc: WorkerProcess | None = None
        self.generation = 0  # the generation the current (or last) host runs
        self.restarts = 0
        self.last_exit_reason = ""
        self.started_at = 0.0
        self.last_seen_at = 0.0
        self._next_wid = HOST_WID_BASE
        self._crash_times: list[float] = []
        self._consecutive = 0
        self._backoff_until: float | None = None
        self._drain_deadline: float | None = None
        self._stopping = False
        self._pending_reason = ""  # why the current host will exit, when it says or we know

    # -- commands ---------------------------------------------------------------------------
    def start(self, gen: ServiceGeneration) -> None:
        """Run ``gen``'s services (if any) for the first time."""
        self.target = gen
        if gen.services:
            self._spawn()

    def roll(self, gen: ServiceGeneration) -> None:
        """Move to ``gen`` if its services differ from what runs; no-op otherwise."""
        current = self.target
        if current is not None and current.same_services(gen):
            self.target = gen if self.proc is None else current
            return
        self.target = gen
        self._crash_times.clear()
        self._consecutive = 0
        self._backoff_until = None
        if self.proc is not None:
            self._drain("reload")
        elif gen.services:
            self._spawn()
        else:
            self.state = HostState.STOPPED

    def stop(self) -> None:
        """Daemon shutdown: ask the host to stop; ``close`` kills what is left."""
        self._stopping = True
        if self.proc is not None and self.state is not HostState.DRAINING:
            self._drain("shutdown")

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.close()
            self._close_shared(self.proc.spec.wid)
            self.proc = None

    # -- observations ---------------------------------------------------------------------
    def owns(self, wid: int) -> bool:
        return self.proc is not None and self.proc.spec.wid == wid

    def kill(self, wid: int) -> None:
        """SIGKILL the host if it is ``wid`` (it garbled its shared channel: not trusted)."""
        if self.proc is not None and self.proc.spec.wid == wid:
            self._kill("shared channel broken")

    def on_message(self, wid: int, message: dict[str, Any]) -> None:
        if not self.owns(wid):
            return
        assert self.proc is not None
        kind = message.get("t")
        self.last_seen_at = self.clock()
        if kind == ctl.READY:
            self.proc.ready = message
            if self.state is HostState.STARTING:
                self.state = HostState.RUNNING
                self._consecutive = 0
            self.log.info("service_host_ready", pid=self.proc.pid, generation=self.generation)
        elif kind == ctl.HEARTBEAT:
            self.proc.last_heartbeat = message
        elif kind == ctl.LOAD_FAILED:  # at start, or a fail_closed service failed later
            self._pending_reason = f"service {message.get('plugin')}: {message.get('error')}"

    def on_exit(self, wid: int, code: int) -> None:
        if not self.owns(wid):
            return
        assert self.proc is not None
        planned = self.state is HostState.DRAINING
        say = self.log.info if planned else self.log.error
        say("service_host_exit", pid=self.proc.pid, code=code, reason=p.exit_reason(code))
        self.proc.close()
        self._close_shared(wid)
        self.proc = None
        self._drain_deadline = None
        if self._stopping:
            self.state = HostState.STOPPED
            return
        if planned:
            if self.target is not None and self.target.services:
                self._spawn()
            else:
                self.state = HostState.STOPPED
            return
        self.last_exit_reason = self._pending_reason or p.exit_reason(code)
        self._crashed()

    def tick(self, now: float) -> None:
        """Heartbeat and ready timeouts, drain deadline, backoff expiry."""
        proc, state, limits = self.proc, self.state, self.settings
        if proc is None:
            due = self._backoff_until is not None and now >= self._backoff_until
            if state is HostState.BACKOFF and due:
                self._spawn()
        elif self._drain_deadline is not None and now >= self._drain_deadline:
            proc.kill()
        elif state is HostState.STARTING and now - self.started_at > limits.ready_timeout_s:
            self._kill("ready timeout")
        elif (
            state is HostState.RUNNING
            and now - self.last_seen_at > self.settings.heartbeat_timeout_s
        ):
            self._kill("heartbeat timeout")

    # -- internals --------------------------------------------------------------------------
    def _spawn(self) -> None:
        gen = self.target
        assert gen is not None
        wid = self._next_wid
        self._next_wid += 1
        theirs = self._open_shared(wid)
        spec = SpawnSpec(
            wid, 0, gen.number, gen.snapshot, gen.origin, None, theirs.fileno(), services=True
        )
        try:
            self.proc = self._spawn_process(spec)
        except BaseException:
            self._close_shared(wid)
            raise
        finally:
            theirs.close()
        asyncio.get_running_loop().create_task(self.proc.watch(self.on_message, self.on_exit))
        self.generation = gen.number
        self._pending_reason = ""
        self.state = HostState.STARTING
        self._backoff_until = None
        self.started_at = self.last_seen_at = self.clock()
        self.log.info("service_host_spawn", pid=self.proc.pid, generation=gen.number)

    def _drain(self, why: str) -> None:
        assert self.proc is not None
        self.state = HostState.DRAINING
        self._drain_deadline = self.clock() + DRAIN_GRACE_S
        self.log.info("service_host_drain", pid=self.proc.pid, reason=why)
        self.proc.send({"t": ctl.DRAIN, "timeout_s": DRAIN_GRACE_S})

    def _kill(self, reason: str) -> None:
        assert self.proc is not None
        self.log.warning("service_host_kill", pid=self.proc.pid, reason=reason)
        self._pending_reason = reason
        self.proc.kill()

    def _crashed(self) -> None:
        now = self.clock()
        window = self.settings.crash_loop_window_s
        self._crash_times = [t for t in self._crash_times if t >= now - window] + [now]
        self._consecutive += 1
        self.restarts += 1
        if len(self._crash_times) > self.settings.crash_loop_max_restarts:
            self.state = HostState.FAILED
            self.last_exit_reason = (
                f"{len(self._crash_times)} exits within {window:g}s "
                f"(last: {self.last_exit_reason}); fix the service and reload"
            )
            self.log.error("service_host_failed", reason=self.last_exit_reason)
            return
        delay = p.backoff_delay_s(self._consecutive, self.settings, self.rng)
        self._backoff_until = now + delay
        self.state = HostState.BACKOFF

    # -- status -------------------------------------------------------------------------------
    def status(self, now: float) -> tuple[model.ServiceStatus, ...]:
        """One row per configured service; the host's process fields repeat in each."""
        gen = self.target
        if gen is None:
            return ()
        proc = self.proc
        beat = proc.last_heartbeat.get("plugins", {}) if proc is not None else {}
        rows = []
        for spec in gen.services:
            stats = beat.get(spec.name, {}) if isinstance(beat, dict) else {}
            rows.append(
                model.ServiceStatus(
                    name=spec.name,
                    module_sha256=gen.digests.get(spec.name, ""),
                    state=model.ServiceState(self.state.value),
                    pid=proc.pid if proc is not None else None,
                    generation=self.generation,
                    uptime_s=now - self.started_at if proc is not None else 0.0,
                    rss_bytes=proc.rss_bytes() if proc is not None else 0,
                    restarts=self.restarts,
                    last_exit_reason=self.last_exit_reason,
                    vm_count=int(stats.get("vms", 0)),
                    failed_vms=int(stats.get("failed_vms", 0)),
                    reloads=int(stats.get("reloads", 0)),
                )
            )
        return tuple(rows)
