/* conformance.c: multi-purpose Proxy-Wasm (ABI 0.2.1) test filter.
 *
 * WASI reactor (_initialize), allocator = wasi-libc malloc (exported by build.sh).
 * The request header `x-test: <case>` selects what the filter does; every case writes a
 * client-visible, deterministic result: headers `x-r-<case>-<item>: <value>` added to the
 * response in on_response_headers, or a change to the request seen by the upstream, or a change
 * to the response body. See README.md for the list of cases and the codes Envoy returns.
 *
 * Status codes are echoed as plain decimal numbers (proxy_status_t / wasi errno).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <wasi/api.h>

#include "proxy_wasm.h"

PW_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

/* ------------------------------------------------------------------------------------------ */
/* per-context state                                                                          */

#define MAXCTX 32
#define MAXRES 40
typedef struct {
    uint32_t id;
    int used;
    char tcase[48];
    int nres;
    char rk[MAXRES][48];
    char rv[MAXRES][200];
    int tick_pending;
    char resp_props[320]; /* `prop-read`: paths to read in on_response_headers */
} ctx_t;

static ctx_t ctxs[MAXCTX];
static uint32_t root_id;

/* captured at start-up */
static char vm_config[128];
static uint32_t vm_config_status = 999;
static char plugin_config[128];
static uint32_t plugin_config_status = 999;
static uint32_t metric_counter, metric_gauge, metric_hist;
static uint32_t metric_def_status[3] = {999, 999, 999};

static ctx_t *find_ctx(uint32_t id) {
    for (int i = 0; i < MAXCTX; i++)
        if (ctxs[i].used && ctxs[i].id == id) return &ctxs[i];
    return NULL;
}

static ctx_t *new_ctx(uint32_t id) {
    for (int i = 0; i < MAXCTX; i++)
        if (!ctxs[i].used) {
            memset(&ctxs[i], 0, sizeof(ctxs[i]));
            ctxs[i].used = 1;
            ctxs[i].id = id;
            return &ctxs[i];
        }
    return NULL;
}

static int is(const ctx_t *c, const char *name) { return c && strcmp(c->tcase, name) == 0; }

/* Record a result: header "x-r-<key>: <value>". */
__attribute__((format(printf, 3, 4))) static void R(ctx_t *c, const char *key, const char *fmt, ...) {
    if (!c || c->nres >= MAXRES) return;
    snprintf(c->rk[c->nres], sizeof(c->rk[0]), "x-r-%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->rv[c->nres], sizeof(c->rv[0]), fmt, ap);
    va_end(ap);
    c->nres++;
}

static void logf_(uint32_t level, const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof(buf)) n = sizeof(buf) - 1;
    proxy_log(level, buf, (size_t)n);
}

/* Copy a header value into out (NUL-terminated, truncated). Returns the proxy status. */
static uint32_t get_hdr(uint32_t map, const char *name, char *out, size_t outsz) {
    uint8_t *p = NULL;
    size_t n = 0;
    uint32_t st = proxy_get_header_map_value(map, name, strlen(name), &p, &n);
    out[0] = 0;
    if (st == PW_OK && p) {
        size_t m = n < outsz - 1 ? n : outsz - 1;
        memcpy(out, p, m);
        out[m] = 0;
    }
    free(p);
    return st;
}

static uint32_t add_hdr(uint32_t map, const char *k, const char *v) {
    return proxy_add_header_map_value(map, k, strlen(k), v, strlen(v));
}
static uint32_t rep_hdr(uint32_t map, const char *k, const char *v) {
    return proxy_replace_header_map_value(map, k, strlen(k), v, strlen(v));
}
static uint32_t rm_hdr(uint32_t map, const char *k) {
    return proxy_remove_header_map_value(map, k, strlen(k));
}

/* Property path from NUL-separated segments: "request\0path" (no trailing NUL). */
static void prop_case(ctx_t *c, const char *label, const char *path, size_t plen, int as_text) {
    uint8_t *p = NULL;
    size_t n = 0;
    uint32_t st = proxy_get_property(path, plen, &p, &n);
    char val[160] = "";
    if (st == PW_OK && p) {
        if (as_text) {
            size_t m = n < sizeof(val) - 1 ? n : sizeof(val) - 1;
            memcpy(val, p, m);
            val[m] = 0;
        } else {
            snprintf(val, sizeof(val), "len=%zu", n);
        }
    }
    free(p);
    R(c, label, "%u:%s", st, val);
}

/* `prop-read`: read each property in `paths` (comma-separated, '/' between segments) and
 * record "<status>:<hex of the value>" as x-r-<prefix><i>; hex keeps binary values (numbers,
 * pairs) exact. Values over 64 bytes are cut and marked "..+<full length>". */
