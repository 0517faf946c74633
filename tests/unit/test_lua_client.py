"""The Lua client core (wasmd/clients/lua/wasmd_client.lua) against the protocol's own code.

Run under the standalone Lua 5.3 interpreter (HAProxy's Lua; the core is also valid LuaJIT,
which nginx runs and tests/e2e/test_nginx.py covers) with lua-MessagePack:
- every client frame it builds is byte-identical to ``native_protocol.encode`` of the same
  message (bin for bytes, str for text) and to the examples in docs/protocol.md;
- scripted servers (a fake socket replaying frames ``native_protocol`` encoded: the pure core
  under test is the Lua stream logic) check HELLO once per connection, growing stream ids,
  retries after GOAWAY or a dead connection only while no reply came, and ERROR;
- what it sent on each connection is replayed into a server-side ``native_protocol.Connection``,
  which raises on any rule it breaks.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.helpers.tools import require_tool
from wasmd.kernel import native_protocol as p
from wasmd.proxies.lua_plan import lua_dir

TIMEOUT_S = 30

_PRELUDE = f"""
package.path = "{lua_dir()}/?.lua;" .. package.path
local w = require("wasmd_client")
local function hex(s)
    return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end
local function unhex(h)
    return (h:gsub("..", function(x) return string.char(tonumber(x, 16)) end))
end
"""


def _lua(body: str) -> list[str]:
    lua = require_tool("lua5.3")
    done = subprocess.run(
        [lua, "-"], input=_PRELUDE + body, capture_output=True, text=True, timeout=TIMEOUT_S
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_client_frames_match_the_python_encoder() -> None:
    out = _lua("""
print(hex(w.hello(1048576)))
print(hex(w.open(1, "default", {["source.address"] = "10.0.0.1"})))
print(hex(w.open(300, "", {})))
local long = {{":path", "/"}, {"x-long", string.rep("v", 300)}}
print(hex(w.headers(w.T.REQUEST_HEADERS, 1, long, true)))
print(hex(w.body(w.T.REQUEST_BODY, 70000, string.rep("b", 70000), false)))
print(hex(w.trailers(w.T.REQUEST_TRAILERS, 1, {{"x", "1"}})))
print(hex(w.headers(w.T.RESPONSE_HEADERS, 1, {{":status", "200"}}, false)))
print(hex(w.body(w.T.RESPONSE_BODY, 1, "ok", true)))
print(hex(w.trailers(w.T.RESPONSE_TRAILERS, 1, {})))
print(hex(w.close_frame(1)))
print(hex(w.error_frame(0, w.E.MALFORMED, "bad")))
""")
    expected = [
        p.Hello((1,), 1 << 20),
        p.Open(1, "default", {"source.address": b"10.0.0.1"}),
        p.Open(300, "", {}),
        p.RequestHeaders(1, ((b":path", b"/"), (b"x-long", b"v" * 300)), True),
        p.RequestBody(70000, b"b" * 70000, False),
        p.RequestTrailers(1, ((b"x", b"1"),)),
        p.ResponseHeaders(1, ((b":status", b"200"),), False),
        p.ResponseBody(1, b"ok", True),
        p.ResponseTrailers(1, ()),
        p.Close(1),
        p.Error(0, p.ErrorCode.MALFORMED, "bad"),
    ]
    assert [bytes.fromhex(line) for line in out] == [p.encode(m) for m in expected]


def test_frames_match_the_byte_examples_in_the_protocol_doc() -> None:
    out = _lua("""
print(hex(w.open(1, "default", {["source.address"] = "10.0.0.1"})))
print(hex(w.headers(w.T.REQUEST_HEADERS, 1, {{":path", "/"}}, true)))
print(hex(w.close_frame(1)))
""")
    assert out == [
        "00000025940201a764656661756c7481ae736f757263652e61646472657373c40831302e302e302e31",
        "000000109403019192c4053a70617468c4012fc3",
        "00000003920901",
    ]


def test_integer_properties_are_eight_little_endian_bytes() -> None:
    out = _lua("print(hex(w.encode_int(0)), hex(w.encode_int(8080)), hex(w.encode_int(2^40+1)))")
    assert out == [
        " ".join(n.to_bytes(8, "little").hex() for n in (0, 8080, 2**40 + 1)).replace(" ", "\t")
    ]


def test_decode_server_messages_and_refuse_malformed_ones() -> None:
    frames = [
        p.Continue(1, ((b"x-a", b"1"),), (b"x-b",), None),
        p.Continue(2, (), (), b"HI"),
        p.LocalResponse(3, 403, ((b"x-d", b"y"),), b"no", "as_denied"),
        p.Reset(4),
        p.GoAway(7),
        p.Error(0, p.ErrorCode.UNKNOWN_CHAIN, "unknown chain"),
    ]
    payloads = [p.encode(f)[4:].hex() for f in frames]
    payloads.append("93100190")  # CONTINUE with 2 fields: malformed
    payloads.append("92ff01")  # type 255
    table = ", ".join(f'"{h}"' for h in payloads)
    out = _lua(f"""
