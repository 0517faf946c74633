"""One HTTP exchange through a chain of plugins, phase by phase, as Envoy's filter chain runs it.

Faces (``wasmd try``, the msgpack server, the ext_proc servicer) feed the phases in order
and read back what to do: continue with the (mutated) headers and body, stay paused, or
answer with a local response. Request phases visit the plugins in chain order, response
phases in reverse order. A local reply still runs the response-header (and body)
callbacks of the plugins it passes back through, as Envoy does.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from wasmd.kernel.errors import PluginTrap
from workers.abi.types import LogLevel
from workers.contexts.maps import BodyBuffer, HeaderMap, Pair
from workers.contexts.plugin import FailurePolicy, PluginVm
from workers.contexts.policy import Admission, PluginHandle
from workers.contexts.stream import LocalResponse, Phase, StreamContext

FAIL_CLOSED = LocalResponse(503, [], b"", "wasm_fail_stream", 14)  # Envoy's failStream reply


_PHASES = (Phase.REQUEST, Phase.RESPONSE)  # by direction id
# A header phase per direction: (the map's attribute and phase name, export, direction id).
_HEADER_PHASES = {
    "request": ("request_headers", "proxy_on_request_headers", 0),
    "response": ("response_headers", "proxy_on_response_headers", 1),
}


class Step(enum.Enum):
    CONTINUE = "continue"
    PAUSE = "pause"  # the plugin stopped iteration; nothing resumed it yet
    BUFFER = "buffer"  # a body callback wants more data before deciding
    LOCAL = "local"  # a local response replaces the upstream response
    RESET = "reset"  # the plugin closed the stream
    FAIL = "fail"  # the plugin failed and its policy is fail_closed


@dataclass(frozen=True, slots=True)
class FinalResponse:
    status: int
    headers: list[Pair]
    body: bytes
    details: str = ""
    local: bool = False


class HttpFilter:
    """One plugin's stream context within one exchange; applies the plugin's failure policy."""

    def __init__(
        self,
        handle: PluginHandle,
        supplied: Mapping[str, bytes],
        assigned: dict[str, bytes],
    ) -> None:
        self.handle = handle
        self.supplied = supplied
        self.assigned = assigned  # proxy_set_property values, shared by the chain
        self.vm: PluginVm | None = None
        self.ctx: StreamContext | None = None
        self.skip = False
        self.failure: PluginTrap | None = None
        self.buffers: dict[str, BodyBuffer] = {}  # per direction, made on first body data

    def _open(self) -> Step | None:
        """Create the stream context lazily (Envoy's onCreate on first use)."""
        if self.ctx is not None or self.skip:
            return None
        if self.failure is not None:
            return Step.FAIL
        admission, vm = self.handle.admit()
        if admission is Admission.SKIP:
            self.skip = True
            return None
        if admission is Admission.REJECT or vm is None:
            self.failure = PluginTrap(f"plugin {self.handle.name} is failed", "failed")
            return Step.FAIL
        self.vm = vm
        try:
            self.ctx = vm.new_stream(self.supplied, self.assigned)
        except PluginTrap as trap:
            return self._failed(trap)
        return None

    def call(
        self,
        export: str,
        args: tuple[int, ...],
        setup: tuple[str, object],
        direction: int,
        *,
        headers: bool,
    ) -> Step:
        """Run one callback with ``setup`` (attribute, value) set on the stream context
        first (the phase's map or buffer); translate its return value and requests into a
        Step."""
        ctx = self.ctx
        if ctx is None:
            opened = self._open()
            if opened is not None:
                return opened
            ctx = self.ctx
        if self.skip:
            return Step.CONTINUE
        vm = self.vm
        assert vm is not None and ctx is not None
        ctx.phase = _PHASES[direction]
        setattr(ctx, *setup)
        if vm.visibility is not None and isinstance(setup[1], HeaderMap):
            args = (vm.visibility.count(setup[1]), *args[1:])  # hidden headers not counted
        ctx.continue_requested.clear()
        had_local = ctx.local_response is not None
        try:
            result = vm.invoke(ctx, export, ctx.id, *args)
        except PluginTrap as trap:
            return self._failed(trap)
        if ctx.reset_requested:
            return Step.RESET
        if ctx.local_response is not None and not had_local:
            return Step.LOCAL
        if not result or (headers and result == 2) or direction in ctx.continue_requested:
            return Step.CONTINUE
        return Step.PAUSE

    def _failed(self, trap: PluginTrap) -> Step:
        assert self.vm is not None
        self.handle.report(self.vm, trap)
        self.vm.logs.emit(LogLevel.ERROR, f"plugin failed: {trap}", source="host")
        self.failure = trap
        if self.handle.policy is FailurePolicy.FAIL_OPEN:
            self.skip = True
            return Step.CONTINUE
        return Step.FAIL

    def finish(self) -> None:
        """on_log, on_done, on_delete; creates the context first if it never existed."""
        if self.failure is not None or self.skip:
            return
        if self._open() is not None or self.ctx is None or self.vm is None:
            return
        try:
            self.vm.end_stream(self.ctx)
            self.handle.report_success()
        except PluginTrap as trap:
            self.handle.report(self.vm, trap)


class Exchange:
    """Drives one HTTP exchange through ``handles`` (the chain, in request order)."""

    def __init__(
        self, handles: Sequence[PluginHandle], supplied: Mapping[str, bytes] | None = None
    ):
        # Properties the proxy supplied, read-only from here on and shared by the chain. Not
        # copied or even sized here: a face may hand over a mapping that decodes itself on
        # the first property read, which most exchanges never make.
        shared: Mapping[str, bytes] = supplied if supplied is not None else {}
        # What the plugins set with proxy_set_property: Envoy's filter state for the stream,
        # which every later Wasm filter of the chain reads.
        self.assigned: dict[str, bytes] = {}
        self.filters = [HttpFilter(h, shared, self.assigned) for h in handles]
        self.request_headers = HeaderMap()
        self.request_trailers: HeaderMap | None = None
        self.request_body = bytearray()  # what passed every plugin: goes upstream
        self.response_headers = HeaderMap()
        self.response_trailers: HeaderMap | None = None
        self.response_body = bytearray()  # what passed every plugin: goes to the client
        self.final: FinalResponse | None = None
        self.reset = False
        self.paused_in: str | None = None
        self._resume: Callable[[], Step] | None = None
        self._paused_at: int | None = None  # the filter that paused the current phase
        self._request_stopped_at = len(self.filters)
        n = len(self.filters)
        self._orders = (range(n), range(n - 1, -1, -1))  # by direction id

    # -- request phases --------------------------------------------------------------------
    def on_request_headers(self, headers: Sequence[Pair], end_of_stream: bool) -> Step:
        self.request_headers = HeaderMap(headers)
        return self._headers("request", self._orders[0], end_of_stream)

    def _headers(self, direction: str, order: Sequence[int], eos: bool) -> Step:
        """A header phase; the map is visible to properties (request.*/response.*) too."""
        phase, export, direction_id = _HEADER_PHASES[direction]
        header_map = self.request_headers if direction_id == 0 else self.response_headers
        args = (len(header_map), int(eos))
        setup = (phase, header_map)
        return self._run(phase, order, export, args, setup, direction_id, headers=True)

    def on_request_body(self, chunk: bytes, end_of_stream: bool) -> Step:
        return self._body("request", chunk, end_of_stream)

    def on_request_trailers(self, trailers: Sequence[Pair]) -> Step:
        self.request_trailers = HeaderMap(trailers)
        return self._trailers("request", self.request_trailers)

    def _trailers(self, direction: str, trailers: HeaderMap) -> Step:
        return self._run(
            f"{direction}_trailers",
            self._order(direction),
            f"proxy_on_{direction}_trailers",
            (len(trailers),),
            (f"{direction}_trailers", trailers),
            0 if direction == "request" else 1,
            headers=False,
        )

    # -- response phases -------------------------------------------------------------------
    def on_response_headers(self, headers: Sequence[Pair], end_of_stream: bool) -> Step:
        self.response_headers = HeaderMap(headers)
        return self._headers("response", self._orders[1], end_of_stream)

    def on_response_body(self, chunk: bytes, end_of_stream: bool) -> Step:
        return self._body("response", chunk, end_of_stream)

    def on_response_trailers(self, trailers: Sequence[Pair]) -> Step:
        self.response_trailers = HeaderMap(trailers)
        return self._trailers("response", self.response_trailers)

    def finish(self) -> None:
        """End every plugin's stream context (on_log, on_done, on_delete)."""
        for f in self.filters:
            f.finish()
        flushed: list[PluginHandle] = []  # once per plugin (a chain may name one twice)
        for f in self.filters:
            handle = f.handle
            if handle.vm is not None and handle not in flushed:
                flushed.append(handle)
                handle.vm.logs.flush()

    # -- machinery -------------------------------------------------------------------------
    def _run(
        self,
        phase: str,
        order: Sequence[int],
        export: str,
        args: tuple[int, ...],
        setup: tuple[str, object],
        direction: int,
        *,
        headers: bool,
    ) -> Step:
        filters = self.filters
        for position, index in enumerate(order):
            step = filters[index].call(export, args, setup, direction, headers=headers)
            if step is Step.CONTINUE:
                continue
            if step is Step.PAUSE:
                self._resume = functools.partial(
                    self._run,
                    phase,
                    order[position + 1 :],
                    export,
                    args,
                    setup,
                    direction,
                    headers=headers,
                )
            return self._stopped(step, index, phase)
        return Step.CONTINUE

    def _order(self, direction: str) -> range:
        """Plugin indices in the order a phase of ``direction`` visits them."""
        return self._orders[0 if direction == "request" else 1]

    def _feed(self, index: int, direction: str, data: bytes, eos: bool) -> tuple[Step, BodyBuffer]:
        """Append ``data`` to plugin ``index``'s body buffer and run its body callback."""
        f = self.filters[index]
        buffer = f.buffers.get(direction)
        if buffer is None:
            buffer = f.buffers[direction] = BodyBuffer()
        buffer.data += data
        export = f"proxy_on_{direction}_body"
        direction_id = 0 if direction == "request" else 1
        setup = (f"{direction}_body", buffer)
        step = f.call(export, (buffer.size(), int(eos)), setup, direction_id, headers=False)
        return step, buffer

    @staticmethod
    def _drain(buffer: BodyBuffer) -> bytes:
        data = bytes(buffer.data)
        buffer.data.clear()
        return data

    def _body(self, direction: str, chunk: bytes, eos: bool, start: int = 0) -> Step:
        data = chunk
        for position, index in enumerate(self._order(direction)[start:], start):
            step, buffer = self._feed(index, direction, data, eos)
            if step is Step.PAUSE and not eos:
                return Step.BUFFER
            if step is Step.PAUSE:
                self._resume = functools.partial(self._release_body, direction, position, buffer)
            if step is not Step.CONTINUE:
                return self._stopped(step, index, f"{direction}_body")
            data = self._drain(buffer)
        (self.request_body if direction == "request" else self.response_body).extend(data)
        return Step.CONTINUE

    def _release_body(self, direction: str, position: int, buffer: BodyBuffer) -> Step:
        """A plugin paused at end of stream continued: pass its buffer on to the rest."""
        data = bytes(buffer.data)
        buffer.data.clear()
        return self._body(direction, data, True, position + 1)

    def resume(self) -> Step:
        """Continue a paused phase after the plugin called proxy_continue_stream."""
        local, phase = self._paused_local(), self.paused_in or ""
        resume, self._resume = self._resume, None
        if resume is None:
            raise RuntimeError("resume() without a paused phase")
        self.paused_in = None
        if local is not None:  # answered while paused (e.g. from a callout response)
            return self._stopped(Step.LOCAL, local, phase)
        for f in self.filters:
            if f.ctx is not None:
                f.ctx.continue_requested.clear()
        return resume()

    def paused_filter_continued(self) -> bool:
        """True when the plugin that paused this exchange has asked to continue it."""
        return (
            any(f.ctx is not None and f.ctx.continue_requested for f in self.filters)
            or self._paused_local() is not None
        ) and self._resume is not None

    def _paused_local(self) -> int | None:
        """The index of the paused filter if it sent a local response while paused."""
        index = self._paused_at
        if index is None or self._resume is None:
            return None
        ctx = self.filters[index].ctx
        return index if ctx is not None and ctx.local_response is not None else None

    def _stopped(self, step: Step, index: int, phase: str) -> Step:
        if step is Step.RESET:
            self.reset = True
        elif step is Step.PAUSE:
            self.paused_in = phase
            self._paused_at = index
        elif step is Step.LOCAL:
            ctx = self.filters[index].ctx
            assert ctx is not None and ctx.local_response is not None
            self._local_reply(ctx.local_response, index, phase)
        elif step is Step.FAIL:
            self._local_reply(FAIL_CLOSED, index - 1, phase)
            return Step.LOCAL
        return step

    def _local_reply(self, reply: LocalResponse, last: int, phase: str) -> None:
        """Answer locally; the reply passes back through plugins last..0 (request phases)."""
        self.response_headers = HeaderMap([(b":status", str(reply.status).encode())])
        for key, value in reply.headers:
            self.response_headers.add(key, value)
        if reply.body:
            if self.response_headers.get(b"content-type") is None:
                self.response_headers.add(b"content-type", b"text/plain")
            self.response_headers.add(b"content-length", str(len(reply.body)).encode())
        body = reply.body
        if phase.startswith("request") and last >= 0:
            order = list(reversed(range(last + 1)))
            self._headers("response", order, not body)
            if body:
                self.response_body.clear()
                self._body_through(order, body)
                body = bytes(self.response_body)
        status = self.response_headers.get(b":status") or str(reply.status).encode()
        headers = [(k, v) for k, v in self.response_headers.pairs() if k != b":status"]
        self.final = FinalResponse(int(status), headers, body, reply.details, local=True)

    def _body_through(self, order: list[int], body: bytes) -> None:
        """A local reply's body through plugins ``order``; what they return is not asked."""
        data = body
        for index in order:
            _, buffer = self._feed(index, "response", data, True)
            data = self._drain(buffer)
        self.response_body.extend(data)
