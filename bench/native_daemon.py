"""The native protocol through the real daemon: throughput, latency, crash-to-served, swaps.

    python3 bench/native_daemon.py [--seconds 5] [--workers N] [--clients P] [--json]
                                   [--plugin NAME [--plugin-config TEXT]]

Starts `wasmd serve` (supervisor + worker processes, the AS add_header plugin or the
manifest plugin ``--plugin``, one chain) twice, with 1 and with N workers (default: the
CPU count), and measures side by side:

- ``1 conn``: one client process, one connection, exchanges back to back (request headers
  + response headers + CLOSE, 2 plugin calls): exchanges/s and p50/p99 latency per
  exchange as the client sees it; the latency floor.
- ``P x C conns``: P client processes (default N) with C connections each (default 4),
  every connection back to back: total exchanges/s (does it scale with workers?) and
  p50/p99.
- ``server CPU/exchange``: user+sys CPU of every worker process over the run (psutil),
  divided by the exchanges: the number to compare across machines.

Then, on the N-worker daemon (with the default plugin only):

- ``crash-to-served``: kill -9 a worker; time until the supervisor reports its slot READY
  with a new pid, and until that new worker has served an exchange on a fresh connection.
- ``swap``: wall time of ``wasmd reload --wait`` (canary + replace every slot one at a
  time, replacement first) for a new configuration, via the CLI and via the admin client
  directly (the CLI adds its own start-up).

Clients run in separate processes (this file with ``--client``) on uvloop, so the client
is not one Python process's bottleneck; on a small machine clients and workers share
the cores, which the report states.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

REQUEST = ((b":authority", b"x"), (b":path", b"/"), (b":method", b"GET"), (b":scheme", b"http"))
RESPONSE = ((b":status", b"200"),)
WARMUP_S = 0.5  # connections are dialled and the JIT-ed paths warm before timing
REPEATS = 3  # crash-to-served and swap: median of this many


# -- client processes ----------------------------------------------------------------------


async def client_main(path: str, connections: int, seconds: float) -> dict[str, Any]:
    """Run ``connections`` back-to-back exchange loops; latencies of the timed part (µs)."""
    from wasmd.clients.native import Client

    clients = [await Client.connect(path) for _ in range(connections)]
    latencies: list[float] = []
    start = time.perf_counter()
    timed_from, end = start + WARMUP_S, start + WARMUP_S + seconds

    async def loop(client: Client) -> None:
        while (now := time.perf_counter()) < end:
            await client.exchange(request_headers=REQUEST, response_headers=RESPONSE)
            done = time.perf_counter()
            if now >= timed_from:
                latencies.append((done - now) * 1e6)

    await asyncio.gather(*(loop(c) for c in clients))
    for client in clients:
        await client.close()
    return {"latencies_us": latencies, "seconds": seconds}


def run_clients(path: Path, processes: int, connections: int, seconds: float) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--client", str(path), "--connections", str(connections)]
    argv += ["--seconds", str(seconds)]
    procs = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, start_new_session=True)
        for _ in range(processes)
    ]
    results = []
    try:
        for proc in procs:
            out, _ = proc.communicate(timeout=seconds + 60)
            assert proc.returncode == 0, f"client exited {proc.returncode}"
            results.append(json.loads(out))
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    latencies = sorted(x for r in results for x in r["latencies_us"])
    return {
        "exchanges": len(latencies),
        "exchanges_per_s": len(latencies) / seconds,
        "p50_us": _quantile(latencies, 0.50),
        "p99_us": _quantile(latencies, 0.99),
    }


def _quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


# -- the daemon ----------------------------------------------------------------------------


@contextmanager
def daemon(tmp: Path, workers: int, plugin: dict[str, Any] | None = None) -> Iterator[Any]:
    """`wasmd serve` with ``workers`` workers, killed (process group) on exit; ``plugin``:
    write_config's module/root_id/configuration (default: add_header)."""
    from tests.helpers.daemon import Daemon, write_config
    from tests.helpers.procs import spawn

    tmp.mkdir(parents=True, exist_ok=True)
    config = write_config(
        tmp,
        workers=workers,
        heartbeat_timeout_s=10.0,
        drain_timeout_s=5.0,
        log_level="warn",
        **(plugin or {}),
    )
    argv = [sys.executable, "-m", "wasmd", "serve", "--config", str(config)]
    with spawn(argv, log_path=tmp / "serve.log", cwd=tmp) as proc:
        d = Daemon(proc, tmp / "run")
        d.all_ready()
        yield d


def worker_cpu_s(status: Any) -> float:
    import psutil

    total = 0.0
    for w in status.workers:
        try:
            t = psutil.Process(w.pid).cpu_times()
            total += t.user + t.system
        except (psutil.NoSuchProcess, TypeError):
            pass
    return total


def load_point(d: Any, processes: int, connections: int, seconds: float) -> dict[str, Any]:
    cpu_before = worker_cpu_s(d.status())
    result = run_clients(d.socket, processes, connections, seconds)
    cpu_s = worker_cpu_s(d.status()) - cpu_before
    # the warm-up exchanges used CPU too: count them at the timed rate
    total = result["exchanges"] * (seconds + WARMUP_S) / seconds
    result["server_cpu_us_per_exchange"] = cpu_s / total * 1e6 if total else float("nan")
    result["clients"] = f"{processes} x {connections}"
    return result


# -- crash-to-served and swaps -------------------------------------------------------------


