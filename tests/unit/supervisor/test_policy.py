"""The supervisor policy under a fake clock: events in, actions out, no processes."""

from __future__ import annotations

import random

import pytest

from wasmd.supervisor.policy import (
    TRANSITIONS,
    Drain,
    DrainSlot,
    ExitDaemon,
    Exited,
    Heartbeat,
    Kill,
    Policy,
    PolicySettings,
    Ready,
    Reload,
    RolloutDone,
    RssSample,
    SlotFailed,
    Spawn,
    Stop,
    WorkerState,
    backoff_delay_s,
    exit_reason,
)

S = WorkerState


def make(workers: int = 2, **overrides: float) -> tuple[Policy, list[int]]:
    """A policy with every initial worker spawned and READY at t=0."""
    settings = PolicySettings(workers=workers, **overrides)  # type: ignore[arg-type]
    policy = Policy(settings, random.Random(7))
    spawns = policy.start(0.0)
    wids = [a.wid for a in spawns if isinstance(a, Spawn)]
    for wid in wids:
        policy.handle(Ready(wid), 0.0)
    policy.tick(0.0)
    return policy, wids


def spawns(actions: list[object]) -> list[Spawn]:
    return [a for a in actions if isinstance(a, Spawn)]


def test_start_spawns_one_worker_per_slot_with_stable_slots() -> None:
    policy = Policy(PolicySettings(workers=3), random.Random(1))
    actions = policy.start(0.0)
    assert [(a.slot, a.generation) for a in spawns(actions)] == [(0, 1), (1, 1), (2, 1)]
    assert [policy.slot_state(s) for s in policy.slots] == [S.SPAWNING] * 3


def test_transitions_table_is_closed() -> None:
    for state, targets in TRANSITIONS.items():
        assert targets <= set(TRANSITIONS), state
    assert TRANSITIONS[S.EXITED] == frozenset()


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (0, "exited 0"),
        (1, "exit 1"),
        (2, "exit 2: config or plugin load error"),
        (-9, "SIGKILL"),
        (-6, "SIGABRT (out of memory in wasmtime?)"),
        (-11, "signal 11"),
    ],
)
def test_exit_reasons(code: int, reason: str) -> None:
    assert exit_reason(code) == reason


@pytest.mark.parametrize(
    ("code", "immediate"),
    [(1, True), (-9, True), (-6, True), (0, True), (2, False)],
)
def test_first_crash_restarts_at_once_except_load_errors(code: int, immediate: bool) -> None:
    policy, wids = make()
    actions = policy.handle(Exited(wids[0], code), 5.0)
    assert bool(spawns(actions)) is immediate
    slot = policy.slots[0]
    assert slot.restarts == 1
    assert slot.last_exit_reason == exit_reason(code)
    if not immediate:
        assert policy.slot_state(slot) is S.BACKOFF
        assert spawns(policy.tick(5.0 + 0.2)) != []


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    settings = PolicySettings(restart_backoff_base_s=0.1, restart_backoff_cap_s=2.0)
    rng = random.Random(3)
    assert backoff_delay_s(1, settings, rng) == 0.0
    for n, nominal in [(2, 0.1), (3, 0.2), (4, 0.4), (5, 0.8), (9, 2.0)]:
        d = backoff_delay_s(n, settings, rng)
        assert nominal * 0.75 <= d <= min(2.0, nominal * 1.25), (n, d)


def test_repeated_crashes_back_off_then_trip_the_breaker() -> None:
    policy, wids = make(crash_loop_max_restarts=3, crash_loop_window_s=60.0)
    now, wid = 1.0, wids[0]
    delays = []
    for _ in range(3):
        actions = policy.handle(Exited(wid, 1), now)
        while not spawns(actions):
            now += 0.01
            actions = policy.tick(now)
        delays.append(now)
        wid = spawns(actions)[0].wid
    actions = policy.handle(Exited(wid, 1), now)
    failed = [a for a in actions if isinstance(a, SlotFailed)]
    assert failed and failed[0].slot == 0 and "4 crashes" in failed[0].reason
    assert policy.slot_state(policy.slots[0]) is S.FAILED
    assert spawns(policy.tick(now + 1000)) == []  # no spinning
    assert policy.slot_state(policy.slots[1]) is S.READY  # the other slot is untouched


