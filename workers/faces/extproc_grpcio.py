"""The ext_proc face on grpcio's aio server: the fallback transport.

``daemon.extproc_transport = "grpcio"`` selects it. It maps messages exactly as the default
transport does (``extproc.ExtProcStream``); it costs more CPU per message (grpc.aio's poller
thread and per-message task hops, docs/design-notes.md) and imports grpc in the worker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
from envoy.service.ext_proc.v3 import external_processor_pb2 as ep

from workers.faces.extproc import (
    CHAIN_METADATA_KEY,
    HEALTH_SERVING,
    ExtProcStream,
    FaceStats,
    private_path,
    publish,
)
from workers.service import UnknownChain, WorkerService


class ExtProcServicer:
    """Serves ext_proc streams from a WorkerService on the worker's event loop; replies
    are already serialized (``ExtProcStream.reply``), so grpc sends them as they are."""

    def __init__(self, service: WorkerService, *, streamed_bodies: bool = False) -> None:
        self.service = service
        self.streamed_bodies = streamed_bodies
        self.stats = FaceStats()

    async def Process(  # noqa: N802 (the gRPC method name)
        self, request_iterator: AsyncIterator[ep.ProcessingRequest], context: Any
    ) -> AsyncIterator[bytes]:
        chain = dict(context.invocation_metadata() or ()).get(CHAIN_METADATA_KEY)
        stream: ExtProcStream | None = None
        self.stats.streams += 1
        self.stats.in_flight += 1
        try:
            async for req in request_iterator:
                self.stats.messages += 1
                if stream is None:
                    try:
                        stream = ExtProcStream.open(
                            self.service, chain, req, streamed_bodies=self.streamed_bodies
                        )
                    except UnknownChain as exc:
                        self.stats.errors += 1
                        await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
                        return
                if stream.answered_locally:
                    continue  # Envoy ignores anything after an ImmediateResponse
                reply = await stream.handle(req)
                if reply is None:
                    await context.abort(grpc.StatusCode.ABORTED, "the plugin reset the stream")
                    return
                yield reply
        finally:
            self.stats.in_flight -= 1
            if stream is not None:
                stream.ax.finish()


def process_handler(servicer: ExtProcServicer) -> Any:
    """``ExternalProcessor/Process``: requests parsed by protobuf, replies sent as bytes."""
    process = grpc.stream_stream_rpc_method_handler(
        servicer.Process,
        request_deserializer=ep.ProcessingRequest.FromString,
        response_serializer=bytes,
    )
    return grpc.method_handlers_generic_handler(
        "envoy.service.ext_proc.v3.ExternalProcessor", {"Process": process}
    )


async def _health_check(request: bytes, context: Any) -> bytes:
    return HEALTH_SERVING


def health_handler() -> Any:
    """``grpc.health.v1.Health/Check`` (see extproc.HealthHandler); bytes in and out."""
    check = grpc.unary_unary_rpc_method_handler(_health_check)
    return grpc.method_handlers_generic_handler("grpc.health.v1.Health", {"Check": check})


class GrpcioExtProcServer:
    """The ext_proc face on grpcio's aio server (the fallback transport)."""

    def __init__(
        self, service: WorkerService, public_path: Path, *, streamed_bodies: bool = False
    ) -> None:
        self.public_path = public_path
        self.servicer = ExtProcServicer(service, streamed_bodies=streamed_bodies)
        self._server: Any = None

    async def start(self, mode: int = 0o660) -> None:
        """Bind a private path, then rename it onto the public path (atomic takeover)."""
        private = private_path(self.public_path)
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        server.add_generic_rpc_handlers((process_handler(self.servicer),))
        server.add_generic_rpc_handlers((health_handler(),))
        server.add_insecure_port(f"unix:{private}")
        await server.start()
        publish(private, self.public_path, mode)
        self._server = server

    def stats(self) -> FaceStats:
        return self.servicer.stats

    async def drain(self, timeout_s: float) -> None:
        """Stop taking new streams, let in-flight ones finish up to ``timeout_s`` (GOAWAY)."""
        if self._server is not None:
            await self._server.stop(grace=timeout_s)
            self._server = None

    async def close(self) -> None:
        await self.drain(0)
