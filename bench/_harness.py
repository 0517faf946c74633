"""Shared helpers of the bench scripts: repo path, CPU timing, machine facts, tables.

Timing is CPU time of the whole process (``time.process_time``), so the epoch ticker
thread (one ``increment_epoch`` per 10 ms, ~2 us) is included; it adds well under 0.1 %.
Each measurement repeats a timed batch several times and reports the minimum (the least
disturbed run on a shared VM) and the median.
"""

from __future__ import annotations

import gc
import importlib.metadata
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # the scripts run as `python3 bench/x.py` from a checkout
    sys.path.insert(0, str(REPO))


@dataclass(frozen=True, slots=True)
class Result:
    """One measured operation: microseconds of CPU per operation."""

    name: str
    min_us: float
    median_us: float
    ops: int  # operations per timed batch
    repeats: int
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def measure(
    name: str,
    op: Callable[[], object],
    *,
    ops: int,
    repeats: int,
    warmup: int,
    per_call: int = 1,
    note: str = "",
) -> Result:
    """Run ``op`` ``warmup`` times, then ``repeats`` batches of ``ops`` calls under process_time.

    ``per_call`` is how many operations one call of ``op`` performs (e.g. a guest loop of
    N host calls), so the result is per operation. The GC is disabled while timing, as the
    cost of an occasional collection would land on one batch at random.
    """
    for _ in range(warmup):
        op()
    samples: list[float] = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            start = time.process_time()
            for _ in range(ops):
                op()
            samples.append((time.process_time() - start) / (ops * per_call) * 1e6)
    finally:
        gc.enable()
    return Result(name, min(samples), statistics.median(samples), ops * per_call, repeats, note)


def machine() -> dict[str, object]:
    """What the numbers were measured on."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wasmtime": importlib.metadata.version("wasmtime"),
        "load_avg": os.getloadavg(),
    }


def table(results: Sequence[Result]) -> str:
    """A plain-text table of results."""
    width = max(len(r.name) for r in results)
    lines = [f"{'operation':<{width}}  {'min us':>9}  {'median us':>9}  {'ops x reps':>11}"]
    for r in results:
        reps = f"{r.ops}x{r.repeats}"
        line = f"{r.name:<{width}}  {r.min_us:>9.2f}  {r.median_us:>9.2f}  {reps:>11}"
        lines.append(line + (f"  {r.note}" if r.note else ""))
    return "\n".join(lines)
