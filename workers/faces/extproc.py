"""The Envoy face: an ``envoy.service.ext_proc.v3.ExternalProcessor`` servicer per worker.

One gRPC stream is one HTTP exchange. Each ProcessingRequest phase is fed to the chain's
``AsyncExchange``; the reply carries what the plugins did: header mutations computed as a
diff (values in ``raw_value``), a replaced body (BUFFERED mode), or an ImmediateResponse
for a local reply. A paused plugin holds the reply until it continues (a callout answered,
a timer fired) or the pause timeout passes. ``on_log``/``on_done``/``on_delete`` run when
the gRPC stream ends, however it ends.

grpcio cannot serve an inherited socket and unlinks the path it bound when it stops, so the
server binds a private temporary path and renames it onto the slot's public path: the
takeover is atomic, old connections stay with the old server, and the old server's stop
removes nothing public (/work/shared/reference/wasmtime-and-ipc.md §5.2-5.3).
"""

from __future__ import annotations

import os
import struct
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from envoy.config.core.v3 import base_pb2 as core
from envoy.service.ext_proc.v3 import external_processor_pb2 as ep
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as ep_grpc
from envoy.type.v3 import http_status_pb2
from google.protobuf import wrappers_pb2

from wasmd.errors import WasmdError
from workers.contexts.exchange import FinalResponse, Step
from workers.contexts.maps import Pair
from workers.faces.mutations import diff_headers
from workers.service import AsyncExchange, UnknownChain, WorkerService

CHAIN_METADATA_KEY = "x-wasmd-chain"
_OVERWRITE = core.HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD
_APPEND = core.HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD
_I64 = struct.Struct("<q")
# Envoy computes these itself for an ImmediateResponse.
_IMMEDIATE_SKIP = frozenset({b"content-length", b"transfer-encoding"})


def _pairs(header_map: Any) -> list[Pair]:
    return [
        (h.key.encode(), h.raw_value if h.raw_value else h.value.encode())
        for h in header_map.headers
    ]


def header_mutation(before: Sequence[Pair], after: Sequence[Pair]) -> ep.HeaderMutation:
    """The HeaderMutation that turns ``before`` into ``after`` (see workers/faces/mutations)."""
    diff = diff_headers(before, after)
    set_headers: list[Any] = []
    seen: set[bytes] = set()
    for key, value in diff.set:
        # The first value of a changed name replaces what Envoy holds, the rest append.
        set_headers.append(_option(key, value, append=key in seen))
        seen.add(key)
    return ep.HeaderMutation(
        set_headers=set_headers, remove_headers=[k.decode() for k in diff.remove]
    )


def _option(key: bytes, value: bytes, *, append: bool) -> Any:
    # Envoy's ext_proc reads append_action APPEND_IF_EXISTS_OR_ADD (enum 0, the proto
    # default) as "not set" and overwrites; only the deprecated `append` flag appends.
    header = core.HeaderValue(key=key.decode(), raw_value=value)
    return core.HeaderValueOption(
        header=header,
        append=wrappers_pb2.BoolValue(value=append),
        append_action=_APPEND if append else _OVERWRITE,
        keep_empty_value=True,
    )


def immediate(final: FinalResponse) -> ep.ProcessingResponse:
    headers = [_option(k, v, append=True) for k, v in final.headers if k not in _IMMEDIATE_SKIP]
    return ep.ProcessingResponse(
        immediate_response=ep.ImmediateResponse(
            status=http_status_pb2.HttpStatus(code=final.status),
            headers=ep.HeaderMutation(set_headers=headers),
            body=final.body,
            details=final.details,
        )
    )


