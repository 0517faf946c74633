"""Native-protocol exchanges/s and latency through one worker on a Unix socket.

    python3 bench/native_client.py [--exchanges N] [--concurrency C] [--json]

A server subprocess (this file with ``--serve PATH``) runs a WorkerService with the AS
add_header plugin behind NativeServer on uvloop; the client (wasmd.client, uvloop) runs
here. Each exchange is request headers + response headers (2 plugin phases + CLOSE).
Reported: wall exchanges/s, p50/p99 latency per exchange, and the server's CPU per
exchange (psutil, user+sys), which is the number to compare across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

REQUEST = ((b":authority", b"x"), (b":path", b"/"), (b":method", b"GET"), (b":scheme", b"http"))
RESPONSE = ((b":status", b"200"),)


async def serve(path: str) -> None:
    from workers.contexts.plugin import PluginConfig
    from workers.faces.native import NativeServer
    from workers.service import PluginSource, WorkerService
    from workers.vm.runtime import Runtime

    wasm = (REPO / "plugins/as/build/add_header.wasm").read_bytes()
    config = PluginConfig(name="add-header", root_id="as_add_header", configuration=b"v")
    service = WorkerService(
        Runtime(), [PluginSource(config, wasm)], {"default": ["add-header"]}, "default"
    )
    service.start(asyncio.get_running_loop())
    server = NativeServer(service)
    await server.start(path, backlog=128)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until EOF


async def measure(path: str, exchanges: int, concurrency: int) -> tuple[float, list[float]]:
    from wasmd.client import Client

    latencies: list[float] = []
    async with await Client.connect(path) as client:
        for _ in range(50):  # warm-up
            await client.exchange(request_headers=REQUEST, response_headers=RESPONSE)

        async def worker(n: int) -> None:
            for _ in range(n):
                t0 = time.perf_counter()
                await client.exchange(request_headers=REQUEST, response_headers=RESPONSE)
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(worker(exchanges // concurrency) for _ in range(concurrency)))
        return time.perf_counter() - start, latencies


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", default=None)
    ap.add_argument("--exchanges", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import uvloop

    if args.serve:
        uvloop.run(serve(args.serve))
        return
    import psutil

    path = os.path.join(tempfile.mkdtemp(prefix="wasmd-bench-"), "wasmd.sock")
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", path], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    results = []
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        server = psutil.Process(proc.pid)
        for conc in args.concurrency:
            cpu0 = sum(server.cpu_times()[:2])
            wall, lat = uvloop.run(measure(path, args.exchanges, conc))
            cpu = sum(server.cpu_times()[:2]) - cpu0
            lat.sort()
            n = len(lat)
            results.append(
                {
                    "concurrency": conc,
                    "exchanges": n,
                    "exchanges_per_s": round(n / wall),
                    "p50_us": round(statistics.median(lat) * 1e6),
                    "p99_us": round(lat[int(n * 0.99) - 1] * 1e6),
                    "server_cpu_us_per_exchange": round(cpu / (n + 50) * 1e6),
                }
            )
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'conc':>4} {'ex/s':>8} {'p50 us':>8} {'p99 us':>8} {'srv CPU us/ex':>14}")
    for r in results:
        print(
            f"{r['concurrency']:>4} {r['exchanges_per_s']:>8} {r['p50_us']:>8} "
            f"{r['p99_us']:>8} {r['server_cpu_us_per_exchange']:>14}"
        )


if __name__ == "__main__":
    main()
