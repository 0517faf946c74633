"""What a reload may change in ``[daemon]`` while the daemon runs, and what needs a restart.

A reload rolls out a new generation: its workers read their own config snapshot, so every
worker-side key takes effect as each slot is swapped, and the supervisor's policy knobs
are swapped in when the rollout starts. Keys that name the daemon's sockets and slots are
bound once at start; a reload that changes one is refused as a whole ("restart required
for daemon.X"), so the daemon never runs half of a config.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from wasmd.kernel.config import DaemonSettings
from wasmd.supervisor.policy import Policy, Worker, WorkerState

# Bound at start: the slot table, the runtime directory and every socket (path and mode).
RESTART_KEYS: tuple[str, ...] = (
    "workers",
    "runtime_dir",
    "native_socket",
    "native_socket_mode",
    "admin_socket",
    "admin_socket_mode",
    "extproc_socket_prefix",
)


@dataclass(frozen=True, slots=True)
class DaemonChanges:
    """The ``[daemon]`` keys a new config changes, split by how they can be applied."""

    restart: tuple[str, ...]  # refused: need ``systemctl restart wasmd``
    live: tuple[str, ...]  # applied by the reload (the new generation / the policy)

    def refusal(self, generation: int) -> str:
        keys = ", ".join(f"daemon.{k}" for k in self.restart)
        return (
            f"restart required for {keys} (bound when the daemon started); nothing was "
            f"applied, still serving generation {generation}"
        )


def daemon_changes(old: DaemonSettings, new: DaemonSettings) -> DaemonChanges:
    """Which ``[daemon]`` keys differ between ``old`` and ``new``, in declaration order."""
    changed = [
        f.name
        for f in dataclasses.fields(DaemonSettings)
        if getattr(old, f.name) != getattr(new, f.name)
    ]
    return DaemonChanges(
        restart=tuple(k for k in changed if k in RESTART_KEYS),
        live=tuple(k for k in changed if k not in RESTART_KEYS),
    )


def describe_rollout(number: int, serving: int, plugins: list[str], changes: DaemonChanges) -> str:
    """The message of a started rollout: what it changes and that it is not serving yet."""
    parts = [f"generation {serving} serves each slot until it is swapped to {number}"]
    parts.append(f"plugins changed: {', '.join(plugins)}" if plugins else "no plugin changed")
    if changes.live:
        parts.append("daemon settings applied: " + ", ".join(f"daemon.{k}" for k in changes.live))
    return "; ".join(parts)


def older_workers(workers: Iterable[Worker], generation: int) -> list[Worker]:
    """Live workers of a generation before ``generation`` (draining after a rollout)."""
    return [w for w in workers if w.generation < generation and w.state is not WorkerState.EXITED]


async def drained(policy: Policy, generation: int, timeout_s: float, tick_s: float) -> int:
    """Wait until no worker older than ``generation`` is alive (they drain, then exit, or
    the policy kills them past the drain timeout); the number still alive at ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while (left := len(older_workers(policy.workers.values(), generation))) and (
        loop.time() < deadline
    ):
        await asyncio.sleep(tick_s)
    return left
