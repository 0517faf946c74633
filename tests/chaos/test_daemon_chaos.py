"""Long runs of the daemon traffic scenarios (``python3 -m pytest tests/chaos -m slow``).

The same scenario functions and checks as tests/integration/test_daemon_traffic.py, with
more kills, reloads, recycles and fuzz examples than the default run can afford.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.daemon import DaemonFactory, daemons, write_config
from tests.integration.test_daemon_traffic import (
    FUZZ_MAX_FRAME_BYTES,
    leak_config,
    run_fuzz,
    run_kill_loop,
    run_leak,
    run_reloads,
    traffic_config,
    versioned_config,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[DaemonFactory]:
    with daemons(tmp_path) as start:
        yield start


def test_kill_9_every_second_for_30_kills(tmp_path: Path, daemon_factory: DaemonFactory) -> None:
    daemon = daemon_factory(traffic_config(tmp_path))
    run_kill_loop(daemon, kills=30)


def test_rolling_reloads_over_two_slots_under_load(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    daemon = daemon_factory(versioned_config(tmp_path, "v1", workers=2))
    daemon.all_ready()
    run_reloads(daemon, tmp_path, ["v2", "v3", "v4", "v5"], workers=2)


def test_leaking_workers_recycled_repeatedly(tmp_path: Path, daemon_factory: DaemonFactory) -> None:
    daemon = daemon_factory(leak_config(tmp_path))
    run_leak(daemon, recycles=4)


def test_fuzzed_frames_many_examples(tmp_path: Path, daemon_factory: DaemonFactory) -> None:
    daemon = daemon_factory(write_config(tmp_path, max_frame_bytes=FUZZ_MAX_FRAME_BYTES))
    kinds = run_fuzz(daemon, examples=3000)
    assert len(kinds) >= 6, kinds
