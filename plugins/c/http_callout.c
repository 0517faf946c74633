/* http_callout.c: an auth-style filter built on proxy_http_call (raw ABI 0.2.1).
 *
 * WASI reactor (_initialize), allocator = wasi-libc malloc (exported by build.sh).
 * On request headers the header `x-callout: <case>` selects what happens:
 *   auth     call upstream "auth" with GET <request path>, pause; on the response either
 *            answer locally (auth said 403: local 403 with auth's body and x-auth-reason) or
 *            add x-auth-status / x-auth-user / x-auth-body to the request and continue.
 *   slow     as auth but path /slow and a 50 ms timeout (the upstream sleeps longer).
 *   dead     call upstream "dead" (nothing listens there).
 *   three    three concurrent calls (/one, /two, /three); continue once all answered,
 *            with x-auth-bodies listing the bodies in call order.
 *   unknown  call upstream "nope" (not configured): x-callout-result = the return code.
 *   nopath   call "auth" without :path: x-callout-result = the return code.
 *   trap     trap (tests: a VM that failed while its callouts were in flight).
 * A failed call (0 headers) adds x-callout-failed: "<get_status code> <message>".
 * Callouts are made on the root context (as in Envoy); responses are routed back to the
 * stream with proxy_set_effective_context, which is resumed with proxy_continue_stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_wasm.h"

PW_IMPORT(proxy_http_call)
uint32_t proxy_http_call(const char *up, size_t up_len, const uint8_t *hdrs, size_t hdrs_len,
                         const uint8_t *body, size_t body_len, const uint8_t *trl, size_t trl_len,
                         uint32_t timeout_ms, uint32_t *token);
PW_IMPORT(proxy_get_status)
uint32_t proxy_get_status(uint32_t *code, uint8_t **msg, size_t *msg_len);

#define MAP_CALL_RESPONSE_HEADERS 6
#define MAXCALLS 256
#define MAXCTX 64
#define NCALLS 3

PW_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

typedef struct {
    uint32_t id;
    int used;
    int outstanding;
    int multi;
    char bodies[NCALLS][64];
} stream_t;

typedef struct {
    uint32_t token;
    uint32_t ctx;
    int index;
    int used;
} call_t;

static uint32_t root_id;
static stream_t streams[MAXCTX];
static call_t calls[MAXCALLS];

static stream_t *stream(uint32_t id, int create) {
    for (int i = 0; i < MAXCTX; i++)
        if (streams[i].used && streams[i].id == id) return &streams[i];
    if (!create) return NULL;
    for (int i = 0; i < MAXCTX; i++)
        if (!streams[i].used) {
            memset(&streams[i], 0, sizeof(streams[i]));
            streams[i].used = 1;
            streams[i].id = id;
            return &streams[i];
        }
    return NULL;
}

static call_t *find_call(uint32_t token) {
    for (int i = 0; i < MAXCALLS; i++)
        if (calls[i].used && calls[i].token == token) return &calls[i];
    return NULL;
}

static void remember(uint32_t token, uint32_t ctx, int index) {
    for (int i = 0; i < MAXCALLS; i++)
        if (!calls[i].used) {
            calls[i] = (call_t){token, ctx, index, 1};
            return;
        }
}

/* A copy of a header value as a NUL-terminated string in buf ("" when absent). */
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

/* Serialize n (key, value) string pairs into buf (proxy-wasm pairs format); returns size. */
static size_t pairs(uint8_t *buf, int n, const char *const *kv) {
    uint32_t *sizes = (uint32_t *)buf;
    sizes[0] = (uint32_t)n;
    uint8_t *p = buf + 4 + 8 * n;
    for (int i = 0; i < n; i++) {
        size_t kl = strlen(kv[2 * i]), vl = strlen(kv[2 * i + 1]);
        sizes[1 + 2 * i] = (uint32_t)kl;
        sizes[2 + 2 * i] = (uint32_t)vl;
        memcpy(p, kv[2 * i], kl + 1);
        p += kl + 1;
        memcpy(p, kv[2 * i + 1], vl + 1);
        p += vl + 1;
    }
    return (size_t)(p - buf);
}

static uint32_t call(const char *upstream, const char *path, uint32_t timeout_ms, uint32_t *token) {
    uint8_t buf[512];
    const char *kv[] = {":method", "GET", ":authority", "auth", ":path", path,
                        "x-from", "http_callout"};
    /* Without a path: leave out the :path pair. */
    const char *kv_nopath[] = {":method", "GET", ":authority", "auth", "x-from", "http_callout"};
    size_t n = path ? pairs(buf, 4, kv) : pairs(buf, 3, kv_nopath);
    return proxy_http_call(upstream, strlen(upstream), buf, n, NULL, 0, NULL, 0, timeout_ms, token);
}

PW_EXPORT(proxy_on_context_create) void on_context_create(uint32_t ctx, uint32_t parent) {
    if (parent == 0) root_id = ctx;
}

