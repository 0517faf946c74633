"""Cost of one shared-data / shared-queue call through the supervisor, and of metrics snapshots.

Same topology as the daemon: this process plays the supervisor (``SharedChannels`` +
``SharedStore`` on a plain asyncio loop, as in ``wasmd serve``) and spawns a worker-like
child (``--client FD``) that calls ``RemoteSharedData``/``RemoteSharedQueues`` over its end
of the socketpair, exactly as a host function does inside a guest call. Reported per call:
wall time in the worker (the guest is blocked that long), worker CPU and supervisor CPU.
The in-process ``LocalSharedData`` is the baseline.

Also: the CPU of building a worker's metrics snapshot for a heartbeat
(``metrics_export.snapshot``) for a real plugin service, against rendering Prometheus text.

    python3 bench/shared_data.py [--calls N] [--repeats R] [--pin] [--json]

``--pin`` runs both processes on CPU 0 (no cross-CPU wake-ups; see
/work/shared/reference/wasmtime-and-ipc.md §4 on why ping-pong latency depends on it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import _harness  # noqa: F401  (puts the repo on sys.path)
import psutil

from wasmd.supervisor.shared_channel import SharedChannels
from wasmd.supervisor.shared_store import SharedStore

VALUE_16 = b"v" * 16
VALUE_1K = b"v" * 1024


def _timed(op: Callable[[], object], calls: int, repeats: int) -> dict[str, float]:
    """Median over ``repeats`` batches: wall and CPU microseconds per call."""
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(calls):
            op()
        walls.append((time.perf_counter() - w0) / calls * 1e6)
        cpus.append((time.process_time() - c0) / calls * 1e6)
    return {"wall_us": statistics.median(walls), "cpu_us": statistics.median(cpus)}


def client(fd: int, calls: int, repeats: int) -> dict[str, Any]:
    """The worker side: every operation against the remote store, then the local one."""
    from workers.contexts.shared import LocalSharedData
    from workers.contexts.shared_remote import connect

    _, data, queues = connect(socket.socket(fileno=fd))
    local = LocalSharedData()
    data.set("vm", b"k16", VALUE_16, 0)
    data.set("vm", b"k1k", VALUE_1K, 0)
    local.set("vm", b"k16", VALUE_16, 0)
    qid = queues.register("vm", b"q", object())

    def enqueue_dequeue() -> None:
        queues.enqueue(qid, VALUE_16)
        queues.dequeue(qid)

    ops: dict[str, Callable[[], object]] = {
        "remote get (16 B)": lambda: data.get("vm", b"k16"),
        "remote get (1 KiB)": lambda: data.get("vm", b"k1k"),
        "remote set cas=0 (16 B)": lambda: data.set("vm", b"k16", VALUE_16, 0),
        "remote resolve": lambda: queues.resolve("vm", b"q"),
        "remote enqueue+dequeue (2 calls)": enqueue_dequeue,
        "local get (16 B)": lambda: local.get("vm", b"k16"),
        "local set cas=0 (16 B)": lambda: local.set("vm", b"k16", VALUE_16, 0),
    }
    for op in ops.values():  # warm up
        for _ in range(200):
            op()
    return {name: _timed(op, calls, repeats) for name, op in ops.items()}


async def supervisor(calls: int, repeats: int, pin: bool) -> dict[str, Any]:
    channels = SharedChannels(SharedStore())
    theirs = channels.open(1)
    argv = [sys.executable, __file__, "--client", str(theirs.fileno())]
    argv += ["--calls", str(calls), "--repeats", str(repeats)]
    if pin:
        argv = ["taskset", "-c", "0", *argv]
        os.sched_setaffinity(0, {0})
    me = psutil.Process()
    cpu0 = sum(me.cpu_times()[:2])
    proc = await asyncio.create_subprocess_exec(
        *argv, pass_fds=(theirs.fileno(),), stdout=subprocess.PIPE
    )
    theirs.close()
    out, _ = await proc.communicate()
    server_cpu_s = sum(me.cpu_times()[:2]) - cpu0
    channels.close_all()
    results: dict[str, Any] = json.loads(out)
    results["supervisor CPU per served call"] = {
        "cpu_us": server_cpu_s / max(channels.calls, 1) * 1e6,
        "calls": channels.calls,
    }
    return results


def snapshot_cost(repeats: int) -> dict[str, Any]:
    """Heartbeat metrics: snapshot vs Prometheus text, for the c_timers_queues plugin
    with its metrics defined and some call stats (what an idle-ish worker carries)."""
    import msgpack

    from wasmd.kernel.config import parse_config
    from workers import metrics_export
    from workers.process import build_service

    plugin = _harness.REPO / "plugins" / "c" / "build" / "timers_queues.wasm"
    doc = {
        "daemon": {"workers": 1, "runtime_dir": "/tmp/wasmd-bench-run"},
        "plugins": [
            {"name": f"p{i}", "module": str(plugin), "configuration": "tick_ms=0", "vm_id": f"p{i}"}
            for i in range(4)
        ],  # fmt: skip
        "chains": {"default": ["p0", "p1", "p2", "p3"]},
    }
    config = parse_config(doc, _harness.REPO / "bench.toml")
    loop = asyncio.new_event_loop()
    service = build_service(config)
    service.start(loop)
    size = len(msgpack.packb(metrics_export.snapshot(service)))
    snap = _timed(lambda: metrics_export.snapshot(service), 200, repeats)
    text = _timed(lambda: metrics_export.render(service), 200, repeats)
    service.close()
    loop.close()
    return {
        "plugins": 4,
        "snapshot": snap,
        "snapshot_msgpack_bytes": size,
        "prometheus text render": text,
    }


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=5000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--pin", action="store_true")
    p.add_argument("--json", action="store_true")
    p.add_argument("--client", type=int, default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.client is not None:
        print(json.dumps(client(a.client, a.calls, a.repeats)))
        return 0
    results = {
        "machine": _harness.machine(),
        "pinned": a.pin,
        "shared": asyncio.run(supervisor(a.calls, a.repeats, a.pin)),
        "heartbeat metrics": snapshot_cost(a.repeats),
    }
    if a.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"pinned to CPU 0: {a.pin}")
    for name, r in results["shared"].items():
        cells = "  ".join(
            f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()
        )
        print(f"  {name:40s} {cells}")
    print(json.dumps(results["heartbeat metrics"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
