;; imports_everything (ABI 0.2.1): imports a broad set of proxy_* and WASI functions it never
;; calls, and only adds response header `x-wat: ok`. A host has to link every import before
;; instantiation, so it must supply (at least stubs for) all of them.
;;
;; build/imports_known.wasm from this file with those lines removed (Envoy refuses the made-up
;; env import, so the differential test uses imports_known).
(module
  ;; --- used ---
  (import "env" "proxy_add_header_map_value" (func $add_hdr (param i32 i32 i32 i32 i32) (result i32)))
  ;; --- imported, never called: logging / time / tick / context ---
  (import "env" "proxy_log" (func (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_log_level" (func (param i32) (result i32)))
  (import "env" "proxy_get_current_time_nanoseconds" (func (param i32) (result i32)))
  (import "env" "proxy_set_tick_period_milliseconds" (func (param i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func (param i32) (result i32)))
  (import "env" "proxy_done" (func (result i32)))
  ;; buffers and header maps
  (import "env" "proxy_get_buffer_bytes" (func (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_buffer_bytes" (func (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_status" (func (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_size" (func (param i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_pairs" (func (param i32 i32 i32) (result i32)))
  (import "env" "proxy_set_header_map_pairs" (func (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_remove_header_map_value" (func (param i32 i32 i32) (result i32)))
  ;; stream control
  (import "env" "proxy_continue_stream" (func (param i32) (result i32)))
  (import "env" "proxy_close_stream" (func (param i32) (result i32)))
  (import "env" "proxy_send_local_response" (func (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_status" (func (param i32 i32 i32) (result i32)))
  ;; http / grpc callouts
  (import "env" "proxy_http_call" (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_call" (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_stream" (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_send" (func (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_cancel" (func (param i32) (result i32)))
  (import "env" "proxy_grpc_close" (func (param i32) (result i32)))
  ;; shared data and queues
  (import "env" "proxy_set_shared_data" (func (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_shared_data" (func (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_register_shared_queue" (func (param i32 i32 i32) (result i32)))
  (import "env" "proxy_resolve_shared_queue" (func (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_enqueue_shared_queue" (func (param i32 i32 i32) (result i32)))
  (import "env" "proxy_dequeue_shared_queue" (func (param i32 i32 i32) (result i32)))
  ;; metrics
  (import "env" "proxy_define_metric" (func (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_record_metric" (func (param i32 i64) (result i32)))
  (import "env" "proxy_increment_metric" (func (param i32 i64) (result i32)))
  (import "env" "proxy_get_metric" (func (param i32 i32) (result i32)))
  ;; properties, foreign functions
  (import "env" "proxy_get_property" (func (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_property" (func (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_call_foreign_function" (func (param i32 i32 i32 i32 i32 i32) (result i32)))
  ;; WASI preview1
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
  (import "wasi_unstable" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  ;; sock_accept: no SDK uses it and it looks made-up, but the cpp-host registers it (Envoy loads it)
  (import "wasi_snapshot_preview1" "sock_accept" (func (param i32 i32 i32) (result i32)))

  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 16) "x-wat")  ;; 5
  (data (i32.const 32) "ok")     ;; 2

  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (if (i32.gt_u (global.get $heap) (i32.shl (memory.size) (i32.const 16)))
      (then (global.set $heap (local.get $p)) (return (i32.const 0))))
    (local.get $p))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (global.set $heap (i32.const 1024))
    (drop (call $add_hdr (i32.const 2) (i32.const 16) (i32.const 5) (i32.const 32) (i32.const 2)))
    (i32.const 0))
)
