"""Tests for workers/contexts/policy.py: backoff and PluginHandle admission (reference §2.7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from wasmd.kernel.errors import PluginLoadError, PluginTrap
from workers.contexts.plugin import FailurePolicy
from workers.contexts.policy import (
    RELOAD_BACKOFF_CAP_S,
    Admission,
    PluginHandle,
    PluginState,
    reload_delay_s,
)


@pytest.mark.parametrize(
    ("failures", "delay"),
    [
        (-1, 0.0),
        (0, 0.0),
        (1, 0.0),
        (2, 1.0),
        (3, 2.0),
        (4, 4.0),
        (7, 32.0),
        (8, 60.0),
        (100, 60.0),
        (1025, 60.0),
    ],
)
def test_reload_delay_s(failures: int, delay: float) -> None:
    assert reload_delay_s(failures) == delay


@pytest.mark.parametrize("failures", [1026, 10_000])
def test_reload_delay_s_does_not_overflow(failures: int) -> None:
    """Regression: reload_delay_s(n) raised OverflowError for n >= 1026 (not the cap).

    ``RELOAD_BACKOFF_BASE_S * 2 ** (n - 2)`` converts a >1024-bit int to float. A plugin
    under the reload policy that keeps failing (one rebuild a minute once capped) reaches
    1026 consecutive failures after ~17 hours, and from then on every admit() raises.
    """
    assert reload_delay_s(failures) == RELOAD_BACKOFF_CAP_S


def test_reload_delay_is_monotonic_and_capped() -> None:
    delays = [reload_delay_s(n) for n in range(50)]
    assert delays == sorted(delays)
    assert max(delays) == RELOAD_BACKOFF_CAP_S


@dataclass
class FakeVm:
    serial: int
    failed: PluginTrap | None = None
    closed: int = 0

    def close(self) -> None:
        self.closed += 1


@dataclass
class Factory:
    """Builds FakeVms; ``fail_next`` makes the next builds raise PluginLoadError."""

    built: list[FakeVm] = field(default_factory=list)
    fail_next: int = 0

    def __call__(self) -> Any:
        if self.fail_next:
            self.fail_next -= 1
            raise PluginLoadError("compile failed: bad magic")
        vm = FakeVm(len(self.built))
        self.built.append(vm)
        return vm


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def make(policy: FailurePolicy) -> tuple[PluginHandle, Factory, Clock]:
    factory, clock = Factory(), Clock()
    return PluginHandle("p", policy, factory, clock=clock), factory, clock


def fail(handle: PluginHandle, kind: str = "trap") -> FakeVm:
    """What PluginVm.invoke + the exchange do on a trap: mark the VM failed, report it."""
    vm = handle.vm
    assert vm is not None
    trap = PluginTrap(f"wasm trap: {kind}", kind)
    vm.failed = trap  # type: ignore[attr-defined]
    handle.report(vm, trap)  # type: ignore[arg-type]
    return vm  # type: ignore[return-value]


@pytest.mark.parametrize("policy", list(FailurePolicy))
def test_healthy_vm_runs(policy: FailurePolicy) -> None:
    handle, factory, _ = make(policy)
    assert handle.admit() == (Admission.RUN, factory.built[0])


@pytest.mark.parametrize(
    ("policy", "admission"),
    [(FailurePolicy.FAIL_OPEN, Admission.SKIP), (FailurePolicy.FAIL_CLOSED, Admission.REJECT)],
)
def test_failed_vm_without_reload(policy: FailurePolicy, admission: Admission) -> None:
    handle, factory, clock = make(policy)
    fail(handle)
    for _ in range(3):
        clock.now += 3600
        assert handle.admit() == (admission, None)
    assert len(factory.built) == 1  # never rebuilt
    assert handle.stats.reloads == 0


def test_reload_rebuilds_immediately_after_first_failure() -> None:
    handle, factory, _ = make(FailurePolicy.RELOAD)
    old = fail(handle)
    admission, vm = handle.admit()
    assert admission is Admission.RUN and vm is factory.built[1]
    assert old.closed == 1
    assert handle.vm is vm
    assert handle.stats.reloads == 1


def test_reload_backs_off_after_repeated_failures() -> None:
    handle, factory, clock = make(FailurePolicy.RELOAD)
    fail(handle)
    handle.admit()  # rebuild #1, immediate
    fail(handle)  # second consecutive failure: 1 s backoff
    clock.now += 0.5
    assert handle.admit() == (Admission.REJECT, None)
    clock.now += 0.5
    assert handle.admit()[0] is Admission.RUN
    fail(handle)  # third: 2 s
    clock.now += 1.9
    assert handle.admit() == (Admission.REJECT, None)
    clock.now += 0.1
    assert handle.admit()[0] is Admission.RUN
    assert len(factory.built) == 4
    assert handle.stats.reloads == 3


def test_success_resets_the_backoff() -> None:
    handle, _, clock = make(FailurePolicy.RELOAD)
    fail(handle)
    handle.admit()
    handle.report_success()
    fail(handle)  # counts as a first failure again: rebuild at once
    assert handle.admit()[0] is Admission.RUN


def test_rebuild_failure_is_counted_and_backoff_grows() -> None:
    handle, factory, clock = make(FailurePolicy.RELOAD)
    fail(handle)
    factory.fail_next = 3
    assert handle.admit() == (Admission.REJECT, None)  # rebuild #1 fails
    assert handle.vm is None
    assert handle.stats.reload_failures == 1
    assert handle.last_error == "compile failed: bad magic"
    clock.now += 0.9
    assert handle.admit() == (Admission.REJECT, None)  # backing off 1 s
    assert handle.stats.reloads == 1
    clock.now += 0.1
    assert handle.admit() == (Admission.REJECT, None)  # rebuild #2 fails
    clock.now += 2.0
    assert handle.admit() == (Admission.REJECT, None)  # rebuild #3 fails (after 2 s)
    assert handle.stats.reload_failures == 3
    clock.now += 3.9
    assert handle.admit() == (Admission.REJECT, None)  # 4 s now: still waiting
    assert handle.stats.reloads == 3
    clock.now += 0.1
    assert handle.admit()[0] is Admission.RUN
    assert handle.stats.reloads == 4


def test_admit_after_a_day_of_failures_does_not_raise() -> None:
    """Regression: after 1026 consecutive failures under RELOAD, admit() raises OverflowError
    (from reload_delay_s) instead of rejecting or rebuilding."""
    handle, factory, clock = make(FailurePolicy.RELOAD)
    fail(handle)
    factory.fail_next = 10**6  # the plugin no longer even loads
    for _ in range(1030):
        clock.now += RELOAD_BACKOFF_CAP_S
        assert handle.admit() == (Admission.REJECT, None)


def test_stats_by_trap_kind() -> None:
    handle, _, _ = make(FailurePolicy.RELOAD)
    for kind in ("trap", "deadline", "memory", "exit", "trap"):
        fail(handle, kind)
        handle.admit()
        handle.report_success()
    s = handle.stats
    assert (s.failed_vms, s.traps, s.deadline_hits, s.memory_failures) == (5, 2, 1, 1)
    assert s.reloads == 5


def test_report_for_a_stale_vm_is_ignored() -> None:
    handle, _, _ = make(FailurePolicy.RELOAD)
    old = fail(handle)
    handle.admit()  # replaced
    handle.report(old, PluginTrap("late", "trap"))  # type: ignore[arg-type]
    assert handle.stats.failed_vms == 1
    assert handle.admit()[0] is Admission.RUN


def test_close_is_idempotent() -> None:
    handle, factory, _ = make(FailurePolicy.FAIL_CLOSED)
    handle.close()
    handle.close()
    assert factory.built[0].closed == 1
    assert handle.admit() == (Admission.REJECT, None)


# -- a plugin that failed to load (the worker stays up) ---------------------------------------


def failed_at_load(policy: FailurePolicy) -> tuple[PluginHandle, Factory, Clock]:
    factory, clock = Factory(fail_next=2), Clock()
    handle = PluginHandle.failed_at_load("p", policy, factory, "configure failed", clock=clock)
    return handle, factory, clock


@pytest.mark.parametrize(
    ("policy", "admission"),
    [(FailurePolicy.FAIL_OPEN, Admission.SKIP), (FailurePolicy.FAIL_CLOSED, Admission.REJECT)],
)
def test_failed_at_load_answers_by_policy_and_never_retries(
    policy: FailurePolicy, admission: Admission
) -> None:
    handle, factory, clock = failed_at_load(policy)
    assert handle.state is PluginState.FAILED and handle.last_error == "configure failed"
    assert handle.stats.load_failures == 1
    clock.now += 3600
    assert handle.admit() == (admission, None)
    assert factory.fail_next == 2  # the factory was not called again


def test_failed_at_load_under_reload_retries_with_backoff_until_it_loads() -> None:
    handle, factory, clock = failed_at_load(FailurePolicy.RELOAD)
    factory.fail_next = 1  # the next load fails too, the one after succeeds
    assert handle.admit() == (Admission.REJECT, None)  # the first retry waits the base 1 s
    clock.now += 1.0
    assert handle.admit() == (Admission.REJECT, None)  # retried, failed again: now 2 s
    assert factory.fail_next == 0 and handle.stats.reload_failures == 1
    clock.now += 1.5
    assert handle.admit() == (Admission.REJECT, None)  # not due yet
    clock.now += 0.5
    admission, vm = handle.admit()
    assert admission is Admission.RUN and vm is factory.built[0]
    assert handle.state is PluginState.LOADED
