"""The service host: the one process that runs the daemon's ``[[services]]``.

A service is a Proxy-Wasm plugin without a request path (Envoy's ``envoy.bootstrap.wasm``
with ``singleton: true``): its root context starts, is configured, and then lives on
ticks, HTTP/gRPC callouts and queue callbacks, publishing through shared data and shared
queues. Those live in the supervisor, so the HTTP plugins of every worker see them.

The supervisor spawns ``python -m workers --services`` with the same control and shared
channels as a worker (READY, HEARTBEAT, DRAIN, STOP, exit codes as in ``process.py``); it
binds no socket. A service whose VM fails (trap, CPU deadline, memory) gets its
``failure_policy``:

- ``reload``: a fresh VM in this process, with the plugins' capped backoff (1, 2, 4 ... 60 s);
- ``fail_closed`` (the default): this process exits with a crash code, so the supervisor
  restarts the whole host with its restart backoff and crash-loop limit;
- ``fail_open``: the service stays stopped (status shows it failed) until the next reload
  or host restart; the other services keep running.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from wasmd.kernel import control as ctl
from wasmd.kernel.config import DaemonConfig
from wasmd.kernel.logs import get_logger
from workers.contexts.plugin import FailurePolicy
from workers.contexts.policy import PluginHandle
from workers.process import EXIT_CRASH, WorkerArgs, WorkerRunner

WATCH_INTERVAL_S = 0.1  # how often failed services are looked at (a failed VM is idle)


def services_config(config: DaemonConfig) -> DaemonConfig:
    """``config`` with its services in place of its plugins, and one empty chain: the
    worker machinery then loads exactly the services and no request ever runs them."""
    return dataclasses.replace(
        config,
        plugins=config.services,
        chains={config.daemon.default_chain: ()},
        services=(),
    )


def failed(handle: PluginHandle) -> bool:
    vm = handle.vm
    return vm is None or vm.failed is not None


class ServiceHostRunner(WorkerRunner):
    """A WorkerRunner over the services that serves no face and applies failure policies."""

    def __init__(
        self, config: DaemonConfig, args: WorkerArgs, identity: tuple[int, int] | None = None
    ) -> None:
        # ``identity``: the unprivileged user to drop to once the services started, as a
        # worker does (a root supervisor's service host must not run plugin code as root).
        super().__init__(services_config(config), args, identity)
        self.log = get_logger(component="service-host", generation=args.generation)
        self._given_up: set[str] = set()
        self._watcher: asyncio.Task[None] | None = None

    async def _serve(self) -> None:
        """No socket: the services run on their own timers and callbacks."""
        assert self.service is not None
        self.log.info("services_started", services=sorted(self.service.handles))
        self._watcher = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_INTERVAL_S)
            self.check()

    def check(self) -> None:
        """Apply each failed service's failure policy (see the module doc)."""
        assert self.service is not None
        for name, handle in self.service.handles.items():
            if not failed(handle) or name in self._given_up:
                continue
            if handle.policy is FailurePolicy.RELOAD:
                _, vm = handle.admit()  # rebuilds once the backoff allows
                if vm is not None:
                    self.log.warning("service_reloaded", service=name)
            elif handle.policy is FailurePolicy.FAIL_OPEN:
                self._given_up.add(name)
                self.log.error("service_stopped", service=name, error=handle.last_error)
            else:
                self.log.error("service_failed", service=name, error=handle.last_error)
                # The supervisor shows this as the host's last exit reason.
                self._send({"t": ctl.LOAD_FAILED, "plugin": name, "error": handle.last_error})
                self._finish(EXIT_CRASH)
                return

    def _ready(self) -> dict[str, Any]:
        message = super()._ready()
        message["services"] = True
        return message

    async def _close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
        await super()._close()
