/* bad_configure.c: proxy_on_configure returns 0 (false) unless the plugin configuration is exactly
 * `ok` -> with any other configuration the plugin must fail to load (Envoy refuses the config).
 * With `ok` it adds response header `x-bad-configure: loaded`. WASI reactor. */
#include <stdlib.h>
#include "hostile_common.h"

static void h_release(void *p) { free(p); }

PW_EXPORT(proxy_on_vm_start) uint32_t proxy_on_vm_start(uint32_t r, uint32_t s) { (void)r; (void)s; return 1; }

PW_EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t root, uint32_t size) {
    (void)root;
    uint8_t *p = 0;
    size_t n = 0;
    uint32_t st = proxy_get_buffer_bytes(PW_BUF_PLUGIN_CONFIGURATION, 0, size, &p, &n);
    int ok = st == PW_OK && n == 2 && p && p[0] == 'o' && p[1] == 'k';
    free(p);
    if (!ok) proxy_log(PW_LOG_ERROR, PW_S("bad_configure: configuration is not 'ok', refusing"));
    return ok ? 1 : 0;
}

PW_EXPORT(proxy_on_response_headers) uint32_t proxy_on_response_headers(uint32_t id, uint32_t n, uint32_t eos) {
    (void)id; (void)n; (void)eos;
    
    h_add(PW_MAP_RESPONSE_HEADERS, "x-bad-configure", "loaded");
    return PW_CONTINUE;
}