def _encode_value(value: Any) -> bytes | None:
    """A google.protobuf.Value as Envoy encodes that attribute for proxy_get_property."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return str(value.string_value).encode()
    if kind == "bool_value":
        return b"\x01" if value.bool_value else b"\x00"
    if kind == "number_value":
        number = value.number_value
        return _I64.pack(int(number)) if float(number).is_integer() else struct.pack("<d", number)
    return None


def properties_from(request: ep.ProcessingRequest) -> dict[str, bytes]:
    """Properties the proxy supplied: the request's ``attributes`` (Envoy attribute names)."""
    out: dict[str, bytes] = {}
    for struct_value in request.attributes.values():
        for name, value in struct_value.fields.items():
            encoded = _encode_value(value)
            if encoded is not None:
                out[name] = encoded
    return out


@dataclass(slots=True)
class FaceStats:
    streams: int = 0
    in_flight: int = 0
    errors: int = 0


class _Stream:
    """One gRPC stream = one HTTP exchange; keeps what Envoy currently holds, to diff against."""

    def __init__(self, ax: AsyncExchange) -> None:
        self.ax = ax
        self.request_headers: list[Pair] = []
        self.response_headers: list[Pair] = []
        self.answered_locally = False

    async def handle(self, req: ep.ProcessingRequest) -> ep.ProcessingResponse | None:
        """The reply for one message, or None when the plugin reset the stream."""
        kind = req.WhichOneof("request")
        ex = self.ax.exchange
        if kind == "request_headers":
            self.request_headers = _pairs(req.request_headers.headers)
            step = await self.ax.request_headers(
                self.request_headers, req.request_headers.end_of_stream
            )
            return self._headers_reply(
                step, "request_headers", self.request_headers, ex.request_headers.pairs()
            )
        if kind == "response_headers":
            self.response_headers = _pairs(req.response_headers.headers)
            step = await self.ax.response_headers(
                self.response_headers, req.response_headers.end_of_stream
            )
            return self._headers_reply(
                step, "response_headers", self.response_headers, ex.response_headers.pairs()
            )
        if kind == "request_body":
            before = len(ex.request_body)
            step = await self.ax.request_body(req.request_body.body, req.request_body.end_of_stream)
            return self._body_reply(
                step, "request_body", req.request_body.body, bytes(ex.request_body[before:])
            )
        if kind == "response_body":
            before = len(ex.response_body)
            step = await self.ax.response_body(
                req.response_body.body, req.response_body.end_of_stream
            )
            return self._body_reply(
                step, "response_body", req.response_body.body, bytes(ex.response_body[before:])
            )
        if kind == "request_trailers":
            pairs = _pairs(req.request_trailers.trailers)
            step = await self.ax.request_trailers(pairs)
            after = ex.request_trailers.pairs() if ex.request_trailers is not None else pairs
            return self._trailers_reply(step, "request_trailers", pairs, after)
        if kind == "response_trailers":
            pairs = _pairs(req.response_trailers.trailers)
            step = await self.ax.response_trailers(pairs)
            after = ex.response_trailers.pairs() if ex.response_trailers is not None else pairs
            return self._trailers_reply(step, "response_trailers", pairs, after)
        raise WasmdError(f"unexpected ext_proc message {kind!r}")

    def _special(self, step: Step) -> tuple[bool, ep.ProcessingResponse | None]:
        """(True, reply) for LOCAL/PAUSE/RESET (None: reset); (False, None) to continue."""
        if step is Step.LOCAL and self.ax.exchange.final is not None:
            self.answered_locally = True
            return True, immediate(self.ax.exchange.final)
        if step is Step.RESET:
            return True, None
        if step in (Step.PAUSE, Step.BUFFER):
            self.answered_locally = True
            timeout = FinalResponse(504, [], b"", "wasmd_plugin_pause_timeout", local=True)
            return True, immediate(timeout)
        return False, None

    def _headers_reply(
        self, step: Step, field: str, before: list[Pair], after: list[Pair]
    ) -> ep.ProcessingResponse | None:
        handled, reply = self._special(step)
        if handled:
            return reply
        common = ep.CommonResponse(header_mutation=header_mutation(before, after))
        if field == "request_headers":
            self.request_headers = after
        else:
            self.response_headers = after
        return ep.ProcessingResponse(**{field: ep.HeadersResponse(response=common)})

    def _body_reply(
        self, step: Step, field: str, original: bytes, passed: bytes
    ) -> ep.ProcessingResponse | None:
        handled, reply = self._special(step)
        if handled:
            return reply
        ex = self.ax.exchange
        # In BUFFERED mode the headers are still held: mutations made while handling the
        # body (content-length above all) apply too.
        if field == "request_body":
            current = ex.request_headers.pairs()
            mutation = header_mutation(self.request_headers, current)
            self.request_headers = current
        else:
            current = ex.response_headers.pairs()
            mutation = header_mutation(self.response_headers, current)
            self.response_headers = current
        common = ep.CommonResponse(header_mutation=mutation)
        if passed != original:
            common.body_mutation.CopyFrom(ep.BodyMutation(body=passed))
        return ep.ProcessingResponse(**{field: ep.BodyResponse(response=common)})

    def _trailers_reply(
        self, step: Step, field: str, before: list[Pair], after: list[Pair]
    ) -> ep.ProcessingResponse | None:
        handled, reply = self._special(step)
        if handled:
            return reply
        reply = ep.TrailersResponse(header_mutation=header_mutation(before, after))
        return ep.ProcessingResponse(**{field: reply})