static void read_props(ctx_t *c, const char *prefix, const char *paths) {
    char path[200];
    int i = 0;
    const char *p = paths;
    while (*p) {
        size_t n = strcspn(p, ",");
        size_t m = n < sizeof(path) - 1 ? n : sizeof(path) - 1;
        for (size_t k = 0; k < m; k++) path[k] = p[k] == '/' ? 0 : p[k];
        uint8_t *v = NULL;
        size_t vn = 0;
        uint32_t st = proxy_get_property(path, m, &v, &vn);
        char hex[140] = "";
        size_t shown = vn < 64 ? vn : 64;
        for (size_t k = 0; st == PW_OK && v && k < shown; k++) snprintf(hex + 2 * k, 3, "%02x", v[k]);
        char key[24];
        snprintf(key, sizeof(key), "%s%d", prefix, i++);
        if (vn > shown)
            R(c, key, "%u:%s..+%zu", st, hex, vn);
        else
            R(c, key, "%u:%s", st, hex);
        free(v);
        p += n;
        if (*p == ',') p++;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* pairs (de)serialization                                                                     */

typedef struct { const char *k; size_t kl; const char *v; size_t vl; } pair_t;

/* Parses buf into at most maxp pairs; returns count or -1. */
static int parse_pairs(const uint8_t *buf, size_t len, pair_t *out, int maxp) {
    if (len < 4) return 0;
    uint32_t n;
    memcpy(&n, buf, 4);
    if ((int)n > maxp || 4 + (size_t)n * 8 > len) return -1;
    size_t off = 4 + (size_t)n * 8;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t kl, vl;
        memcpy(&kl, buf + 4 + i * 8, 4);
        memcpy(&vl, buf + 8 + i * 8, 4);
        if (off + kl + vl + 2 > len) return -1;
        out[i].k = (const char *)buf + off; out[i].kl = kl; off += kl + 1;
        out[i].v = (const char *)buf + off; out[i].vl = vl; off += vl + 1;
    }
    return (int)n;
}

static size_t serialize_pairs(const pair_t *ps, int n, uint8_t *out) {
    uint32_t u = (uint32_t)n;
    memcpy(out, &u, 4);
    size_t off = 4 + (size_t)n * 8;
    for (int i = 0; i < n; i++) {
        uint32_t kl = ps[i].kl, vl = ps[i].vl;
        memcpy(out + 4 + i * 8, &kl, 4);
        memcpy(out + 8 + i * 8, &vl, 4);
        memcpy(out + off, ps[i].k, kl); off += kl; out[off++] = 0;
        memcpy(out + off, ps[i].v, vl); off += vl; out[off++] = 0;
    }
    return off;
}

/* ------------------------------------------------------------------------------------------ */
/* lifecycle                                                                                  */

PW_EXPORT(proxy_on_context_create) void proxy_on_context_create(uint32_t id, uint32_t parent) {
    if (parent == 0) {
        root_id = id;
        return;
    }
    new_ctx(id);
}

PW_EXPORT(proxy_on_vm_start) uint32_t proxy_on_vm_start(uint32_t root, uint32_t size) {
    uint8_t *p = NULL;
    size_t n = 0;
    vm_config_status = proxy_get_buffer_bytes(PW_BUF_VM_CONFIGURATION, 0, size, &p, &n);
    if (p) {
        size_t m = n < sizeof(vm_config) - 1 ? n : sizeof(vm_config) - 1;
        memcpy(vm_config, p, m);
        vm_config[m] = 0;
        free(p);
    }
    logf_(PW_LOG_INFO, "conformance: vm start, vm_config(%u)=%s", vm_config_status, vm_config);
    return 1;
}

PW_EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t root, uint32_t size) {
    uint8_t *p = NULL;
    size_t n = 0;
    plugin_config_status = proxy_get_buffer_bytes(PW_BUF_PLUGIN_CONFIGURATION, 0, size, &p, &n);
    if (p) {
        size_t m = n < sizeof(plugin_config) - 1 ? n : sizeof(plugin_config) - 1;
        memcpy(plugin_config, p, m);
        plugin_config[m] = 0;
        free(p);
    }
    metric_def_status[0] = proxy_define_metric(PW_METRIC_COUNTER, PW_S("conformance_requests"), &metric_counter);
    metric_def_status[1] = proxy_define_metric(PW_METRIC_GAUGE, PW_S("conformance_gauge"), &metric_gauge);
    metric_def_status[2] = proxy_define_metric(PW_METRIC_HISTOGRAM, PW_S("conformance_hist"), &metric_hist);
    logf_(PW_LOG_INFO, "conformance: configured, plugin_config(%u)=%s", plugin_config_status, plugin_config);
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* request headers                                                                            */

static void case_pairs(ctx_t *c) {
    uint8_t *buf = NULL;
    size_t len = 0;
    uint32_t st = proxy_get_header_map_pairs(PW_MAP_REQUEST_HEADERS, &buf, &len);
    R(c, "pairs-get", "%u", st);
    pair_t ps[128];
    int n = parse_pairs(buf, len, ps, 128);
    R(c, "pairs-parse", "%s", n > 0 ? "ok" : "bad");
    if (n <= 0) { free(buf); return; }
    /* uppercase values of x-up-* (in place: buf is ours) */
    int found = 0;
    for (int i = 0; i < n; i++) {
        if (ps[i].kl >= 5 && strncmp(ps[i].k, "x-up-", 5) == 0) {
            found++;
            for (size_t j = 0; j < ps[i].vl; j++) ((char *)ps[i].v)[j] = (char)toupper((unsigned char)ps[i].v[j]);
        }
    }
    R(c, "pairs-xup", "%d", found);
    uint8_t *out = malloc(len + 16);
    size_t olen = serialize_pairs(ps, n, out);
    R(c, "pairs-size-match", "%s", olen == len ? "yes" : "no");
    st = proxy_set_header_map_pairs(PW_MAP_REQUEST_HEADERS, out, olen);
    R(c, "pairs-set", "%u", st);
    free(out);
    free(buf);
}

static void case_bad_pairs(ctx_t *c) {
    uint8_t *saved = NULL;
    size_t saved_len = 0;
    uint32_t st = proxy_get_header_map_pairs(PW_MAP_REQUEST_HEADERS, &saved, &saved_len);
    R(c, "bad-pairs-save", "%u", st);
    /* count says 3 pairs, but only one size pair follows and no data */
    static const uint8_t truncated[12] = {3, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0};
    st = proxy_set_header_map_pairs(PW_MAP_REQUEST_HEADERS, truncated, sizeof(truncated));
    R(c, "bad-pairs-truncated", "%u", st);
    /* what did the map look like after that? (number of pairs, 0 = cleared) */
    uint8_t *after = NULL;
    size_t after_len = 0;
    st = proxy_get_header_map_pairs(PW_MAP_REQUEST_HEADERS, &after, &after_len);
    uint32_t cnt = 0;
    if (after && after_len >= 4) memcpy(&cnt, after, 4);
    R(c, "bad-pairs-after", "%u:%s", st, cnt == 0 ? "empty" : "nonempty");
    free(after);
    /* missing NUL terminators: 1 pair k=2 v=2 but "abXcdY" */
    static const uint8_t nonul[18] = {1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 'a', 'b', 'X', 'c', 'd', 'Y'};
    st = proxy_set_header_map_pairs(PW_MAP_REQUEST_HEADERS, nonul, sizeof(nonul));
    R(c, "bad-pairs-nonul", "%u", st);
    /* pointer outside memory */
    st = proxy_set_header_map_pairs(PW_MAP_REQUEST_HEADERS, (const uint8_t *)0xFFFFFF00u, 64);
    R(c, "bad-pairs-ptr", "%u", st);
    /* restore the original headers */
    if (saved) {
        st = proxy_set_header_map_pairs(PW_MAP_REQUEST_HEADERS, saved, saved_len);
        R(c, "bad-pairs-restore", "%u", st);
        free(saved);
    }
    /* return pointer outside memory */
    st = proxy_get_header_map_pairs(PW_MAP_REQUEST_HEADERS, (uint8_t **)0xFFFFFF00u, &saved_len);
    R(c, "bad-pairs-retptr", "%u", st);
}

static void case_wasi(ctx_t *c) {
    __wasi_timestamp_t t = 0, m = 0;
    __wasi_errno_t e1 = __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &t);
    __wasi_errno_t e2 = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &m);
    R(c, "wasi-clock", "%u:%s,%u:%s", e1, t ? "nonzero" : "zero", e2, m ? "nonzero" : "zero");
    __wasi_timestamp_t x = 0;
    __wasi_errno_t e3 = __wasi_clock_time_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, 1, &x);
    R(c, "wasi-clock-cputime", "%u", e3);
    uint8_t rnd[32];
    memset(rnd, 0, sizeof(rnd));
    __wasi_errno_t e4 = __wasi_random_get(rnd, sizeof(rnd));
    int nz = 0;
    for (size_t i = 0; i < sizeof(rnd); i++) nz |= rnd[i];
    R(c, "wasi-random", "%u:%s", e4, nz ? "ok" : "zero");
    static uint8_t big[70000];
    __wasi_errno_t e5 = __wasi_random_get(big, sizeof(big));
    R(c, "wasi-random-big", "%u", e5);
    printf("conformance: stdout line from printf\n");
    int f1 = fflush(stdout);
    fprintf(stderr, "conformance: stderr line from fprintf\n");
    int f2 = fflush(stderr);
    R(c, "wasi-stdio", "%s,%s", f1 == 0 ? "ok" : "err", f2 == 0 ? "ok" : "err");
    /* raw fd_write to an fd other than 1/2 */
    __wasi_ciovec_t iov = {(const uint8_t *)"x\n", 2};
    __wasi_size_t nw = 0;
    __wasi_errno_t e6 = __wasi_fd_write(7, &iov, 1, &nw);
    R(c, "wasi-fdwrite-bad-fd", "%u", e6);
    __wasi_size_t cnt = 0, bsz = 0;
    __wasi_errno_t e7 = __wasi_environ_sizes_get(&cnt, &bsz);
    R(c, "wasi-environ-count", "%u:%u", e7, (unsigned)cnt);
    char *envp_buf = malloc(bsz + 1);
    uint8_t **envp = malloc((cnt + 1) * sizeof(*envp));
    __wasi_errno_t e8 = __wasi_environ_get(envp, (uint8_t *)envp_buf);
    const char *val = "";
    if (e8 == 0)
        for (size_t i = 0; i < cnt; i++)
            if (strncmp((char *)envp[i], "CONF_ENV=", 9) == 0) val = (char *)envp[i] + 9;
    R(c, "wasi-environ", "%u:%s", e8, val);
    const char *g = getenv("CONF_ENV");
    R(c, "wasi-getenv", "%s", g ? g : "(null)");
    free(envp);
    free(envp_buf);
    __wasi_size_t ac = 99, asz = 99;
    __wasi_errno_t e9 = __wasi_args_sizes_get(&ac, &asz);
    R(c, "wasi-args", "%u:%u:%u", e9, (unsigned)ac, (unsigned)asz);
    __wasi_prestat_t pre;
    __wasi_errno_t e10 = __wasi_fd_prestat_get(3, &pre);
    R(c, "wasi-prestat", "%u", e10);
}

