/* loop.c: hostile plugin. `x-hostile: loop` -> infinite loop in proxy_on_request_headers.
 * Otherwise adds request header `x-loop-plugin: ok` and response header `x-loop-plugin: ok`.
 * WASI reactor. Envoy (V8) has no CPU limit for Wasm: the worker thread spins forever. */
#include <stdlib.h>
#include "hostile_common.h"

static void h_release(void *p) { free(p); }

PW_EXPORT(proxy_on_vm_start) uint32_t proxy_on_vm_start(uint32_t r, uint32_t s) { (void)r; (void)s; return 1; }
PW_EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t r, uint32_t s) { (void)r; (void)s; return 1; }

static volatile uint64_t spin;

PW_EXPORT(proxy_on_request_headers) uint32_t proxy_on_request_headers(uint32_t id, uint32_t n, uint32_t eos) {
    (void)id; (void)n; (void)eos;
    if (h_header_is("x-hostile", "loop")) {
        for (;;) spin++; /* volatile: cannot be optimized away */
    }
    h_add(PW_MAP_REQUEST_HEADERS, "x-loop-plugin", "ok");
    return PW_CONTINUE;
}

PW_EXPORT(proxy_on_response_headers) uint32_t proxy_on_response_headers(uint32_t id, uint32_t n, uint32_t eos) {
    (void)id; (void)n; (void)eos;
    h_add(PW_MAP_RESPONSE_HEADERS, "x-loop-plugin", "ok");
    return PW_CONTINUE;
}