def test_crashes_outside_the_window_do_not_count() -> None:
    policy, wids = make(crash_loop_max_restarts=2, crash_loop_window_s=10.0)
    wid = wids[0]
    for i in range(6):
        actions = policy.handle(Exited(wid, -9), 100.0 * (i + 1))
        wid = spawns(actions + policy.tick(100.0 * (i + 1) + 50))[0].wid
        policy.handle(Ready(wid), 100.0 * (i + 1) + 50)
    assert policy.slot_state(policy.slots[0]) is S.READY
    assert policy.slots[0].restarts == 6


def test_silent_worker_is_killed_after_heartbeat_timeout_and_replaced() -> None:
    policy, wids = make(heartbeat_timeout_s=10.0)
    policy.handle(Heartbeat(wids[1], 5, 0), 8.0)
    actions = policy.tick(10.5)
    kills = [a for a in actions if isinstance(a, Kill)]
    assert [k.wid for k in kills] == [wids[0]]
    assert "heartbeat" in kills[0].reason
    assert policy.tick(10.6) == []  # killed once, not again every tick
    actions = policy.handle(Exited(wids[0], -9), 10.7)
    assert [a.slot for a in spawns(actions)] == [0]
    assert policy.slots[0].last_exit_reason == "killed: no heartbeat for 10s"


def test_worker_not_ready_in_time_is_killed() -> None:
    policy = Policy(PolicySettings(workers=1, ready_timeout_s=3.0), random.Random(1))
    (spawn,) = spawns(policy.start(0.0))
    assert policy.tick(2.9) == []
    assert [type(a) for a in policy.tick(3.1)] == [Kill]


@pytest.mark.parametrize(
    ("event", "reason_part"),
    [
        (RssSample(1, 600 << 20), "rss 600 MiB"),
        (Heartbeat(1, 1000, 0), "served 1000 requests"),
    ],
)
def test_recycle_starts_the_replacement_first_then_drains(event: object, reason_part: str) -> None:
    policy, wids = make(workers=1, max_requests=1000, rss_soft_limit_bytes=512 << 20)
    policy.workers[1].request_limit = 1000  # no jitter for the table
    policy.handle(event, 1.0)  # type: ignore[arg-type]
    actions = policy.tick(1.0)
    (spawn,) = spawns(actions)
    assert policy.workers[1].recycle_reason is not None
    assert reason_part in policy.workers[1].recycle_reason
    assert policy.slot_state(policy.slots[0]) is S.READY  # the old worker still serves
    assert policy.tick(1.1) == []  # one replacement, not one per tick
    actions = policy.handle(Ready(spawn.wid), 2.0)
    assert actions == [Drain(wids[0], policy.settings.drain_timeout_s)]
    assert policy.slots[0].active == spawn.wid
    assert policy.handle(Exited(wids[0], 0), 3.0) == []
    assert policy.slots[0].restarts == 0


def test_max_requests_gets_jitter() -> None:
    policy, _ = make(workers=8, max_requests=1000)
    limits = {w.request_limit for w in policy.workers.values()}
    assert all(1000 <= n <= 1100 for n in limits) and len(limits) > 1


def test_operator_drain_recycles_one_slot() -> None:
    policy, wids = make()
    actions = policy.handle(DrainSlot(1), 1.0)
    assert [(a.slot, a.generation) for a in spawns(actions)] == [(1, 1)]


def test_draining_worker_past_the_timeout_is_killed() -> None:
    policy, wids = make(workers=1, drain_timeout_s=5.0)
    (spawn,) = spawns(policy.handle(DrainSlot(0), 0.0))
    policy.handle(Ready(spawn.wid), 1.0)
    policy.handle(Heartbeat(wids[0], 0, 1), 7.0)
    kills = [a for a in policy.tick(8.5) if isinstance(a, Kill)]
    assert [k.wid for k in kills] == [wids[0]]


def roll(policy: Policy, generation: int, now: float) -> list[object]:
    """Run a rollout to the end, every replacement READY at once; return all actions."""
    log: list[object] = []
    actions = policy.handle(Reload(generation), now)
    while True:
        log += actions
        new = spawns(actions)
        if not new:
            return log
        actions = policy.handle(Ready(new[0].wid), now)