static void case_metrics(ctx_t *c) {
    R(c, "metrics-define", "%u,%u,%u", metric_def_status[0], metric_def_status[1], metric_def_status[2]);
    uint64_t v = 0;
    R(c, "metrics-counter-inc", "%u", proxy_increment_metric(metric_counter, 1));
    R(c, "metrics-counter-dec", "%u", proxy_increment_metric(metric_counter, -1));
    R(c, "metrics-counter-get", "%u", proxy_get_metric(metric_counter, &v));
    R(c, "metrics-counter-record", "%u", proxy_record_metric(metric_counter, 5));
    R(c, "metrics-gauge-record", "%u", proxy_record_metric(metric_gauge, 42));
    v = 0;
    uint32_t st = proxy_get_metric(metric_gauge, &v);
    R(c, "metrics-gauge-get", "%u:%llu", st, (unsigned long long)v);
    R(c, "metrics-gauge-inc", "%u", proxy_increment_metric(metric_gauge, 3));
    v = 0;
    st = proxy_get_metric(metric_gauge, &v);
    R(c, "metrics-gauge-get2", "%u:%llu", st, (unsigned long long)v);
    R(c, "metrics-gauge-dec", "%u", proxy_increment_metric(metric_gauge, -5));
    v = 0;
    st = proxy_get_metric(metric_gauge, &v);
    R(c, "metrics-gauge-get3", "%u:%llu", st, (unsigned long long)v);
    R(c, "metrics-hist-record", "%u", proxy_record_metric(metric_hist, 7));
    R(c, "metrics-hist-inc", "%u", proxy_increment_metric(metric_hist, 1));
    R(c, "metrics-hist-get", "%u", proxy_get_metric(metric_hist, &v));
    uint32_t id2 = 0;
    st = proxy_define_metric(PW_METRIC_COUNTER, PW_S("conformance_requests"), &id2);
    R(c, "metrics-redefine", "%u:%s", st, id2 == metric_counter ? "same-id" : "new-id");
    st = proxy_define_metric(9, PW_S("conformance_badtype"), &id2);
    R(c, "metrics-define-badtype", "%u", st);
    R(c, "metrics-unknown-get", "%u", proxy_get_metric(123456, &v));
    R(c, "metrics-unknown-inc", "%u", proxy_increment_metric(123456, 1));
}

