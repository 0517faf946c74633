/* burn.c: a plugin with a fixed CPU cost per request, for measuring how workers scale.
 *
 * WASI reactor. The plugin configuration is a decimal number of rounds (default 100000).
 * In on_response_headers it mixes the response's :status and `rounds` xorshift64* steps
 * into a 64-bit value and adds it as `x-burn: <16 hex digits>`, so the work cannot be
 * skipped and the result is the same on every host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_wasm.h"

PW_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

static uint64_t rounds = 100000;

PW_EXPORT(proxy_on_context_create) void proxy_on_context_create(uint32_t id, uint32_t parent) {
    (void)id;
    (void)parent;
}

PW_EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t root, uint32_t size) {
    (void)root;
    uint8_t *p = NULL;
    size_t n = 0;
    if (size && proxy_get_buffer_bytes(PW_BUF_PLUGIN_CONFIGURATION, 0, size, &p, &n) == PW_OK && p) {
        char text[24] = "";
        memcpy(text, p, n < sizeof(text) - 1 ? n : sizeof(text) - 1);
        rounds = strtoull(text, NULL, 10);
    }
    free(p);
    return 1;
}

PW_EXPORT(proxy_on_response_headers) uint32_t proxy_on_response_headers(uint32_t id, uint32_t n, uint32_t eos) {
    (void)id;
    (void)n;
    (void)eos;
    uint8_t *status = NULL;
    size_t len = 0;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    if (proxy_get_header_map_value(PW_MAP_RESPONSE_HEADERS, ":status", 7, &status, &len) == PW_OK)
        for (size_t i = 0; i < len; i++) x = (x ^ status[i]) * 0x100000001B3ull;
    free(status);
    for (uint64_t i = 0; i < rounds; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x *= 0x2545F4914F6CDD1Dull;
    }
    char out[17];
    snprintf(out, sizeof(out), "%016llx", (unsigned long long)x);
    proxy_add_header_map_value(PW_MAP_RESPONSE_HEADERS, "x-burn", 6, out, 16);
    return PW_CONTINUE;
}
