/* grpc_callout.c: gRPC callouts (proxy_grpc_call / proxy_grpc_stream), raw ABI 0.2.1.
 *
 * WASI reactor (_initialize), allocator = wasi-libc malloc (exported by build.sh).
 * Upstream "echo" is the test service wasmd.test.Echo (tests/helpers/callout_upstreams.py):
 * Unary answers "echo:<msg>" ("fail" aborts with NOT_FOUND), Stream echoes each message with
 * initial metadata x-stream and trailing metadata x-trailer. The request header
 * `x-grpc: <case>` selects:
 *   unary    unary call with the request path as message; the reply goes into x-grpc-reply.
 *   fail     unary call that fails; x-grpc-close = "<status> <get_status message>".
 *   stream   stream, send "a", then "b" with end_stream; on close the request gets
 *            x-grpc-initial (x-stream), x-grpc-messages, x-grpc-trailer, x-grpc-close.
 *   unknown  unary call to upstream "nope": x-grpc-result = the return code.
 *   cancel   unary call cancelled at once: x-grpc-result = the cancel's return code,
 *            x-grpc-again = the code of cancelling it a second time; continues at once.
 * Responses arrive on the root context and are routed back with set_effective_context.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_wasm.h"

PW_IMPORT(proxy_grpc_call)
uint32_t proxy_grpc_call(const char *up, size_t up_len, const char *svc, size_t svc_len,
                         const char *method, size_t method_len, const uint8_t *md, size_t md_len,
                         const uint8_t *msg, size_t msg_len, uint32_t timeout_ms, uint32_t *token);
PW_IMPORT(proxy_grpc_stream)
uint32_t proxy_grpc_stream(const char *up, size_t up_len, const char *svc, size_t svc_len,
                           const char *method, size_t method_len, const uint8_t *md, size_t md_len,
                           uint32_t *token);
PW_IMPORT(proxy_grpc_send)
uint32_t proxy_grpc_send(uint32_t token, const uint8_t *msg, size_t msg_len, uint32_t end_stream);
PW_IMPORT(proxy_grpc_cancel) uint32_t proxy_grpc_cancel(uint32_t token);
PW_IMPORT(proxy_get_status)
uint32_t proxy_get_status(uint32_t *code, uint8_t **msg, size_t *msg_len);

#define MAP_GRPC_INITIAL_METADATA 4
#define MAP_GRPC_TRAILING_METADATA 5
#define MAXCALLS 64
#define SERVICE "wasmd.test.Echo"

PW_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

typedef struct {
    uint32_t token;
    uint32_t ctx;
    int used;
    char initial[32];
    char messages[96];
    char trailer[32];
} call_t;

static call_t calls[MAXCALLS];

static call_t *find_call(uint32_t token) {
    for (int i = 0; i < MAXCALLS; i++)
        if (calls[i].used && calls[i].token == token) return &calls[i];
    return NULL;
}

static void remember(uint32_t token, uint32_t ctx) {
    for (int i = 0; i < MAXCALLS; i++)
        if (!calls[i].used) {
            memset(&calls[i], 0, sizeof(calls[i]));
            calls[i].token = token;
            calls[i].ctx = ctx;
            calls[i].used = 1;
            return;
        }
}

static void header(uint32_t map, const char *key, char *buf, size_t cap) {
    uint8_t *val = NULL;
    size_t len = 0;
    buf[0] = 0;
    if (proxy_get_header_map_value(map, key, strlen(key), &val, &len) != PW_OK || !val) return;
    if (len >= cap) len = cap - 1;
    memcpy(buf, val, len);
    buf[len] = 0;
    free(val);
}

static void add(const char *key, const char *val) {
    proxy_add_header_map_value(PW_MAP_REQUEST_HEADERS, key, strlen(key), val, strlen(val));
}

static void add_code(const char *key, uint32_t code) {
    char text[16];
    snprintf(text, sizeof(text), "%u", code);
    add(key, text);
}

/* One metadata pair, x-caller: grpc_callout, in the proxy-wasm pairs format. */
static const uint8_t METADATA[] = {1, 0, 0, 0, 8, 0, 0, 0, 12, 0, 0, 0,
                                   'x', '-', 'c', 'a', 'l', 'l', 'e', 'r', 0,
                                   'g', 'r', 'p', 'c', '_', 'c', 'a', 'l', 'l', 'o', 'u', 't', 0};

static uint32_t unary(const char *upstream, const char *msg, uint32_t *token) {
    return proxy_grpc_call(upstream, strlen(upstream), PW_S(SERVICE), PW_S("Unary"), METADATA,
                           sizeof(METADATA), (const uint8_t *)msg, strlen(msg), 1000, token);
}

