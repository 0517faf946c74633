-- wasmd_nginx: run a wasmd chain from nginx (lua-nginx-module: Debian's
-- libnginx-mod-http-lua, OpenResty, Kong). Configs come from `wasmd nginx-config`.
--
-- Two modes, because cosockets (the only way to reach wasmd without blocking the worker)
-- work in the rewrite, access and content phases but not in header_filter/body_filter/log:
--   access(opts)  -- access_by_lua: request headers (and the buffered request body when the
--                    chain handles it), then proxy_pass streams the upstream's response
--                    untouched. For chains whose plugins have no response callbacks.
--   content(opts) -- content_by_lua: the whole exchange; the upstream is fetched with
--                    ngx.location.capture of an internal proxied location, so the response
--                    is buffered whole (like Envoy ext_proc's BUFFERED mode) and goes through
--                    the response callbacks before the client sees a byte.
-- opts: socket (wasmd.sock path), chain ("" = default), failure ("closed" | "open"),
-- timeout_ms, pool_size, idle_ms, request_body / response_body (send body phases),
-- upstream_location (content mode: the internal location that proxies upstream).
-- Nginx variables the generated config sets: $wasmd_path, $wasmd_method, $wasmd_authority
-- (what proxy_pass sends upstream, so plugins can rewrite :path, :method, :authority).
--
-- Failures (wasmd unreachable, a protocol error, a Lua error in this code): "closed" answers
-- 503 and never passes the request; "open" passes it unprocessed. Both log the reason.

local wasmd = require("wasmd_client")

local ngx = ngx
local M = {}

local FAILURE_STATUS = 503
local FAILURE_BODY = "wasmd: the request could not be processed\n"
-- Hop-by-hop headers Envoy's codec drops before filters see a request or response.
local HOP_BY_HOP = {
    ["connection"] = true, ["keep-alive"] = true, ["proxy-connection"] = true,
    ["transfer-encoding"] = true, ["upgrade"] = true, ["te"] = true,
}

-- -- the connection pool ------------------------------------------------------------------

local function connector(opts)
    return function()
        local sock = ngx.socket.tcp()
        sock:settimeout(opts.timeout_ms or 2000)
        local ok, err = sock:connect("unix:" .. opts.socket, {
            pool = "wasmd:" .. opts.socket, pool_size = opts.pool_size or 64,
        })
        if not ok then return nil, "cannot connect to wasmd at " .. opts.socket .. ": " .. err end
        local reused = (sock:getreusedtimes() or 0) > 0
        return wasmd.connection(sock, reused)
    end
end

local function releaser(opts)
    return function(conn)
        if conn:reusable() then
            local ok = conn.sock:setkeepalive(opts.idle_ms or 60000)
            if not ok then pcall(conn.sock.close, conn.sock) end
        elseif not conn.dead then
            conn:fail("not reusable")
        end
    end
end

-- -- the request as Envoy would show it -----------------------------------------------

local function add(list, name, value)
    if type(value) == "table" then
        for i = 1, #value do list[#list + 1] = {name, value[i]} end
    else
        list[#list + 1] = {name, value}
    end
end

-- Request headers in arrival order (HTTP/1 raw header), else as nginx parsed them.
local function incoming_headers()
    local out = {}
    local ok, raw = pcall(ngx.req.raw_header, true)
    if ok and raw then
        for name, value in raw:gmatch("([^:\r\n]+):[ \t]*([^\r\n]*)\r?\n") do
            out[#out + 1] = {name:lower(), (value:gsub("[ \t]+$", ""))} -- no trailing OWS
        end
        return out
    end
    local headers = ngx.req.get_headers(0)
    for name, value in pairs(headers) do add(out, name:lower(), value) end
    table.sort(out, function(a, b) return a[1] < b[1] end)
    return out
end

--- The request headers a plugin would see behind Envoy: pseudo-headers first, Host as
--- :authority, hop-by-hop headers gone, x-forwarded-proto and x-request-id added when absent
--- (Envoy's connection manager adds both before its filters run).
local function request_headers()
    local var = ngx.var
    local authority = var.http_host or var.host
    local list = {
        {":authority", authority}, {":path", var.request_uri},
        {":method", ngx.req.get_method()}, {":scheme", var.scheme},
    }
    local seen = {}
    for _, pair in ipairs(incoming_headers()) do
        local name = pair[1]
        if name ~= "host" and not HOP_BY_HOP[name] then
            list[#list + 1] = pair
            seen[name] = true
        end
    end
    local added = {}
    if not seen["x-forwarded-proto"] then added["x-forwarded-proto"] = var.scheme end
    if not seen["x-request-id"] then added["x-request-id"] = var.request_id end
    for _, name in ipairs({"x-forwarded-proto", "x-request-id"}) do
        if added[name] then list[#list + 1] = {name, added[name]} end
    end
    return list, added, authority
end

--- Properties from nginx variables, named and encoded as Envoy's attributes.
local function properties()
    local var = ngx.var
    local remote_port = tonumber(var.remote_port) or 0
    local server_port = tonumber(var.server_port) or 0
    return {
        ["source.address"] = (var.remote_addr or "") .. ":" .. remote_port,
        ["source.port"] = wasmd.encode_int(remote_port),
        ["destination.address"] = (var.server_addr or "") .. ":" .. server_port,
        ["destination.port"] = wasmd.encode_int(server_port),
        ["connection.id"] = wasmd.encode_int(tonumber(var.connection) or 0),
        ["connection.mtls"] = "\0",
        ["connection.requested_server_name"] = var.ssl_server_name or "",
        ["request.id"] = var.http_x_request_id or var.request_id,
        ["request.protocol"] = var.server_protocol,
    }
end

local function has_body()
    local var = ngx.var
    return (tonumber(var.http_content_length) or 0) > 0 or var.http_transfer_encoding ~= nil
end

local function read_body()
    ngx.req.read_body()
    local data = ngx.req.get_body_data()
    if data then return data end
    local file = ngx.req.get_body_file()
    if not file then return "" end
    local f = assert(io.open(file, "rb"))
    data = f:read("*a")
    f:close()
    return data
end

-- -- applying replies -----------------------------------------------------------------

-- Apply a CONTINUE to the request nginx will proxy (headers in place, pseudo-headers
-- through the $wasmd_* variables proxy_pass reads).
local function mutate_request(set, remove)
    local var = ngx.var
    for name, values in pairs(wasmd.mutation_by_name(set, remove)) do
        if name == ":path" then
            if values[1] then var.wasmd_path = values[1] end
        elseif name == ":method" then
            if values[1] then var.wasmd_method = values[1] end
        elseif name == ":authority" or name == "host" then
            if values[1] then var.wasmd_authority = values[1] end
        elseif name:sub(1, 1) ~= ":" then
            if #values == 0 then
                ngx.req.clear_header(name)
            else
                ngx.req.set_header(name, #values == 1 and values[1] or values)
            end
        end
    end
end

-- The response as nginx should send it: status, headers {{name, value}...}, body.
local function respond(status, headers, body)
    ngx.status = status
    local grouped, order = {}, {}
    for _, pair in ipairs(headers) do
        local name = pair[1]:lower()
        if name:sub(1, 1) ~= ":" and not HOP_BY_HOP[name] and name ~= "content-length" then
            if not grouped[name] then
                grouped[name] = {}
                order[#order + 1] = name
            end
            local values = grouped[name]
            values[#values + 1] = pair[2]
        end
    end
    for _, name in ipairs(order) do
        local values = grouped[name]
        ngx.header[name] = #values == 1 and values[1] or values
    end
    if status ~= 204 and status ~= 304 then ngx.header["Content-Length"] = #body end
    ngx.send_headers()
    if #body > 0 then ngx.print(body) end
    ngx.eof()
    return ngx.exit(ngx.HTTP_OK)
end

-- Decisions come back from the protected run as a table and are carried out after it,
-- outside pcall (ngx.exit must not be caught).
local function finish(decision, opts)
    if decision.kind == "pass" then return end
    if decision.kind == "fail" then
        ngx.log(ngx.ERR, "wasmd chain '", opts.chain or "", "': ", decision.error)
        if opts.failure == "open" then return end
        return respond(FAILURE_STATUS, {{"content-type", "text/plain"}}, FAILURE_BODY)
    end
    if decision.kind == "reset" then return ngx.exit(444) end -- close without a response
    if decision.kind == "local" then
        return respond(decision.status, decision.headers, decision.body)
    end
    return respond(decision.status, decision.headers, decision.body) -- "respond"
end

local function answer_of(reply, err)
    if not reply then return {kind = "fail", error = err} end
    if reply.kind == "local" then
        return {kind = "local", status = reply.status, headers = reply.headers, body = reply.body}
    end
    if reply.kind == "reset" then return {kind = "reset"} end
    return nil
end

-- The request phases; returns a decision to stop with, or nil and the request body to
-- forward (nil: nginx forwards the body it has). The body is read before any header
-- changes: a plugin that drops content-length (it rewrites the body) must not hide it.
local function request_phases(stream, opts, need_body)
    local list, added, authority = request_headers()
    ngx.var.wasmd_authority = authority
    for name, value in pairs(added) do ngx.req.set_header(name, value) end
    local with_body = has_body()
    local body = nil
    if with_body and (opts.request_body or need_body) then body = read_body() end
    local reply, err = stream:request_headers(list, not with_body)
    local stop = answer_of(reply, err)
    if stop then return stop end
    mutate_request(reply.set, reply.remove)
    if not (with_body and opts.request_body) then return nil, body end
    reply, err = stream:request_body(body, true)
    stop = answer_of(reply, err)
    if stop then return stop end
    if reply.body ~= body and not need_body then ngx.req.set_body_data(reply.body) end
    return nil, reply.body
end

local function protected(run, stream, opts)
    local ok, decision = pcall(run, stream, opts)
    pcall(stream.close, stream)
    if not ok then return {kind = "fail", error = "Lua error: " .. tostring(decision)} end
    return decision
end

local function new_stream(opts)
    return wasmd.stream(connector(opts), releaser(opts), opts.chain, properties())
end

--- access_by_lua: the request phases; the upstream's response is not shown to plugins.
function M.access(opts)
    local stream
    local ok, err = pcall(function() stream = new_stream(opts) end)
    if not ok then return finish({kind = "fail", error = "Lua error: " .. tostring(err)}, opts) end
    local decision = protected(function(s, o)
        return request_phases(s, o) or {kind = "pass"}
    end, stream, opts)
    return finish(decision, opts)
end

-- -- content mode -----------------------------------------------------------------------

local function upstream_response(opts, body)
    local args = {copy_all_vars = true}
    if body == nil and has_body() then body = read_body() end
    if body ~= nil then
        args.method = ngx.HTTP_POST -- proxy_method $wasmd_method sends the real one
        args.body = body
    end
    local res = ngx.location.capture(opts.upstream_location, args)
    if res.truncated then error("the upstream's response was cut short") end
    if res.status >= 500 and res.status < 600 and next(res.header) == nil and res.body == "" then
        -- nginx's own error (upstream unreachable): answer like Envoy's router would
        return res.status, {{"content-type", "text/plain"}}, "upstream connect error\n"
    end
    local headers = {}
    local names = {}
    for name in pairs(res.header) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
        local lower = name:lower()
        if not HOP_BY_HOP[lower] then add(headers, lower, res.header[name]) end
    end
    return res.status, headers, res.body or ""
end

local function status_of(list, default)
    for _, pair in ipairs(list) do
        if pair[1] == ":status" then return tonumber(pair[2]) or default end
    end
    return default
end

local function content_phases(stream, opts)
    local stop, body = request_phases(stream, opts, true)
    if stop then return stop end
    local status, headers, resp_body = upstream_response(opts, body)
    stream.fetched = {status, headers, resp_body} -- a fail-open answer must not fetch twice
    local list = {{":status", tostring(status)}}
    for _, pair in ipairs(headers) do
        if pair[1] ~= "content-length" then list[#list + 1] = pair end
    end
    if #resp_body > 0 then list[#list + 1] = {"content-length", tostring(#resp_body)} end
    local reply, err = stream:response_headers(list, #resp_body == 0)
    stop = answer_of(reply, err)
    if stop then return stop end
    list = wasmd.apply_mutation(list, reply.set, reply.remove)
    if opts.response_body and #resp_body > 0 then
        reply, err = stream:response_body(resp_body, true)
        stop = answer_of(reply, err)
        if stop then return stop end
        resp_body = reply.body
    end
    return {kind = "respond", status = status_of(list, status), headers = list, body = resp_body}
end

--- content_by_lua: the whole exchange, the upstream fetched through ``upstream_location``.
function M.content(opts)
    local stream
    local ok, err = pcall(function() stream = new_stream(opts) end)
    if not ok then return finish({kind = "fail", error = "Lua error: " .. tostring(err)}, opts) end
    local decision = protected(content_phases, stream, opts)
    if decision.kind == "fail" and opts.failure == "open" then
        ngx.log(ngx.ERR, "wasmd chain '", opts.chain or "", "': ", decision.error)
        local fetched = stream.fetched
        if fetched then return respond(fetched[1], fetched[2], fetched[3]) end
        local status, headers, body = upstream_response(opts, nil)
        return respond(status, headers, body)
    end
    return finish(decision, opts)
end

return M
