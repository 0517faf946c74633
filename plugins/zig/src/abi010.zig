//! Proxy-Wasm ABI 0.1.0 HTTP filter (raw ABI, wasm32-freestanding).
//!
//! Uses the 0.1.0-only host functions:
//!   proxy_get_configuration    (in proxy_on_vm_start -> VM config, in proxy_on_configure -> plugin config)
//!   proxy_continue_request / proxy_continue_response  (declared returning i32, like the cpp-host)
//!   proxy_clear_route_cache
//! and the 0.1.0 two-argument proxy_on_request_headers(ctx, num_headers) / proxy_on_response_headers.
//!
//! Request headers added (seen by the upstream):
//!   x-zig-config       plugin configuration read in on_configure
//!   x-zig-vm-config    VM configuration read in on_vm_start
//!   x-zig-config-size  configuration_size argument of on_configure
//!   x-zig-many-headers "yes" if num_headers >= 4 (the 4 pseudo headers alone give 4)
//!   x-zig-missing      "status=S len=N" of proxy_get_header_map_value on an absent key
//!                      (0.1.0: OK with an empty value -> "status=0 len=0")
//!   x-zig-in-echo      "status=S value=V" for request header x-zig-in, if the request carries it
//! Response headers added: x-zig-clear-route-cache: <status of proxy_clear_route_cache()>.
//! x-zig-probe: path-in-response -> on_response_headers reads request header :path and adds
//!   x-zig-path-in-response: "status=S len=N" (Envoy: "status=2 len=0", BadArgument, because it
//!   drops the request headers once the request has been continued).
//!
//! x-zig-pause: request  -> on_request_headers pauses (StopIteration) and arms a 5 ms tick; on_tick
//!   disarms it, switches to the stream (proxy_set_effective_context), adds request header
//!   x-zig-resumed: request, calls proxy_continue_request(), then tries to add x-zig-too-late: 1
//!   (Envoy: BadArgument(2), it forgets the request headers once continued). The client sees
//!   x-zig-continue-request: <status> and x-zig-add-after-continue: <status> on the response.
//! x-zig-pause: response -> on_response_headers removes content-length, pauses and arms the tick;
//!   on_tick adds response header x-zig-resumed: response and calls proxy_continue_response(); its
//!   status is appended to the response body as "|continue_response=S" in proxy_on_response_body.

extern "env" fn proxy_log(level: u32, msg: [*]const u8, len: usize) u32;
extern "env" fn proxy_get_configuration(ret_ptr: *usize, ret_len: *usize) u32;
extern "env" fn proxy_continue_request() u32;
extern "env" fn proxy_continue_response() u32;
extern "env" fn proxy_clear_route_cache() u32;
extern "env" fn proxy_set_effective_context(ctx: u32) u32;
extern "env" fn proxy_set_tick_period_milliseconds(ms: u32) u32;
extern "env" fn proxy_get_header_map_value(map: u32, key: [*]const u8, key_len: usize, ret_ptr: *usize, ret_len: *usize) u32;
extern "env" fn proxy_remove_header_map_value(map: u32, key: [*]const u8, key_len: usize) u32;
extern "env" fn proxy_set_buffer_bytes(buf: u32, start: u32, len: u32, data: [*]const u8, size: usize) u32;
extern "env" fn proxy_add_header_map_value(map: u32, key: [*]const u8, key_len: usize, val: [*]const u8, val_len: usize) u32;

const REQUEST_HEADERS: u32 = 0;
const RESPONSE_HEADERS: u32 = 2;

// ---- allocator: bump arena, reset at the start of each header callback ----
var arena: [256 * 1024]u8 align(16) = undefined;
var next: usize = 0;

export fn proxy_on_memory_allocate(size: usize) usize {
    const start = (next + 15) & ~@as(usize, 15);
    if (start + size > arena.len) return 0;
    next = start + size;
    return @intFromPtr(&arena) + start;
}

export fn proxy_abi_version_0_1_0() void {}

// ---- small helpers ----
fn slice(p: usize, n: usize) []const u8 {
    if (n == 0) return "";
    const ptr: [*]const u8 = @ptrFromInt(p);
    return ptr[0..n];
}

