"""Profile one wasmd worker behind Envoy: py-spy on the worker while wrk drives the proxy.

The set-up of ``envoy_bench.py``'s ``wasmd1`` variant (Envoy ``--concurrency 1`` in front of
a direct-response upstream Envoy, one worker running the plugin), then ``py-spy record``
(found beside ``sys.executable``) on the worker process for ``--seconds`` while
``wrk -t1 -c<conns>`` runs. Writes py-spy's collapsed stacks (``--format raw``) and prints
the functions with the most samples, self and total.

    python3 bench/envoy_profile.py [--conns 8] [--seconds 15] [--out /tmp/worker.txt] [--gil]
        [--skip-phases request_body,response_body,request_trailers,response_trailers]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import psutil
from envoy_bench import (  # type: ignore[import-not-found]
    DEFAULT_PLUGIN,
    envoy,
    manifest_plugin,
    upstream_config,
    wasmd,
    wasmd_envoy_config,
    wasmd_toml,
    wrk,
)


def py_spy() -> str:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else "py-spy"


def top(collapsed: Path, n: int = 25) -> str:
    """The ``n`` frames with the most samples: self (leaf) and total (anywhere in the stack)."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        k = int(count)
        samples += k
        own[frames[-1]] += k
        for frame in set(frames):
            total[frame] += k
    out = [f"{samples} samples", "self %  frame"]
    out += [f"{100 * c / samples:5.1f}  {f}" for f, c in own.most_common(n)]
    out += ["total %  frame"]
    out += [f"{100 * c / samples:5.1f}  {f}" for f, c in total.most_common(n)]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plugin", default=DEFAULT_PLUGIN)
    parser.add_argument("--conns", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument(
        "--skip-phases", default="", help="the plugin's skip_phases, comma-separated"
    )
    parser.add_argument(
        "--gil", action="store_true", help="only samples holding the GIL (leaves out idle waits)"
    )
    parser.add_argument("--out", type=Path, default=Path("/tmp/wasmd-worker-profile.txt"))
    args = parser.parse_args()
    plugin = manifest_plugin(args.plugin, None)
    if args.skip_phases:
        plugin = dataclasses.replace(plugin, skip_phases=tuple(args.skip_phases.split(",")))
    with contextlib.ExitStack() as es:
        work = Path(es.enter_context(tempfile.TemporaryDirectory(prefix="envoy-profile-")))
        up = es.enter_context(envoy(upstream_config(), work, "upstream"))
        toml = wasmd_toml(plugin, work, 1)
        daemon = es.enter_context(wasmd(toml, 1, work))
        proxy = es.enter_context(envoy(wasmd_envoy_config(toml, up.port), work, "w1", healthy=1))
        (worker,) = psutil.Process(daemon.pid).children(recursive=True)
        wrk(proxy.port, args.conns, 2)  # warm-up
        load = threading.Thread(target=wrk, args=(proxy.port, args.conns, args.seconds + 3))
        load.start()
        argv = [py_spy(), "record", "--pid", str(worker.pid), "--format", "raw", "--nonblocking"]
        argv += ["--rate", str(args.rate), "-d", str(args.seconds), "-o", str(args.out)]
        argv += ["--gil"] if args.gil else []
        subprocess.run(argv, check=True, capture_output=True, timeout=args.seconds + 60)
        load.join()
    print(top(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
