// build: freestanding
/* trap.c: hostile plugin, freestanding (no libc, no WASI imports; bump allocator exported as
 * proxy_on_memory_allocate). `x-hostile: trap` -> __builtin_trap() (wasm `unreachable`) in
 * proxy_on_request_headers. Otherwise adds request and response header `x-trap-plugin: ok`.
 * Envoy 1.40 (V8): the trap marks the VM failed (RuntimeError); the trapping request gets a local
 * 503 under FAIL_CLOSED; every later request also gets 503 (FAIL_CLOSED), passes through
 * unfiltered (FAIL_OPEN), or gets a fresh VM (FAIL_RELOAD). See README.md and manifest.toml. */
#include "hostile_common.h"

extern unsigned char __heap_base;
static uintptr_t heap_top;

PW_EXPORT(proxy_on_memory_allocate) void *proxy_on_memory_allocate(size_t size) {
    if (!heap_top) heap_top = (uintptr_t)&__heap_base;
    uintptr_t p = (heap_top + 15) & ~(uintptr_t)15;
    uintptr_t end = p + size;
    size_t have = __builtin_wasm_memory_size(0) * 65536;
    if (end > have) {
        size_t pages = (end - have + 65535) / 65536;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) return 0;
    }
    heap_top = end;
    return (void *)p;
}

static void h_release(void *p) { (void)p; }

PW_EXPORT(proxy_on_vm_start) uint32_t proxy_on_vm_start(uint32_t r, uint32_t s) { (void)r; (void)s; return 1; }
PW_EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t r, uint32_t s) { (void)r; (void)s; return 1; }

PW_EXPORT(proxy_on_request_headers) uint32_t proxy_on_request_headers(uint32_t id, uint32_t n, uint32_t eos) {
    (void)id; (void)n; (void)eos;
    heap_top = 0; /* nothing allocated survives a callback: reset the bump allocator */
    if (h_header_is("x-hostile", "trap")) __builtin_trap();
    h_add(PW_MAP_REQUEST_HEADERS, "x-trap-plugin", "ok");
    return PW_CONTINUE;
}

PW_EXPORT(proxy_on_response_headers) uint32_t proxy_on_response_headers(uint32_t id, uint32_t n, uint32_t eos) {
    (void)id; (void)n; (void)eos;
    h_add(PW_MAP_RESPONSE_HEADERS, "x-trap-plugin", "ok");
    return PW_CONTINUE;
}
