/* logflood.c: hostile plugin (WASI reactor). `x-hostile: logs` -> proxy_log(INFO) 100000 times
 * with a 200-byte message, then adds request + response header `x-logflood: <number of OK
 * returns>` (100000) and continues. Otherwise adds `x-logflood-plugin: ok`. */
#include <stdlib.h>
#include "hostile_common.h"

static void h_release(void *p) { free(p); }

PW_EXPORT(proxy_on_vm_start) uint32_t proxy_on_vm_start(uint32_t r, uint32_t s) { (void)r; (void)s; return 1; }
PW_EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t r, uint32_t s) { (void)r; (void)s; return 1; }

#define COUNT 100000
static char msg[200];
static char res_name[32];
static char res_value[24];

PW_EXPORT(proxy_on_request_headers) uint32_t proxy_on_request_headers(uint32_t id, uint32_t n, uint32_t eos) {
    (void)id; (void)n; (void)eos;
    res_name[0] = 0;
    if (h_header_is("x-hostile", "logs")) {
        static const char prefix[] = "logflood: ";
        for (size_t i = 0; i < sizeof(msg); i++) msg[i] = i < sizeof(prefix) - 1 ? prefix[i] : (char)('a' + i % 26);
        long long ok = 0;
        for (int i = 0; i < COUNT; i++) ok += proxy_log(PW_LOG_INFO, msg, sizeof(msg)) == PW_OK;
        h_itoa(ok, res_value);
        const char k[] = "x-logflood";
        for (size_t i = 0; i < sizeof(k); i++) res_name[i] = k[i];
    } else {
        const char k[] = "x-logflood-plugin";
        for (size_t i = 0; i < sizeof(k); i++) res_name[i] = k[i];
        res_value[0] = 'o'; res_value[1] = 'k'; res_value[2] = 0;
    }
    h_add(PW_MAP_REQUEST_HEADERS, res_name, res_value);
    return PW_CONTINUE;
}

PW_EXPORT(proxy_on_response_headers) uint32_t proxy_on_response_headers(uint32_t id, uint32_t n, uint32_t eos) {
    (void)id; (void)n; (void)eos;
    if (res_name[0]) h_add(PW_MAP_RESPONSE_HEADERS, res_name, res_value);
    return PW_CONTINUE;
}
