//! Raw Proxy-Wasm (ABI 0.2.1) HTTP filter in Rust without crates (no_std, wasm32-unknown-unknown).
//!
//! * request: counts request headers whose name starts with `x-count-` (via
//!   proxy_get_header_map_pairs) and adds `x-rust-count: N`;
//! * request header `x-rust-local: 1` -> local reply 418, body "teapot from rust\n", with a
//!   serialized-pairs header list of two headers (`x-rust-local: yes`, `x-rust-extra: two`);
//! * response: replaces the value of response header `x-rust-replace` with `replaced` if present.
//!
//! Allocator: `proxy_on_memory_allocate` (bump allocator over a static arena, reset at the start
//! of each header callback); no `malloc` export.
#![no_std]

use core::panic::PanicInfo;

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_log(level: u32, msg: *const u8, len: usize) -> u32;
    fn proxy_get_header_map_pairs(map: u32, ret_data: *mut *const u8, ret_size: *mut usize) -> u32;
    fn proxy_get_header_map_value(
        map: u32, key: *const u8, key_len: usize, ret_data: *mut *const u8, ret_size: *mut usize,
    ) -> u32;
    fn proxy_add_header_map_value(
        map: u32, key: *const u8, key_len: usize, val: *const u8, val_len: usize,
    ) -> u32;
    fn proxy_replace_header_map_value(
        map: u32, key: *const u8, key_len: usize, val: *const u8, val_len: usize,
    ) -> u32;
    fn proxy_send_local_response(
        status: u32, details: *const u8, details_len: usize, body: *const u8, body_len: usize,
        headers: *const u8, headers_len: usize, grpc_status: i32,
    ) -> u32;
}

const REQUEST_HEADERS: u32 = 0;
const RESPONSE_HEADERS: u32 = 2;
const OK: u32 = 0;
const CONTINUE: u32 = 0;
const STOP_ITERATION: u32 = 1;

// ---- allocator -------------------------------------------------------------------------------
const ARENA_SIZE: usize = 256 * 1024;
#[repr(align(16))]
struct Arena([u8; ARENA_SIZE]);
static mut ARENA: Arena = Arena([0; ARENA_SIZE]);
static mut NEXT: usize = 0;

#[no_mangle]
pub extern "C" fn proxy_on_memory_allocate(size: usize) -> *mut u8 {
    unsafe {
        let start = (NEXT + 15) & !15;
        if start + size > ARENA_SIZE {
            return core::ptr::null_mut(); // 0 = allocation failure
        }
        NEXT = start + size;
        (ARENA.0.as_mut_ptr()).add(start)
    }
}

fn reset_arena() {
    unsafe { NEXT = 0 }
}

// ---- lifecycle ----------------------------------------------------------------------------------
#[no_mangle]
pub extern "C" fn proxy_abi_version_0_2_1() {}

#[no_mangle]
pub extern "C" fn proxy_on_context_create(_ctx: u32, _parent: u32) {}

#[no_mangle]
pub extern "C" fn proxy_on_vm_start(_root: u32, _vm_cfg_size: usize) -> u32 {
    let m = b"rust headers: vm started";
    unsafe { proxy_log(2, m.as_ptr(), m.len()) };
    1
}

#[no_mangle]
pub extern "C" fn proxy_on_configure(_root: u32, _cfg_size: usize) -> u32 {
    1
}

// ---- helpers --------------------------------------------------------------------------------------
unsafe fn get_value(map: u32, key: &[u8]) -> Option<&'static [u8]> {
    let mut p: *const u8 = core::ptr::null();
    let mut n: usize = 0;
    if proxy_get_header_map_value(map, key.as_ptr(), key.len(), &mut p, &mut n) != OK {
        return None;
    }
    if n == 0 {
        return Some(&[]);
    }
    Some(core::slice::from_raw_parts(p, n))
}

fn rd32(b: &[u8], off: usize) -> usize {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]]) as usize
}

/// Number of keys in a serialized pairs buffer that start with `prefix`.
fn count_prefixed(buf: &[u8], prefix: &[u8]) -> usize {
    if buf.len() < 4 {
        return 0;
    }
    let n = rd32(buf, 0);
    let mut data = 4 + 8 * n;
    let mut count = 0;
    for i in 0..n {
        let klen = rd32(buf, 4 + 8 * i);
        let vlen = rd32(buf, 8 + 8 * i);
        let key = &buf[data..data + klen];
        if key.len() >= prefix.len() && &key[..prefix.len()] == prefix {
            count += 1;
        }
        data += klen + 1 + vlen + 1;
    }
    count
}

fn fmt_usize(mut v: usize, out: &mut [u8; 20]) -> &[u8] {
    let mut i = out.len();
    loop {
        i -= 1;
        out[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &out[i..]
}

// Two headers, serialized: u32 count, (u32 klen, u32 vlen)*, then key\0value\0 ...
//   x-rust-local: yes   (12, 3)
//   x-rust-extra: two   (12, 3)
static LOCAL_HEADERS: [u8; 4 + 16 + 17 + 17] = *b"\x02\x00\x00\x00\
\x0c\x00\x00\x00\x03\x00\x00\x00\
\x0c\x00\x00\x00\x03\x00\x00\x00\
x-rust-local\x00yes\x00\
x-rust-extra\x00two\x00";

// ---- HTTP callbacks -------------------------------------------------------------------------------
#[no_mangle]
pub extern "C" fn proxy_on_request_headers(_ctx: u32, _num_headers: usize, _eos: u32) -> u32 {
    reset_arena();
    unsafe {
        if let Some(v) = get_value(REQUEST_HEADERS, b"x-rust-local") {
            if v == b"1" {
                let details = b"rust_local_reply";
                let body = b"teapot from rust\n";
                proxy_send_local_response(
                    418, details.as_ptr(), details.len(), body.as_ptr(), body.len(),
                    LOCAL_HEADERS.as_ptr(), LOCAL_HEADERS.len(), -1,
                );
                return STOP_ITERATION;
            }
        }
        let mut p: *const u8 = core::ptr::null();
        let mut n: usize = 0;
        let mut count = 0;
        if proxy_get_header_map_pairs(REQUEST_HEADERS, &mut p, &mut n) == OK && n > 0 {
            count = count_prefixed(core::slice::from_raw_parts(p, n), b"x-count-");
        }
        let mut tmp = [0u8; 20];
        let v = fmt_usize(count, &mut tmp);
        let k = b"x-rust-count";
        proxy_add_header_map_value(REQUEST_HEADERS, k.as_ptr(), k.len(), v.as_ptr(), v.len());
    }
    CONTINUE
}

#[no_mangle]
pub extern "C" fn proxy_on_response_headers(_ctx: u32, _num_headers: usize, _eos: u32) -> u32 {
    reset_arena();
    unsafe {
        let k = b"x-rust-replace";
        if get_value(RESPONSE_HEADERS, k).is_some() {
            let v = b"replaced";
            proxy_replace_header_map_value(RESPONSE_HEADERS, k.as_ptr(), k.len(), v.as_ptr(), v.len());
        }
    }
    CONTINUE
}