static void case_shared(ctx_t *c) {
    static const char key[] = "conformance-shared-key";
    uint32_t st = proxy_set_shared_data(PW_S(key), (const uint8_t *)"v1", 2, 0);
    R(c, "shared-set", "%u", st);
    uint8_t *p = NULL;
    size_t n = 0;
    uint32_t cas = 0;
    st = proxy_get_shared_data(PW_S(key), &p, &n, &cas);
    R(c, "shared-get", "%u:%.*s:%s", st, (int)n, p ? (char *)p : "", cas ? "cas-nonzero" : "cas-zero");
    free(p);
    st = proxy_set_shared_data(PW_S(key), (const uint8_t *)"bad", 3, cas + 1000);
    R(c, "shared-cas-mismatch", "%u", st);
    st = proxy_set_shared_data(PW_S(key), (const uint8_t *)"v2", 2, cas);
    R(c, "shared-cas-ok", "%u", st);
    p = NULL; n = 0;
    uint32_t cas2 = 0;
    st = proxy_get_shared_data(PW_S(key), &p, &n, &cas2);
    R(c, "shared-get2", "%u:%.*s:%s", st, (int)n, p ? (char *)p : "", cas2 != cas ? "cas-changed" : "cas-same");
    free(p);
    p = NULL; n = 0;
    st = proxy_get_shared_data(PW_S("conformance-no-such-key"), &p, &n, &cas2);
    R(c, "shared-missing", "%u", st);
    free(p);
}

static void case_local(ctx_t *c) {
    pair_t hs[2] = {{PW_S("x-local"), PW_S("yes")}, {PW_S("x-local-2"), PW_S("two")}};
    uint8_t buf[128];
    size_t len = serialize_pairs(hs, 2, buf);
    uint32_t st = proxy_send_local_response(403, PW_S("conformance_local_reply"),
                                            (const uint8_t *)"local reply body\n", 17, buf, len, -1);
    R(c, "local", "%u", st);
}

