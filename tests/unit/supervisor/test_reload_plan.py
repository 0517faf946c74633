"""wasmd/supervisor/reload_plan.py and wasmd/admin/progress.py (pure)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from wasmd.admin import model, progress
from wasmd.kernel.config import default_config
from wasmd.supervisor.reload_plan import RESTART_KEYS, daemon_changes, describe_rollout


def test_restart_keys_are_refused_and_the_rest_applied() -> None:
    old = default_config().daemon
    new = dataclasses.replace(
        old, workers=old.workers + 1, admin_socket=Path("/x.sock"), max_requests=5
    )
    changes = daemon_changes(old, new)
    assert changes.restart == ("workers", "admin_socket")
    assert changes.live == ("max_requests",)
    assert changes.refusal(3).startswith("restart required for daemon.workers, daemon.admin")
    assert "still serving generation 3" in changes.refusal(3)
    assert set(RESTART_KEYS) <= {f.name for f in dataclasses.fields(old)}


def test_describe_rollout_says_what_serves_meanwhile() -> None:
    changes = daemon_changes(default_config().daemon, default_config().daemon)
    text = describe_rollout(4, 3, ["auth"], changes)
    assert text == "generation 3 serves each slot until it is swapped to 4; plugins changed: auth"


def _status(workers: list[tuple[int, int, str]], draining: list[int]) -> model.DaemonStatus:
    def ws(slot: int, pid: int, gen: int, state: model.SlotState) -> model.WorkerStatus:
        return model.WorkerStatus(slot, pid, state, gen, 1.0, 0, 0.0, 0, 0, 0)

    return model.DaemonStatus(
        "v",
        1,
        1.0,
        1,
        model.RolloutStatus(),
        "",
        tuple(ws(i, pid, 2, model.SlotState(state)) for i, pid, state in workers),
        (),
        draining=tuple(ws(0, pid, 1, model.SlotState.DRAINING) for pid in draining),
    )


def test_progress_reports_swaps_drains_and_exits() -> None:
    a = progress.describe(_status([(0, 10, "ready")], []))
    b = progress.describe(_status([(0, 20, "ready")], [10]))
    c = progress.describe(_status([(0, 20, "ready")], []))
    assert progress.changes(a, b) == [
        "slot 0: generation 2 ready (pid 20)",
        "slot 0: old worker pid 10 (generation 1) draining, 0 in flight",
    ]
    assert progress.changes(b, c) == ["slot 0: old worker pid 10 drained and exited"]
    # A worker that drained between two polls is reported gone all the same.
    assert progress.changes(a, c)[-1] == "slot 0: old worker pid 10 drained and exited"
