"""What asking Envoy for attributes costs: one wasmd worker behind Envoy, with and without
``request_attributes``/``response_attributes`` in the ext_proc filter, interleaved in one run.

``wasmd envoy-config`` asks for them only when a plugin imports proxy_get_property
(``--attributes auto``); this measures what that saves. One daemon (1 worker, the
plugin ``--plugin``) serves every round; each round starts a fresh proxy Envoy per
setting and runs ``wrk -t1 -c8`` against it.

    python3 bench/envoy_attributes.py [--rounds 3] [--duration 6] [--plugin as_add_header]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as `python3 bench/envoy_attributes.py` from a checkout
    sys.path.insert(0, str(REPO))

from bench import envoy_bench as eb  # noqa: E402

CONNS = 8


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=6, help="seconds per wrk run")
    parser.add_argument("--plugin", default=eb.DEFAULT_PLUGIN)
    args = parser.parse_args()
    plugin = eb.manifest_plugin(args.plugin, None)
    rows: dict[str, list[Any]] = {"all": [], "none": []}
    with contextlib.ExitStack() as es:
        work = Path(es.enter_context(tempfile.TemporaryDirectory(prefix="envoy-attrs-")))
        up = es.enter_context(eb.envoy(eb.upstream_config(), work, "upstream"))
        toml = eb.wasmd_toml(plugin, work, 1)
        daemon = es.enter_context(eb.wasmd(toml, 1, work))
        for round_ in range(args.rounds):
            for setting in rows:
                doc = eb.wasmd_envoy_config(toml, up.port, setting)
                with eb.envoy(doc, work, f"{setting}{round_}", healthy=1) as proxy:
                    rows[setting] += eb.measure(
                        f"attributes={setting}", proxy, [daemon.pid], [CONNS], args.duration
                    )
    print(f"plugin {plugin.name}, 1 worker, wrk -c{CONNS}, {args.rounds} interleaved rounds")
    print("| attributes | req/s (each round) | Envoy CPU ms/req | worker CPU ms/req |")
    print("|---|---|---|---|")
    for setting, measured in rows.items():
        rps = ", ".join(f"{r.rps:.0f}" for r in measured)
        envoy_cpu = statistics.median(r.envoy_cpu_ms_per_req for r in measured)
        server_cpu = statistics.median(r.server_cpu_ms_per_req or 0.0 for r in measured)
        print(f"| {setting} | {rps} | {envoy_cpu:.3f} | {server_cpu:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
