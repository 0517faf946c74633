/* Small helpers shared by the hostile test plugins (header-only; each plugin is one .c file). */
#ifndef HOSTILE_COMMON_H
#define HOSTILE_COMMON_H
#include "proxy_wasm.h"

PW_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

static __attribute__((unused)) size_t h_strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

static __attribute__((unused)) int h_memeq(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return 0;
    return 1;
}

/* Does request header `name` equal `value`? (host-allocated copy is leaked on purpose in the
 * freestanding build, whose bump allocator never frees; see h_release) */
static __attribute__((unused)) void h_release(void *p);
static __attribute__((unused)) int h_header_is(const char *name, const char *value) {
    uint8_t *p = 0;
    size_t n = 0;
    if (proxy_get_header_map_value(PW_MAP_REQUEST_HEADERS, name, h_strlen(name), &p, &n) != PW_OK) return 0;
    size_t vl = h_strlen(value);
    int eq = (n == vl) && h_memeq(p, value, vl);
    h_release(p);
    return eq;
}

static __attribute__((unused)) uint32_t h_add(uint32_t map, const char *k, const char *v) {
    return proxy_add_header_map_value(map, k, h_strlen(k), v, h_strlen(v));
}

/* unsigned/signed to decimal; returns buf */
static __attribute__((unused)) char *h_itoa(long long v, char *buf) {
    char tmp[24];
    int i = 0, neg = v < 0;
    unsigned long long u = neg ? (unsigned long long)(-v) : (unsigned long long)v;
    do { tmp[i++] = (char)('0' + u % 10); u /= 10; } while (u);
    int j = 0;
    if (neg) buf[j++] = '-';
    while (i) buf[j++] = tmp[--i];
    buf[j] = 0;
    return buf;
}

PW_EXPORT(proxy_on_context_create) void proxy_on_context_create(uint32_t id, uint32_t parent) {
    (void)id;
    (void)parent;
}
#endif
