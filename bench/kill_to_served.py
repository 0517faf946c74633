"""Kill-to-first-served: how long a slot whose worker was ``kill -9``-ed keeps a new stream
waiting, with and without the spare worker (``daemon.spare_worker``).

    .venv/bin/python bench/kill_to_served.py [--repeats 5] [--json]

Starts ``wasmd serve`` with ONE worker (the add_header plugin, one chain) twice: with
``spare_worker = true`` (the default) and ``false``. Each round: wait until the slot is
READY (and, with a spare, until the spare logged ``spare_ready``: its imports are done),
``kill -9`` the worker, wait until the process is gone (pidfd), then at once open a NEW
connection to the slot's socket and send one request, as Envoy would after the kill:

- ``extproc``: a gRPC ext_proc stream (grpcio client) to ``extproc-0.sock``, request
  headers -> the plugin's reply;
- ``native``: a native-protocol exchange (``wasmd.clients.native``) on ``wasmd.sock``.

The connection is queued in the listen backlog the supervisor holds (slot_sockets.py), so
the number is kill -> the successor answered it. Envoy's ``message_timeout`` in
``wasmd envoy-config`` is 2 s: above it, such a stream fails (504). Also reported: the
spare's RSS (what the spare costs). Median and max over ``--repeats`` rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.native_daemon import REQUEST, RESPONSE, daemon  # noqa: E402

PROBE_TIMEOUT_S = 60.0


def _gone(pid: int) -> None:
    """Block until process ``pid`` has exited (its sockets are closed by then)."""
    fd = os.pidfd_open(pid)
    try:
        select.select([fd], [], [], PROBE_TIMEOUT_S)
    finally:
        os.close(fd)


def _extproc_once(path: Path) -> None:
    from tests.helpers.extproc_probe import extproc_once

    extproc_once(path, PROBE_TIMEOUT_S)


def _native_once(path: Path) -> None:
    from wasmd.clients.native import Client

    async def one() -> None:
        async with await Client.connect(path) as client:
            await client.exchange(request_headers=REQUEST, response_headers=RESPONSE)

    asyncio.run(one())


def _spares_ready(log: Path) -> int:
    return log.read_text().count('"spare_ready"') if log.exists() else 0


def _round(d: Any, tmp: Path, face: str, spare: bool) -> float:
    from tests.helpers.procs import wait_for
    from wasmd.admin.model import SlotState

    wait_for(lambda: d.status().workers[0].state is SlotState.READY, PROBE_TIMEOUT_S, 0.01, "READY")
    w = d.status().workers[0]
    if spare:
        wait_for(lambda: _spares_ready(tmp / "serve.log") > w.restarts, 60, 0.01, "spare ready")
    probe = _extproc_once if face == "extproc" else _native_once
    path = d.runtime_dir / "extproc-0.sock" if face == "extproc" else d.socket
    probe(path)  # the slot serves before the kill
    t0 = time.monotonic()
    os.kill(w.pid, signal.SIGKILL)
    _gone(w.pid)
    probe(path)
    return time.monotonic() - t0


def _spare_rss_mib() -> float | None:
    import psutil

    for proc in psutil.process_iter(["cmdline"]):
        if "workers.spare" in (proc.info["cmdline"] or []):
            return float(proc.memory_info().rss) / (1 << 20)
    return None


def run(repeats: int) -> dict[str, Any]:
    report: dict[str, Any] = {"repeats": repeats, "cpus": os.cpu_count()}
    for spare in (True, False):
        with tempfile.TemporaryDirectory(prefix="wasmd-kill-bench-") as tmp_s:
            tmp = Path(tmp_s)
            with daemon(tmp, 1, {"spare_worker": spare}) as d:
                for face in ("extproc", "native"):
                    times = [_round(d, tmp, face, spare) for _ in range(repeats)]
                    key = f"{face}_{'spare' if spare else 'fresh'}"
                    report[key] = {"median_s": statistics.median(times), "max_s": max(times)}
                if spare:
                    report["spare_rss_mib"] = _spare_rss_mib()
    return report


def render(r: dict[str, Any]) -> str:
    lines = [
        f"kill -9 -> a new connection served (1 worker, {r['repeats']} rounds, {r['cpus']} CPUs)"
    ]
    for key in ("extproc_spare", "native_spare", "extproc_fresh", "native_fresh"):
        v = r[key]
        lines.append(
            f"  {key:14s} median {v['median_s'] * 1e3:7.0f} ms   max {v['max_s'] * 1e3:7.0f} ms"
        )
    lines.append(f"  spare worker RSS: {r['spare_rss_mib']:.0f} MiB")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report = run(args.repeats)
    print(json.dumps(report, indent=1) if args.json else render(report))


if __name__ == "__main__":
    main()
