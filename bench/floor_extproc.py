"""The Python transport floor: a grpc.aio ext_proc server that changes nothing.

It answers every ProcessingRequest with the matching empty response (CONTINUE, no
mutation), on the same stack a wasmd worker uses (grpcio's aio server on uvloop, a Unix
socket). Whatever wasmd costs above this server is wasmd's; what this costs is the price
of ext_proc to Python at all.

    python3 bench/floor_extproc.py --socket /tmp/floor.sock
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
from envoy.service.ext_proc.v3 import external_processor_pb2 as ep
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as ep_grpc

# One prebuilt empty reply per phase (never mutated).
_REPLIES = {
    "request_headers": ep.ProcessingResponse(request_headers=ep.HeadersResponse()),
    "response_headers": ep.ProcessingResponse(response_headers=ep.HeadersResponse()),
    "request_body": ep.ProcessingResponse(request_body=ep.BodyResponse()),
    "response_body": ep.ProcessingResponse(response_body=ep.BodyResponse()),
    "request_trailers": ep.ProcessingResponse(request_trailers=ep.TrailersResponse()),
    "response_trailers": ep.ProcessingResponse(response_trailers=ep.TrailersResponse()),
}


class Floor(ep_grpc.ExternalProcessorServicer):  # type: ignore[misc]
    async def Process(  # noqa: N802 (the gRPC method name)
        self, request_iterator: AsyncIterator[ep.ProcessingRequest], context: Any
    ) -> AsyncIterator[ep.ProcessingResponse]:
        async for req in request_iterator:
            yield _REPLIES[req.WhichOneof("request")]


async def serve(path: Path) -> None:
    server = grpc.aio.server()
    ep_grpc.add_ExternalProcessorServicer_to_server(Floor(), server)
    server.add_insecure_port(f"unix:{path}")
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--socket", type=Path, required=True)
    args = parser.parse_args()
    import uvloop

    uvloop.run(serve(args.socket))


if __name__ == "__main__":
    main()
