"""HTTP callout cost in one worker: exchanges per second and latency with one callout each.

Drives a real ``WorkerService`` with ``plugins/c/build/http_callout.wasm`` (case ``auth``:
one GET to the upstream, pause, resume from the response) on an asyncio loop, against an
aiohttp upstream running in a separate process (TCP 127.0.0.1 or a unix socket), so the
upstream does not compete for this process's GIL. Reports wall-clock latency of sequential
exchanges (p50/p99) and throughput with N exchanges in flight; the ``none`` row is the
same plugin with no callout (request passes straight through).

    python3 bench/callouts.py [--exchanges N] [--concurrency C] [--json]
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
sys.path.insert(0, str(REPO))

from workers.service import PluginSource, WorkerService  # noqa: E402
from workers.trial import plugin_config  # noqa: E402
from workers.vm.runtime import Runtime  # noqa: E402

WASM = REPO / "plugins/c/build/http_callout.wasm"
UPSTREAM = """
import sys
from aiohttp import web
async def ok(request):
    return web.Response(body=b"ok:" + request.path.encode(), headers={"x-auth-user": "u"})
app = web.Application()
app.router.add_get("/{tail:.*}", ok)
where = sys.argv[1]
if where.startswith("/"):
    web.run_app(app, path=where, print=None)
else:
    web.run_app(app, host="127.0.0.1", port=int(where), print=None)
"""


def _headers(case: str) -> list[tuple[bytes, bytes]]:
    pairs = [(b":authority", b"x"), (b":path", b"/b"), (b":method", b"GET"), (b":scheme", b"http")]
    return pairs + ([(b"x-callout", case.encode())] if case else [])


async def _one(service: WorkerService, case: str) -> float:
    started = time.perf_counter()
    ax = service.open()
    await ax.request_headers(_headers(case), True)
    ax.finish()
    return time.perf_counter() - started


async def _measure(url: str, case: str, exchanges: int, concurrency: int) -> dict[str, float]:
    config = plugin_config("callout", upstreams=[("auth", url)])
    with Runtime() as runtime:
        service = WorkerService(
            runtime, [PluginSource(config, WASM.read_bytes())], {"d": ["callout"]}, "d"
        )
        service.start(asyncio.get_running_loop())
        try:
            for _ in range(50):  # warm-up: connections, compile cache, allocator
                await _one(service, case)
            latencies = [await _one(service, case) for _ in range(exchanges)]
            started = time.perf_counter()
            for _ in range(exchanges // concurrency):
                await asyncio.gather(*(_one(service, case) for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
        finally:
            await service.aclose()
    latencies.sort()
    return {
        "p50_us": statistics.median(latencies) * 1e6,
        "p99_us": latencies[int(len(latencies) * 0.99) - 1] * 1e6,
        "per_s": (exchanges // concurrency) * concurrency / elapsed,
    }


def _start_upstream(where: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-c", UPSTREAM, where], start_new_session=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if where.startswith("/") and os.path.exists(where):
            return proc
        if not where.startswith("/"):
            import socket

            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", int(where))) == 0:
                    return proc
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("upstream did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exchanges", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        targets = [("tcp", str(port), f"http://127.0.0.1:{port}"), ("unix", f"{tmp}/u.sock", "")]
        for name, where, url in targets:
            proc = _start_upstream(where)
            try:
                url = url or f"unix://{where}"
                for case in ("", "auth"):
                    result = asyncio.run(_measure(url, case, args.exchanges, args.concurrency))
                    rows.append({"upstream": name, "callout": case or "none", **result})
            finally:
                os.killpg(proc.pid, 9)
                proc.wait()
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'upstream':8} {'callout':8} {'p50 us':>8} {'p99 us':>8} {'exch/s':>8}")
    for r in rows:
        print(
            f"{r['upstream']:8} {r['callout']:8} {r['p50_us']:8.0f} {r['p99_us']:8.0f} "
            f"{r['per_s']:8.0f}"
        )
    print(f"(concurrency {args.concurrency}, {args.exchanges} exchanges per row)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
