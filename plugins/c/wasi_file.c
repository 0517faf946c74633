/* wasi_file.c: hostile plugin (WASI reactor, wasi-libc). On every request tries
 * fopen("/etc/passwd", "r") and opendir("/"), plus a raw WASI path_open on fd 3 (the first
 * preopen slot) and fd_prestat_get(3). Reports in request and response headers:
 *   x-wasi-file: denied | OPENED          (OPENED if either libc call succeeded)
 *   x-wasi-file-errno: <fopen errno>,<opendir errno>   (wasi-libc errno values)
 *   x-wasi-path-open: <raw wasi errno of path_open(3, "etc/passwd")>
 *   x-wasi-prestat: <raw wasi errno of fd_prestat_get(3)> */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>
#include "hostile_common.h"

static void h_release(void *p) { free(p); }

PW_EXPORT(proxy_on_vm_start) uint32_t proxy_on_vm_start(uint32_t r, uint32_t s) { (void)r; (void)s; return 1; }
PW_EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t r, uint32_t s) { (void)r; (void)s; return 1; }

static char verdict[16], errs[32], popen_s[16], prestat_s[16];

PW_EXPORT(proxy_on_request_headers) uint32_t proxy_on_request_headers(uint32_t id, uint32_t n, uint32_t eos) {
    (void)id; (void)n; (void)eos;
    int opened = 0;
    errno = 0;
    FILE *f = fopen("/etc/passwd", "r");
    int e1 = f ? 0 : errno;
    if (f) { opened = 1; fclose(f); }
    errno = 0;
    DIR *d = opendir("/");
    int e2 = d ? 0 : errno;
    if (d) { opened = 1; closedir(d); }
    __wasi_fd_t fd = 0;
    __wasi_errno_t pe = __wasi_path_open(3, 0, "etc/passwd", __WASI_RIGHTS_FD_READ, 0, 0, 0, &fd);
    if (pe == 0) opened = 1;
    __wasi_prestat_t pre;
    __wasi_errno_t ps = __wasi_fd_prestat_get(3, &pre);
    snprintf(verdict, sizeof(verdict), "%s", opened ? "OPENED" : "denied");
    snprintf(errs, sizeof(errs), "%d,%d", e1, e2);
    snprintf(popen_s, sizeof(popen_s), "%u", pe);
    snprintf(prestat_s, sizeof(prestat_s), "%u", ps);
    h_add(PW_MAP_REQUEST_HEADERS, "x-wasi-file", verdict);
    h_add(PW_MAP_REQUEST_HEADERS, "x-wasi-file-errno", errs);
    h_add(PW_MAP_REQUEST_HEADERS, "x-wasi-path-open", popen_s);
    h_add(PW_MAP_REQUEST_HEADERS, "x-wasi-prestat", prestat_s);
    return PW_CONTINUE;
}

PW_EXPORT(proxy_on_response_headers) uint32_t proxy_on_response_headers(uint32_t id, uint32_t n, uint32_t eos) {
    (void)id; (void)n; (void)eos;
    h_add(PW_MAP_RESPONSE_HEADERS, "x-wasi-file", verdict);
    h_add(PW_MAP_RESPONSE_HEADERS, "x-wasi-file-errno", errs);
    h_add(PW_MAP_RESPONSE_HEADERS, "x-wasi-path-open", popen_s);
    h_add(PW_MAP_RESPONSE_HEADERS, "x-wasi-prestat", prestat_s);
    return PW_CONTINUE;
}
