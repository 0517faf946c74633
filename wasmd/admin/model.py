"""What the admin face exposes: the status snapshot, command results, and the supervisor seam.

The supervisor fills these frozen dataclasses from its slot table and the workers' last
heartbeats; ``wasmd.admin.server`` translates them to ``wasmd.v1.Admin`` messages and the
CLI translates them back. Nothing here does I/O.

Units are in the field names: seconds (``_s``), bytes (``_bytes``), microseconds (``_us``).
Values that may not exist yet (a pid while no process serves a slot, a heartbeat age before
the first heartbeat) are ``None``, never a magic number.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from wasmd.kernel.visibility import NO_POLICY, VisibilitySpec


class SlotState(enum.Enum):
    """Lifecycle of the process behind a worker slot (see ARCHITECTURE.md, Processes)."""

    SPAWNING = "spawning"
    READY = "ready"
    DRAINING = "draining"
    EXITED = "exited"
    BACKOFF = "backoff"
    FAILED = "failed"


class RolloutState(enum.Enum):
    """Where the daemon is in rolling out a new config generation."""

    IDLE = "idle"
    CANARY = "canary"
    ROLLING = "rolling"
    FAILED = "failed"


class ReloadOutcome(enum.Enum):
    STARTED = "started"
    SUCCEEDED = "succeeded"
    UNCHANGED = "unchanged"
    FAILED = "failed"


class DrainOutcome(enum.Enum):
    DRAINED = "drained"
    UNKNOWN_SLOT = "unknown_slot"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    """One worker slot, as of the supervisor's last look at it."""

    slot: int
    pid: int | None
    state: SlotState
    generation: int
    uptime_s: float
    rss_bytes: int
    cpu_s: float
    requests_served: int
    in_flight: int
    restarts: int
    last_exit_reason: str = ""
    heartbeat_age_s: float | None = None


@dataclass(frozen=True, slots=True)
class PluginStatus:
    """One configured plugin, summed over all workers (quantiles from merged histograms)."""

    name: str
    module_sha256: str
    vm_count: int = 0
    failed_vms: int = 0
    traps: int = 0
    deadline_hits: int = 0
    reloads: int = 0
    calls: int = 0
    p50_call_us: float = 0.0
    p99_call_us: float = 0.0
    visibility: VisibilitySpec = NO_POLICY  # the effective policy (docs/visibility.md)


@dataclass(frozen=True, slots=True)
class RolloutStatus:
    state: RolloutState = RolloutState.IDLE
    target_generation: int = 0
    last_error: str = ""


@dataclass(frozen=True, slots=True)
class DaemonStatus:
    """The whole snapshot behind ``wasmd status``."""

    version: str
    pid: int
    uptime_s: float
    generation: int
    rollout: RolloutStatus
    config_path: str
    workers: tuple[WorkerStatus, ...]
    plugins: tuple[PluginStatus, ...]


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """``message`` says why for FAILED (the operator reads it); a summary otherwise."""

    outcome: ReloadOutcome
    generation: int
    message: str = ""


@dataclass(frozen=True, slots=True)
class DrainResult:
    outcome: DrainOutcome
    slot: int
    old_pid: int | None = None
    new_pid: int | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """A configured plugin of the serving generation (``ListPlugins``)."""

    name: str
    module: str
    module_sha256: str
    root_id: str
    vm_id: str
    failure_policy: str
    deadline_ms: int
    memory_limit_mib: int
    chains: tuple[str, ...]
    generation: int


class SupervisorControl(Protocol):
    """What the admin server needs from the supervisor; the supervisor implements it.

    Every method runs on the supervisor's asyncio loop. The sync methods must not block
    (serve from state the loop already holds). The async ones may take as long as the
    operation does; the client's deadline bounds the wait, and a cancelled call must not
    cancel the rollout or drain it started. Raising ``wasmd.kernel.errors.WasmdError`` reports
    its message to the caller as a failed precondition; anything else is an internal error.
    """

    def status(self) -> DaemonStatus:
        """A consistent snapshot of the daemon, its slots and its plugins."""
        ...

    async def reload(self, wait: bool) -> ReloadResult:
        """Re-read the config and roll it out; with ``wait``, return when it is done.

        An invalid config or failing canary returns FAILED with the reason and leaves the
        serving generation untouched.
        """
        ...

    async def drain(self, slot: int) -> DrainResult:
        """Replace the worker of ``slot`` (replacement ready first), then drain the old one."""
        ...

    def metrics_text(self) -> str:
        """Prometheus text exposition over all workers, plugin metrics included."""
        ...

    def plugins(self) -> tuple[PluginInfo, ...]:
        """The configured plugins of the serving generation, in config order."""
        ...
