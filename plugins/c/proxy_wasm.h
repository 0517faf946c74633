/* Minimal raw Proxy-Wasm ABI v0.2.1 declarations for C plugins (hand-written from the spec tables).
 * Only what the plugins in this folder use. All host functions live in module "env" and return
 * proxy_status_t (i32). */
#ifndef PROXY_WASM_H
#define PROXY_WASM_H
#include <stddef.h>
#include <stdint.h>

#define PW_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define PW_EXPORT(name) __attribute__((export_name(#name)))

/* proxy_status_t */
enum { PW_OK = 0, PW_NOT_FOUND = 1, PW_BAD_ARGUMENT = 2, PW_SERIALIZATION_FAILURE = 3,
       PW_PARSE_FAILURE = 4, PW_INVALID_MEMORY_ACCESS = 6, PW_EMPTY = 7, PW_CAS_MISMATCH = 8,
       PW_INTERNAL_FAILURE = 10, PW_UNIMPLEMENTED = 12 };
/* proxy_log_level_t */
enum { PW_LOG_TRACE = 0, PW_LOG_DEBUG, PW_LOG_INFO, PW_LOG_WARN, PW_LOG_ERROR, PW_LOG_CRITICAL };
/* proxy_action_t (+ FilterDataStatus::StopIterationAndBuffer = 1) */
enum { PW_CONTINUE = 0, PW_PAUSE = 1 };
/* proxy_buffer_type_t */
enum { PW_BUF_REQUEST_BODY = 0, PW_BUF_RESPONSE_BODY = 1, PW_BUF_DOWNSTREAM_DATA = 2,
       PW_BUF_UPSTREAM_DATA = 3, PW_BUF_HTTP_CALL_RESPONSE_BODY = 4, PW_BUF_GRPC_CALL_MESSAGE = 5,
       PW_BUF_VM_CONFIGURATION = 6, PW_BUF_PLUGIN_CONFIGURATION = 7,
       PW_BUF_FOREIGN_FUNCTION_ARGUMENTS = 8 };
/* proxy_map_type_t */
enum { PW_MAP_REQUEST_HEADERS = 0, PW_MAP_REQUEST_TRAILERS = 1, PW_MAP_RESPONSE_HEADERS = 2,
       PW_MAP_RESPONSE_TRAILERS = 3 };
/* proxy_stream_type_t */
enum { PW_STREAM_REQUEST = 0, PW_STREAM_RESPONSE = 1, PW_STREAM_DOWNSTREAM = 2, PW_STREAM_UPSTREAM = 3 };
/* proxy_metric_type_t */
enum { PW_METRIC_COUNTER = 0, PW_METRIC_GAUGE = 1, PW_METRIC_HISTOGRAM = 2 };

PW_IMPORT(proxy_log) uint32_t proxy_log(uint32_t level, const char *msg, size_t len);
PW_IMPORT(proxy_get_log_level) uint32_t proxy_get_log_level(uint32_t *level);
PW_IMPORT(proxy_get_current_time_nanoseconds) uint32_t proxy_get_current_time_nanoseconds(uint64_t *t);
PW_IMPORT(proxy_set_tick_period_milliseconds) uint32_t proxy_set_tick_period_milliseconds(uint32_t ms);
PW_IMPORT(proxy_done) uint32_t proxy_done(void);
PW_IMPORT(proxy_set_effective_context) uint32_t proxy_set_effective_context(uint32_t ctx);

PW_IMPORT(proxy_get_buffer_bytes) uint32_t proxy_get_buffer_bytes(uint32_t type, size_t start, size_t max,
                                                                  uint8_t **data, size_t *size);
PW_IMPORT(proxy_set_buffer_bytes) uint32_t proxy_set_buffer_bytes(uint32_t type, size_t start, size_t size,
                                                                  const uint8_t *data, size_t len);
PW_IMPORT(proxy_get_buffer_status) uint32_t proxy_get_buffer_status(uint32_t type, size_t *size, uint32_t *flags);

PW_IMPORT(proxy_get_header_map_size) uint32_t proxy_get_header_map_size(uint32_t map, size_t *size);
PW_IMPORT(proxy_get_header_map_pairs) uint32_t proxy_get_header_map_pairs(uint32_t map, uint8_t **data, size_t *size);
PW_IMPORT(proxy_set_header_map_pairs) uint32_t proxy_set_header_map_pairs(uint32_t map, const uint8_t *data, size_t size);
PW_IMPORT(proxy_get_header_map_value) uint32_t proxy_get_header_map_value(uint32_t map, const char *key, size_t klen,
                                                                          uint8_t **val, size_t *vlen);
PW_IMPORT(proxy_add_header_map_value) uint32_t proxy_add_header_map_value(uint32_t map, const char *key, size_t klen,
                                                                          const char *val, size_t vlen);
PW_IMPORT(proxy_replace_header_map_value) uint32_t proxy_replace_header_map_value(uint32_t map, const char *key, size_t klen,
                                                                                  const char *val, size_t vlen);
PW_IMPORT(proxy_remove_header_map_value) uint32_t proxy_remove_header_map_value(uint32_t map, const char *key, size_t klen);

PW_IMPORT(proxy_continue_stream) uint32_t proxy_continue_stream(uint32_t stream);
PW_IMPORT(proxy_close_stream) uint32_t proxy_close_stream(uint32_t stream);
PW_IMPORT(proxy_send_local_response) uint32_t proxy_send_local_response(uint32_t status, const char *details, size_t dlen,
                                                                        const uint8_t *body, size_t blen,
                                                                        const uint8_t *headers, size_t hlen,
                                                                        int32_t grpc_status);

PW_IMPORT(proxy_set_shared_data) uint32_t proxy_set_shared_data(const char *key, size_t klen, const uint8_t *val,
                                                                size_t vlen, uint32_t cas);
PW_IMPORT(proxy_get_shared_data) uint32_t proxy_get_shared_data(const char *key, size_t klen, uint8_t **val,
                                                                size_t *vlen, uint32_t *cas);

PW_IMPORT(proxy_define_metric) uint32_t proxy_define_metric(uint32_t type, const char *name, size_t nlen, uint32_t *id);
PW_IMPORT(proxy_record_metric) uint32_t proxy_record_metric(uint32_t id, uint64_t value);
PW_IMPORT(proxy_increment_metric) uint32_t proxy_increment_metric(uint32_t id, int64_t delta);
PW_IMPORT(proxy_get_metric) uint32_t proxy_get_metric(uint32_t id, uint64_t *value);

PW_IMPORT(proxy_get_property) uint32_t proxy_get_property(const char *path, size_t plen, uint8_t **val, size_t *vlen);
PW_IMPORT(proxy_set_property) uint32_t proxy_set_property(const char *path, size_t plen, const uint8_t *val, size_t vlen);
PW_IMPORT(proxy_call_foreign_function) uint32_t proxy_call_foreign_function(const char *name, size_t nlen,
                                                                            const uint8_t *args, size_t alen,
                                                                            uint8_t **res, size_t *rlen);

/* Convenience for string literals: pointer + length. */
#define PW_S(lit) (lit), (sizeof(lit) - 1)

#endif
