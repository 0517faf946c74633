"""The supervisor's policy: what to spawn, kill, drain or give up on next. No I/O.

Events and ``now`` go in, actions come out; the shell (``wasmd.supervisor.loop``) turns
actions into ``subprocess``/``os.kill``/control-channel calls and turns what it observes
(exits, READY and HEARTBEAT frames, RSS samples) back into events.

Rules, each from an incident in prior art (see /work/shared/reference/supervisors.md):

1. A slot is a stable identity; the process behind it changes (restart, recycle, rollout).
2. A worker is READY only when it says so (plugins loaded and configured, socket served).
3. A crash (any exit of a worker nobody asked to stop) is replaced at once the first time,
   then after an exponential backoff with jitter; exit code 2 (config or plugin load
   error) never restarts at once (nginx: exit 2 means "do not respawn").
4. More than ``crash_loop_max_restarts`` crashes within ``crash_loop_window_s`` mark the
   slot FAILED: reported, not respawned, until the next reload (supervisord's FATAL).
5. A worker silent past ``heartbeat_timeout_s`` is SIGKILLed and then counts as a crash
   (gunicorn's timeout); a worker not READY within ``ready_timeout_s`` likewise.
6. Recycling (RSS over the soft limit, max requests + jitter, operator drain) starts the
   replacement first and drains the old worker only once the replacement is READY, so a
   slot never stops serving (uWSGI reload-on-rss, done gracefully).
7. A rollout replaces one slot at a time with the same replacement-first step; a
   replacement that crashes or is not READY in time stops the rollout, and the slots not
   yet swapped keep the old generation.
8. A draining worker past ``drain_timeout_s`` is SIGKILLed.
9. Graceful stop drains every worker and exits 0 once all have exited; fast stop kills.
"""

from __future__ import annotations

import enum
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

EXIT_LOAD_ERROR = 2  # the worker's contract: config/plugin load error, do not respawn fast
SIGABRT = 6  # wasmtime aborts (not raises) when its own allocations fail under RLIMIT_DATA
SIGKILL = 9
JITTER_FRACTION = 0.25  # backoff delays vary by +-25 % so slots that crash together spread out
MAX_REQUESTS_JITTER_FRACTION = 0.10  # gunicorn's max_requests_jitter, as a fraction
DRAIN_GRACE_S = 2.0  # the worker enforces the drain timeout itself; SIGKILL only if it did not


class WorkerState(enum.Enum):
    SPAWNING = "spawning"
    READY = "ready"
    DRAINING = "draining"
    EXITED = "exited"
    BACKOFF = "backoff"  # slot only: waiting before the next restart
    FAILED = "failed"  # slot only: crash-loop breaker tripped


# Transitions of one worker process, as data. BACKOFF and FAILED describe slots.
TRANSITIONS: dict[WorkerState, frozenset[WorkerState]] = {
    WorkerState.SPAWNING: frozenset({WorkerState.READY, WorkerState.EXITED}),
    WorkerState.READY: frozenset({WorkerState.DRAINING, WorkerState.EXITED}),
    WorkerState.DRAINING: frozenset({WorkerState.EXITED}),
    WorkerState.EXITED: frozenset(),
}


class Mode(enum.Enum):
    RUNNING = "running"
    STOPPING = "stopping"  # graceful: drain everything, then exit
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """The knobs the policy reads (a projection of the daemon config)."""

    workers: int = 2
    heartbeat_timeout_s: float = 10.0
    ready_timeout_s: float = 30.0
    drain_timeout_s: float = 30.0
    rss_soft_limit_bytes: int = 512 << 20
    max_requests: int = 0
    restart_backoff_base_s: float = 0.1
    restart_backoff_cap_s: float = 30.0
    crash_loop_max_restarts: int = 5
    crash_loop_window_s: float = 60.0


# -- events ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Ready:
    wid: int


@dataclass(frozen=True, slots=True)
class Heartbeat:
    wid: int
    requests: int
    in_flight: int


@dataclass(frozen=True, slots=True)
class RssSample:
    wid: int
    rss_bytes: int


