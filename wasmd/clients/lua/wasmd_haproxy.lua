-- wasmd_haproxy: run a wasmd chain from HAProxy (2.6+, Lua 5.3). Configs come from
-- `wasmd haproxy-config`, which loads this file with `lua-load`.
--
-- Two actions share one stream per transaction (kept with txn:set_priv between them):
--   http-request  lua.wasmd-request  OPTIONS   -- OPEN + request headers (+ the buffered
--                                                 request body, when the chain reads it)
--   http-response lua.wasmd-response OPTIONS   -- response headers (+ the buffered response
--                                                 body), then CLOSE
-- OPTIONS is one word of key=value pairs joined by ";" (socket, chain, failure,
-- timeout_ms, request_body, response_body, response: 1 when the response action runs), e.g.
--   socket=/run/wasmd/wasmd.sock;chain=default;failure=closed;timeout_ms=2000
-- HAProxy's Lua sockets cannot outlive a transaction, so each transaction opens its own
-- connection to wasmd (and says HELLO on it); nothing is pooled.
-- What HAProxy cannot do from an action, and so what a chain cannot do here: replace the
-- request body (it is readable only), stream bodies (both are buffered whole, up to
-- tune.bufsize). A replaced response body is sent as a reply carrying the response's
-- status and headers (txn:done), which is why it too is bounded by tune.bufsize.
--
-- Failures (wasmd unreachable, a protocol error, a Lua error here): failure=closed answers
-- 503 and never passes the request; failure=open passes it unprocessed. Both log why.

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local wasmd = require("wasmd_client")

local FAILURE_STATUS = 503
local FAILURE_BODY = "wasmd: the request could not be processed\n"
local HOP_BY_HOP = {
    ["connection"] = true, ["keep-alive"] = true, ["proxy-connection"] = true,
    ["transfer-encoding"] = true, ["upgrade"] = true, ["te"] = true,
}

local function parse_options(text)
    local opts = {failure = "closed", timeout_ms = 2000, chain = ""}
    for key, value in (text or ""):gmatch("([%w_]+)=([^;]*)") do
        opts[key] = value
    end
    opts.timeout_ms = tonumber(opts.timeout_ms) or 2000
    opts.request_body = opts.request_body == "1"
    opts.response_body = opts.response_body == "1"
    opts.response = opts.response == "1"
    if not opts.socket then error("wasmd: the action's options name no socket=") end
    return opts
end

local option_cache = {}
local function options(text)
    local opts = option_cache[text]
    if not opts then
        opts = parse_options(text)
        option_cache[text] = opts
    end
    return opts
end

local function connector(opts)
    return function()
        local sock = core.tcp()
        sock:settimeout(opts.timeout_ms / 1000)
        local ok, err = sock:connect("unix@" .. opts.socket)
        if not ok then
            return nil, "cannot connect to wasmd at " .. opts.socket .. ": " .. tostring(err)
        end
        return wasmd.connection(sock, false)
    end
end

local function release(conn)
    if not conn.dead then conn:fail("transaction over") end
end

-- -- the exchange as Envoy would show it ----------------------------------------------

