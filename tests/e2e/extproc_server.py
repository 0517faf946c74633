"""A wasmd worker's ext_proc face for tests: WorkerService + ExtProcServer on a thread's loop.

In-process (not the daemon) so a test can put one plugin behind Envoy's ext_proc filter and
compare with the same plugin in Envoy's own Wasm filter. The daemon's worker processes run
the same classes; tests/integration exercise those through the supervisor.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.envoy_config import connection_manager
from tests.helpers.manifest import PluginSpec
from tests.helpers.tools import compile_cache
from tests.integration.support import config_for
from wasmd.proxies.envoy import Phases, cluster_for, ext_proc_filter, module_phases
from workers.contexts.plugin import PluginConfig
from workers.faces.extproc import ExtProcServer
from workers.faces.extproc_grpcio import GrpcioExtProcServer
from workers.service import PluginSource, WorkerService
from workers.vm.runtime import Runtime

START_TIMEOUT_S = 120.0  # a cap: compiling a Go module on a loaded box takes tens of s


def plugin_config(spec: PluginSpec, upstreams: Mapping[str, str] | None = None) -> PluginConfig:
    """The PluginConfig matching what the Envoy harness gives the in-process Wasm filter
    (``wasmd try``'s conventions); ``upstreams`` maps callout upstream names to URLs."""
    return config_for(spec, upstreams=tuple((upstreams or {}).items()))


def phases_for(spec: PluginSpec) -> Phases:
    return module_phases(spec.wasm)


def extproc_bootstrap(
    base: dict[str, Any], spec: PluginSpec, socket_path: Path, *, streamed_bodies: bool = False
) -> dict[str, Any]:
    """The harness's bootstrap with its Wasm filter swapped for ext_proc -> ``socket_path``."""
    phases = dataclasses.replace(phases_for(spec), streamed_bodies=streamed_bodies)
    filters = connection_manager(base)["http_filters"]
    wasm = next(i for i, f in enumerate(filters) if f["name"] == "envoy.filters.http.wasm")
    namespaces = [name for name, _ in spec.dynamic_metadata]
    filters[wasm] = ext_proc_filter("default", phases, metadata_namespaces=namespaces)
    base["static_resources"]["clusters"].append(cluster_for([socket_path]))
    return base


@dataclass(frozen=True, slots=True)
class Served:
    service: WorkerService
    server: ExtProcServer | GrpcioExtProcServer
    loop: asyncio.AbstractEventLoop  # the server's; use run_coroutine_threadsafe


@contextmanager
def serving(
    spec: PluginSpec,
    socket_path: Path,
    upstreams: Mapping[str, str] | None = None,
    transport: str = "wasmd",
    streamed_bodies: bool = False,
) -> Iterator[Served]:
    """Serve ``spec`` on ``socket_path`` from a background thread until the block exits,
    on the ``transport`` a worker's ``daemon.extproc_transport`` would pick."""
    ready = threading.Event()
    stop: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
    failure: list[BaseException] = []
    holder: list[Served] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        runtime = Runtime(cache_dir=compile_cache())
        service = WorkerService(
            runtime,
            [PluginSource(plugin_config(spec, upstreams), spec.wasm.read_bytes())],
            {"default": [spec.name]},
            "default",
        )
        server: ExtProcServer | GrpcioExtProcServer
        if transport == "grpcio":
            server = GrpcioExtProcServer(service, socket_path, streamed_bodies=streamed_bodies)
        else:
            server = ExtProcServer(service, socket_path, streamed_bodies=streamed_bodies)
        try:
            service.start(loop)
            await server.start()
            holder.append(Served(service, server, loop))
            done: asyncio.Future[None] = loop.create_future()
            stop.append((loop, done))
            ready.set()
            await done
        finally:
            await server.close()
            service.close()
            await service.callouts.aclose()  # the callout clients' connections too
            runtime.close()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the test thread
            failure.append(exc)
        finally:
            ready.set()

    thread = threading.Thread(target=run, name=f"extproc-{spec.name}", daemon=True)
    thread.start()
    ready.wait(START_TIMEOUT_S)
    if failure or not holder:
        raise RuntimeError(f"ext_proc server for {spec.name} did not start: {failure!r}")
    try:
        yield holder[0]
    finally:
        loop, done = stop[0]
        loop.call_soon_threadsafe(done.set_result, None)
        thread.join(START_TIMEOUT_S)
