/* crash_start.c: proxy_on_vm_start returns 0 (false) -> the VM must not be used; Envoy refuses
 * the configuration and does not start (load_error). WASI reactor. */
#include <stdlib.h>
#include "hostile_common.h"

static void h_release(void *p) { free(p); }

PW_EXPORT(proxy_on_vm_start) uint32_t proxy_on_vm_start(uint32_t r, uint32_t s) {
    (void)r; (void)s;
    proxy_log(PW_LOG_ERROR, PW_S("crash_start: on_vm_start returns false"));
    return 0;
}
PW_EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t r, uint32_t s) { (void)r; (void)s; return 1; }

PW_EXPORT(proxy_on_request_headers) uint32_t proxy_on_request_headers(uint32_t id, uint32_t n, uint32_t eos) {
    (void)id; (void)n; (void)eos;
    
    h_add(PW_MAP_REQUEST_HEADERS, "x-crash-start", "should-never-run");
    return PW_CONTINUE;
}
