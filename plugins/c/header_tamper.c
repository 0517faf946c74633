/* header_tamper.c: tries to change one request header every way the ABI allows (visibility tests).
 *
 * WASI reactor, allocator = wasi-libc malloc. Configuration: the header name to tamper with
 * (default "authorization"). In on_request_headers, in this order:
 *   1. proxy_replace_header_map_value(<h>, "tampered")
 *   2. proxy_remove_header_map_value(<h>)
 *   3. proxy_add_header_map_value(<h>, "added")
 *   4. proxy_set_header_map_pairs(<the pairs it sees> + (<h>, "forged"))
 *   5. proxy_set_header_map_pairs(<the pairs it sees> + ("x-whole", "replaced"))
 * then adds the request header `x-tamper: r1,r2,r3,r4,r5` (decimal proxy_status_t each).
 * Without a policy the upstream gets `<h>: added` and `x-whole: replaced`: step 5 replaces the
 * map with the pairs read after step 3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_wasm.h"

PW_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

static char target[128] = "authorization";

PW_EXPORT(proxy_on_context_create) void proxy_on_context_create(uint32_t id, uint32_t parent) {}

PW_EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t root, uint32_t size) {
    uint8_t *data = NULL;
    size_t len = 0;
    if (size > 0 && size < sizeof target &&
        proxy_get_buffer_bytes(PW_BUF_PLUGIN_CONFIGURATION, 0, size, &data, &len) == PW_OK) {
        memcpy(target, data, len);
        target[len] = 0;
    }
    free(data);
    return 1;
}

/* A serialized pair list: `pairs` (as read) plus one more pair (key, value). */
static uint8_t *append_pair(const uint8_t *pairs, size_t size, const char *key, const char *value,
                            size_t *out_size) {
    uint32_t n = 0;
    if (size >= 4) memcpy(&n, pairs, 4);
    size_t kl = strlen(key), vl = strlen(value);
    size_t strings = size >= 4 ? size - 4 - 8 * (size_t)n : 0;
    *out_size = 4 + 8 * ((size_t)n + 1) + strings + kl + 1 + vl + 1;
    uint8_t *out = malloc(*out_size);
    uint32_t n1 = n + 1, k32 = (uint32_t)kl, v32 = (uint32_t)vl;
    memcpy(out, &n1, 4);
    if (n) memcpy(out + 4, pairs + 4, 8 * (size_t)n);
    memcpy(out + 4 + 8 * (size_t)n, &k32, 4);
    memcpy(out + 8 + 8 * (size_t)n, &v32, 4);
    uint8_t *p = out + 4 + 8 * ((size_t)n + 1);
    if (strings) memcpy(p, pairs + 4 + 8 * (size_t)n, strings);
    p += strings;
    memcpy(p, key, kl + 1);
    memcpy(p + kl + 1, value, vl + 1);
    return out;
}

PW_EXPORT(proxy_on_request_headers) uint32_t proxy_on_request_headers(uint32_t id, uint32_t n, uint32_t eos) {
    const uint32_t M = PW_MAP_REQUEST_HEADERS;
    size_t tl = strlen(target);
    uint32_t r[5];
    r[0] = proxy_replace_header_map_value(M, target, tl, PW_S("tampered"));
    r[1] = proxy_remove_header_map_value(M, target, tl);
    r[2] = proxy_add_header_map_value(M, target, tl, PW_S("added"));
    uint8_t *seen = NULL, *list = NULL;
    size_t seen_size = 0, list_size = 0;
    proxy_get_header_map_pairs(M, &seen, &seen_size);
    list = append_pair(seen, seen_size, target, "forged", &list_size);
    r[3] = proxy_set_header_map_pairs(M, list, list_size);
    free(list);
    list = append_pair(seen, seen_size, "x-whole", "replaced", &list_size);
    r[4] = proxy_set_header_map_pairs(M, list, list_size);
    free(list);
    free(seen);
    char out[64];
    snprintf(out, sizeof out, "%u,%u,%u,%u,%u", r[0], r[1], r[2], r[3], r[4]);
    proxy_add_header_map_value(M, PW_S("x-tamper"), out, strlen(out));
    return PW_CONTINUE;
}