@dataclass(frozen=True, slots=True)
class Exited:
    """``code`` is the exit status, or -signal when a signal ended the process."""

    wid: int
    code: int


@dataclass(frozen=True, slots=True)
class Reload:
    generation: int


@dataclass(frozen=True, slots=True)
class DrainSlot:
    slot: int


@dataclass(frozen=True, slots=True)
class Stop:
    graceful: bool


Event = Ready | Heartbeat | RssSample | Exited | Reload | DrainSlot | Stop


# -- actions --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Spawn:
    wid: int
    slot: int
    generation: int


@dataclass(frozen=True, slots=True)
class Drain:
    wid: int
    timeout_s: float


@dataclass(frozen=True, slots=True)
class Kill:
    wid: int
    reason: str


@dataclass(frozen=True, slots=True)
class SlotFailed:
    slot: int
    reason: str


@dataclass(frozen=True, slots=True)
class RolloutDone:
    generation: int
    ok: bool
    reason: str


@dataclass(frozen=True, slots=True)
class ExitDaemon:
    code: int


Action = Spawn | Drain | Kill | SlotFailed | RolloutDone | ExitDaemon


# -- state ----------------------------------------------------------------------------------
@dataclass(slots=True)
class Worker:
    wid: int
    slot: int
    generation: int
    state: WorkerState
    started_at: float
    last_seen_at: float
    request_limit: int  # 0 = unlimited
    ready_at: float | None = None
    drain_started_at: float | None = None
    requests: int = 0
    in_flight: int = 0
    rss_bytes: int = 0
    kill_reason: str | None = None
    recycle_reason: str | None = None


@dataclass(slots=True)
class Slot:
    index: int
    generation: int
    active: int | None = None  # wid serving (or spawning to serve) this slot
    successor: int | None = None  # wid spawning to replace ``active``
    restarts: int = 0
    consecutive_crashes: int = 0
    crash_times: deque[float] = field(default_factory=deque)
    backoff_until: float | None = None
    failed_reason: str | None = None
    last_exit_reason: str | None = None


def exit_reason(code: int) -> str:
    """Human reason for an exit status (``-N`` = killed by signal N)."""
    if code == 0:
        return "exited 0"
    if code == EXIT_LOAD_ERROR:
        return "exit 2: config or plugin load error"
    if code == -SIGABRT:
        return "SIGABRT (out of memory in wasmtime?)"
    if code == -SIGKILL:
        return "SIGKILL"
    if code < 0:
        return f"signal {-code}"
    return f"exit {code}"


def backoff_delay_s(consecutive: int, settings: PolicySettings, rng: random.Random) -> float:
    """0 for the first crash, then base * 2^(n-2) capped, with +-25 % jitter (<= cap)."""
    if consecutive <= 1:
        return 0.0
    raw = settings.restart_backoff_base_s * 2 ** (consecutive - 2)
    jittered = min(settings.restart_backoff_cap_s, raw) * rng.uniform(
        1 - JITTER_FRACTION, 1 + JITTER_FRACTION
    )
    return float(min(settings.restart_backoff_cap_s, jittered))


