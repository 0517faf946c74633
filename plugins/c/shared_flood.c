/* shared_flood.c: a plugin that tries to fill the daemon's shared store (issue 12 §4 tests).
 *
 * WASI reactor (_initialize), allocator = wasi-libc malloc (exported by build.sh).
 * On request headers, `x-flood: <kind>` with `x-flood-key: <key>` selects:
 *   data   proxy_set_shared_data("flood:<key>", 1 MiB of 'x', cas 0)
 *   queue  proxy_register_shared_queue("flood"), then enqueue 1 MiB of 'x' on it
 *   queues proxy_register_shared_queue("flood:<key>") (a new queue per key)
 * The host call's return code is added as request header x-flood-result (0 = OK; past a
 * quota wasmd answers 10, InternalFailure). Without x-flood the request passes untouched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_wasm.h"

PW_IMPORT(proxy_register_shared_queue)
uint32_t proxy_register_shared_queue(const char *name, size_t name_len, uint32_t *id);
PW_IMPORT(proxy_enqueue_shared_queue)
uint32_t proxy_enqueue_shared_queue(uint32_t id, const uint8_t *val, size_t len);

#define VALUE_BYTES (1 << 20)

static uint8_t value[VALUE_BYTES];

PW_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}
PW_EXPORT(proxy_on_context_create) void on_context_create(uint32_t ctx, uint32_t parent) {}
PW_EXPORT(proxy_on_vm_start) uint32_t on_vm_start(uint32_t root, size_t size) { return 1; }
PW_EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, size_t size) { return 1; }

static void header(const char *key, char *buf, size_t cap) {
    uint8_t *val = NULL;
    size_t len = 0;
    buf[0] = 0;
    if (proxy_get_header_map_value(PW_MAP_REQUEST_HEADERS, key, strlen(key), &val, &len) != PW_OK || !val)
        return;
    if (len >= cap) len = cap - 1;
    memcpy(buf, val, len);
    buf[len] = 0;
    free(val);
}

static uint32_t flood(const char *kind, const char *key) {
    char name[96];
    uint32_t id = 0, rc;
    snprintf(name, sizeof(name), "flood:%s", key);
    if (value[0] != 'x') memset(value, 'x', sizeof(value));
    if (strcmp(kind, "data") == 0)
        return proxy_set_shared_data(name, strlen(name), value, sizeof(value), 0);
    if (strcmp(kind, "queues") == 0) return proxy_register_shared_queue(name, strlen(name), &id);
    rc = proxy_register_shared_queue("flood", 5, &id);
    if (rc != PW_OK) return rc;
    return proxy_enqueue_shared_queue(id, value, sizeof(value));
}

PW_EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t ctx, size_t n, uint32_t eos) {
    char kind[16], key[64], result[16];
    header("x-flood", kind, sizeof(kind));
    if (!kind[0]) return PW_CONTINUE;
    header("x-flood-key", key, sizeof(key));
    snprintf(result, sizeof(result), "%u", flood(kind, key));
    proxy_add_header_map_value(PW_MAP_REQUEST_HEADERS, "x-flood-result", 14, result, strlen(result));
    return PW_CONTINUE;
}