static uint32_t on_request_headers_case(ctx_t *c, uint32_t nheaders, uint32_t eos) {
    char v[160];
    uint32_t st;
    if (is(c, "add")) {
        R(c, "add", "%u", add_hdr(PW_MAP_REQUEST_HEADERS, "x-added", "yes"));
        R(c, "add-existing", "%u", add_hdr(PW_MAP_REQUEST_HEADERS, "x-multi", "second"));
    } else if (is(c, "replace")) {
        R(c, "replace", "%u", rep_hdr(PW_MAP_REQUEST_HEADERS, "x-rep", "new"));
        R(c, "replace-absent", "%u", rep_hdr(PW_MAP_REQUEST_HEADERS, "x-rep-created", "created"));
    } else if (is(c, "remove")) {
        R(c, "remove", "%u", rm_hdr(PW_MAP_REQUEST_HEADERS, "x-del"));
        R(c, "remove-absent", "%u", rm_hdr(PW_MAP_REQUEST_HEADERS, "x-never-sent"));
    } else if (is(c, "get")) {
        st = get_hdr(PW_MAP_REQUEST_HEADERS, "x-echo", v, sizeof(v));
        R(c, "get", "%u:%s", st, v);
        st = get_hdr(PW_MAP_REQUEST_HEADERS, "X-Echo", v, sizeof(v));
        R(c, "get-uppercase-key", "%u:%s", st, v);
        st = get_hdr(PW_MAP_REQUEST_HEADERS, ":method", v, sizeof(v));
        R(c, "get-method", "%u:%s", st, v);
    } else if (is(c, "get-multi")) {
        st = get_hdr(PW_MAP_REQUEST_HEADERS, "x-multi", v, sizeof(v));
        R(c, "get-multi", "%u:%s", st, v);
    } else if (is(c, "missing")) {
        uint8_t *p = (uint8_t *)0x1234;
        size_t n = 77;
        st = proxy_get_header_map_value(PW_MAP_REQUEST_HEADERS, PW_S("x-not-there"), &p, &n);
        R(c, "missing", "%u", st);
    } else if (is(c, "pairs")) {
        case_pairs(c);
    } else if (is(c, "size")) {
        size_t sz = 0;
        st = proxy_get_header_map_size(PW_MAP_REQUEST_HEADERS, &sz);
        R(c, "size", "%u:%s", st, sz > 0 ? "nonzero" : "zero");
        sz = 0;
        st = proxy_get_header_map_size(PW_MAP_REQUEST_TRAILERS, &sz);
        R(c, "size-trailers", "%u:%zu", st, sz);
    } else if (is(c, "path")) {
        st = get_hdr(PW_MAP_REQUEST_HEADERS, ":path", v, sizeof(v));
        R(c, "path-orig", "%u:%s", st, v);
        char np[200];
        snprintf(np, sizeof(np), "/rewritten%s", v);
        R(c, "path", "%u", rep_hdr(PW_MAP_REQUEST_HEADERS, ":path", np));
    } else if (is(c, "local")) {
        case_local(c);
        return PW_PAUSE;
    } else if (is(c, "local-empty")) {
        st = proxy_send_local_response(204, "", 0, NULL, 0, NULL, 0, -1);
        R(c, "local-empty", "%u", st);
        return PW_PAUSE;
    } else if (is(c, "body-replace") || is(c, "body-prepend") || is(c, "body-append") ||
               is(c, "body-middle")) {
        R(c, "body-cl-remove", "%u", rm_hdr(PW_MAP_REQUEST_HEADERS, "content-length"));
    } else if (is(c, "config")) {
        R(c, "vm-config", "%u:%s", vm_config_status, vm_config);
        R(c, "plugin-config", "%u:%s", plugin_config_status, plugin_config);
        uint8_t *p = NULL;
        size_t n = 0;
        st = proxy_get_buffer_bytes(PW_BUF_PLUGIN_CONFIGURATION, 0, 100, &p, &n);
        R(c, "plugin-config-late", "%u", st);
        free(p);
    } else if (is(c, "props")) {
        prop_case(c, "prop-plugin-name", PW_S("plugin_name"), 1);
        prop_case(c, "prop-plugin-root-id", PW_S("plugin_root_id"), 1);
        prop_case(c, "prop-plugin-vm-id", PW_S("plugin_vm_id"), 1);
        prop_case(c, "prop-request-path", PW_S("request\0path"), 1);
        prop_case(c, "prop-request-method", PW_S("request\0method"), 1);
        prop_case(c, "prop-request-header", PW_S("request\0headers\0x-echo"), 1);
        prop_case(c, "prop-missing", PW_S("no_such_property_xyz"), 1);
    } else if (is(c, "prop-read")) {
        char set[96];
        if (get_hdr(PW_MAP_REQUEST_HEADERS, "x-prop-set-once", set, sizeof(set)) == PW_OK) {
            /* NAME=VALUE: set it unless an earlier filter of the chain did (the first plugin
             * records "set", a later one what it found) */
            char *eq = strchr(set, '=');
            if (eq) {
                *eq = 0;
                uint8_t *v = NULL;
                size_t vn = 0;
                if (proxy_get_property(set, strlen(set), &v, &vn) == PW_OK) {
                    R(c, "prop-found", "%.*s", (int)vn, v ? (const char *)v : "");
                } else {
                    st = proxy_set_property(set, strlen(set), (const uint8_t *)eq + 1, strlen(eq + 1));
                    R(c, "prop-set", "%u", st);
                }
                free(v);
            }
        }
        char paths[320];
        if (get_hdr(PW_MAP_REQUEST_HEADERS, "x-prop", paths, sizeof(paths)) == PW_OK)
            read_props(c, "prop-", paths);
        get_hdr(PW_MAP_REQUEST_HEADERS, "x-prop-resp", c->resp_props, sizeof(c->resp_props));
    } else if (is(c, "set-prop")) {
        st = proxy_set_property(PW_S("conformance_prop"), (const uint8_t *)"pv", 2);
        R(c, "set-prop", "%u", st);
        prop_case(c, "set-prop-get", PW_S("conformance_prop"), 1);
    } else if (is(c, "log")) {
        char res[64] = "";
        for (uint32_t l = 0; l <= 5; l++) {
            char msg[48];
            int n = snprintf(msg, sizeof(msg), "conformance: log at level %u", l);
            size_t o = strlen(res);
            snprintf(res + o, sizeof(res) - o, "%s%u", l ? "," : "", proxy_log(l, msg, (size_t)n));
        }
        R(c, "log", "%s", res);
        uint32_t level = 99;
        st = proxy_get_log_level(&level);
        R(c, "log-level-valid", "%u:%s", st, level <= 5 ? "valid" : "invalid");
    } else if (is(c, "log-level")) {
        /* the raw level depends on the host's log configuration (Envoy -l warn -> 3) */
        uint32_t level = 99;
        st = proxy_get_log_level(&level);
        R(c, "log-level", "%u:%u", st, level);
    } else if (is(c, "bad-log")) {
        R(c, "bad-log-level", "%u", proxy_log(99, PW_S("conformance: bad level")));
        R(c, "bad-log-ptr", "%u", proxy_log(PW_LOG_INFO, (const char *)0xFFFFFF00u, 64));
        R(c, "bad-log-level-ptr", "%u", proxy_get_log_level((uint32_t *)0xFFFFFFF0u));
    } else if (is(c, "time")) {
        uint64_t t = 0;
        st = proxy_get_current_time_nanoseconds(&t);
        R(c, "time", "%u:%s", st, t ? "ok" : "zero");
    } else if (is(c, "wasi")) {
        case_wasi(c);
    } else if (is(c, "metrics")) {
        case_metrics(c);
    } else if (is(c, "shared")) {
        case_shared(c);
    } else if (is(c, "foreign")) {
        uint8_t *p = NULL;
        size_t n = 0;
        st = proxy_call_foreign_function(PW_S("conformance_no_such_function"), (const uint8_t *)"a", 1, &p, &n);
        R(c, "foreign", "%u", st);
        free(p);
    } else if (is(c, "effective")) {
        R(c, "effective-bogus", "%u", proxy_set_effective_context(987654));
        R(c, "effective-self", "%u", proxy_set_effective_context(c->id));
        R(c, "effective-root", "%u", proxy_set_effective_context(root_id));
        /* the effective context is now the root: header calls go to the root context */
        R(c, "effective-root-add", "%u", add_hdr(PW_MAP_REQUEST_HEADERS, "x-effective-root", "1"));
        R(c, "effective-back", "%u", proxy_set_effective_context(c->id));
        R(c, "effective-self-add", "%u", add_hdr(PW_MAP_REQUEST_HEADERS, "x-effective-self", "1"));
    } else if (is(c, "done")) {
        R(c, "done", "%u", proxy_done());
    } else if (is(c, "continue")) {
        R(c, "continue-downstream", "%u", proxy_continue_stream(PW_STREAM_DOWNSTREAM));
        R(c, "continue-upstream", "%u", proxy_continue_stream(PW_STREAM_UPSTREAM));
        R(c, "continue-bogus", "%u", proxy_continue_stream(9));
        R(c, "close-downstream", "%u", proxy_close_stream(PW_STREAM_DOWNSTREAM));
        R(c, "close-upstream", "%u", proxy_close_stream(PW_STREAM_UPSTREAM));
        R(c, "close-bogus", "%u", proxy_close_stream(9));
    } else if (is(c, "tick-continue")) {
        /* pause now; on_tick (root context) resumes us via set_effective_context + continue */
        c->tick_pending = 1;
        R(c, "tick-period", "%u", proxy_set_tick_period_milliseconds(20));
        return PW_PAUSE;
    } else if (is(c, "close-request")) {
        /* meant to break the exchange: the stream is reset */
        R(c, "close-request", "%u", proxy_close_stream(PW_STREAM_REQUEST));
        return PW_PAUSE;
    } else if (is(c, "bad-ptr")) {
        uint8_t *p = NULL;
        size_t n = 0;
        R(c, "bad-ptr-key", "%u",
          proxy_get_header_map_value(PW_MAP_REQUEST_HEADERS, (const char *)0xFFFFFF00u, 5, &p, &n));
        R(c, "bad-ptr-ret", "%u",
          proxy_get_header_map_value(PW_MAP_REQUEST_HEADERS, PW_S("x-test"), (uint8_t **)0xFFFFFF00u, &n));
        R(c, "bad-ptr-add", "%u",
          proxy_add_header_map_value(PW_MAP_REQUEST_HEADERS, PW_S("x-bad-ptr"), (const char *)0xFFFFFF00u, 300));
        R(c, "bad-ptr-size-overflow", "%u",
          proxy_get_header_map_value(PW_MAP_REQUEST_HEADERS, PW_S("x-test"), &p, (size_t *)0xFFFFFFFEu));
        R(c, "bad-ptr-prop", "%u", proxy_get_property((const char *)0xFFFFFF00u, 16, &p, &n));
        R(c, "bad-ptr-shared", "%u", proxy_set_shared_data(PW_S("k"), (const uint8_t *)0xFFFFFF00u, 1024, 0));
    } else if (is(c, "bad-pairs")) {
        case_bad_pairs(c);
    } else if (is(c, "bad-map")) {
        uint8_t *p = NULL;
        size_t n = 0;
        R(c, "bad-map-get", "%u", proxy_get_header_map_value(99, PW_S("x-test"), &p, &n));
        R(c, "bad-map-add", "%u", proxy_add_header_map_value(99, PW_S("a"), PW_S("b")));
        R(c, "bad-map-replace", "%u", proxy_replace_header_map_value(99, PW_S("a"), PW_S("b")));
        R(c, "bad-map-remove", "%u", proxy_remove_header_map_value(99, PW_S("a")));
        R(c, "bad-map-size", "%u", proxy_get_header_map_size(99, &n));
        R(c, "bad-map-pairs", "%u", proxy_get_header_map_pairs(99, &p, &n));
        R(c, "bad-map-set-pairs", "%u", proxy_set_header_map_pairs(99, (const uint8_t *)"\0\0\0\0", 4));
        R(c, "bad-map-resp-in-req", "%u", proxy_get_header_map_value(PW_MAP_RESPONSE_HEADERS, PW_S(":status"), &p, &n));
    } else if (is(c, "bad-buffer")) {
        uint8_t *p = NULL;
        size_t n = 0;
        uint32_t flags = 0;
        R(c, "bad-buffer-type", "%u", proxy_get_buffer_bytes(99, 0, 10, &p, &n));
        R(c, "bad-buffer-status-type", "%u", proxy_get_buffer_status(99, &n, &flags));
        n = 99;
        st = proxy_get_buffer_bytes(PW_BUF_REQUEST_BODY, 0, 10, &p, &n);
        R(c, "bad-buffer-nobody", "%u:%zu", st, st == PW_OK ? n : 0);
        free(p);
        p = NULL;
        n = 99;
        st = proxy_get_buffer_status(PW_BUF_REQUEST_BODY, &n, &flags);
        R(c, "bad-buffer-nobody-status", "%u:%zu", st, st == PW_OK ? n : 0);
        R(c, "bad-buffer-set-type", "%u", proxy_set_buffer_bytes(99, 0, 0, (const uint8_t *)"x", 1));
        n = 99;
        st = proxy_get_buffer_bytes(PW_BUF_VM_CONFIGURATION, 0, 10, &p, &n);
        R(c, "bad-buffer-vmconfig-late", "%u:%zu", st, st == PW_OK ? n : 0);
        free(p);
    } else if (strncmp(c->tcase, "resp-", 5) == 0 || is(c, "local-body")) {
        if (is(c, "local-body")) R(c, "local-body-cl-remove", "%u", rm_hdr(PW_MAP_REQUEST_HEADERS, "content-length"));
        /* handled in the body / response callbacks */
    } else if (c->tcase[0]) {
        R(c, "unknown-case", "%s", c->tcase);
    }
    (void)nheaders;
    (void)eos;
    return PW_CONTINUE;
}

