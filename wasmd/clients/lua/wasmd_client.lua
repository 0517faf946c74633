-- wasmd_client: the native protocol (docs/protocol.md, version 1) for Lua proxies.
--
-- Shared by the nginx (LuaJIT, lua-nginx-module) and HAProxy (Lua 5.3) adapters; it never
-- touches a proxy API. An adapter hands it a socket factory and the exchange's parts; it
-- hands back each phase's reply as a table:
--   {kind = "continue", set = {{name, value}...}, remove = {name...}, body = string|nil}
--   {kind = "local", status = n, headers = {{name, value}...}, body = s, details = s}
--   {kind = "reset"}
-- or nil plus an error message when the exchange cannot go on (the adapter then applies
-- the chain's failure policy: it never passes a request a plugin did not see).
--
-- Wire rules kept here (numbers as in docs/protocol.md):
--  * frames: 4-byte big-endian length + one msgpack array; byte strings (header names and
--    values, bodies, property values) are msgpack bin, text (chain, details) is str;
--  * rule 1: HELLO once per connection (a pooled connection that was reused already did it);
--  * rule 2: stream ids grow for the life of the process (one counter per Lua VM), so they
--    grow on every connection too, pooled or not;
--  * rule 4: one phase at a time, each awaits its reply; replies for other (closed) streams
--    are dropped (rule 6: they crossed our CLOSE);
--  * rule 7: GOAWAY(last) marks the connection as not reusable; a stream above `last` was
--    never seen and is retried on a fresh connection, as is a stream whose connection died
--    before any reply to it;
--  * rule 8: ERROR closes the connection.
-- Portable Lua 5.1 (LuaJIT) / 5.3: no string.pack, no integer division operator.

local mp = require("MessagePack")

local char, byte, concat = string.char, string.byte, table.concat
local floor = math.floor
local P = mp.packers

local M = {}

M.VERSION = 1
M.DEFAULT_MAX_FRAME_BYTES = 1048576
M.MIN_FRAME_BYTES = 64
M.RETRIES = 3 -- fresh connections tried for a stream that got no reply (as wasmd.clients.native)

local T = {
    HELLO = 1, OPEN = 2, REQUEST_HEADERS = 3, REQUEST_BODY = 4, REQUEST_TRAILERS = 5,
    RESPONSE_HEADERS = 6, RESPONSE_BODY = 7, RESPONSE_TRAILERS = 8, CLOSE = 9,
    CONTINUE = 16, LOCAL_RESPONSE = 17, RESET = 18, ERROR = 32, GOAWAY = 33,
}
M.T = T
local E = {
    FRAME_TOO_LARGE = 1, MALFORMED = 2, UNKNOWN_MESSAGE = 3, UNKNOWN_CHAIN = 4,
    OUT_OF_ORDER = 5, UNKNOWN_STREAM = 6, UNSUPPORTED_VERSION = 7, INTERNAL = 8,
}
M.E = E
local ERROR_NAMES = {}
for name, code in pairs(E) do ERROR_NAMES[code] = name end

-- Per Lua VM (an nginx worker, an HAProxy thread's state): rule 2 across every connection.
local next_sid = 0
-- What the daemon accepts, from the last HELLO: a reused pooled connection skips HELLO.
local peer_max_frame = M.DEFAULT_MAX_FRAME_BYTES

-- -- encoding --------------------------------------------------------------------------

local function be32(n)
    return char(floor(n / 16777216) % 256, floor(n / 65536) % 256, floor(n / 256) % 256, n % 256)
end

local function header(buf, n, fix, c16)
    if n < 16 then
        buf[#buf + 1] = char(fix + n)
    elseif n < 65536 then
        buf[#buf + 1] = char(c16, floor(n / 256), n % 256)
    else
        buf[#buf + 1] = char(c16 + 1) .. be32(n)
    end
end

local function array(buf, n) header(buf, n, 0x90, 0xdc) end
local function map(buf, n) header(buf, n, 0x80, 0xde) end
local function bin(buf, s) P["binary"](buf, s) end
local function str(buf, s) P["_string"](buf, s) end
local function uint(buf, n) P["unsigned"](buf, n) end

local function header_pairs(buf, list)
    array(buf, #list)
    for i = 1, #list do
        array(buf, 2)
        bin(buf, list[i][1])
        bin(buf, list[i][2])
    end
end

local function frame(buf)
    local payload = concat(buf)
    return be32(#payload) .. payload
end

--- An integer property value as Envoy encodes it for proxy_get_property: 8 bytes, little-endian.
function M.encode_int(n)
    local out = {}
    for i = 1, 8 do
        out[i] = char(n % 256)
        n = floor(n / 256)
    end
    return concat(out)
end

function M.hello(max_frame_bytes)
    local buf = {}
    array(buf, 3); uint(buf, T.HELLO); array(buf, 1); uint(buf, M.VERSION); uint(buf, max_frame_bytes)
    return frame(buf)
end

function M.open(sid, chain, properties)
    local buf, names = {}, {}
    for name in pairs(properties or {}) do names[#names + 1] = name end
    table.sort(names) -- deterministic bytes
    array(buf, 4); uint(buf, T.OPEN); uint(buf, sid); str(buf, chain or "")
    map(buf, #names)
    for i = 1, #names do
        str(buf, names[i])
        bin(buf, properties[names[i]])
    end
    return frame(buf)
end

--- A header phase (REQUEST_HEADERS / RESPONSE_HEADERS) with end_of_stream.
function M.headers(t, sid, list, eos)
    local buf = {}
    array(buf, 4); uint(buf, t); uint(buf, sid); header_pairs(buf, list); P["boolean"](buf, eos)
    return frame(buf)
end

function M.body(t, sid, data, eos)
    local buf = {}
    array(buf, 4); uint(buf, t); uint(buf, sid); bin(buf, data); P["boolean"](buf, eos)
    return frame(buf)
end

function M.trailers(t, sid, list)
    local buf = {}
    array(buf, 3); uint(buf, t); uint(buf, sid); header_pairs(buf, list)
    return frame(buf)
end

function M.close_frame(sid)
    local buf = {}
    array(buf, 2); uint(buf, T.CLOSE); uint(buf, sid)
    return frame(buf)
end

function M.error_frame(sid, code, message)
    local buf = {}
    array(buf, 4); uint(buf, T.ERROR); uint(buf, sid); uint(buf, code); str(buf, message)
    return frame(buf)
end

-- -- decoding ------------------------------------------------------------------------

local function is_pairs(v)
    if type(v) ~= "table" then return false end
    for i = 1, #v do
        local p = v[i]
        if type(p) ~= "table" or type(p[1]) ~= "string" or type(p[2]) ~= "string" then
            return false
        end
    end
    return true
end

-- Server messages: type -> field count and a check of the fields (msg[2..]).
local SHAPES = {
    [T.HELLO] = {2, function(m) return type(m[2]) == "table" and type(m[3]) == "number" end},
    [T.CONTINUE] = {4, function(m)
        return is_pairs(m[3]) and type(m[4]) == "table" and (m[5] == nil or type(m[5]) == "string")
    end},
    [T.LOCAL_RESPONSE] = {5, function(m)
        return type(m[3]) == "number" and is_pairs(m[4]) and type(m[5]) == "string"
            and type(m[6]) == "string"
    end},
    [T.RESET] = {1, function() return true end},
    [T.ERROR] = {3, function(m) return type(m[3]) == "number" and type(m[4]) == "string" end},
    [T.GOAWAY] = {1, function(m) return type(m[2]) == "number" end},
}

--- Decode one payload: the message array, or nil, error code, message.
function M.decode(payload)
    local ok, msg = pcall(mp.unpack, payload)
    if not ok or type(msg) ~= "table" or type(msg[1]) ~= "number" then
        return nil, E.MALFORMED, "a message is an array [type, field...]"
    end
    local shape = SHAPES[msg[1]]
    if shape == nil then
        return nil, E.UNKNOWN_MESSAGE, "unknown message type " .. tostring(msg[1])
    end
    -- msgpack nil leaves a hole: count by the highest index instead of #msg
    local n = 0
    for k in pairs(msg) do if type(k) == "number" and k > n then n = k end end
    if n > shape[1] + 1 or (n < shape[1] + 1 and not (msg[1] == T.CONTINUE and n == 4))
        or not shape[2](msg) then
        return nil, E.MALFORMED, "message type " .. msg[1] .. " has the wrong fields"
    end
    return msg
end

-- -- a connection -----------------------------------------------------------------------
local Conn = {}
Conn.__index = Conn

--- Wrap a connected socket (``send(data)``, ``receive(n)`` reading exactly n bytes,
--- ``close()``). ``reused``: it came from a pool and did its HELLO already.
function M.connection(sock, reused, max_frame_bytes)
    return setmetatable({
        sock = sock,
        hello_done = reused and true or false,
        max_frame = max_frame_bytes or M.DEFAULT_MAX_FRAME_BYTES,
        goaway = nil, -- last_stream_id from GOAWAY
        dead = nil, -- why the connection is unusable
        open = {}, -- sid -> true while a stream is open (for CLOSE and reuse)
    }, Conn)
end

function Conn:fail(why)
    if not self.dead then
        self.dead = why
        pcall(self.sock.close, self.sock)
    end
    return nil, why
end

function Conn:send(data)
    if self.dead then return nil, self.dead end
    local ok, err = self.sock:send(data)
    if not ok then return self:fail("send to wasmd failed: " .. tostring(err)) end
    return true
end

--- The next server message, or nil, error.
function Conn:read()
    if self.dead then return nil, self.dead end
    local head, err = self.sock:receive(4)
    if not head or #head < 4 then
        return self:fail("wasmd closed the connection (" .. tostring(err) .. ")")
    end
    local b1, b2, b3, b4 = byte(head, 1, 4)
    local len = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
    if len > self.max_frame then
        pcall(self.sock.send, self.sock, M.error_frame(0, E.FRAME_TOO_LARGE,
            "frame of " .. len .. " bytes exceeds max_frame_bytes=" .. self.max_frame))
        return self:fail("wasmd sent a frame of " .. len .. " bytes (limit " .. self.max_frame .. ")")
    end
    local payload = ""
    if len > 0 then
        payload, err = self.sock:receive(len)
        if not payload or #payload < len then
            return self:fail("wasmd closed the connection mid-frame (" .. tostring(err) .. ")")
        end
    end
    local msg, code, why = M.decode(payload)
    if not msg then
        pcall(self.sock.send, self.sock, M.error_frame(0, code, why))
        return self:fail("wasmd broke the protocol: " .. why)
    end
    return msg
end

--- Rule 1: HELLO both ways (once per connection).
function Conn:handshake()
    if self.hello_done then return true end
    local ok, err = self:send(M.hello(self.max_frame))
    if not ok then return nil, err end
    local msg
    msg, err = self:read()
    if not msg then return nil, err end
    if msg[1] == T.ERROR then
        return self:fail("wasmd refused the handshake: " .. (ERROR_NAMES[msg[3]] or msg[3])
            .. ": " .. msg[4])
    end
    if msg[1] ~= T.HELLO or #msg[2] ~= 1 or msg[2][1] ~= M.VERSION
        or msg[3] < M.MIN_FRAME_BYTES then
        pcall(self.sock.send, self.sock, M.error_frame(0, E.UNSUPPORTED_VERSION,
            "this client speaks version " .. M.VERSION))
        return self:fail("wasmd answered HELLO with an unsupported version or limit")
    end
    peer_max_frame = msg[3]
    self.hello_done = true
    return true
end

--- Whether the connection can go back to a pool (no stream open, no GOAWAY, alive).
function Conn:reusable()
    return not self.dead and self.goaway == nil and next(self.open) == nil
end

-- -- a stream ---------------------------------------------------------------------------
local Stream = {}
Stream.__index = Stream

--- A stream of ``chain`` with ``properties`` (name -> bytes). ``connect()`` returns a
--- connection (``M.connection``) or nil, error; ``release(conn)`` hands it back when the
--- stream ends (to a pool if ``conn:reusable()``, else closed).
function M.stream(connect, release, chain, properties)
    return setmetatable({
        connect = connect, release = release, chain = chain or "",
        properties = properties or {}, conn = nil, sid = nil, answered = false,
        attempts = 0, ended = false,
    }, Stream)
end

local function reply_of(msg)
    local t = msg[1]
    if t == T.CONTINUE then
        return {kind = "continue", set = msg[3], remove = msg[4], body = msg[5]}
    elseif t == T.LOCAL_RESPONSE then
        return {kind = "local", status = msg[3], headers = msg[4], body = msg[5], details = msg[6]}
    end
    return {kind = "reset"}
end

-- Open the stream on a (new) connection: nil, error, retryable on failure.
function Stream:_start()
    local conn, err = self.connect()
    if not conn then return nil, err, true end
    local ok
    ok, err = conn:handshake()
    if not ok then
        self.release(conn)
        return nil, err, true
    end
    next_sid = next_sid + 1
    self.sid, self.conn = next_sid, conn
    conn.open[self.sid] = true
    ok, err = conn:send(M.open(self.sid, self.chain, self.properties))
    if not ok then return nil, err, true end
    return true
end

-- Send one phase frame (built by ``build(sid)``) and read its reply.
function Stream:_call(build)
    local conn, sid = self.conn, self.sid
    local ok, err = conn:send(build(sid))
    if not ok then return nil, err, not self.answered end
    while true do
        local msg
        msg, err = conn:read()
        if not msg then return nil, err, not self.answered end
        local t = msg[1]
        if t == T.GOAWAY then
            conn.goaway = msg[2]
            if sid > msg[2] then
                return nil, "wasmd went away before stream " .. sid, not self.answered
            end
        elseif t == T.ERROR then
            conn:fail("wasmd error")
            return nil, "wasmd error " .. (ERROR_NAMES[msg[3]] or msg[3]) .. ": " .. msg[4], false
        elseif t == T.HELLO then
            return nil, conn:fail("wasmd sent HELLO twice"), false
        elseif msg[2] == sid then
            self.answered = true
            return reply_of(msg)
        end -- else: a reply that crossed an earlier stream's CLOSE (rule 6): drop it
    end
end

--- Run one phase: ``build(sid)`` returns its frame. The first phase (and a retry of it, on
--- a fresh connection, while no reply came) opens the stream. Returns the reply table, or
--- nil and an error after which the stream is over (``close`` still must be called).
function Stream:phase(build)
    if self.ended then return nil, "the stream already ended" end
    while true do
        local ok, err, retry = true, nil, false
        if not self.conn then
            self.attempts = self.attempts + 1
            ok, err, retry = self:_start()
        end
        local reply
        if ok then reply, err, retry = self:_call(build) end
        if reply then
            if reply.kind ~= "continue" then self.ended = true end
            return reply
        end
        self:_drop()
        if not retry or self.attempts > M.RETRIES then
            self.ended = true
            return nil, err
        end
    end
end

-- Give up on the current connection for this stream (it is dead or going away).
function Stream:_drop()
    if self.conn then
        if self.sid then self.conn.open[self.sid] = nil end
        if not self.conn.dead and self.conn.goaway == nil then self.conn:fail("abandoned") end
        self.release(self.conn)
        self.conn = nil
    end
end

--- End the stream: CLOSE (the server runs on_log/on_done) and release the connection.
--- Idempotent, never raises.
function Stream:close()
    local conn = self.conn
    if not conn then return end
    self.conn, self.ended = nil, true
    if conn.open[self.sid] then
        conn.open[self.sid] = nil
        conn:send(M.close_frame(self.sid))
    end
    self.release(conn)
end

function Stream:request_headers(list, eos)
    return self:phase(function(sid) return M.headers(T.REQUEST_HEADERS, sid, list, eos) end)
end

function Stream:response_headers(list, eos)
    return self:phase(function(sid) return M.headers(T.RESPONSE_HEADERS, sid, list, eos) end)
end

--- A body, split over as many frames as the daemon's max_frame_bytes needs. Returns the
--- bytes to forward (each chunk's reply body, or the chunk when the reply left it) or the
--- first non-continue reply, or nil, error.
function Stream:body(t, data, eos)
    local room = peer_max_frame - 32 -- the frame's array, type, sid, bin header, bool
    local out, pos = {}, 1
    repeat
        local chunk = data:sub(pos, pos + room - 1)
        pos = pos + #chunk
        local last = pos > #data
        local reply, err = self:phase(function(sid) return M.body(t, sid, chunk, eos and last) end)
        if not reply then return nil, err end
        if reply.kind ~= "continue" then return reply end
        out[#out + 1] = reply.body or chunk
    until last
    return {kind = "continue", set = {}, remove = {}, body = concat(out)}
end

function Stream:request_body(data, eos) return self:body(T.REQUEST_BODY, data, eos) end

function Stream:response_body(data, eos) return self:body(T.RESPONSE_BODY, data, eos) end

--- Headers after a CONTINUE (docs/protocol.md): names in ``remove`` and ``set`` go, then
--- every ``set`` pair is appended with its name lower-cased. Names compare case-insensitively.
function M.apply_mutation(list, set, remove)
    if #set == 0 and #remove == 0 then return list end
    local gone = {}
    for i = 1, #remove do gone[remove[i]:lower()] = true end
    for i = 1, #set do gone[set[i][1]:lower()] = true end
    local out = {}
    for i = 1, #list do
        if not gone[list[i][1]:lower()] then out[#out + 1] = list[i] end
    end
    for i = 1, #set do out[#out + 1] = {set[i][1]:lower(), set[i][2]} end
    return out
end

--- The names a mutation touches (lower-case), for adapters that edit headers in place:
--- every name in ``remove`` maps to {}, every name in ``set`` to its values in order.
function M.mutation_by_name(set, remove)
    local out = {}
    for i = 1, #remove do out[remove[i]:lower()] = {} end
    for i = 1, #set do out[set[i][1]:lower()] = {} end
    for i = 1, #set do
        local values = out[set[i][1]:lower()]
        values[#values + 1] = set[i][2]
    end
    return out
end

return M
