"""In-worker CPU cost of a visibility policy per exchange (docs/visibility.md).

The exchange of bench/exchange_cpu.py (same Worker, same headers plus ``authorization``
and ``cookie``), per plugin without a policy and with one (hide two headers, redact one,
one read-only, hide ``source``). Without a policy a plugin gets no view object: its cost
is the bare exchange's. With one, every header-map host call goes through a view.

    python3 bench/visibility_cpu.py [--exchanges N] [--repeats R] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys

import _harness
import exchange_cpu
from _harness import Result, measure
from exchange_cpu import Plugin, Worker

from wasmd.kernel.visibility import VisibilitySpec
from workers.contexts.maps import Pair
from workers.contexts.policy import PluginHandle
from workers.trial import plugin_config

POLICY = VisibilitySpec(
    hide_headers=("authorization", "cookie"),
    redact_headers=("x-forwarded-for",),
    read_only_headers=(":path",),
    hide_properties=("source",),
)
SECRETS: tuple[Pair, ...] = ((b"authorization", b"Bearer abc.def.ghi"), (b"cookie", b"sid=42"))
PLUGINS = (
    *exchange_cpu.PLUGINS[:2],  # rust_headers, as_add_header: a few header calls each
    # header_echo reads every pair, the size, 4 values, 5 properties and adds 12 headers:
    # the policy's worst case among the corpus plugins.
    Plugin("c_header_echo", "plugins/c/build/header_echo.wasm", expect_request=(b"", b"")),
)


class PolicyWorker(Worker):
    """A Worker whose plugin runs under ``policy`` (None: no policy)."""

    def __init__(self, plugin: Plugin, policy: VisibilitySpec | None) -> None:
        super().__init__(plugin, fast=True)
        self.handle.close()
        self.config = plugin_config(
            plugin.name,
            root_id=plugin.root_id,
            configuration=plugin.configuration,
            visibility=policy,
        )
        self.handle = PluginHandle(self.config.name, self.config.failure_policy, self._make_vm)
        self.request = [*self.request, *SECRETS]

    def check(self) -> None:
        if self.plugin.expect_request[0]:
            super().check()
            return
        ex = self.exchange()
        if any(f.failure is not None for f in ex.filters) or ex.final is not None:
            raise SystemExit(f"{self.plugin.name}: exchange failed")


def bench(args: argparse.Namespace) -> list[Result]:
    results = []
    for plugin in PLUGINS:
        for label, policy in (("no policy", None), ("policy", POLICY)):
            worker = PolicyWorker(plugin, policy)
            try:
                worker.check()
                results.append(
                    measure(
                        f"exchange {plugin.name} [{label}]",
                        worker.exchange,
                        ops=args.exchanges,
                        repeats=args.repeats,
                        warmup=max(10, args.exchanges // 10),
                    )
                )
            finally:
                worker.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exchanges", type=int, default=2000, help="exchanges per batch")
    parser.add_argument("--repeats", type=int, default=5, help="timed batches per measurement")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)
    results = bench(args)
    if args.json:
        doc = {"machine": _harness.machine(), "results": [r.as_dict() for r in results]}
        json.dump(doc, sys.stdout, indent=2)
        print()
        return 0
    print(_harness.machine())
    print(_harness.table(results))
    by_name = {r.name: r.min_us for r in results}
    print("\nwhat the policy adds per exchange (min):")
    for plugin in PLUGINS:
        base = by_name[f"exchange {plugin.name} [no policy]"]
        with_policy = by_name[f"exchange {plugin.name} [policy]"]
        print(f"  {plugin.name}: {with_policy - base:+.1f} us ({base:.1f} -> {with_policy:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