PW_EXPORT(proxy_on_vm_start) uint32_t on_vm_start(uint32_t root, size_t size) { return 1; }
PW_EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, size_t size) { return 1; }

static uint32_t start_calls(uint32_t ctx, const char *tcase, const char *path) {
    uint32_t token = 0, rc;
    char result[16];
    if (strcmp(tcase, "unknown") == 0 || strcmp(tcase, "nopath") == 0) {
        rc = call(tcase[0] == 'u' ? "nope" : "auth", tcase[0] == 'u' ? path : NULL, 1000, &token);
        snprintf(result, sizeof(result), "%u", rc);
        add("x-callout-result", result);
        return PW_CONTINUE;
    }
    stream_t *s = stream(ctx, 1);
    if (!s) return PW_CONTINUE;
    if (strcmp(tcase, "three") == 0) {
        static const char *const paths[NCALLS] = {"/one", "/two", "/three"};
        s->multi = 1;
        for (int i = 0; i < NCALLS; i++) {
            if (call("auth", paths[i], 1000, &token) != PW_OK) continue;
            remember(token, ctx, i);
            s->outstanding++;
        }
    } else {
        int slow = strcmp(tcase, "slow") == 0;
        const char *upstream = strcmp(tcase, "dead") == 0 ? "dead" : "auth";
        rc = call(upstream, slow ? "/slow" : path, slow ? 50 : 1000, &token);
        if (rc != PW_OK) {
            snprintf(result, sizeof(result), "%u", rc);
            add("x-callout-result", result);
            return PW_CONTINUE;
        }
        remember(token, ctx, 0);
        s->outstanding = 1;
    }
    return s->outstanding ? PW_PAUSE : PW_CONTINUE;
}

PW_EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t ctx, size_t n, uint32_t eos) {
    char tcase[32], path[128];
    header(PW_MAP_REQUEST_HEADERS, "x-callout", tcase, sizeof(tcase));
    if (!tcase[0]) return PW_CONTINUE;
    if (strcmp(tcase, "trap") == 0) __builtin_trap();
    header(PW_MAP_REQUEST_HEADERS, ":path", path, sizeof(path));
    return start_calls(ctx, tcase, path);
}

static void deny(const char *body, size_t body_len) {
    char reason[64];
    uint8_t buf[256];
    header(MAP_CALL_RESPONSE_HEADERS, "x-auth-reason", reason, sizeof(reason));
    const char *kv[] = {"x-auth-reason", reason};
    size_t n = pairs(buf, 1, kv);
    proxy_send_local_response(403, PW_S("callout_denied"), (const uint8_t *)body, body_len, buf, n, -1);
}

static void finish(stream_t *s) {
    if (--s->outstanding > 0) return;
    if (s->multi) {
        char all[3 * 64 + 4];
        snprintf(all, sizeof(all), "%s,%s,%s", s->bodies[0], s->bodies[1], s->bodies[2]);
        add("x-auth-bodies", all);
    }
    proxy_continue_stream(PW_STREAM_REQUEST);
}

PW_EXPORT(proxy_on_http_call_response)
void on_http_call_response(uint32_t root, uint32_t token, size_t nheaders, size_t body_size, size_t ntrailers) {
    call_t *c = find_call(token);
    if (!c) return;
    c->used = 0;
    stream_t *s = stream(c->ctx, 0);
    if (!s || proxy_set_effective_context(c->ctx) != PW_OK) return;
    if (nheaders == 0) {
        uint32_t code = 0;
        uint8_t *msg = NULL;
        size_t len = 0;
        char text[80];
        proxy_get_status(&code, &msg, &len);
        snprintf(text, sizeof(text), "%u %.*s", code, (int)len, msg ? (const char *)msg : "");
        free(msg);
        add("x-callout-failed", text);
        finish(s);
        return;
    }
    char status[8], user[64], body[64] = "";
    uint8_t *data = NULL;
    size_t len = 0;
    header(MAP_CALL_RESPONSE_HEADERS, ":status", status, sizeof(status));
    if (proxy_get_buffer_bytes(PW_BUF_HTTP_CALL_RESPONSE_BODY, 0, body_size, &data, &len) == PW_OK && data) {
        snprintf(body, sizeof(body), "%.*s", (int)len, (const char *)data);
        free(data);
    }
    if (strcmp(status, "403") == 0) {
        s->outstanding = 0;
        deny(body, strlen(body));
        return;
    }
    if (s->multi) {
        snprintf(s->bodies[c->index], sizeof(s->bodies[0]), "%s", body);
        finish(s);
        return;
    }
    header(MAP_CALL_RESPONSE_HEADERS, "x-auth-user", user, sizeof(user));
    add("x-auth-status", status);
    add("x-auth-user", user);
    add("x-auth-body", body);
    finish(s);
}

PW_EXPORT(proxy_on_delete) void on_delete(uint32_t ctx) {
    stream_t *s = stream(ctx, 0);
    if (s) s->used = 0;
    for (int i = 0; i < MAXCALLS; i++)
        if (calls[i].used && calls[i].ctx == ctx) calls[i].used = 0;
}
