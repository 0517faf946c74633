/* header_echo.c: says what it sees of the request and the response (visibility tests).
 *
 * WASI reactor, allocator = wasi-libc malloc. Configuration: a comma-separated list of
 * header names to probe (default "authorization,cookie"). Root id: any.
 *
 * on_request_headers(n) adds request headers (the upstream sees them):
 *   x-seen-headers:  every pair of proxy_get_header_map_pairs, "name=value" joined by ";"
 *   x-seen-count:    n (the callback's header count)
 *   x-seen-size:     proxy_get_header_map_size
 *   x-seen-get-<h>:  proxy_get_header_map_value(<h>) as "<status>" or "<status>:<value>"
 *   x-seen-prop-<h>: proxy_get_property("request", "headers", <h>), same form
 *   x-seen-source-address, x-seen-source-port, x-seen-useragent: the properties
 *     source.address, source.port (an 8-byte integer, echoed in decimal), request.useragent
 *   x-seen-all-props: proxy_get_property("request", "headers") as "<status>:<pair count>"
 * on_response_headers adds x-seen-response-headers (the same form) to the response.
 * Status codes are decimal proxy_status_t (0 OK, 1 NOT_FOUND, 2 BAD_ARGUMENT).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_wasm.h"

PW_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

#define MAXOUT 4096
static char probes[256] = "authorization,cookie";

static void add(uint32_t map, const char *key, const char *value) {
    proxy_add_header_map_value(map, key, strlen(key), value, strlen(value));
}

/* "name=value;name=value" from a serialized pair list. */
static void join_pairs(const uint8_t *data, size_t size, char *out, size_t cap) {
    out[0] = 0;
    if (size < 4) return;
    uint32_t n;
    memcpy(&n, data, 4);
    const uint8_t *lens = data + 4, *p = data + 4 + 8 * (size_t)n;
    size_t used = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t kl, vl;
        memcpy(&kl, lens + 8 * i, 4);
        memcpy(&vl, lens + 8 * i + 4, 4);
        int w = snprintf(out + used, cap - used, "%s%.*s=%.*s", i ? ";" : "", (int)kl,
                         (const char *)p, (int)vl, (const char *)p + kl + 1);
        if (w < 0 || (size_t)w >= cap - used) return;
        used += (size_t)w;
        p += kl + 1 + vl + 1;
    }
}

static void echo_pairs(uint32_t map, uint32_t into, const char *name) {
    uint8_t *data = NULL;
    size_t size = 0;
    char out[MAXOUT];
    uint32_t s = proxy_get_header_map_pairs(map, &data, &size);
    if (s != PW_OK) {
        snprintf(out, sizeof out, "status=%u", s);
    } else {
        join_pairs(data, size, out, sizeof out);
    }
    free(data);
    add(into, name, out);
}

static void status_value(uint32_t s, const uint8_t *v, size_t len, char *out, size_t cap) {
    if (s == PW_OK)
        snprintf(out, cap, "%u:%.*s", s, (int)len, (const char *)v);
    else
        snprintf(out, cap, "%u", s);
}

static void probe(const char *h, size_t hl) {
    char key[128], out[1024], path[160];
    uint8_t *v = NULL;
    size_t len = 0;
    uint32_t s = proxy_get_header_map_value(PW_MAP_REQUEST_HEADERS, h, hl, &v, &len);
    status_value(s, v, len, out, sizeof out);
    free(v);
    snprintf(key, sizeof key, "x-seen-get-%.*s", (int)hl, h);
    add(PW_MAP_REQUEST_HEADERS, key, out);

    int pl = snprintf(path, sizeof path, "request%cheaders%c%.*s", 0, 0, (int)hl, h);
    v = NULL, len = 0;
    s = proxy_get_property(path, (size_t)pl, &v, &len);
    status_value(s, v, len, out, sizeof out);
    free(v);
    snprintf(key, sizeof key, "x-seen-prop-%.*s", (int)hl, h);
    add(PW_MAP_REQUEST_HEADERS, key, out);
}

static void property(const char *path, size_t pl, const char *header, int integer) {
    char out[512];
    uint8_t *v = NULL;
    size_t len = 0;
    uint32_t s = proxy_get_property(path, pl, &v, &len);
    if (s == PW_OK && integer && len == 8) {
        long long n;
        memcpy(&n, v, 8);
        snprintf(out, sizeof out, "0:%lld", n);
    } else {
        status_value(s, v, len, out, sizeof out);
    }
    free(v);
    add(PW_MAP_REQUEST_HEADERS, header, out);
}

PW_EXPORT(proxy_on_context_create) void proxy_on_context_create(uint32_t id, uint32_t parent) {}

PW_EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t root, uint32_t size) {
    uint8_t *data = NULL;
    size_t len = 0;
    if (size > 0 && size < sizeof probes &&
        proxy_get_buffer_bytes(PW_BUF_PLUGIN_CONFIGURATION, 0, size, &data, &len) == PW_OK) {
        memcpy(probes, data, len);
        probes[len] = 0;
    }
    free(data);
    return 1;
}

PW_EXPORT(proxy_on_request_headers) uint32_t proxy_on_request_headers(uint32_t id, uint32_t n, uint32_t eos) {
    char num[32];
    size_t size = 0;
    uint32_t s = proxy_get_header_map_size(PW_MAP_REQUEST_HEADERS, &size);
    /* Everything is read before anything is added: the x-seen-* headers are not echoed. */
    uint8_t *all = NULL;
    size_t all_len = 0;
    char all_props[64];
    uint32_t ps = proxy_get_property(PW_S("request\0headers"), &all, &all_len);
    uint32_t count = 0;
    if (ps == PW_OK && all_len >= 4) memcpy(&count, all, 4);
    snprintf(all_props, sizeof all_props, ps == PW_OK ? "%u:%u" : "%u", ps, count);
    free(all);
    echo_pairs(PW_MAP_REQUEST_HEADERS, PW_MAP_REQUEST_HEADERS, "x-seen-headers");
    snprintf(num, sizeof num, "%u", n);
    add(PW_MAP_REQUEST_HEADERS, "x-seen-count", num);
    if (s == PW_OK)
        snprintf(num, sizeof num, "%zu", size);
    else
        snprintf(num, sizeof num, "status=%u", s);
    add(PW_MAP_REQUEST_HEADERS, "x-seen-size", num);
    add(PW_MAP_REQUEST_HEADERS, "x-seen-all-props", all_props);
    for (const char *p = probes; *p;) {
        const char *end = strchr(p, ',');
        size_t hl = end ? (size_t)(end - p) : strlen(p);
        if (hl) probe(p, hl);
        p += hl + (end ? 1 : 0);
    }
    property(PW_S("source\0address"), "x-seen-source-address", 0);
    property(PW_S("source\0port"), "x-seen-source-port", 1);
    property(PW_S("request\0useragent"), "x-seen-useragent", 0);
    return PW_CONTINUE;
}

PW_EXPORT(proxy_on_response_headers) uint32_t proxy_on_response_headers(uint32_t id, uint32_t n, uint32_t eos) {
    echo_pairs(PW_MAP_RESPONSE_HEADERS, PW_MAP_RESPONSE_HEADERS, "x-seen-response-headers");
    return PW_CONTINUE;
}
