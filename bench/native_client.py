"""Native-protocol exchanges/s, latency and CPU through one worker, next to the transport floor.

    python3 bench/native_client.py [--exchanges N] [--repeats R] [--concurrency C ...]
                                   [--servers floor face wasmd] [--pin [CPU]] [--json]
    python3 bench/native_client.py --core [--exchanges N] [--repeats R]

Three servers, each a subprocess of this file (``--serve KIND PATH``) on uvloop, answer the
same exchanges from ``wasmd.clients.native`` (uvloop, in this process):

- ``floor``: the transport floor. Length-prefixed msgpack frames parsed by hand, HELLO
  answered, every phase answered CONTINUE (no mutation); no protocol rules, no plugin.
- ``face``: wasmd's NativeServer and protocol core over a stub service whose exchange
  continues every phase without running a plugin (the face's own cost).
- ``wasmd``: NativeServer over a WorkerService with the AS add_header plugin (what a worker
  does per exchange).

One exchange = OPEN + request headers, response headers, CLOSE (2 phases). Each round runs
one batch of N exchanges per (concurrency, server), servers interleaved, so the ratios
compare runs from the same minute on a shared machine. Reported per row: the best batch's
exchanges/s and p50/p99 latency, and the server's CPU per exchange (all its threads, from
/proc/PID/task/*/schedstat; min and median over batches) with the user/sys split of the
best batch (psutil, 10 ms ticks, so coarse), plus the client's CPU per exchange.
``--pin`` puts the servers and the client on one vCPU (``os.sched_setaffinity``):
single-connection latency on this 2-vCPU VM is dominated by cross-vCPU wake-ups otherwise.

``--core`` measures only the protocol core
(``wasmd.kernel.native_protocol.Connection``), no sockets or
loop: CPU per exchange on each side, min over ``repeats`` batches. Far less noisy than the
socket rows on a shared machine; to compare two versions, run each tree's copy in turn.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

REQUEST = ((b":authority", b"x"), (b":path", b"/"), (b":method", b"GET"), (b":scheme", b"http"))
RESPONSE = ((b":status", b"200"),)
SERVERS = ("floor", "face", "wasmd")
WARMUP_EXCHANGES = 200


# -- servers (subprocesses) -----------------------------------------------------------------
async def serve(kind: str, path: str) -> None:
    """Serve ``kind`` on ``path``; print "ready"; stop at EOF on stdin."""
    loop = asyncio.get_running_loop()
    if kind == "floor":
        server: Any = await loop.create_unix_server(_FloorPeer, path, backlog=128)
    else:
        from workers.faces.native import NativeServer

        server = NativeServer(_stub_service() if kind == "face" else _plugin_service(loop))
        await server.start(path, backlog=128)
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until EOF
    if kind == "floor":
        server.close()
    else:
        await server.close()


def _plugin_service(loop: asyncio.AbstractEventLoop) -> Any:
    from workers.contexts.plugin import PluginConfig
    from workers.service import PluginSource, WorkerService
    from workers.vm.runtime import Runtime

    wasm = (REPO / "plugins/as/build/add_header.wasm").read_bytes()
    config = PluginConfig(name="add-header", root_id="as_add_header", configuration=b"v")
    service = WorkerService(
        Runtime(), [PluginSource(config, wasm)], {"default": ["add-header"]}, "default"
    )
    service.start(loop)
    return service


def _stub_service() -> Any:
    """A stand-in for WorkerService whose exchanges continue every header phase unchanged."""
    from workers.contexts.exchange import Step
    from workers.contexts.maps import HeaderMap

    class Exchange:
        final = None

        def on_request_headers(self, headers: Any, end_of_stream: bool) -> Step:
            self.request_headers = HeaderMap(headers)
            return Step.CONTINUE

        def on_response_headers(self, headers: Any, end_of_stream: bool) -> Step:
            self.response_headers = HeaderMap(headers)
            return Step.CONTINUE

    class AsyncExchange:
        def __init__(self) -> None:
            self.exchange = Exchange()

        def finish(self) -> None:
            pass

    class Service:
        def open(self, chain: str | None, properties: dict[str, bytes]) -> AsyncExchange:
            return AsyncExchange()

    return Service()


_LENGTH = struct.Struct(">I")


class _FloorPeer(asyncio.Protocol):
    """The least a server speaking this framing can do: parse frames, answer CONTINUE."""

    def __init__(self) -> None:
        import msgpack

        self.unpackb = msgpack.unpackb
        self.packb = msgpack.Packer(use_bin_type=True).pack
        self.buffer = b""
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buf, start, out = self.buffer + data, 0, []
        while len(buf) - start >= 4:
            (length,) = _LENGTH.unpack_from(buf, start)
            end = start + 4 + length
            if end > len(buf):
                break
            msg = self.unpackb(buf[start + 4 : end])
            start = end
            if msg[0] == 1:  # HELLO
                out.append(self.frame((1, (1,), 1 << 20)))
            elif 3 <= msg[0] <= 8:  # a phase
                out.append(self.frame((16, msg[1], (), (), None)))
        self.buffer = buf[start:]
        if out:
            self.transport.write(b"".join(out))

    def frame(self, body: tuple[Any, ...]) -> bytes:
        payload: bytes = self.packb(body)
        return _LENGTH.pack(len(payload)) + payload


# -- client ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Batch:
    wall_s: float
    latencies_s: list[float]
    server_cpu_s: float  # from the scheduler, ns resolution
    server_user_s: float  # psutil, 10 ms ticks: only the split is worth reading
    server_sys_s: float
    client_s: float


def run_time_s(pid: int) -> float:
    """CPU time of every thread of ``pid`` so far, from /proc/PID/task/*/schedstat (ns)."""
    total_ns = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that just exited
            total_ns += int((task / "schedstat").read_text().split()[0])
    return total_ns / 1e9


async def run_batch(client: Any, server: Any, exchanges: int, concurrency: int) -> Batch:
    """``exchanges`` exchanges over ``concurrency`` concurrent streams on one connection."""
    latencies: list[float] = []

    async def worker(n: int) -> None:
        for _ in range(n):
            t0 = time.perf_counter()
            await client.exchange(request_headers=REQUEST, response_headers=RESPONSE)
            latencies.append(time.perf_counter() - t0)

    before, run0, client0 = server.cpu_times(), run_time_s(server.pid), time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*(worker(exchanges // concurrency) for _ in range(concurrency)))
    wall = time.perf_counter() - start
    after, run1, client1 = server.cpu_times(), run_time_s(server.pid), time.process_time()
    return Batch(
        wall,
        latencies,
        run1 - run0,
        after.user - before.user,
        after.system - before.system,
        client1 - client0,
    )


async def run_all(
    paths: dict[str, str], pids: dict[str, int], args: argparse.Namespace
) -> dict[tuple[str, int], list[Batch]]:
    """Every round: one batch per (concurrency, server), servers interleaved."""
    import psutil

    from wasmd.clients.native import Client

    clients = {kind: await Client.connect(path) for kind, path in paths.items()}
    servers = {kind: psutil.Process(pid) for kind, pid in pids.items()}
    batches: dict[tuple[str, int], list[Batch]] = {}
    try:
        for client in clients.values():
            for _ in range(WARMUP_EXCHANGES):
                await client.exchange(request_headers=REQUEST, response_headers=RESPONSE)
        for _ in range(args.repeats):
            for conc in args.concurrency:
                for kind in paths:
                    batch = await run_batch(clients[kind], servers[kind], args.exchanges, conc)
                    batches.setdefault((kind, conc), []).append(batch)
    finally:
        for client in clients.values():
            await client.close()
    return batches


def summarize(kind: str, conc: int, batches: list[Batch]) -> dict[str, Any]:
    """One table row: the least disturbed batch's rates, CPU min and median over batches."""
    n = len(batches[0].latencies_s)
    cpu = [b.server_cpu_s / n * 1e6 for b in batches]
    best = batches[cpu.index(min(cpu))]
    lat = sorted(best.latencies_s)
    return {
        "server": kind,
        "concurrency": conc,
        "exchanges": n,
        "batches": len(batches),
        "exchanges_per_s": round(max(n / b.wall_s for b in batches)),
        "p50_us": round(min(statistics.median(b.latencies_s) for b in batches) * 1e6),
        "p99_us": round(lat[int(n * 0.99) - 1] * 1e6),
        "server_cpu_us": round(min(cpu), 1),
        "server_cpu_median_us": round(statistics.median(cpu), 1),
        "server_user_us": round(best.server_user_s / n * 1e6, 1),
        "server_sys_us": round(best.server_sys_s / n * 1e6, 1),
        "client_cpu_us": round(min(b.client_s for b in batches) / n * 1e6, 1),
    }


def core_cpu_us(exchanges: int, repeats: int) -> dict[str, float]:
    """Protocol core only: the server's and the client's CPU per exchange, in us (min)."""
    from wasmd.kernel import native_protocol as p

    def pair() -> tuple[Any, Any]:
        client, server = p.Connection(p.Role.CLIENT), p.Connection(p.Role.SERVER)
        server.receive_data(client.send(p.Hello(p.PROTOCOL_VERSIONS)))
        client.receive_data(server.send(p.Hello((1,))))
        return client, server

    def client_side(sids: range) -> float:  # CLOSE/OPEN/REQUEST_HEADERS out, CONTINUE in, ...
        conn, replies = pair()[0], [p.encode(p.Continue(sid)) for sid in sids]
        start = time.process_time()
        for sid, reply in zip(sids, replies, strict=True):
            if sid > 1:
                conn.send(p.Close(sid - 1))
            conn.send(p.Open(sid, "", {}))
            conn.send(p.RequestHeaders(sid, REQUEST, True))
            conn.receive_data(reply)
            conn.send(p.ResponseHeaders(sid, RESPONSE, True))
            conn.receive_data(reply)
        return time.process_time() - start

    def server_side(sids: range) -> float:  # the mirror, fed the client's frames
        client, conn = pair()
        reads = []
        for sid in sids:
            close = client.send(p.Close(sid - 1)) if sid > 1 else b""
            reads.append(close + client.send(p.Open(sid, "", {})) + client.send(
                p.RequestHeaders(sid, REQUEST, True)))  # fmt: skip
            client.receive_data(p.encode(p.Continue(sid)))
            reads.append(client.send(p.ResponseHeaders(sid, RESPONSE, True)))
            client.receive_data(p.encode(p.Continue(sid)))
        start = time.process_time()
        for sid, read in zip(sorted([*sids, *sids]), reads, strict=True):
            conn.receive_data(read)
            conn.send(p.Continue(sid))
        return time.process_time() - start

    sids = range(1, exchanges + 1)
    best = {"server": min(server_side(sids) for _ in range(repeats)),
            "client": min(client_side(sids) for _ in range(repeats))}  # fmt: skip
    return {side: round(s / exchanges * 1e6, 1) for side, s in best.items()}


def start_servers(
    kinds: list[str], cpu: int | None
) -> tuple[list[subprocess.Popen[bytes]], dict[str, str]]:
    tmp = tempfile.mkdtemp(prefix="wasmd-bench-")
    procs, paths = [], {}
    for kind in kinds:
        path = os.path.join(tmp, f"{kind}.sock")
        cmd = [sys.executable, __file__, "--serve", kind, path]
        if cpu is not None:
            cmd += ["--pin", str(cpu)]
        procs.append(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE))
        paths[kind] = path
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
    return procs, paths


def stop_servers(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.stdin is not None:
            proc.stdin.close()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def print_table(rows: list[dict[str, Any]], pinned: int | None) -> None:
    where = f"pinned to vCPU {pinned}" if pinned is not None else "unpinned"
    print(f"server and client {where}; CPU in us per exchange (min over batches)")
    head = ("server", "conc", "ex/s", "p50 us", "p99 us", "srv CPU", "(user", "sys)", "med",
            "cli CPU", "x floor")  # fmt: skip
    print("{:>6} {:>4} {:>7} {:>7} {:>7} {:>8} {:>7} {:>6} {:>7} {:>8} {:>8}".format(*head))
    floor = {r["concurrency"]: r for r in rows if r["server"] == "floor"}
    for r in rows:
        base = floor.get(r["concurrency"])
        ratio = f"{r['server_cpu_us'] / base['server_cpu_us']:.1f}" if base else "-"
        print(
            f"{r['server']:>6} {r['concurrency']:>4} {r['exchanges_per_s']:>7} {r['p50_us']:>7} "
            f"{r['p99_us']:>7} {r['server_cpu_us']:>8} {r['server_user_us']:>7} "
            f"{r['server_sys_us']:>6} {r['server_cpu_median_us']:>7} {r['client_cpu_us']:>8} "
            f"{ratio:>8}"
        )
    print("x floor: server CPU per exchange / the floor server's, same concurrency")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--serve", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    ap.add_argument("--exchanges", type=int, default=2000, help="per batch")
    ap.add_argument("--repeats", type=int, default=3, help="batches per row")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--servers", nargs="+", choices=SERVERS, default=list(SERVERS))
    ap.add_argument("--pin", type=int, nargs="?", const=0, default=None, metavar="CPU")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--core", action="store_true", help="the protocol core only, no sockets")
    args = ap.parse_args()
    import uvloop

    if args.pin is not None:
        os.sched_setaffinity(0, {args.pin})  # before any thread starts (epoch ticker)
    if args.serve:
        uvloop.run(serve(*args.serve))
        return
    if args.core:
        cpu = core_cpu_us(args.exchanges, args.repeats)
        print(json.dumps(cpu) if args.json else f"protocol core, CPU us per exchange: {cpu}")
        return
    procs, paths = start_servers(args.servers, args.pin)
    try:
        pids = {kind: proc.pid for kind, proc in zip(args.servers, procs, strict=True)}
        batches = uvloop.run(run_all(paths, pids, args))
    finally:
        stop_servers(procs)
    rows = [summarize(kind, conc, b) for (kind, conc), b in sorted(
        batches.items(), key=lambda kv: (kv[0][1], SERVERS.index(kv[0][0])))]  # fmt: skip
    if args.json:
        print(json.dumps({"pinned_cpu": args.pin, "rows": rows}, indent=2))
        return
    print_table(rows, args.pin)


if __name__ == "__main__":
    main()
