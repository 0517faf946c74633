"""Failure policy per plugin: fail_open, fail_closed, reload (fresh VM with capped backoff).

A trap, CPU-deadline hit or memory failure marks that VM failed; other plugins and VMs
are untouched. ``PluginHandle`` owns the current VM of one configured plugin and decides,
for each new stream, whether it runs the plugin, skips it (fail_open) or answers 503
(fail_closed, or reload while backing off), as Envoy's PluginConfig does.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass

from wasmd.kernel.errors import PluginLoadError, PluginTrap
from workers.contexts.plugin import FailurePolicy, PluginVm

RELOAD_BACKOFF_BASE_S = 1.0  # Envoy's ReloadConfig default base interval
RELOAD_BACKOFF_CAP_S = 60.0  # a query of death must not rebuild the VM more than once a minute
_MAX_EXPONENT = 32  # far past the cap for any sane base


def reload_delay_s(consecutive_failures: int) -> float:
    """Exponential backoff before the next VM rebuild: 0 for the first, then 1, 2, 4 ... 60 s."""
    if consecutive_failures <= 1:
        return 0.0
    # Cap the exponent first: 2 ** n as a float overflows after ~1000 failures (a day of
    # rebuilding a query of death once a minute).
    exponent = min(consecutive_failures - 2, _MAX_EXPONENT)
    return float(min(RELOAD_BACKOFF_CAP_S, RELOAD_BACKOFF_BASE_S * 2**exponent))


class PluginState(enum.Enum):
    """What ``wasmd status`` shows for a plugin in one worker."""

    LOADED = "loaded"  # a live VM serves its streams
    FAILED = "failed"  # it failed to load, or its VM failed and was not rebuilt (yet)
    QUARANTINED = "quarantined"  # the supervisor told this worker not to load it


class Admission(enum.Enum):
    RUN = "run"  # run the plugin
    SKIP = "skip"  # fail open: the exchange continues as if the plugin were absent
    REJECT = "reject"  # fail closed: local 503


@dataclass(slots=True)
class PluginStats:
    failed_vms: int = 0
    traps: int = 0
    deadline_hits: int = 0
    memory_failures: int = 0
    reloads: int = 0
    reload_failures: int = 0
    load_failures: int = 0


class PluginHandle:
    """The current VM of one plugin plus its failure policy. One event loop owns it."""

    def __init__(
        self,
        name: str,
        policy: FailurePolicy,
        factory: Callable[[], PluginVm],
        *,
        clock: Callable[[], float] = time.monotonic,
        quarantined: str | None = None,
        load_error: str | None = None,
    ) -> None:
        """``quarantined``: why the plugin is never loaded (see ``quarantine``).
        ``load_error``: why ``factory`` already failed once (see ``failed_at_load``)."""
        self.name = name
        self.policy = policy
        self._factory = factory
        self._clock = clock
        self.stats = PluginStats()
        self.quarantined = quarantined is not None
        self._consecutive_failures = 0
        self._failed_at = 0.0
        self.last_error: str | None = quarantined
        self.vm: PluginVm | None = None
        if load_error is not None:
            self.stats.load_failures += 1
            self._note_failure(load_error)
            # The immediate retry a runtime failure gets is the load itself: the reload
            # policy's first rebuild waits the backoff base (1 s), then doubles.
            self._consecutive_failures = 2
        elif quarantined is None:
            self.vm = factory()
            if self.vm.failed is not None:  # loaded, but failed in a nested call (allocator)
                self.stats.failed_vms += 1
                self._note_failure(str(self.vm.failed))

    @classmethod
    def quarantine(cls, name: str, policy: FailurePolicy, reason: str) -> PluginHandle:
        """A plugin the daemon found failing at start: never loaded; its streams get its
        failure policy (fail_open skips it, anything else answers 503)."""

        def refuse() -> PluginVm:
            raise PluginLoadError(reason, plugin=name)

        return cls(name, policy, refuse, quarantined=reason)

    @classmethod
    def failed_at_load(
        cls,
        name: str,
        policy: FailurePolicy,
        factory: Callable[[], PluginVm],
        error: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> PluginHandle:
        """A plugin whose load (compile, instantiate, start or configure) failed with
        ``error``: its streams get its failure policy at once (fail_open skips it,
        fail_closed answers 503) and, under the reload policy, ``factory`` is retried
        with the usual backoff (1, 2, 4 ... 60 s) when a stream needs the plugin."""
        return cls(name, policy, factory, clock=clock, load_error=error)

    @property
    def state(self) -> PluginState:
        if self.quarantined:
            return PluginState.QUARANTINED
        if self.vm is not None and self.vm.failed is None:
            return PluginState.LOADED
        return PluginState.FAILED

    def admit(self) -> tuple[Admission, PluginVm | None]:
        """Decide for a new stream; may rebuild a failed VM under the reload policy."""
        if not self.quarantined:
            vm = self.vm
            if vm is not None and vm.failed is None:
                return Admission.RUN, vm
            if self.policy is FailurePolicy.RELOAD and self._reload_due():
                vm = self._rebuild()
                if vm is not None:
                    return Admission.RUN, vm
        return (
            Admission.SKIP if self.policy is FailurePolicy.FAIL_OPEN else Admission.REJECT
        ), None

    def _reload_due(self) -> bool:
        return self._clock() - self._failed_at >= reload_delay_s(self._consecutive_failures)

    def _rebuild(self) -> PluginVm | None:
        if self.vm is not None:
            self.vm.close()
            self.vm = None
        self.stats.reloads += 1
        try:
            self.vm = self._factory()
        except PluginLoadError as exc:
            self.stats.reload_failures += 1
            self._note_failure(str(exc))
            return None
        if self.vm.failed is not None:  # failed in a nested call while it loaded
            self.stats.reload_failures += 1
            self._note_failure(str(self.vm.failed))
            return None
        return self.vm

    def report(self, vm: PluginVm, trap: PluginTrap) -> None:
        """A call into ``vm`` failed: count it; the VM stays failed until rebuilt."""
        if vm is not self.vm:
            return
        self.stats.failed_vms += 1
        self.stats.traps += trap.kind == "trap"
        self.stats.deadline_hits += trap.kind == "deadline"
        self.stats.memory_failures += trap.kind == "memory"
        self._note_failure(str(trap))

    def report_success(self) -> None:
        self._consecutive_failures = 0

    def _note_failure(self, message: str) -> None:
        self._consecutive_failures += 1
        self._failed_at = self._clock()
        self.last_error = message

    def close(self) -> None:
        if self.vm is not None:
            self.vm.close()
            self.vm = None
