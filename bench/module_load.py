"""Module load time (cold compile vs compile cache), VM start time, and memory per VM.

In-process micro benchmark. For each corpus plugin:

* cold: ``Runtime.compile`` with an empty cache directory (Cranelift compile + serialize
  into the cache), wall and CPU time (CPU > wall: Cranelift compiles in parallel);
* cached: ``Runtime.compile`` again with that cache (``Module.deserialize_file``);
* start: ``PluginVm.start()`` on the compiled module: instantiate, start-up functions,
  root context, ``on_vm_start``, ``on_configure`` (what a new VM or a reload costs);
* RSS per VM: resident set growth for starting ``--vms`` VMs of the same module, divided
  by their number (wasmtime's 4 GiB reservation per memory is virtual; only touched
  pages count).

    python3 bench/module_load.py [--repeats R] [--vms N] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import _harness
import psutil
from exchange_cpu import PLUGINS, Plugin

from workers.contexts.logsink import LogSink
from workers.contexts.plugin import PluginVm
from workers.trial import plugin_config
from workers.vm.runtime import Runtime


def _timed(action: Callable[[], object]) -> tuple[float, float]:
    """(wall ms, CPU ms) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return (time.perf_counter() - wall) * 1e3, (time.process_time() - cpu) * 1e3


def _stats(samples: list[tuple[float, float]]) -> dict[str, float]:
    walls, cpus = [s[0] for s in samples], [s[1] for s in samples]
    return {
        "wall_ms_min": min(walls),
        "wall_ms_median": statistics.median(walls),
        "cpu_ms_min": min(cpus),
        "cpu_ms_median": statistics.median(cpus),
    }


def bench_plugin(plugin: Plugin, repeats: int, vms: int) -> dict[str, object]:
    wasm = (_harness.REPO / plugin.wasm).read_bytes()
    config = plugin_config(plugin.name, root_id=plugin.root_id, configuration=plugin.configuration)
    cold, cached, start = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            cache = Path(tmp) / f"cold{i}"
            with Runtime(cache_dir=cache) as runtime:
                cold.append(_timed(lambda r=runtime: r.compile(wasm)))
            with Runtime(cache_dir=cache) as runtime:
                cached.append(_timed(lambda r=runtime: r.compile(wasm)))
                if not runtime.compile(wasm).from_cache:
                    raise SystemExit(f"{plugin.name}: the second compile did not hit the cache")
        with Runtime(cache_dir=Path(tmp) / "cold0") as runtime:
            compiled = runtime.compile(wasm)

            def new_vm() -> PluginVm:
                vm = PluginVm(runtime, compiled, config, logs=LogSink(plugin.name, capture=True))
                vm.start()
                return vm

            for _ in range(repeats * 10):
                holder: list[PluginVm] = []
                start.append(_timed(lambda h=holder: h.append(new_vm())))
                holder[0].close()
            rss_per_vm = _rss_per_vm(new_vm, vms)
    return {
        "plugin": plugin.name,
        "wasm_bytes": len(wasm),
        "compile_cold": _stats(cold),
        "compile_cached": _stats(cached),
        "vm_start": _stats(start),
        "rss_per_vm_kib": rss_per_vm / 1024,
        "vms": vms,
    }


def _rss_per_vm(new_vm: Callable[[], PluginVm], count: int) -> float:
    process = psutil.Process()
    new_vm().close()  # first-use allocations (trampolines, caches) are not per VM
    gc.collect()
    before = process.memory_info().rss
    live = [new_vm() for _ in range(count)]
    after = process.memory_info().rss
    for vm in live:
        vm.close()
    return (after - before) / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="cold/cached compiles per plugin")
    parser.add_argument("--vms", type=int, default=100, help="VMs kept alive for the RSS delta")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)
    rows = [bench_plugin(p, args.repeats, args.vms) for p in PLUGINS]
    if args.json:
        json.dump({"machine": _harness.machine(), "plugins": rows}, sys.stdout, indent=2)
        print()
        return 0
    print(_harness.machine())
    header = (
        f"{'plugin':<15} {'wasm KiB':>8}  {'cold ms wall/cpu':>17}  {'cached ms wall/cpu':>18}"
        f"  {'start ms wall/cpu':>17}  {'RSS/VM KiB':>10}"
    )
    print(header)
    for row in rows:
        c, k, s = row["compile_cold"], row["compile_cached"], row["vm_start"]
        assert isinstance(c, dict) and isinstance(k, dict) and isinstance(s, dict)
        print(
            f"{row['plugin']!s:<15} {int(row['wasm_bytes']) / 1024:>8.1f}  "  # type: ignore[call-overload]
            f"{c['wall_ms_min']:>8.2f}/{c['cpu_ms_min']:<8.2f}  "
            f"{k['wall_ms_min']:>9.3f}/{k['cpu_ms_min']:<8.3f}  "
            f"{s['wall_ms_min']:>8.3f}/{s['cpu_ms_min']:<8.3f}  "
            f"{float(row['rss_per_vm_kib']):>10.0f}"  # type: ignore[arg-type]
        )
    print("(min over repeats; --json has medians too)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
