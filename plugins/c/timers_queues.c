/* Timers, shared queues and metrics through the raw ABI (v0.2.1).
 * WASI reactor (_initialize), allocator = wasi-libc malloc (exported by build.sh).
 *
 * Plugin configuration: space-separated key=value, all optional:
 *   tick_ms=N        tick period set in on_configure (default 100; 0 = no timer)
 *   stop_after=N     set the period to 0 after N ticks (0 = never)
 *   change_after=N   after N ticks switch the period to change_ms=M
 *   spin=1           every tick loops forever (the host's CPU deadline must stop it)
 *   queue=NAME       the shared queue's name (default "tq")
 * Ticks count in gauge "tq.ticks" (and are logged at info).
 *
 * Per request: re-register the queue (so the VM serving the request owns it), probe
 * resolve/enqueue/dequeue codes. With request header "x-tq-enqueue: N" (1..4) enqueue N
 * messages "<context id>:<i>" and pause; the root's proxy_on_queue_ready dequeues one
 * message per call, counts it in counter "tq.dequeued", and once all N arrived switches to
 * the stream (proxy_set_effective_context) and continues it. Response headers report
 * only what is deterministic within one exchange: result codes, the order messages came
 * back in, and counter deltas.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_wasm.h"

PW_IMPORT(proxy_register_shared_queue) uint32_t proxy_register_shared_queue(const char *name, size_t nlen,
                                                                            uint32_t *id);
PW_IMPORT(proxy_resolve_shared_queue) uint32_t proxy_resolve_shared_queue(const char *vm, size_t vlen,
                                                                          const char *name, size_t nlen,
                                                                          uint32_t *id);
PW_IMPORT(proxy_enqueue_shared_queue) uint32_t proxy_enqueue_shared_queue(uint32_t id, const uint8_t *val,
                                                                          size_t vlen);
PW_IMPORT(proxy_dequeue_shared_queue) uint32_t proxy_dequeue_shared_queue(uint32_t id, uint8_t **val,
                                                                          size_t *vlen);

PW_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

#define MAX_STREAMS 64 /* stream state slots, indexed by context id */
#define MAX_ENQUEUE 4

static uint32_t tick_ms = 100, stop_after, change_after, change_ms, spin;
static char queue_name[64] = "tq";
static uint32_t queue_id, root_id, ticks;
static uint32_t m_ticks, m_dequeued, m_enqueued;

struct stream {
    uint32_t id, wanted, got, ready_match, drained;
    uint64_t dequeued_before;
    char order[MAX_ENQUEUE + 1];
    char probes[160];
};
static struct stream streams[MAX_STREAMS];

static void logf_(uint32_t level, const char *fmt, uint32_t a) {
    char msg[128];
    int n = snprintf(msg, sizeof msg, fmt, a);
    proxy_log(level, msg, (size_t)n);
}

static uint32_t cfg_u32(const char *cfg, const char *key, uint32_t dflt) {
    const char *p = strstr(cfg, key);
    return p ? (uint32_t)strtoul(p + strlen(key), NULL, 10) : dflt;
}

static void parse_config(const char *cfg) {
    tick_ms = cfg_u32(cfg, "tick_ms=", 100);
    stop_after = cfg_u32(cfg, "stop_after=", 0);
    change_after = cfg_u32(cfg, "change_after=", 0);
    change_ms = cfg_u32(cfg, "change_ms=", 0);
    spin = cfg_u32(cfg, "spin=", 0);
    const char *q = strstr(cfg, "queue=");
    if (q) {
        size_t n = strcspn(q + 6, " ");
        if (n >= sizeof queue_name) n = sizeof queue_name - 1;
        memcpy(queue_name, q + 6, n);
        queue_name[n] = 0;
    }
}

static uint32_t define(uint32_t type, const char *name) {
    uint32_t id = 0;
    proxy_define_metric(type, name, strlen(name), &id);
    return id;
}

static uint64_t metric(uint32_t id) {
    uint64_t v = 0;
    proxy_get_metric(id, &v);
    return v;
}

PW_EXPORT(proxy_on_context_create) void proxy_on_context_create(uint32_t id, uint32_t parent) {
    if (parent == 0) root_id = id;
}

PW_EXPORT(proxy_on_vm_start) uint32_t proxy_on_vm_start(uint32_t root, uint32_t size) { return 1; }

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
    parse_config(text);
    m_ticks = define(PW_METRIC_GAUGE, "tq.ticks");
    m_dequeued = define(PW_METRIC_COUNTER, "tq.dequeued");
    m_enqueued = define(PW_METRIC_COUNTER, "tq.enqueued");
    if (proxy_register_shared_queue(queue_name, strlen(queue_name), &queue_id) != PW_OK) return 0;
    return proxy_set_tick_period_milliseconds(tick_ms) == PW_OK;
}

PW_EXPORT(proxy_on_tick) void proxy_on_tick(uint32_t root) {
    if (spin) {
        for (volatile uint32_t i = 0;; i++) {
        }
    }
    ticks++;
    proxy_increment_metric(m_ticks, 1);
    logf_(PW_LOG_INFO, "tick %u", ticks);
    if (stop_after && ticks == stop_after) proxy_set_tick_period_milliseconds(0);
    if (change_after && ticks == change_after) proxy_set_tick_period_milliseconds(change_ms);
}