PW_EXPORT(proxy_on_vm_start) uint32_t on_vm_start(uint32_t root, size_t size) { return 1; }
PW_EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, size_t size) { return 1; }

PW_EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t ctx, size_t n, uint32_t eos) {
    char tcase[32], path[64];
    uint32_t token = 0, rc;
    header(PW_MAP_REQUEST_HEADERS, "x-grpc", tcase, sizeof(tcase));
    header(PW_MAP_REQUEST_HEADERS, ":path", path, sizeof(path));
    if (!tcase[0]) return PW_CONTINUE;
    if (strcmp(tcase, "unknown") == 0) {
        add_code("x-grpc-result", unary("nope", path, &token));
        return PW_CONTINUE;
    }
    if (strcmp(tcase, "cancel") == 0) {
        rc = unary("echo", path, &token);
        add_code("x-grpc-result", rc == PW_OK ? proxy_grpc_cancel(token) : 100 + rc);
        add_code("x-grpc-again", proxy_grpc_cancel(token));
        return PW_CONTINUE;
    }
    if (strcmp(tcase, "stream") == 0) {
        rc = proxy_grpc_stream(PW_S("echo"), PW_S(SERVICE), PW_S("Stream"), METADATA, sizeof(METADATA), &token);
        if (rc == PW_OK) {
            proxy_grpc_send(token, (const uint8_t *)"a", 1, 0);
            proxy_grpc_send(token, (const uint8_t *)"b", 1, 1);
        }
    } else {
        rc = unary("echo", strcmp(tcase, "fail") == 0 ? "fail" : path, &token);
    }
    if (rc != PW_OK) {
        add_code("x-grpc-result", rc);
        return PW_CONTINUE;
    }
    remember(token, ctx);
    return PW_PAUSE;
}

static call_t *route(uint32_t token) {
    call_t *c = find_call(token);
    if (!c || proxy_set_effective_context(c->ctx) != PW_OK) return NULL;
    return c;
}

PW_EXPORT(proxy_on_grpc_receive_initial_metadata)
void on_grpc_initial(uint32_t root, uint32_t token, uint32_t n) {
    call_t *c = find_call(token);
    if (c) header(MAP_GRPC_INITIAL_METADATA, "x-stream", c->initial, sizeof(c->initial));
}

PW_EXPORT(proxy_on_grpc_receive) void on_grpc_receive(uint32_t root, uint32_t token, size_t size) {
    call_t *c = find_call(token);
    uint8_t *data = NULL;
    size_t len = 0;
    char msg[64] = "";
    if (!c) return;
    if (proxy_get_buffer_bytes(PW_BUF_GRPC_CALL_MESSAGE, 0, size, &data, &len) == PW_OK && data) {
        snprintf(msg, sizeof(msg), "%.*s", (int)len, (const char *)data);
        free(data);
    }
    if ((token & 3) == 1) { /* a unary call ends with its reply */
        if (!route(token)) return;
        c->used = 0;
        add("x-grpc-reply", msg);
        proxy_continue_stream(PW_STREAM_REQUEST);
        return;
    }
    size_t used = strlen(c->messages);
    snprintf(c->messages + used, sizeof(c->messages) - used, "%s%s", used ? "," : "", msg);
}

PW_EXPORT(proxy_on_grpc_receive_trailing_metadata)
void on_grpc_trailing(uint32_t root, uint32_t token, uint32_t n) {
    call_t *c = find_call(token);
    if (c) header(MAP_GRPC_TRAILING_METADATA, "x-trailer", c->trailer, sizeof(c->trailer));
}

PW_EXPORT(proxy_on_grpc_close) void on_grpc_close(uint32_t root, uint32_t token, uint32_t status) {
    call_t *c = route(token);
    uint32_t code = 0;
    uint8_t *msg = NULL;
    size_t len = 0;
    char text[96];
    if (!c) return;
    c->used = 0;
    proxy_get_status(&code, &msg, &len);
    snprintf(text, sizeof(text), "%u %u %.*s", status, code, (int)len, msg ? (const char *)msg : "");
    free(msg);
    if ((token & 3) == 2) {
        add("x-grpc-initial", c->initial);
        add("x-grpc-messages", c->messages);
        add("x-grpc-trailer", c->trailer);
    }
    add("x-grpc-close", text);
    proxy_continue_stream(PW_STREAM_REQUEST);
}

PW_EXPORT(proxy_on_delete) void on_delete(uint32_t ctx) {
    for (int i = 0; i < MAXCALLS; i++)
        if (calls[i].used && calls[i].ctx == ctx) calls[i].used = 0;
}
