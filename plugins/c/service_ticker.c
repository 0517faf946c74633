/* A singleton service (Envoy's envoy.bootstrap.wasm, singleton: true) through the raw ABI (v0.2.1):
 * no request path, only a root context that lives on ticks.
 * WASI reactor (_initialize), allocator = wasi-libc malloc (exported by build.sh).
 *
 * Plugin configuration: space-separated key=value, all optional:
 *   tick_ms=N    tick period (default 50)
 *   tag=WORD     published as shared data "svc.tag" (default "none"), so a reload shows
 *   trap_at=N    trap on tick N (0 = never): exercises the failure policy
 * On start it picks a writer id (the clock at proxy_on_vm_start) and registers queue "svc.q".
 * On every tick: read shared data "svc.counter" (decimal) with its CAS, write counter + 1
 * with that CAS (a second writer would see CAS_MISMATCH, counted in "svc.cas_mismatches"),
 * publish "svc.writer" and "svc.tag", and enqueue "tick <n> <writer>" on "svc.q".
 * The HTTP plugin service_reader.c reads all of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_wasm.h"

PW_IMPORT(proxy_register_shared_queue) uint32_t proxy_register_shared_queue(const char *name, size_t nlen,
                                                                            uint32_t *id);
PW_IMPORT(proxy_enqueue_shared_queue) uint32_t proxy_enqueue_shared_queue(uint32_t id, const uint8_t *val,
                                                                          size_t vlen);

PW_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

static uint32_t tick_ms = 50, trap_at, queue_id, ticks;
static uint64_t writer;
static char tag[64] = "none";

static uint32_t cfg_u32(const char *cfg, const char *key, uint32_t dflt) {
    const char *p = strstr(cfg, key);
    return p ? (uint32_t)strtoul(p + strlen(key), NULL, 10) : dflt;
}

static void set_text(const char *key, const char *value) {
    proxy_set_shared_data(key, strlen(key), (const uint8_t *)value, strlen(value), 0);
}

PW_EXPORT(proxy_on_context_create) void proxy_on_context_create(uint32_t id, uint32_t parent) {}

PW_EXPORT(proxy_on_vm_start) uint32_t proxy_on_vm_start(uint32_t root, uint32_t size) {
    proxy_get_current_time_nanoseconds(&writer);
    return 1;
}

PW_EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t root, uint32_t size) {
    uint8_t *cfg = NULL;
    size_t len = 0;
    char text[256] = "";
    if (size && proxy_get_buffer_bytes(PW_BUF_PLUGIN_CONFIGURATION, 0, size, &cfg, &len) == PW_OK && cfg) {
        if (len >= sizeof text) len = sizeof text - 1;
        memcpy(text, cfg, len);
        text[len] = 0;
        free(cfg);
    }
    tick_ms = cfg_u32(text, "tick_ms=", 50);
    trap_at = cfg_u32(text, "trap_at=", 0);
    const char *t = strstr(text, "tag=");
    if (t) {
        size_t n = strcspn(t + 4, " ");
        if (n >= sizeof tag) n = sizeof tag - 1;
        memcpy(tag, t + 4, n);
        tag[n] = 0;
    }
    if (proxy_register_shared_queue("svc.q", 5, &queue_id) != PW_OK) return 0;
    char w[32];
    snprintf(w, sizeof w, "%llu", (unsigned long long)writer);
    set_text("svc.writer", w);
    set_text("svc.tag", tag);
    proxy_log(PW_LOG_INFO, "service started", 15);
    return proxy_set_tick_period_milliseconds(tick_ms) == PW_OK;
}

PW_EXPORT(proxy_on_tick) void proxy_on_tick(uint32_t root) {
    ticks++;
    if (trap_at && ticks == trap_at) __builtin_trap();
    uint8_t *val = NULL;
    size_t vlen = 0;
    uint32_t cas = 0;
    unsigned long long counter = 0;
    if (proxy_get_shared_data("svc.counter", 11, &val, &vlen, &cas) == PW_OK && val) {
        char num[32] = "";
        memcpy(num, val, vlen < sizeof num - 1 ? vlen : sizeof num - 1);
        counter = strtoull(num, NULL, 10);
        free(val);
    }
    char out[64];
    int n = snprintf(out, sizeof out, "%llu", counter + 1);
    if (proxy_set_shared_data("svc.counter", 11, (const uint8_t *)out, (size_t)n, cas) == PW_CAS_MISMATCH) {
        uint8_t *m = NULL;
        size_t mlen = 0;
        unsigned long long misses = 0;
        if (proxy_get_shared_data("svc.cas_mismatches", 18, &m, &mlen, &cas) == PW_OK && m) {
            char num[32] = "";
            memcpy(num, m, mlen < sizeof num - 1 ? mlen : sizeof num - 1);
            misses = strtoull(num, NULL, 10);
            free(m);
        }
        n = snprintf(out, sizeof out, "%llu", misses + 1);
        proxy_set_shared_data("svc.cas_mismatches", 18, (const uint8_t *)out, (size_t)n, 0);
        return;
    }
    n = snprintf(out, sizeof out, "tick %llu %llu", counter + 1, (unsigned long long)writer);
    proxy_enqueue_shared_queue(queue_id, (const uint8_t *)out, (size_t)n);
}

PW_EXPORT(proxy_on_done) uint32_t proxy_on_done(uint32_t id) { return 1; }
PW_EXPORT(proxy_on_delete) void proxy_on_delete(uint32_t id) {}
