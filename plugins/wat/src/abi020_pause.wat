;; abi020_pause (ABI 0.2.0): request header `x-pause: 1` -> proxy_on_request_headers returns
;; Pause (1) and nothing ever resumes the stream (no proxy_continue_stream anywhere): the client
;; waits until a timeout. Otherwise it adds request header `x-wat-pause: no` and continues.
;; No proxy_on_vm_start / proxy_on_configure exports (optional callbacks).
(module
  (import "env" "proxy_get_header_map_value"
    (func $get_hdr (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value"
    (func $add_hdr (param i32 i32 i32 i32 i32) (result i32)))

  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 16) "x-pause")      ;; 7
  (data (i32.const 32) "x-wat-pause")  ;; 11
  (data (i32.const 48) "no")           ;; 2
  ;; 512/516: out-params (ptr, len) of proxy_get_header_map_value

  (func (export "proxy_abi_version_0_2_0"))
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (if (i32.gt_u (global.get $heap) (i32.shl (memory.size) (i32.const 16)))
      (then (global.set $heap (local.get $p)) (return (i32.const 0))))
    (local.get $p))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32)
    (global.set $heap (i32.const 1024))
    (if (i32.eqz (call $get_hdr (i32.const 0) (i32.const 16) (i32.const 7) (i32.const 512) (i32.const 516)))
      (then
        (if (i32.and
              (i32.eq (i32.load (i32.const 516)) (i32.const 1))
              (i32.eq (i32.load8_u (i32.load (i32.const 512))) (i32.const 49)))  ;; "1"
          (then (return (i32.const 1))))))  ;; Pause, never resumed
    (drop (call $add_hdr (i32.const 0) (i32.const 32) (i32.const 11) (i32.const 48) (i32.const 2)))
    (i32.const 0))
)