PW_EXPORT(proxy_on_request_headers) uint32_t proxy_on_request_headers(uint32_t id, uint32_t n, uint32_t eos) {
    ctx_t *c = find_ctx(id);
    if (!c) c = new_ctx(id);
    if (!c) return PW_CONTINUE;
    get_hdr(PW_MAP_REQUEST_HEADERS, "x-test", c->tcase, sizeof(c->tcase));
    if (!c->tcase[0]) return PW_CONTINUE;
    return on_request_headers_case(c, n, eos);
}

/* ------------------------------------------------------------------------------------------ */
/* bodies                                                                                     */

PW_EXPORT(proxy_on_request_body) uint32_t proxy_on_request_body(uint32_t id, uint32_t size, uint32_t eos) {
    ctx_t *c = find_ctx(id);
    if (!c) return PW_CONTINUE;
    if (is(c, "local-body")) {
        /* buffer the whole request body, then answer it ourselves, echoing the body */
        if (!eos) return PW_PAUSE;
        uint8_t *p = NULL;
        size_t n = 0;
        uint32_t st = proxy_get_buffer_bytes(PW_BUF_REQUEST_BODY, 0, size, &p, &n);
        char nb[300];
        int l = snprintf(nb, sizeof(nb), "echo:%.*s", (int)(n > 200 ? 200 : n), p ? (char *)p : "");
        free(p);
        R(c, "local-body-get", "%u", st);
        R(c, "local-body", "%u", proxy_send_local_response(400, PW_S("conformance_local_body"),
                                                          (const uint8_t *)nb, (size_t)l, NULL, 0, -1));
        return PW_PAUSE;
    }
    int rep = is(c, "body-replace"), pre = is(c, "body-prepend"), app = is(c, "body-append"),
        mid = is(c, "body-middle");
    if (!(rep || pre || app || mid)) return PW_CONTINUE;
    if (!eos) return PW_PAUSE; /* StopIterationAndBuffer */
    size_t bsize = 0;
    uint32_t flags = 7;
    uint32_t st = proxy_get_buffer_status(PW_BUF_REQUEST_BODY, &bsize, &flags);
    R(c, "body-status", "%u:%zu:%u:%s", st, bsize, flags, bsize == size ? "size-match" : "size-differs");
    uint8_t *p = NULL;
    size_t n = 0;
    st = proxy_get_buffer_bytes(PW_BUF_REQUEST_BODY, 0, size, &p, &n);
    R(c, "body-get", "%u:%.*s", st, (int)(n > 100 ? 100 : n), p ? (char *)p : "");
    if (rep) {
        char nb[300];
        int l = snprintf(nb, sizeof(nb), "REPLACED[%.*s]", (int)(n > 200 ? 200 : n), p ? (char *)p : "");
        st = proxy_set_buffer_bytes(PW_BUF_REQUEST_BODY, 0, n, (const uint8_t *)nb, (size_t)l);
    } else if (pre) {
        st = proxy_set_buffer_bytes(PW_BUF_REQUEST_BODY, 0, 0, (const uint8_t *)"PRE-", 4);
    } else if (app) {
        st = proxy_set_buffer_bytes(PW_BUF_REQUEST_BODY, n, 0, (const uint8_t *)"-POST", 5);
    } else {
        st = proxy_set_buffer_bytes(PW_BUF_REQUEST_BODY, 2, 3, (const uint8_t *)"_mid_", 5);
    }
    R(c, "body-set", "%u", st);
    /* partial read: bytes 1..3 */
    free(p);
    p = NULL; n = 0;
    st = proxy_get_buffer_bytes(PW_BUF_REQUEST_BODY, 1, 3, &p, &n);
    R(c, "body-get-partial", "%u:%.*s", st, (int)n, p ? (char *)p : "");
    free(p);
    return PW_CONTINUE;
}