const Buf = struct {
    data: [512]u8 = undefined,
    len: usize = 0,
    fn add(self: *Buf, s: []const u8) void {
        for (s) |c| {
            if (self.len < self.data.len) {
                self.data[self.len] = c;
                self.len += 1;
            }
        }
    }
    fn addNum(self: *Buf, v0: u32) void {
        var tmp: [10]u8 = undefined;
        var i: usize = tmp.len;
        var v = v0;
        while (true) {
            i -= 1;
            tmp[i] = '0' + @as(u8, @intCast(v % 10));
            v /= 10;
            if (v == 0) break;
        }
        self.add(tmp[i..]);
    }
    fn get(self: *const Buf) []const u8 {
        return self.data[0..self.len];
    }
};

fn addHeader(map: u32, key: []const u8, val: []const u8) void {
    _ = proxy_add_header_map_value(map, key.ptr, key.len, val.ptr, val.len);
}

fn log(msg: []const u8) void {
    _ = proxy_log(2, msg.ptr, msg.len);
}

// ---- configuration ----
var vm_config: Buf = .{};
var plugin_config: Buf = .{};
var config_size_arg: u32 = 0;

fn readConfiguration(into: *Buf) void {
    var p: usize = 0;
    var n: usize = 0;
    into.len = 0;
    if (proxy_get_configuration(&p, &n) == 0) into.add(slice(p, n));
}

export fn proxy_on_context_create(ctx: u32, parent: u32) void {
    _ = ctx;
    _ = parent;
}

export fn proxy_on_vm_start(root: u32, vm_config_size: u32) u32 {
    _ = root;
    _ = vm_config_size;
    readConfiguration(&vm_config);
    log("zig abi010: vm started");
    return 1;
}

export fn proxy_on_configure(root: u32, config_size: u32) u32 {
    _ = root;
    config_size_arg = config_size;
    readConfiguration(&plugin_config);
    next = 0;
    return 1;
}

// ---- per-stream state (tests run one stream at a time; slot = ctx % 16) ----
var clear_status: [16]u32 = @splat(99);
var continue_status: [16]u32 = @splat(99);
var add_after_status: [16]u32 = @splat(99);
var response_paused: [16]bool = @splat(false);
var want_response_pause: [16]bool = @splat(false);
var probe_path: [16]bool = @splat(false);
var pending_ctx: u32 = 0;
var pending_dir: u32 = 0; // 1 = request, 2 = response

fn headerIs(map: u32, key: []const u8, want: []const u8) bool {
    var p: usize = 0;
    var n: usize = 0;
    if (proxy_get_header_map_value(map, key.ptr, key.len, &p, &n) != 0) return false;
    const v = slice(p, n);
    if (v.len != want.len) return false;
    for (v, want) |a, b| if (a != b) return false;
    return true;
}

export fn proxy_on_request_headers(ctx: u32, num_headers: u32) u32 {
    next = 0;
    addHeader(REQUEST_HEADERS, "x-zig-config", plugin_config.get());
    addHeader(REQUEST_HEADERS, "x-zig-vm-config", vm_config.get());
    var b: Buf = .{};
    b.addNum(config_size_arg);
    addHeader(REQUEST_HEADERS, "x-zig-config-size", b.get());
    addHeader(REQUEST_HEADERS, "x-zig-many-headers", if (num_headers >= 4) "yes" else "no");

    // 0.1.0: a missing key is OK with an empty value (0.2.x: NotFound).
    var p: usize = 0;
    var n: usize = 0;
    var st = proxy_get_header_map_value(REQUEST_HEADERS, "x-zig-absent", 12, &p, &n);
    b = .{};
    b.add("status=");
    b.addNum(st);
    b.add(" len=");
    b.addNum(@intCast(n));
    addHeader(REQUEST_HEADERS, "x-zig-missing", b.get());

    p = 0;
    n = 0;
    st = proxy_get_header_map_value(REQUEST_HEADERS, "x-zig-in", 8, &p, &n);
    if (n > 0) {
        b = .{};
        b.add("status=");
        b.addNum(st);
        b.add(" value=");
        b.add(slice(p, n));
        addHeader(REQUEST_HEADERS, "x-zig-in-echo", b.get());
    }

    clear_status[ctx % 16] = proxy_clear_route_cache();

    if (headerIs(REQUEST_HEADERS, "x-zig-pause", "request")) {
        pending_ctx = ctx;
        pending_dir = 1;
        _ = proxy_set_tick_period_milliseconds(5);
        return 1; // StopIteration; resumed from on_tick
    }
    want_response_pause[ctx % 16] = headerIs(REQUEST_HEADERS, "x-zig-pause", "response");
    probe_path[ctx % 16] = headerIs(REQUEST_HEADERS, "x-zig-probe", "path-in-response");
    return 0;
}

