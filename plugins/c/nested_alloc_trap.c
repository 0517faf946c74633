/* nested_alloc_trap.c: a wasm32-wasi module built without `_initialize` (build: command-exports):
 * wasm-ld then wraps every export, the allocator `malloc` included, so that it first runs the
 * module's constructors. Its constructor calls the WASI import environ_sizes_get, which a
 * Proxy-Wasm host refuses inside the allocator (proxy-wasm-cpp-host allows only proxy_log,
 * fd_write and clock_time_get there). So the first host call that copies data into the plugin
 * (proxy_get_buffer_bytes of the configuration, in proxy_on_configure) traps in the allocator:
 * the VM is failed, the host call returns an error, and proxy_on_configure goes on and returns
 * true. Envoy loads the plugin; its requests get the failure policy (fail_closed: 503).
 * A response header x-nested: <status of that get_buffer_bytes> would show if it ever ran. */
#include <stdlib.h>
#include "hostile_common.h"

// build: command-exports

__attribute__((import_module("wasi_snapshot_preview1"), import_name("environ_sizes_get")))
uint16_t nested_environ_sizes_get(uint32_t *count, uint32_t *size);

static uint32_t env_count, configure_status = 99;

__attribute__((constructor)) static void read_environment_size(void) {
    uint32_t size = 0;
    nested_environ_sizes_get(&env_count, &size);
}

static void h_release(void *p) { free(p); }

PW_EXPORT(proxy_on_vm_start) uint32_t proxy_on_vm_start(uint32_t r, uint32_t s) { (void)r; (void)s; return 1; }

PW_EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t root, uint32_t size) {
    (void)root;
    uint8_t *p = 0;
    size_t n = 0;
    configure_status = proxy_get_buffer_bytes(PW_BUF_PLUGIN_CONFIGURATION, 0, size, &p, &n);
    return 1;
}

PW_EXPORT(proxy_on_response_headers) uint32_t proxy_on_response_headers(uint32_t id, uint32_t n, uint32_t eos) {
    (void)id; (void)n; (void)eos;
    char buf[24];
    h_add(PW_MAP_RESPONSE_HEADERS, "x-nested", h_itoa(configure_status, buf));
    return PW_CONTINUE;
}
