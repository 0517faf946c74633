/* membomb.c: hostile plugin (WASI reactor, wasi-libc malloc).
 * `x-hostile: mem`  -> malloc 1 MiB chunks and touch every page until malloc returns NULL, then
 *                      free them all, add request + response header `x-membomb-allocated-mib: N`
 *                      and continue (N ~ the host's memory limit for the instance).
 * `x-hostile: grow` -> __builtin_wasm_memory_grow(0, 65536) (4 GiB: never possible in wasm32),
 *                      echo the result in `x-membomb-grow` (-1).
 * `x-hostile: grow-small` -> grow by 16 pages (1 MiB), echo `ok` or `-1` in `x-membomb-grow-small`.
 * Otherwise adds `x-membomb-plugin: ok`. */
#include <stdlib.h>
#include "hostile_common.h"

static void h_release(void *p) { free(p); }

PW_EXPORT(proxy_on_vm_start) uint32_t proxy_on_vm_start(uint32_t r, uint32_t s) { (void)r; (void)s; return 1; }
PW_EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t r, uint32_t s) { (void)r; (void)s; return 1; }

#define CHUNK (1024 * 1024)
static char result_name[48];
static char result_value[24];

static void set_result(const char *k, const char *v) {
    size_t i;
    for (i = 0; k[i] && i < sizeof(result_name) - 1; i++) result_name[i] = k[i];
    result_name[i] = 0;
    for (i = 0; v[i] && i < sizeof(result_value) - 1; i++) result_value[i] = v[i];
    result_value[i] = 0;
    h_add(PW_MAP_REQUEST_HEADERS, result_name, result_value);
}

PW_EXPORT(proxy_on_request_headers) uint32_t proxy_on_request_headers(uint32_t id, uint32_t n, uint32_t eos) {
    (void)id; (void)n; (void)eos;
    char num[24];
    result_name[0] = 0;
    if (h_header_is("x-hostile", "mem")) {
        void *head = NULL;
        long long mib = 0;
        for (;;) {
            char *p = malloc(CHUNK);
            if (!p) break;
            for (size_t off = 0; off < CHUNK; off += 4096) ((volatile char *)p)[off] = 1; /* touch */
            *(void **)p = head; /* chain the chunks through their first word */
            head = p;
            mib++;
        }
        while (head) {
            void *next = *(void **)head;
            free(head);
            head = next;
        }
        set_result("x-membomb-allocated-mib", h_itoa(mib, num));
    } else if (h_header_is("x-hostile", "grow")) {
        int r = __builtin_wasm_memory_grow(0, 65536);
        set_result("x-membomb-grow", h_itoa(r, num));
    } else if (h_header_is("x-hostile", "grow-small")) {
        int r = __builtin_wasm_memory_grow(0, 16);
        set_result("x-membomb-grow-small", r == -1 ? "-1" : "ok");
    } else {
        set_result("x-membomb-plugin", "ok");
    }
    return PW_CONTINUE;
}

PW_EXPORT(proxy_on_response_headers) uint32_t proxy_on_response_headers(uint32_t id, uint32_t n, uint32_t eos) {
    (void)id; (void)n; (void)eos;
    if (result_name[0]) h_add(PW_MAP_RESPONSE_HEADERS, result_name, result_value);
    return PW_CONTINUE;
}