class ExtProcServicer(ep_grpc.ExternalProcessorServicer):  # type: ignore[misc]
    """Serves ext_proc streams from a WorkerService on the worker's event loop."""

    def __init__(self, service: WorkerService) -> None:
        self.service = service
        self.stats = FaceStats()

    async def Process(  # noqa: N802 (the gRPC method name)
        self, request_iterator: AsyncIterator[ep.ProcessingRequest], context: Any
    ) -> AsyncIterator[ep.ProcessingResponse]:
        chain = dict(context.invocation_metadata() or ()).get(CHAIN_METADATA_KEY)
        stream: _Stream | None = None
        self.stats.streams += 1
        self.stats.in_flight += 1
        try:
            async for req in request_iterator:
                if stream is None:
                    try:
                        ax = self.service.open(chain, properties_from(req))
                    except UnknownChain as exc:
                        self.stats.errors += 1
                        await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
                        return
                    stream = _Stream(ax)
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


# grpc.health.v1.HealthCheckResponse{status: SERVING}, serialized (field 1, varint 1).
_HEALTH_SERVING = b"\x08\x01"


async def _health_check(request: bytes, context: Any) -> bytes:
    return _HEALTH_SERVING


def health_handler() -> Any:
    """``grpc.health.v1.Health/Check`` answered from the worker's event loop.

    Envoy's gRPC health check uses it: unlike a TCP connect (which the kernel accepts for a
    stopped or stuck process), it fails when the loop cannot answer, so a hung worker's slot
    leaves Envoy's rotation within one check instead of eating requests until its heartbeat
    kill. Bytes in and out: no protobuf module needed for a constant answer.
    """
    check = grpc.unary_unary_rpc_method_handler(_health_check)
    return grpc.method_handlers_generic_handler("grpc.health.v1.Health", {"Check": check})


class ExtProcServer:
    """A grpc.aio server for one worker slot's public ``extproc-<slot>.sock``."""

    def __init__(self, service: WorkerService, public_path: Path) -> None:
        self.public_path = public_path
        self.servicer = ExtProcServicer(service)
        self._server: Any = None

    async def start(self, mode: int = 0o660) -> None:
        """Bind a private path, then rename it onto the public path (atomic takeover)."""
        self.public_path.parent.mkdir(parents=True, exist_ok=True)
        private = self.public_path.with_name(f".{self.public_path.name}.{os.getpid()}.tmp")
        private.unlink(missing_ok=True)
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        ep_grpc.add_ExternalProcessorServicer_to_server(self.servicer, server)
        server.add_generic_rpc_handlers((health_handler(),))
        server.add_insecure_port(f"unix:{private}")
        await server.start()
        os.chmod(private, mode)
        os.rename(private, self.public_path)
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