for _, h in ipairs({{{table}}}) do
    local m, code, why = w.decode(unhex(h))
    if not m then
        print("error", code)
    else
        local parts = {{}}
        for i = 1, 6 do
            local v = m[i]
            if type(v) == "table" then
                local items = {{}}
                for _, x in ipairs(v) do
                    items[#items + 1] = type(x) == "table" and (x[1] .. "=" .. x[2]) or x
                end
                v = "[" .. table.concat(items, ",") .. "]"
            end
            parts[#parts + 1] = tostring(v)
        end
        print(table.concat(parts, " "))
    end
end
""")
    assert out == [
        "16 1 [x-a=1] [x-b] nil nil",
        "16 2 [] [] HI nil",
        "17 3 403 [x-d=y] no as_denied",
        "18 4 nil nil nil nil",
        "33 7 nil nil nil nil",
        "32 0 4 unknown chain nil nil",
        f"error\t{int(p.ErrorCode.MALFORMED)}",
        f"error\t{int(p.ErrorCode.UNKNOWN_MESSAGE)}",
    ]


# -- the stream logic against scripted servers ------------------------------------------------


def _server_hello() -> bytes:
    return p.encode(p.Hello((1,), 1 << 20))


def _run_exchange(connections: Sequence[bytes]) -> tuple[str, list[bytes]]:
    """One request-headers phase through ``wasmd.stream`` whose n-th connection reads
    ``connections[n]`` (then "closed"); returns the outcome line and what each got."""
    script = ", ".join(f'"{c.hex()}"' for c in connections)
    out = _lua(f"""
local script = {{{script}}}
local sent, n = {{}}, 0
local function connect()
    n = n + 1
    if not script[n] then return nil, "refused" end
    local data, pos, got = unhex(script[n]), 1, {{}}
    sent[n] = got
    local sock = {{}}
    function sock:send(s) got[#got + 1] = s; return #s end
    function sock:receive(k)
        if pos + k - 1 > #data then return nil, "closed" end
        local r = data:sub(pos, pos + k - 1)
        pos = pos + k
        return r
    end
    function sock:close() end
    return w.connection(sock, false)
end
local s = w.stream(connect, function() end, "default", {{["request.id"] = "r1"}})
local r, err = s:request_headers({{{{":path", "/"}}}}, true)
s:close()
print(r and r.kind or "failed", err or "")
for i = 1, n do print(hex(table.concat(sent[i] or {{}}))) end
""")
    return out[0], [bytes.fromhex(line) for line in out[1:]]


def _replay(data: bytes) -> list[p.Message]:
    """Feed what the client sent to a server-side protocol core (raises on a broken rule)."""
    server = p.Connection(p.Role.SERVER)
    messages = server.receive_data(data)
    assert server.pending_error is None
    return messages


def test_a_happy_exchange_says_hello_once_and_closes_the_stream() -> None:
    outcome, sent = _run_exchange([_server_hello() + p.encode(p.Continue(1))])
    assert outcome == "continue\t"
    kinds = [type(m).__name__ for m in _replay(sent[0])]
    assert kinds == ["Hello", "Open", "RequestHeaders", "Close"]


def test_goaway_before_the_stream_retries_it_on_a_new_connection() -> None:
    first = _server_hello() + p.encode(p.GoAway(0))
    second = _server_hello() + p.encode(p.Continue(2, ((b"x-a", b"1"),)))
    outcome, sent = _run_exchange([first, second])
    assert outcome == "continue\t"
    assert len(sent) == 2
    retried = _replay(sent[1])
    assert isinstance(retried[0], p.Hello)  # HELLO again: a new connection
    assert [m.stream_id for m in retried[1:] if isinstance(m, p.Open)] == [2]  # ids grow


def test_a_connection_that_dies_before_any_reply_is_retried() -> None:
    outcome, sent = _run_exchange([_server_hello(), _server_hello() + p.encode(p.Continue(2))])
    assert outcome == "continue\t"
    assert len(sent) == 2


def test_retries_are_bounded() -> None:
    outcome, sent = _run_exchange([_server_hello()] * 10)
    assert outcome.startswith("failed")
    assert len(sent) == 4  # the first attempt and RETRIES=3 more


def test_error_fails_the_stream_without_a_retry() -> None:
    error = p.encode(p.Error(1, p.ErrorCode.UNKNOWN_CHAIN, "unknown chain 'x'"))
    outcome, sent = _run_exchange([_server_hello() + error, _server_hello()])
    assert outcome.startswith("failed") and "UNKNOWN_CHAIN" in outcome
    assert len(sent) == 1


def test_an_unsupported_server_hello_is_refused() -> None:
    outcome, sent = _run_exchange([p.encode(p.Hello((2,), 1 << 20))] * 5)
    assert outcome.startswith("failed") and "unsupported version" in outcome


@pytest.mark.parametrize("huge", [(1 << 20) + 1])
def test_a_frame_above_the_limit_is_refused_from_its_length(huge: int) -> None:
    frame = _server_hello() + huge.to_bytes(4, "big")
    outcome, sent = _run_exchange([frame] * 5)
    assert outcome.startswith("failed")
    client = p.Connection(p.Role.SERVER)
    messages = client.receive_data(sent[0])
    assert any(isinstance(m, p.Error) and m.code is p.ErrorCode.FRAME_TOO_LARGE for m in messages)


def test_lua_dir_ships_the_client_and_both_adapters() -> None:
    names = {path.name for path in Path(lua_dir()).glob("*.lua")}
    assert {"wasmd_client.lua", "wasmd_nginx.lua", "wasmd_haproxy.lua"} <= names
