/* The HTTP side of service_ticker.c through the raw ABI (v0.2.1): every request gets a local
 * reply (200) whose body reports what the singleton service published:
 *   counter=<svc.counter> writer=<svc.writer> tag=<svc.tag> misses=<svc.cas_mismatches> msg=<one
 *   message dequeued from svc.q, or "-" when empty>
 * The queue is resolved in this plugin's own vm_id (configure both with the same vm_id).
 * WASI reactor (_initialize), allocator = wasi-libc malloc (exported by build.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_wasm.h"

PW_IMPORT(proxy_resolve_shared_queue) uint32_t proxy_resolve_shared_queue(const char *vm, size_t vlen,
                                                                          const char *name, size_t nlen,
                                                                          uint32_t *id);
PW_IMPORT(proxy_dequeue_shared_queue) uint32_t proxy_dequeue_shared_queue(uint32_t id, uint8_t **val,
                                                                          size_t *vlen);

PW_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

static char vm_id[64] = "";

static void get_text(const char *key, char *out, size_t cap) {
    uint8_t *val = NULL;
    size_t vlen = 0;
    uint32_t cas = 0;
    strcpy(out, "-");
    if (proxy_get_shared_data(key, strlen(key), &val, &vlen, &cas) == PW_OK && val) {
        if (vlen >= cap) vlen = cap - 1;
        memcpy(out, val, vlen);
        out[vlen] = 0;
        free(val);
    }
}

PW_EXPORT(proxy_on_context_create) void proxy_on_context_create(uint32_t id, uint32_t parent) {}
PW_EXPORT(proxy_on_vm_start) uint32_t proxy_on_vm_start(uint32_t root, uint32_t size) { return 1; }

PW_EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t root, uint32_t size) {
    uint8_t *cfg = NULL;
    size_t len = 0;
    /* plugin configuration: the vm_id the service's queue lives in (default: empty) */
    if (size && proxy_get_buffer_bytes(PW_BUF_PLUGIN_CONFIGURATION, 0, size, &cfg, &len) == PW_OK && cfg) {
        if (len >= sizeof vm_id) len = sizeof vm_id - 1;
        memcpy(vm_id, cfg, len);
        vm_id[len] = 0;
        free(cfg);
    }
    return 1;
}

PW_EXPORT(proxy_on_request_headers) uint32_t proxy_on_request_headers(uint32_t id, uint32_t n, uint32_t eos) {
    char counter[32], writer[32], tag[64], misses[32], msg[96] = "-", body[320];
    get_text("svc.counter", counter, sizeof counter);
    get_text("svc.writer", writer, sizeof writer);
    get_text("svc.tag", tag, sizeof tag);
    get_text("svc.cas_mismatches", misses, sizeof misses);
    uint32_t qid = 0;
    if (proxy_resolve_shared_queue(vm_id, strlen(vm_id), "svc.q", 5, &qid) == PW_OK) {
        uint8_t *val = NULL;
        size_t vlen = 0;
        if (proxy_dequeue_shared_queue(qid, &val, &vlen) == PW_OK && val) {
            if (vlen >= sizeof msg) vlen = sizeof msg - 1;
            memcpy(msg, val, vlen);
            msg[vlen] = 0;
            free(val);
        }
    }
    int len = snprintf(body, sizeof body, "counter=%s writer=%s tag=%s misses=%s msg=%s", counter, writer,
                       tag, misses, msg);
    proxy_send_local_response(200, "service_reader", 14, (const uint8_t *)body, (size_t)len, NULL, 0, -1);
    return PW_PAUSE;
}

PW_EXPORT(proxy_on_done) uint32_t proxy_on_done(uint32_t id) { return 1; }
PW_EXPORT(proxy_on_delete) void proxy_on_delete(uint32_t id) {}