PW_EXPORT(proxy_on_request_trailers) uint32_t proxy_on_request_trailers(uint32_t id, uint32_t n) {
    ctx_t *c = find_ctx(id);
    if (c && c->tcase[0]) R(c, "req-trailers", "%u", n);
    return PW_CONTINUE;
}

PW_EXPORT(proxy_on_response_headers) uint32_t proxy_on_response_headers(uint32_t id, uint32_t n, uint32_t eos) {
    ctx_t *c = find_ctx(id);
    if (!c || !c->tcase[0]) return PW_CONTINUE;
    char v[160];
    uint32_t st;
    if (is(c, "resp-headers")) {
        st = get_hdr(PW_MAP_RESPONSE_HEADERS, ":status", v, sizeof(v));
        R(c, "resp-status", "%u:%s", st, v);
        R(c, "resp-add", "%u", add_hdr(PW_MAP_RESPONSE_HEADERS, "x-resp-added", "1"));
        R(c, "resp-replace", "%u", rep_hdr(PW_MAP_RESPONSE_HEADERS, "x-up", "replaced"));
        R(c, "resp-remove", "%u", rm_hdr(PW_MAP_RESPONSE_HEADERS, "x-remove-me"));
        st = get_hdr(PW_MAP_RESPONSE_HEADERS, "x-remove-me", v, sizeof(v));
        R(c, "resp-removed-get", "%u", st);
        R(c, "resp-req-map", "%u", get_hdr(PW_MAP_REQUEST_HEADERS, "x-test", v, sizeof(v)));
    } else if (is(c, "prop-read")) {
        read_props(c, "resp-prop-", c->resp_props);
    } else if (is(c, "resp-status")) {
        R(c, "resp-status-rewrite", "%u", rep_hdr(PW_MAP_RESPONSE_HEADERS, ":status", "201"));
    } else if (is(c, "resp-body-replace") || is(c, "resp-body-prepend") || is(c, "resp-body-append")) {
        R(c, "resp-body-cl-remove", "%u", rm_hdr(PW_MAP_RESPONSE_HEADERS, "content-length"));
    }
    /* flush results */
    for (int i = 0; i < c->nres; i++) add_hdr(PW_MAP_RESPONSE_HEADERS, c->rk[i], c->rv[i]);
    (void)n;
    (void)eos;
    return PW_CONTINUE;
}