def crash_to_served(d: Any, slot: int) -> dict[str, float]:
    from tests.helpers.procs import wait_for
    from wasmd.admin.model import SlotState

    victim = d.status().workers[slot].pid
    t0 = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    wait_for(
        lambda: (w := d.status().workers[slot]).state is SlotState.READY and w.pid != victim,
        60,
        0.005,
        "slot ready again",
    )
    ready_s = time.monotonic() - t0

    async def one() -> None:
        from wasmd.clients.native import Client

        async with await Client.connect(d.socket) as client:
            await client.exchange(request_headers=REQUEST, response_headers=RESPONSE)

    def served() -> bool:
        asyncio.run(one())
        return bool(d.status().workers[slot].requests_served > 0)

    wait_for(served, 60, 0.0, "the new worker served")
    return {"ready_s": ready_s, "served_s": time.monotonic() - t0}


def swap(d: Any, tmp: Path, workers: int, version: str, via_cli: bool) -> float:
    from tests.helpers.daemon import write_config
    from wasmd.admin.model import ReloadOutcome

    write_config(
        tmp,
        workers=workers,
        configuration=version,
        heartbeat_timeout_s=10.0,
        drain_timeout_s=5.0,
        log_level="warn",
    )
    t0 = time.monotonic()
    if via_cli:
        done = d.cli("reload", "--wait", timeout_s=300)
        assert done.returncode == 0, done.describe()
    else:
        result = d.admin.reload(wait=True)
        assert result.outcome is ReloadOutcome.SUCCEEDED, result.message
    return time.monotonic() - t0


# -- report --------------------------------------------------------------------------------


def manifest_plugin(name: str, configuration: str | None) -> dict[str, Any]:
    """write_config's arguments for the manifest plugin ``name``."""
    from tests.helpers.manifest import load_all

    spec = next((s for s in load_all() if s.name == name), None)
    if spec is None:
        raise SystemExit(f"--plugin {name!r}: no such plugin in plugins/*/manifest.toml")
    config = spec.config if configuration is None else configuration
    return {"module": spec.wasm, "root_id": spec.root_id, "configuration": config}


def run(
    seconds: float,
    workers: int,
    clients: int,
    connections: int,
    plugin: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from bench._harness import machine

    report: dict[str, Any] = {"machine": machine(), "loads": [], "workers_n": workers}
    if plugin is not None:
        report["plugin"] = {k: str(v) for k, v in plugin.items()}
    with tempfile.TemporaryDirectory(prefix="wasmd-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for n in sorted({1, workers}):
            with daemon(tmp / f"w{n}", n, plugin) as d:
                for procs, conns in ((1, 1), (clients, connections)):
                    point = load_point(d, procs, conns, seconds)
                    report["loads"].append({"workers": n, **point})
                if n != workers or plugin is not None:
                    continue
                crashes = [crash_to_served(d, i % n) for i in range(REPEATS)]
                report["crash_to_ready_s"] = statistics.median(c["ready_s"] for c in crashes)
                report["crash_to_served_s"] = statistics.median(c["served_s"] for c in crashes)
                d.all_ready()
                cli = [swap(d, tmp / f"w{n}", n, f"v{i}", True) for i in range(2, 2 + REPEATS)]
                admin = [swap(d, tmp / f"w{n}", n, f"v{i}", False) for i in range(10, 10 + REPEATS)]
                report["swap_cli_s"] = statistics.median(cli)
                report["swap_admin_s"] = statistics.median(admin)
    return report


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"machine: {m.get('cpu_model')} ({m.get('nproc')} CPUs), python {m.get('python')}, "
        f"wasmtime {m.get('wasmtime')}, load avg at start {m.get('load_avg')}",
        "",
        "| workers | clients (procs x conns) | exchanges/s | p50 µs | p99 µs | "
        "server CPU µs/exchange |",
        "|---|---|---|---|---|---|",
    ]
    for r in report["loads"]:
        lines.append(
            f"| {r['workers']} | {r['clients']} | {r['exchanges_per_s']:.0f} | "
            f"{r['p50_us']:.0f} | {r['p99_us']:.0f} | {r['server_cpu_us_per_exchange']:.0f} |"
        )
    n = report["workers_n"]
    if "plugin" in report:
        return "\n".join([f"plugin: {report['plugin']}", *lines])
    lines += [
        "",
        f"crash-to-served ({n} workers, median of {REPEATS}): kill -9 -> slot READY "
        f"{report['crash_to_ready_s']:.2f} s, -> new worker served an exchange "
        f"{report['crash_to_served_s']:.2f} s",
        f"swap ({n} workers, median of {REPEATS}): `wasmd reload --wait` "
        f"{report['swap_cli_s']:.2f} s wall (admin client directly: "
        f"{report['swap_admin_s']:.2f} s)",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="timed load per point")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="N")
    ap.add_argument("--clients", type=int, default=None, help="client processes (default N)")
    ap.add_argument("--connections", type=int, default=4, help="connections per client")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--plugin", default=None, help="a plugin from plugins/*/manifest.toml")
    ap.add_argument("--plugin-config", default=None, help="its configuration")
    ap.add_argument("--client", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.client is not None:
        import uvloop

        result = uvloop.run(client_main(args.client, args.connections, args.seconds))
        # One os.write per chunk: after uvloop.run a blocking write to a pipe came back
        # short (65536 of 200000 bytes) and print() dropped the rest of the result.
        data = memoryview(json.dumps(result).encode() + b"\n")
        while data:
            data = data[os.write(sys.stdout.fileno(), data) :]
        return
    plugin = None if args.plugin is None else manifest_plugin(args.plugin, args.plugin_config)
    clients = args.clients or args.workers
    report = run(args.seconds, args.workers, clients, args.connections, plugin)
    print(json.dumps(report, indent=2) if args.json else render(report))


if __name__ == "__main__":
    main()
