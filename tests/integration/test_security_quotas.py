"""Shared data and queue quotas (issue 12 §4, docs/security.md): one plugin cannot grow
the supervisor's shared store, and so the supervisor every worker depends on, without
bound.

plugins/c/shared_flood.c writes 1 MiB values under new keys (or onto a queue, or registers
new queues) through a real ``wasmd serve``. Past the vm_id's quota the host call answers
InternalFailure (10); ``wasmd status`` and the metrics count the refusals, and the
supervisor's RSS stays bounded (without quotas it grew by every MiB written).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.helpers.daemon import PLUGINS, DaemonFactory, PluginEntry, daemons, write_config
from wasmd.clients.native import Client

pytestmark = pytest.mark.timeout(240)

FLOOD = PLUGINS / "c" / "build" / "shared_flood.wasm"
MIB = 1 << 20
WRITES = 96  # MiB offered; the quota below keeps 8 of them
QUOTA_MIB = 8
INTERNAL_FAILURE = b"10"


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[DaemonFactory]:
    with daemons(tmp_path) as start:
        yield start


async def _flood(sock: Path, kind: str, count: int) -> list[bytes]:
    results = []
    async with await Client.connect(sock) as client:
        for i in range(count):
            result = await client.exchange(
                request_headers=[
                    (b":method", b"GET"),
                    (b":path", b"/"),
                    (b"x-flood", kind.encode()),
                    (b"x-flood-key", str(i).encode()),
                ],
                response_headers=[(b":status", b"200")],
            )
            results.append(dict(result.request_headers)[b"x-flood-result"])
    return results


def test_shared_data_quota_refuses_and_bounds_the_supervisor(
    tmp_path: Path, daemon_factory: DaemonFactory
) -> None:
    daemon = daemon_factory(
        write_config(
            tmp_path,
            plugins=[PluginEntry("flood", FLOOD, settings={"vm_id": "flood-vm"})],
            workers=1,
            shared_data_max_mib_per_vm=QUOTA_MIB,
        )
    )
    daemon.all_ready()
    supervisor = psutil.Process(daemon.proc.pid)
    rss_before = supervisor.memory_info().rss
    results = asyncio.run(_flood(daemon.socket, "data", WRITES))
    accepted = results.count(b"0")
    assert QUOTA_MIB - 1 <= accepted < QUOTA_MIB + 1, results
    assert set(results[accepted:]) == {INTERNAL_FAILURE}, results
    growth = supervisor.memory_info().rss - rss_before
    # Without the quota the store holds all WRITES MiB; with it, QUOTA_MIB (+ allocator slack).
    assert growth < (WRITES // 2) * MIB, f"supervisor RSS grew by {growth / MIB:.0f} MiB"
    status = daemon.status_json()
    (plugin,) = status["plugins"]
    assert plugin["quota_refusals"] == WRITES - accepted, plugin
    metrics = daemon.cli("metrics")
    lines = [ln for ln in metrics.stdout.splitlines() if ln.startswith("wasmd_shared_quota")]
    assert any('vm_id="flood-vm"' in ln and 'quota="data_bytes"' in ln for ln in lines), (
        metrics.describe()
    )


def test_queue_quotas(tmp_path: Path, daemon_factory: DaemonFactory) -> None:
    daemon = daemon_factory(
        write_config(
            tmp_path,
            plugins=[PluginEntry("flood", FLOOD, settings={"vm_id": "flood-vm"})],
            workers=1,
            shared_queues_max_mib_per_vm=4,
            shared_queues_max_per_vm=3,
        )
    )
    daemon.all_ready()
    queued = asyncio.run(_flood(daemon.socket, "queue", 12))
    assert queued[:4] == [b"0"] * 4 and set(queued[4:]) == {INTERNAL_FAILURE}, queued
    # "flood" is one queue; two more fit under the count quota of 3.
    registered = asyncio.run(_flood(daemon.socket, "queues", 5))
    assert registered == [b"0", b"0", INTERNAL_FAILURE, INTERNAL_FAILURE, INTERNAL_FAILURE]