PW_EXPORT(proxy_on_response_body) uint32_t proxy_on_response_body(uint32_t id, uint32_t size, uint32_t eos) {
    ctx_t *c = find_ctx(id);
    if (!c) return PW_CONTINUE;
    int rep = is(c, "resp-body-replace"), pre = is(c, "resp-body-prepend"), app = is(c, "resp-body-append");
    if (!(rep || pre || app)) return PW_CONTINUE;
    if (!eos) return PW_PAUSE;
    size_t bsize = 0;
    uint32_t flags = 7;
    uint32_t st_status = proxy_get_buffer_status(PW_BUF_RESPONSE_BODY, &bsize, &flags);
    uint8_t *p = NULL;
    size_t n = 0;
    uint32_t st_get = proxy_get_buffer_bytes(PW_BUF_RESPONSE_BODY, 0, size, &p, &n);
    uint32_t st;
    char tail[96];
    int tl = snprintf(tail, sizeof(tail), "|status=%u:%zu:%u|get=%u:%zu", st_status, bsize, flags, st_get, n);
    if (rep) {
        char nb[400];
        int l = snprintf(nb, sizeof(nb), "RESP[%.*s]%s", (int)(n > 200 ? 200 : n), p ? (char *)p : "", tail);
        st = proxy_set_buffer_bytes(PW_BUF_RESPONSE_BODY, 0, n, (const uint8_t *)nb, (size_t)l);
    } else if (pre) {
        st = proxy_set_buffer_bytes(PW_BUF_RESPONSE_BODY, 0, 0, (const uint8_t *)"PRE-", 4);
    } else {
        st = proxy_set_buffer_bytes(PW_BUF_RESPONSE_BODY, n + 10, 0, (const uint8_t *)tail, (size_t)tl);
    }
    free(p);
    /* report the set status itself at the very end */
    char fin[32];
    int fl = snprintf(fin, sizeof(fin), "|set=%u", st);
    size_t now = 0;
    proxy_get_buffer_status(PW_BUF_RESPONSE_BODY, &now, &flags);
    proxy_set_buffer_bytes(PW_BUF_RESPONSE_BODY, now, 0, (const uint8_t *)fin, (size_t)fl);
    return PW_CONTINUE;
}

PW_EXPORT(proxy_on_response_trailers) uint32_t proxy_on_response_trailers(uint32_t id, uint32_t n) {
    (void)id;
    (void)n;
    return PW_CONTINUE;
}

/* ------------------------------------------------------------------------------------------ */
/* timer: resumes contexts paused by the tick-continue case                                   */

PW_EXPORT(proxy_on_tick) void proxy_on_tick(uint32_t root) {
    int remaining = 0;
    for (int i = 0; i < MAXCTX; i++) {
        ctx_t *c = &ctxs[i];
        if (!c->used || !c->tick_pending) continue;
        c->tick_pending = 0;
        R(c, "tick-effective", "%u", proxy_set_effective_context(c->id));
        R(c, "tick-add", "%u", add_hdr(PW_MAP_REQUEST_HEADERS, "x-resumed-by-tick", "yes"));
        R(c, "tick-continue", "%u", proxy_continue_stream(PW_STREAM_REQUEST));
    }
    for (int i = 0; i < MAXCTX; i++) remaining |= ctxs[i].used && ctxs[i].tick_pending;
    if (!remaining) proxy_set_tick_period_milliseconds(0);
    (void)root;
}

/* ------------------------------------------------------------------------------------------ */
/* end of stream                                                                              */

PW_EXPORT(proxy_on_log) void proxy_on_log(uint32_t id) {
    ctx_t *c = find_ctx(id);
    if (!c || !c->tcase[0]) return;
    char v[64];
    uint32_t st = get_hdr(PW_MAP_REQUEST_HEADERS, "x-test", v, sizeof(v));
    logf_(PW_LOG_INFO, "conformance: on_log ctx case=%s (request header read: %u)", c->tcase, st);
}

PW_EXPORT(proxy_on_done) uint32_t proxy_on_done(uint32_t id) {
    (void)id;
    return 1;
}

PW_EXPORT(proxy_on_delete) void proxy_on_delete(uint32_t id) {
    ctx_t *c = find_ctx(id);
    if (c) c->used = 0;
}