export fn proxy_on_response_headers(ctx: u32, num_headers: u32) u32 {
    _ = num_headers;
    next = 0;
    var b: Buf = .{};
    b.addNum(clear_status[ctx % 16]);
    addHeader(RESPONSE_HEADERS, "x-zig-clear-route-cache", b.get());
    clear_status[ctx % 16] = 99;
    if (continue_status[ctx % 16] != 99) {
        b = .{};
        b.addNum(continue_status[ctx % 16]);
        addHeader(RESPONSE_HEADERS, "x-zig-continue-request", b.get());
        b = .{};
        b.addNum(add_after_status[ctx % 16]);
        addHeader(RESPONSE_HEADERS, "x-zig-add-after-continue", b.get());
        continue_status[ctx % 16] = 99;
    }
    // Reading a request header from the response path: Envoy forgets the request headers once
    // the request has been continued, so this reports the status the host gives then.
    if (probe_path[ctx % 16]) {
        probe_path[ctx % 16] = false;
        var p: usize = 0;
        var n: usize = 0;
        const st = proxy_get_header_map_value(REQUEST_HEADERS, ":path", 5, &p, &n);
        b = .{};
        b.add("status=");
        b.addNum(st);
        b.add(" len=");
        b.addNum(@intCast(n));
        addHeader(RESPONSE_HEADERS, "x-zig-path-in-response", b.get());
    }
    if (want_response_pause[ctx % 16]) {
        want_response_pause[ctx % 16] = false;
        // The body gets "|continue_response=S" appended once resumed, so its length changes.
        _ = proxy_remove_header_map_value(RESPONSE_HEADERS, "content-length", 14);
        response_paused[ctx % 16] = true;
        pending_ctx = ctx;
        pending_dir = 2;
        _ = proxy_set_tick_period_milliseconds(5);
        return 1;
    }
    return 0;
}

export fn proxy_on_tick(root: u32) void {
    _ = root;
    _ = proxy_set_tick_period_milliseconds(0);
    if (pending_dir == 0) return;
    const ctx = pending_ctx;
    const dir = pending_dir;
    pending_dir = 0;
    pending_ctx = 0;
    if (proxy_set_effective_context(ctx) != 0) {
        log("zig abi010: set_effective_context failed");
        return;
    }
    if (dir == 1) {
        addHeader(REQUEST_HEADERS, "x-zig-resumed", "request");
        continue_status[ctx % 16] = proxy_continue_request();
        // Envoy drops its pointer to the request headers as soon as the stream is continued.
        add_after_status[ctx % 16] = proxy_add_header_map_value(REQUEST_HEADERS, "x-zig-too-late", 14, "1", 1);
    } else {
        addHeader(RESPONSE_HEADERS, "x-zig-resumed", "response");
        continue_status[ctx % 16] = proxy_continue_response();
    }
}

export fn proxy_on_response_body(ctx: u32, body_size: u32, end_of_stream: u32) u32 {
    if (end_of_stream == 0 or !response_paused[ctx % 16]) return 0;
    response_paused[ctx % 16] = false;
    var b: Buf = .{};
    b.add("|continue_response=");
    b.addNum(continue_status[ctx % 16]);
    // start >= size appends
    _ = proxy_set_buffer_bytes(1, body_size, 0, &b.data, b.len);
    return 0;
}
