"""One ext_proc exchange on a slot socket over a fresh connection (grpcio), as Envoy opens
one: request headers in, the plugin's request-headers reply out."""

from __future__ import annotations

from pathlib import Path


def extproc_once(path: Path, timeout_s: float) -> None:
    """Open a new channel to ``path``, send request headers, wait for the reply (raises
    ``grpc.RpcError`` if the stream fails or ``timeout_s`` passes)."""
    import grpc
    from envoy.config.core.v3 import base_pb2 as core
    from envoy.service.ext_proc.v3 import external_processor_pb2 as ep
    from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as ep_grpc

    pairs = [(":method", "GET"), (":path", "/"), (":authority", "probe")]
    headers = core.HeaderMap(
        headers=[core.HeaderValue(key=k, raw_value=v.encode()) for k, v in pairs]
    )
    request = ep.ProcessingRequest(
        request_headers=ep.HttpHeaders(headers=headers, end_of_stream=True)
    )
    with grpc.insecure_channel(f"unix:{path}") as channel:
        responses = ep_grpc.ExternalProcessorStub(channel).Process(
            iter([request]), timeout=timeout_s, wait_for_ready=True
        )
        reply = next(responses)
        responses.cancel()
    assert reply.WhichOneof("response") == "request_headers", reply