-- Headers from HAProxy's table (name -> {[0] = v1, [1] = v2...}), names sorted (HAProxy
-- does not keep their order across names), hop-by-hop and Host left out.
local function header_list(headers, skip_host)
    local names = {}
    for name in pairs(headers) do names[#names + 1] = name end
    table.sort(names)
    local out = {}
    for _, name in ipairs(names) do
        local lower = name:lower()
        if not HOP_BY_HOP[lower] and not (skip_host and lower == "host") then
            local values = headers[name]
            local i = 0
            while values[i] ~= nil do
                out[#out + 1] = {lower, values[i]}
                i = i + 1
            end
        end
    end
    return out
end

local function request_headers(txn)
    local headers = txn.http:req_get_headers()
    local host = headers["host"] and headers["host"][0] or ""
    local list = {
        {":authority", host}, {":path", txn.sf:pathq() or "/"},
        {":method", txn.sf:method()}, {":scheme", tostring(txn.sf:ssl_fc()) == "1" and "https" or "http"},
    }
    for _, pair in ipairs(header_list(headers, true)) do list[#list + 1] = pair end
    local request_id = headers["x-request-id"] and headers["x-request-id"][0]
    if not headers["x-forwarded-proto"] then
        list[#list + 1] = {"x-forwarded-proto", list[4][2]}
        txn.http:req_set_header("x-forwarded-proto", list[4][2])
    end
    if not request_id then
        request_id = txn.sf:unique_id()
        if request_id and request_id ~= "" then
            list[#list + 1] = {"x-request-id", request_id}
            txn.http:req_set_header("x-request-id", request_id)
        end
    end
    return list, request_id
end

local function properties(txn, request_id)
    local sf = txn.sf
    local src_port, dst_port = tonumber(sf:src_port()) or 0, tonumber(sf:dst_port()) or 0
    return {
        ["source.address"] = tostring(sf:src()) .. ":" .. src_port,
        ["source.port"] = wasmd.encode_int(src_port),
        ["destination.address"] = tostring(sf:dst()) .. ":" .. dst_port,
        ["destination.port"] = wasmd.encode_int(dst_port),
        ["connection.mtls"] = "\0",
        ["connection.requested_server_name"] = sf:ssl_fc_sni() or "",
        ["request.id"] = request_id,
        ["request.protocol"] = "HTTP/" .. tostring(sf:req_ver()),
    }
end

-- -- applying replies -----------------------------------------------------------------

local function mutate(txn, set, remove, side)
    local http = txn.http
    for name, values in pairs(wasmd.mutation_by_name(set, remove)) do
        if side == "req" and name == ":path" then
            if values[1] then http:req_set_uri(values[1]) end
        elseif side == "req" and name == ":method" then
            if values[1] then http:req_set_method(values[1]) end
        elseif side == "req" and name == ":authority" then
            if values[1] then http:req_set_header("host", values[1]) end
        elseif side == "res" and name == ":status" then
            if values[1] then http:res_set_status(tonumber(values[1])) end
        elseif name:sub(1, 1) ~= ":" then
            http[side .. "_del_header"](http, name)
            for _, value in ipairs(values) do http[side .. "_add_header"](http, name, value) end
        end
    end
end

local function reply(txn, status, headers, body)
    local grouped = {}
    for _, pair in ipairs(headers) do
        local name = pair[1]:lower()
        if name:sub(1, 1) ~= ":" and not HOP_BY_HOP[name] and name ~= "content-length" then
            grouped[name] = grouped[name] or {}
            table.insert(grouped[name], pair[2])
        end
    end
    txn:done(txn:reply({status = status, headers = grouped, body = body}))
end

local function fail(txn, opts, err)
    core.Alert("wasmd chain '" .. opts.chain .. "': " .. tostring(err))
    if opts.failure == "open" then return end
    reply(txn, FAILURE_STATUS, {{"content-type", "text/plain"}}, FAILURE_BODY)
end

-- Carry out a non-continue reply (or a failure). Returns true when the transaction ended.
local function stop(txn, opts, answer, err)
    if not answer then
        fail(txn, opts, err)
        return true
    end
    if answer.kind == "local" then
        reply(txn, answer.status, answer.headers, answer.body)
        return true
    end
    if answer.kind == "reset" then
        txn:done()
        return true
    end
    return false
end

-- -- the actions ------------------------------------------------------------------------

local function on_request(txn, opts)
    local list, request_id = request_headers(txn)
    local stream = wasmd.stream(connector(opts), release, opts.chain, properties(txn, request_id))
    txn:set_priv(stream)
    local length = tonumber(txn.sf:req_hdr("content-length") or "0") or 0
    local chunked = txn.sf:req_hdr("transfer-encoding") ~= nil
    local with_body = length > 0 or chunked
    local answer, err = stream:request_headers(list, not with_body)
    if not answer or answer.kind ~= "continue" then return answer, err end
    mutate(txn, answer.set, answer.remove, "req")
    if not (with_body and opts.request_body) then return answer end
    local body = txn.sf:req_body() or ""
    if length > 0 and #body < length then -- wait-for-body stops at tune.bufsize
        return nil, "the request body (" .. length .. " bytes) exceeds tune.bufsize"
    end
    answer, err = stream:request_body(body, true)
    if answer and answer.kind == "continue" and answer.body ~= body then
        return nil, "a plugin replaced the request body, which HAProxy cannot forward"
    end
    return answer, err
end

local function response_headers(txn)
    local list = {{":status", tostring(txn.sf:status())}}
    for _, pair in ipairs(header_list(txn.http:res_get_headers(), false)) do
        list[#list + 1] = pair
    end
    return list
end

local function on_response(txn, opts, stream)
    local list = response_headers(txn)
    local length = tonumber(txn.sf:res_hdr("content-length") or "0") or 0
    local with_body = length > 0 or txn.sf:res_hdr("transfer-encoding") ~= nil
    local answer, err = stream:response_headers(list, not with_body)
    if not answer or answer.kind ~= "continue" then return answer, err end
    mutate(txn, answer.set, answer.remove, "res")
    if not (with_body and opts.response_body) then return answer end
    local body = txn.sf:res_body() or ""
    if length > 0 and #body < length then
        return nil, "the response body (" .. length .. " bytes) exceeds tune.bufsize"
    end
    answer, err = stream:response_body(body, true)
    if answer and answer.kind == "continue" and answer.body ~= body then
        -- HAProxy cannot swap a response body in place: answer with the response as the
        -- plugins left it (status, headers, the new body)
        local status = tonumber(txn.sf:status()) or 200
        return {kind = "local", status = status, headers = response_headers(txn),
                body = answer.body}
    end
    return answer, err
end

-- Run ``phase`` with Lua errors caught: a failing plugin or client never passes silently.
local function guarded(txn, opts, phase, ...)
    local ok, answer, err = pcall(phase, txn, opts, ...)
    if not ok then answer, err = nil, "Lua error: " .. tostring(answer) end
    if stop(txn, opts, answer, err) then
        local stream = txn:get_priv()
        if stream then pcall(stream.close, stream) end
        txn:set_priv(nil)
    end
end

core.register_action("wasmd-request", {"http-req"}, function(txn, text)
    local ok, opts = pcall(options, text)
    if not ok then return fail(txn, {chain = "?", failure = "closed"}, opts) end
    guarded(txn, opts, on_request)
    if not opts.response then
        local stream = txn:get_priv()
        if stream then pcall(stream.close, stream) end
        txn:set_priv(nil)
    end
end, 1)

core.register_action("wasmd-response", {"http-res"}, function(txn, text)
    local ok, opts = pcall(options, text)
    if not ok then return fail(txn, {chain = "?", failure = "closed"}, opts) end
    local stream = txn:get_priv()
    if not stream then return end -- the request phase failed open or ended the stream
    guarded(txn, opts, on_response, stream)
    pcall(stream.close, stream)
    txn:set_priv(nil)
end, 1)