def test_rollout_swaps_one_slot_at_a_time() -> None:
    policy, wids = make(workers=3)
    log = roll(policy, 2, 1.0)
    kinds = [(type(a).__name__, getattr(a, "slot", getattr(a, "wid", None))) for a in log]
    assert kinds == [
        ("Spawn", 0), ("Drain", wids[0]),
        ("Spawn", 1), ("Drain", wids[1]),
        ("Spawn", 2), ("Drain", wids[2]),
        ("RolloutDone", None),
    ]  # fmt: skip
    assert [s.generation for s in policy.slots] == [2, 2, 2]
    assert log[-1] == RolloutDone(2, True, "every slot swapped")


def test_rollout_stops_when_a_replacement_crashes_and_old_keeps_serving() -> None:
    policy, wids = make(workers=2)
    (first,) = spawns(policy.handle(Reload(2), 1.0))
    actions = policy.handle(Exited(first.wid, 2), 1.5)
    done = [a for a in actions if isinstance(a, RolloutDone)]
    assert done and not done[0].ok and "slot 0" in done[0].reason
    assert [s.generation for s in policy.slots] == [1, 1]
    assert [policy.slot_state(s) for s in policy.slots] == [S.READY, S.READY]
    assert spawns(policy.tick(100.0)) == []


def test_rollout_stops_when_a_replacement_is_never_ready() -> None:
    policy, wids = make(workers=2, ready_timeout_s=5.0)
    (first,) = spawns(policy.handle(Reload(2), 1.0))
    (kill,) = [a for a in policy.tick(7.0) if isinstance(a, Kill)]
    assert kill.wid == first.wid
    actions = policy.handle(Exited(first.wid, -9), 7.1)
    assert any(isinstance(a, RolloutDone) and not a.ok for a in actions)
    assert policy.slots[0].active == wids[0]


def test_reload_revives_failed_slots_with_the_new_generation() -> None:
    policy, wids = make(workers=1, crash_loop_max_restarts=0)
    assert any(isinstance(a, SlotFailed) for a in policy.handle(Exited(wids[0], 2), 1.0))
    actions = policy.handle(Reload(2), 2.0) + policy.tick(2.0)
    assert [(a.slot, a.generation) for a in spawns(actions)] == [(0, 2)]


def test_graceful_stop_drains_everything_then_exits_zero() -> None:
    policy, wids = make(workers=2)
    actions = policy.handle(Stop(graceful=True), 1.0)
    assert sorted(a.wid for a in actions if isinstance(a, Drain)) == sorted(wids)
    assert policy.handle(Exited(wids[0], 0), 1.5) == []
    assert policy.handle(Exited(wids[1], 0), 1.6) == [ExitDaemon(0)]


def test_fast_stop_kills_everything() -> None:
    policy, wids = make(workers=2)
    actions = policy.handle(Stop(graceful=False), 1.0)
    assert sorted(a.wid for a in actions if isinstance(a, Kill)) == sorted(wids)
    policy.handle(Exited(wids[0], -9), 1.1)
    assert policy.handle(Exited(wids[1], -9), 1.1) == [ExitDaemon(0)]


def test_crash_of_the_old_worker_during_a_swap_promotes_the_replacement() -> None:
    policy, wids = make(workers=1)
    (new,) = spawns(policy.handle(Reload(2), 1.0))
    actions = policy.handle(Exited(wids[0], -9), 1.2)
    assert spawns(actions) == []  # no second spawn: the replacement takes the slot
    actions = policy.handle(Ready(new.wid), 1.5)
    assert policy.slots[0].generation == 2
    assert any(isinstance(a, RolloutDone) and a.ok for a in actions)


def test_a_recycle_shows_its_replacement_crash_and_a_draining_worker_killed() -> None:
    """Status (restarts, last exit) shows what went wrong during a recycle."""
    policy, wids = make(workers=1, drain_timeout_s=5.0)
    (first,) = spawns(policy.handle(DrainSlot(0), 0.0))
    policy.handle(Exited(first.wid, 1), 0.5)  # the replacement crashed: the old one serves
    assert policy.slots[0].restarts == 1
    assert policy.slots[0].last_exit_reason == "exit 1"
    assert policy.slot_state(policy.slots[0]) is S.READY
    (second,) = spawns(policy.handle(DrainSlot(0), 1.0))
    policy.handle(Ready(second.wid), 1.5)
    policy.tick(9.0)  # the old worker is past its drain timeout: killed
    policy.handle(Exited(wids[0], -9), 9.1)
    assert policy.slots[0].last_exit_reason.startswith("draining worker killed")
    assert policy.slots[0].restarts == 1  # not a restart: the slot was served throughout
