"""Parts of ``wasmd status`` beyond the slot table: draining workers, sockets, chains.

Pure functions over what the supervisor already holds (policy workers, processes, the
serving config); ``Supervisor.status`` assembles them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from wasmd.admin import model
from wasmd.kernel.config import DaemonConfig, DaemonSettings
from wasmd.supervisor.policy import Worker, WorkerState

# (pid, cpu seconds) of a live worker, or None when no process is known for it.
ProcInfo = Callable[[int], tuple[int, float] | None]


def draining_workers(
    workers: Iterable[Worker], proc_info: ProcInfo, now: float
) -> tuple[model.WorkerStatus, ...]:
    """Every DRAINING worker (a swap replaced it; it finishes its streams), by slot."""
    out = []
    for w in sorted(workers, key=lambda w: (w.slot, w.wid)):
        if w.state is not WorkerState.DRAINING:
            continue
        info = proc_info(w.wid)
        out.append(
            model.WorkerStatus(
                slot=w.slot,
                pid=info[0] if info is not None else None,
                state=model.SlotState.DRAINING,
                generation=w.generation,
                uptime_s=now - w.started_at,
                rss_bytes=w.rss_bytes,
                cpu_s=info[1] if info is not None else 0.0,
                requests_served=w.requests,
                in_flight=w.in_flight,
                restarts=0,
                last_exit_reason=f"draining: {w.recycle_reason or 'replaced'}",
                heartbeat_age_s=now - w.last_seen_at,
            )
        )
    return tuple(out)


def sockets(d: DaemonSettings) -> tuple[model.SocketStatus, ...]:
    """The native and admin sockets and each slot's ext_proc socket, with their modes."""
    out = [
        model.SocketStatus("native", str(d.native_socket), d.native_socket_mode),
        model.SocketStatus("admin", str(d.admin_socket), d.admin_socket_mode),
    ]
    # The workers bind their ext_proc sockets with the native socket's mode.
    out += [
        model.SocketStatus(f"extproc-{slot}", str(d.extproc_socket(slot)), d.native_socket_mode)
        for slot in range(d.workers)
    ]
    return tuple(out)


def chains(config: DaemonConfig) -> tuple[model.ChainStatus, ...]:
    default = config.daemon.default_chain
    return tuple(
        model.ChainStatus(name, tuple(members), name == default)
        for name, members in config.chains.items()
    )
