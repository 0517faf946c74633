"""HTTP and gRPC callouts (proxy_http_call, proxy_grpc_*): the I/O side.

``tokens`` and ``upstreams`` are pure (token allocation as proxy-wasm-cpp-host does it,
upstream URL parsing); ``messages`` holds the frozen requests and events that cross the
seam between the synchronous contexts layer and the loop; ``http`` (aiohttp) and ``grpc``
(grpc.aio) run the calls as asyncio tasks and never block the loop.
"""