class Policy:
    """Slots, workers and the rollout; ``handle``/``tick`` return the actions to perform."""

    def __init__(self, settings: PolicySettings, rng: random.Random, generation: int = 1) -> None:
        self.settings = settings
        self.rng = rng
        self.mode = Mode.RUNNING
        self.generation = generation  # the configured (target) generation
        self.slots = [Slot(i, generation) for i in range(settings.workers)]
        self.workers: dict[int, Worker] = {}
        self.rollout: deque[int] = deque()  # slots still to swap, head = in progress
        self.rollout_reason = "initial generation"
        self._next_wid = 1
        self._exit_code = 0

    # -- queries ----------------------------------------------------------------------------
    def slot_state(self, slot: Slot) -> WorkerState:
        """What status shows for a slot."""
        if slot.failed_reason is not None:
            return WorkerState.FAILED
        if slot.active is None:
            return WorkerState.BACKOFF if slot.backoff_until is not None else WorkerState.EXITED
        return self.workers[slot.active].state

    def live_workers(self) -> list[Worker]:
        return [w for w in self.workers.values() if w.state is not WorkerState.EXITED]

    # -- entry points -----------------------------------------------------------------------
    def start(self, now: float) -> list[Action]:
        """Spawn the initial worker of every slot."""
        return [self._spawn(slot, slot.generation, now) for slot in self.slots]

    def handle(self, event: Event, now: float) -> list[Action]:
        """Apply one event; return the actions it calls for (then ``tick`` as usual)."""
        match event:
            case Ready(wid):
                return self._on_ready(wid, now)
            case Heartbeat(wid, requests, in_flight):
                return self._on_heartbeat(wid, requests, in_flight, now)
            case RssSample(wid, rss):
                worker = self.workers.get(wid)
                if worker is not None:
                    worker.rss_bytes = rss
                return []
            case Exited(wid, code):
                return self._on_exit(wid, code, now)
            case Reload(generation):
                return self._on_reload(generation, now)
            case DrainSlot(index):
                return self._recycle(self.slots[index], "operator drain", now)
            case Stop(graceful):
                return self._on_stop(graceful, now)
        raise AssertionError(f"unknown event {event!r}")

    def tick(self, now: float) -> list[Action]:
        """Time-driven decisions: timeouts, backoff expiry, recycling, rollout progress."""
        actions: list[Action] = []
        for worker in self.live_workers():
            actions += self._check_timeouts(worker, now)
        if self.mode is Mode.RUNNING:
            for slot in self.slots:
                actions += self._converge(slot, now)
            actions += self._advance_rollout(now)
        actions += self._maybe_exit()
        return actions

    # -- events -----------------------------------------------------------------------------
    def _on_ready(self, wid: int, now: float) -> list[Action]:
        worker = self.workers.get(wid)
        if worker is None or worker.state is not WorkerState.SPAWNING:
            return []
        self._move(worker, WorkerState.READY)
        worker.ready_at = worker.last_seen_at = now
        slot = self.slots[worker.slot]
        slot.consecutive_crashes = 0
        if self.mode is not Mode.RUNNING:
            return [self._drain(worker, now)]
        if slot.successor == wid:
            return self._promote(slot, worker, now)
        if slot.active == wid:
            slot.generation = worker.generation
            return self._advance_rollout(now)
        return []

    def _promote(self, slot: Slot, successor: Worker, now: float) -> list[Action]:
        """The replacement is READY: it takes the slot, the old worker drains."""
        old = self.workers[slot.active] if slot.active is not None else None
        slot.active, slot.successor = successor.wid, None
        slot.generation = successor.generation
        actions: list[Action] = []
        if old is not None and old.state is WorkerState.READY:
            actions.append(self._drain(old, now))
        elif old is not None and old.state is WorkerState.SPAWNING:
            actions.append(self._kill(old, "replaced before it was ready"))
        return actions + self._advance_rollout(now)

    def _on_heartbeat(self, wid: int, requests: int, in_flight: int, now: float) -> list[Action]:
        worker = self.workers.get(wid)
        if worker is None or worker.state is WorkerState.EXITED:
            return []
        worker.last_seen_at = now
        worker.requests, worker.in_flight = requests, in_flight
        return []

    def _on_exit(self, wid: int, code: int, now: float) -> list[Action]:
        worker = self.workers.get(wid)
        if worker is None or worker.state is WorkerState.EXITED:
            return []
        was = worker.state
        self._move(worker, WorkerState.EXITED)
        slot = self.slots[worker.slot]
        reason = exit_reason(code)
        if worker.kill_reason is not None:
            reason = f"killed: {worker.kill_reason}"
        if was is WorkerState.DRAINING or self.mode is not Mode.RUNNING:
            if was is WorkerState.DRAINING and code != 0 and self.mode is Mode.RUNNING:
                # Not a restart (the slot is served), but status must show it.
                slot.last_exit_reason = f"draining worker {reason}"
            self._detach(slot, wid)
            return self._maybe_exit()
        slot.last_exit_reason = reason
        return self._on_crash(slot, worker, code, now)

    def _on_crash(self, slot: Slot, worker: Worker, code: int, now: float) -> list[Action]:
        slot.restarts += 1
        slot.consecutive_crashes += 1 if code != EXIT_LOAD_ERROR else 2
        slot.crash_times.append(now)
        while slot.crash_times and slot.crash_times[0] < now - self.settings.crash_loop_window_s:
            slot.crash_times.popleft()
        actions: list[Action] = []
        if slot.successor == worker.wid:
            slot.successor = None
            if self.rollout and self.rollout[0] == slot.index:
                actions += self._abort_rollout(
                    f"replacement for slot {slot.index} {slot.last_exit_reason} before it was ready"
                )
            elif slot.active is not None:
                self.workers[slot.active].recycle_reason = None  # retry after the backoff
        elif slot.active == worker.wid:
            # A replacement already spawning takes over the slot instead of a second spawn.
            slot.active, slot.successor = slot.successor, None
        if len(slot.crash_times) > self.settings.crash_loop_max_restarts:
            return actions + self._fail(slot, now)
        delay = backoff_delay_s(slot.consecutive_crashes, self.settings, self.rng)
        slot.backoff_until = now + delay
        return actions + self._converge(slot, now)

    def _fail(self, slot: Slot, now: float) -> list[Action]:
        reason = (
            f"{len(slot.crash_times)} crashes within {self.settings.crash_loop_window_s:g}s "
            f"(last: {slot.last_exit_reason})"
        )
        slot.failed_reason = reason
        slot.backoff_until = None
        actions: list[Action] = [SlotFailed(slot.index, reason)]
        if slot.successor is not None:  # the old worker may still serve; the new one is done
            actions.append(self._kill(self.workers[slot.successor], "slot failed"))
        return actions

    def _on_reload(self, generation: int, now: float) -> list[Action]:
        if self.mode is not Mode.RUNNING:
            return []
        actions: list[Action] = []
        if self.rollout:
            actions += self._abort_rollout(f"superseded by generation {generation}")
        self.generation = generation
        self.rollout_reason = ""
        for slot in self.slots:
            if slot.failed_reason is not None:  # a new config deserves a fresh start
                slot.failed_reason = None
                slot.crash_times.clear()
                slot.consecutive_crashes = 0
                slot.generation = generation
                slot.backoff_until = now
            elif slot.generation != generation:
                self.rollout.append(slot.index)
        return actions + self._advance_rollout(now)

    def _on_stop(self, graceful: bool, now: float) -> list[Action]:
        if self.mode is Mode.STOPPED:
            return []
        self.mode = Mode.STOPPING
        self.rollout.clear()
        actions: list[Action] = []
        for worker in self.live_workers():
            if graceful and worker.state is WorkerState.READY:
                actions.append(self._drain(worker, now))
            elif worker.state is not WorkerState.DRAINING or not graceful:
                actions.append(self._kill(worker, "fast stop" if not graceful else "stopping"))
        for slot in self.slots:
            slot.backoff_until = None
        return actions + self._maybe_exit()

    # -- time -------------------------------------------------------------------------------
    def _check_timeouts(self, worker: Worker, now: float) -> list[Action]:
        if worker.kill_reason is not None:
            return []
        s = self.settings
        if worker.state is WorkerState.SPAWNING and now - worker.started_at > s.ready_timeout_s:
            return [self._kill(worker, f"not ready within {s.ready_timeout_s:g}s")]
        if worker.state is WorkerState.DRAINING:
            assert worker.drain_started_at is not None
            if now - worker.drain_started_at > s.drain_timeout_s + DRAIN_GRACE_S:
                return [self._kill(worker, f"drain exceeded {s.drain_timeout_s:g}s")]
        alive = worker.state in (WorkerState.READY, WorkerState.DRAINING)
        if alive and now - worker.last_seen_at > s.heartbeat_timeout_s:
            return [self._kill(worker, f"no heartbeat for {s.heartbeat_timeout_s:g}s")]
        return []

    def _converge(self, slot: Slot, now: float) -> list[Action]:
        """Keep one worker per healthy slot; start recycles that are due."""
        if slot.failed_reason is not None:
            return []
        if slot.active is None:
            if slot.backoff_until is not None and now < slot.backoff_until:
                return []
            return [self._spawn(slot, slot.generation, now)]
        worker = self.workers[slot.active]
        reason = self._recycle_due(worker)
        if reason is not None and worker.recycle_reason is None:
            return self._recycle(slot, reason, now)
        return []

    def _recycle_due(self, worker: Worker) -> str | None:
        if worker.state is not WorkerState.READY:
            return None
        if worker.rss_bytes > self.settings.rss_soft_limit_bytes:
            return f"rss {worker.rss_bytes >> 20} MiB above the soft limit"
        if worker.request_limit and worker.requests >= worker.request_limit:
            return f"served {worker.requests} requests"
        return None

    def _recycle(self, slot: Slot, reason: str, now: float) -> list[Action]:
        if slot.active is None or slot.successor is not None or self.mode is not Mode.RUNNING:
            return []
        if slot.backoff_until is not None and now < slot.backoff_until:
            return []
        self.workers[slot.active].recycle_reason = reason
        return [self._spawn(slot, slot.generation, now, successor=True)]

    def _advance_rollout(self, now: float) -> list[Action]:
        while self.rollout:
            slot = self.slots[self.rollout[0]]
            if slot.generation == self.generation or slot.failed_reason is not None:
                self.rollout.popleft()
                continue
            if slot.successor is not None:
                return []  # a swap (or a recycle, whose promotion comes first) is in progress
            if slot.active is None:  # crashed or backing off: its restart takes the new config
                slot.generation = self.generation
                self.rollout.popleft()
                continue
            active = self.workers[slot.active]
            if active.state is WorkerState.SPAWNING:
                return []  # a restart is under way; it may already run the new generation
            return [self._spawn(slot, self.generation, now, successor=True)]
        if not self.rollout_reason:
            self.rollout_reason = "done"
            return [RolloutDone(self.generation, True, "every slot swapped")]
        return []

    def _abort_rollout(self, reason: str) -> list[Action]:
        self.rollout.clear()
        self.rollout_reason = reason
        return [RolloutDone(self.generation, False, reason)]

    def _maybe_exit(self) -> list[Action]:
        if self.mode is Mode.STOPPING and not self.live_workers():
            self.mode = Mode.STOPPED
            return [ExitDaemon(self._exit_code)]
        return []

    # -- helpers ----------------------------------------------------------------------------
    def _spawn(self, slot: Slot, generation: int, now: float, successor: bool = False) -> Spawn:
        wid = self._next_wid
        self._next_wid += 1
        limit = self.settings.max_requests
        if limit:
            limit += self.rng.randint(0, int(limit * MAX_REQUESTS_JITTER_FRACTION))
        state = WorkerState.SPAWNING
        self.workers[wid] = Worker(wid, slot.index, generation, state, now, now, limit)
        if successor:
            slot.successor = wid
        else:
            slot.active = wid
            slot.backoff_until = None
        return Spawn(wid, slot.index, generation)

    def _drain(self, worker: Worker, now: float) -> Drain:
        self._move(worker, WorkerState.DRAINING)
        worker.drain_started_at = worker.last_seen_at = now
        return Drain(worker.wid, self.settings.drain_timeout_s)

    def _kill(self, worker: Worker, reason: str) -> Kill:
        worker.kill_reason = reason
        return Kill(worker.wid, reason)

    def _detach(self, slot: Slot, wid: int) -> None:
        if slot.active == wid:
            slot.active = None
        if slot.successor == wid:
            slot.successor = None

    @staticmethod
    def _move(worker: Worker, state: WorkerState) -> None:
        if state not in TRANSITIONS[worker.state]:
            raise AssertionError(f"worker {worker.wid}: {worker.state.name} -> {state.name}")
        worker.state = state

    def forget_exited(self, keep: Iterable[int] = ()) -> None:
        """Drop records of exited workers (status keeps the slots' last exit reasons)."""
        keep_set = set(keep)
        for wid in [w for w, r in self.workers.items() if r.state is WorkerState.EXITED]:
            if wid not in keep_set:
                del self.workers[wid]
