"""wasmd.clients.native's connection (_Link) against a fake transport: when frames are written."""

from __future__ import annotations

import asyncio
from typing import Any

from wasmd.clients.native import Client, _Link
from wasmd.kernel import native_protocol as p

HEADERS = ((b":path", b"/"),)


class FakeTransport:
    """Records every write; the server side is a pure protocol core fed by hand."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass


def connected() -> tuple[_Link, FakeTransport, p.Connection]:
    """A link past the HELLO exchange, its transport, and the server's protocol core."""
    link, transport, server = (
        _Link(p.DEFAULT_MAX_FRAME_BYTES),
        FakeTransport(),
        p.Connection(p.Role.SERVER),
    )
    link.connection_made(transport)  # type: ignore[arg-type]
    server.receive_data(transport.writes.pop())
    link.data_received(server.send(p.Hello((1,))))
    return link, transport, server


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def exchange(link: _Link) -> p.Reply:
    """OPEN, request headers, then response headers after the first reply (no CLOSE)."""
    sid = link.open("", {})
    await link.call(p.RequestHeaders(sid, HEADERS, True))
    return await link.call(p.ResponseHeaders(sid, HEADERS, True))


def answer(link: _Link, server: p.Connection, transport: FakeTransport) -> list[p.Message]:
    """The server's view of every write so far; each phase in them gets CONTINUE."""
    msgs = server.receive_data(b"".join(transport.writes))
    transport.writes.clear()
    phases = [m for m in msgs if isinstance(m, p.RequestHeaders | p.ResponseHeaders)]
    link.data_received(b"".join(server.send(p.Continue(m.stream_id)) for m in phases))
    return msgs


def test_a_lone_streams_phase_is_written_before_the_call_waits() -> None:
    """With one stream open no other frame can join the write: each phase goes out at
    once (OPEN with the first), without a loop iteration in between."""

    async def scenario() -> None:
        link, transport, server = connected()
        call = asyncio.ensure_future(exchange(link))
        await asyncio.sleep(0)  # the exchange runs up to its first await
        assert len(transport.writes) == 1
        assert [type(m) for m in answer(link, server, transport)] == [p.Open, p.RequestHeaders]
        await asyncio.sleep(0)  # the reply wakes the exchange
        assert len(transport.writes) == 1
        assert [type(m) for m in answer(link, server, transport)] == [p.ResponseHeaders]
        assert isinstance(await call, p.Continue)

    run(scenario())


def test_phases_of_several_streams_share_one_write() -> None:
    """Streams whose replies came in one read send their next phases in one write (the
    server wakes once)."""

    async def scenario() -> None:
        link, transport, server = connected()
        calls = [asyncio.ensure_future(exchange(link)) for _ in range(3)]
        for _ in range(3):
            await asyncio.sleep(0)
        answer(link, server, transport)  # the request headers, however they were written
        for _ in range(3):
            await asyncio.sleep(0)  # the exchanges wake, then the flush runs
        assert len(transport.writes) == 1
        assert [type(m) for m in answer(link, server, transport)] == [p.ResponseHeaders] * 3
        assert all(isinstance(r, p.Continue) for r in await asyncio.gather(*calls))

    run(scenario())


def test_close_waits_for_the_next_exchanges_open() -> None:
    """A stream's CLOSE is queued, so the next exchange's OPEN and first phase join it."""

    async def two_exchanges(link: _Link) -> None:
        await exchange(link)
        link.close_stream(1)
        await exchange(link)

    async def scenario() -> None:
        link, transport, server = connected()
        call = asyncio.ensure_future(two_exchanges(link))
        await asyncio.sleep(0)
        answer(link, server, transport)
        await asyncio.sleep(0)
        answer(link, server, transport)
        await asyncio.sleep(0)  # the first exchange ends, the second begins
        assert len(transport.writes) == 1
        msgs = server.receive_data(transport.writes[0])
        assert [type(m) for m in msgs] == [p.Close, p.Open, p.RequestHeaders]
        call.cancel()

    run(scenario())


def client_on(link: _Link) -> Client:
    client = Client("/nonexistent", max_frame_bytes=p.DEFAULT_MAX_FRAME_BYTES, retries=0)
    client._link = link
    return client


def test_an_exchange_sends_its_next_phase_from_the_reply_read() -> None:
    """Client.exchange answers a reply with the next phase inside data_received: no task
    wake-up between the phases of one exchange."""

    async def scenario() -> None:
        link, transport, server = connected()
        call = asyncio.ensure_future(
            client_on(link).exchange(request_headers=HEADERS, response_headers=HEADERS)
        )
        await asyncio.sleep(0)
        assert [type(m) for m in answer(link, server, transport)] == [p.Open, p.RequestHeaders]
        assert [type(m) for m in answer(link, server, transport)] == [p.ResponseHeaders]
        result = await call
        assert [name for name, _ in result.actions] == ["request_headers", "response_headers"]

    run(scenario())


def test_a_reply_after_the_exchange_was_cancelled_is_dropped() -> None:
    """A cancelled exchange closes its stream; a reply already on the wire changes nothing."""

    async def scenario() -> None:
        link, transport, server = connected()
        call = asyncio.ensure_future(client_on(link).exchange(request_headers=HEADERS))
        await asyncio.sleep(0)
        server.receive_data(transport.writes.pop())
        call.cancel()
        await asyncio.sleep(0)
        link.data_received(server.send(p.Continue(1)))
        assert call.cancelled() and not link.waiters and not link.conn.streams

    run(scenario())