static struct stream *slot(uint32_t id) { return &streams[id % MAX_STREAMS]; }

static void probe(struct stream *s) {
    uint32_t rid = 0, self_rc, other_rc, unknown_rc, enq_bad, deq_bad, deq_empty;
    uint8_t *v = NULL;
    size_t vlen = 0;
    self_rc = proxy_resolve_shared_queue("", 0, queue_name, strlen(queue_name), &rid);
    uint32_t dummy = 0;
    other_rc = proxy_resolve_shared_queue(PW_S("no-such-vm"), queue_name, strlen(queue_name), &dummy);
    unknown_rc = proxy_resolve_shared_queue("", 0, PW_S("no-such-queue"), &dummy);
    enq_bad = proxy_enqueue_shared_queue(queue_id + 1000, (const uint8_t *)"x", 1);
    deq_bad = proxy_dequeue_shared_queue(queue_id + 1000, &v, &vlen);
    deq_empty = proxy_dequeue_shared_queue(queue_id, &v, &vlen);
    snprintf(s->probes, sizeof s->probes,
             "resolve_self=%u same_id=%u resolve_other_vm=%u resolve_unknown=%u enqueue_bad=%u "
             "dequeue_bad=%u dequeue_empty=%u",
             self_rc, rid == queue_id, other_rc, unknown_rc, enq_bad, deq_bad, deq_empty);
}

PW_EXPORT(proxy_on_request_headers) uint32_t proxy_on_request_headers(uint32_t id, uint32_t n, uint32_t eos) {
    struct stream *s = slot(id);
    memset(s, 0, sizeof *s);
    s->id = id;
    uint32_t reregistered = 0;
    proxy_register_shared_queue(queue_name, strlen(queue_name), &reregistered);
    probe(s);
    s->dequeued_before = metric(m_dequeued);
    uint8_t *val = NULL;
    size_t len = 0;
    if (proxy_get_header_map_value(PW_MAP_REQUEST_HEADERS, PW_S("x-tq-enqueue"), &val, &len) != PW_OK || !val)
        return PW_CONTINUE;
    uint32_t wanted = (uint32_t)strtoul(len ? (char *)val : "0", NULL, 10);
    free(val);
    if (wanted == 0) return PW_CONTINUE;
    if (wanted > MAX_ENQUEUE) wanted = MAX_ENQUEUE;
    s->wanted = wanted;
    for (uint32_t i = 1; i <= wanted; i++) {
        char msg[32];
        int mlen = snprintf(msg, sizeof msg, "%u:%u", id, i);
        if (proxy_enqueue_shared_queue(queue_id, (const uint8_t *)msg, (size_t)mlen) == PW_OK)
            proxy_increment_metric(m_enqueued, 1);
    }
    return PW_PAUSE;
}

PW_EXPORT(proxy_on_queue_ready) void proxy_on_queue_ready(uint32_t root, uint32_t qid) {
    uint8_t *val = NULL;
    size_t len = 0;
    if (proxy_dequeue_shared_queue(qid, &val, &len) != PW_OK || !val) return;
    char msg[32] = "";
    memcpy(msg, val, len < sizeof msg - 1 ? len : sizeof msg - 1);
    free(val);
    char *colon = strchr(msg, ':');
    if (!colon) return;
    uint32_t ctx = (uint32_t)strtoul(msg, NULL, 10);
    struct stream *s = slot(ctx);
    if (s->id != ctx || s->got >= s->wanted) return;
    proxy_increment_metric(m_dequeued, 1);
    s->ready_match = (root == root_id) && (qid == queue_id);
    s->order[s->got++] = colon[1];
    if (s->got < s->wanted) return;
    uint8_t *rest = NULL;
    size_t rest_len = 0;
    s->drained = proxy_dequeue_shared_queue(qid, &rest, &rest_len);
    if (proxy_set_effective_context(ctx) == PW_OK) proxy_continue_stream(PW_STREAM_REQUEST);
}

static void add_header(const char *name, const char *value) {
    proxy_add_header_map_value(PW_MAP_RESPONSE_HEADERS, name, strlen(name), value, strlen(value));
}

PW_EXPORT(proxy_on_response_headers) uint32_t proxy_on_response_headers(uint32_t id, uint32_t n, uint32_t eos) {
    struct stream *s = slot(id);
    if (s->id != id) return PW_CONTINUE;
    char buf[96];
    add_header("x-tq-probes", s->probes);
    snprintf(buf, sizeof buf, "registered=%u", queue_id != 0);
    add_header("x-tq-setup", buf);
    if (s->wanted) {
        snprintf(buf, sizeof buf, "order=%s ready_match=%u drained=%u dequeued_delta=%llu", s->order,
                 s->ready_match, s->drained, (unsigned long long)(metric(m_dequeued) - s->dequeued_before));
        add_header("x-tq-queue", buf);
    }
    return PW_CONTINUE;
}

PW_EXPORT(proxy_on_done) uint32_t proxy_on_done(uint32_t id) { return 1; }
