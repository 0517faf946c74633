//! Raw Proxy-Wasm (ABI 0.2.1) metrics plugin in Rust without crates (no_std, wasm32-unknown-unknown).
//!
//! on_configure defines a counter `rust.requests`, a gauge `rust.gauge` and a histogram
//! `rust.header_bytes`. Every request increments them and defines a Go-SDK-style tagged
//! counter `rust_requests_method=<METHOD>_reporter=rust` (tags encoded in the name), then
//! adds request headers `x-m-*` that report only what is deterministic within one exchange
//! (result codes, id type bits, deltas), so Envoy and wasmd can be compared whatever the
//! counters' absolute values are.
//!
//! Allocator: `proxy_on_memory_allocate` (bump allocator over a static arena, reset per request).
#![no_std]

use core::panic::PanicInfo;

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_get_header_map_value(
        map: u32, key: *const u8, key_len: usize, ret_data: *mut *const u8, ret_size: *mut usize,
    ) -> u32;
    fn proxy_get_header_map_size(map: u32, ret_size: *mut usize) -> u32;
    fn proxy_add_header_map_value(
        map: u32, key: *const u8, key_len: usize, val: *const u8, val_len: usize,
    ) -> u32;
    fn proxy_define_metric(kind: u32, name: *const u8, name_len: usize, ret_id: *mut u32) -> u32;
    fn proxy_increment_metric(id: u32, delta: i64) -> u32;
    fn proxy_record_metric(id: u32, value: u64) -> u32;
    fn proxy_get_metric(id: u32, ret_value: *mut u64) -> u32;
}

const REQUEST_HEADERS: u32 = 0;
const OK: u32 = 0;
const CONTINUE: u32 = 0;
const COUNTER: u32 = 0;
const GAUGE: u32 = 1;
const HISTOGRAM: u32 = 2;

// ---- allocator -------------------------------------------------------------------------------
const ARENA_SIZE: usize = 64 * 1024;
#[repr(align(16))]
struct Arena([u8; ARENA_SIZE]);
static mut ARENA: Arena = Arena([0; ARENA_SIZE]);
static mut NEXT: usize = 0;

#[no_mangle]
pub extern "C" fn proxy_on_memory_allocate(size: usize) -> *mut u8 {
    unsafe {
        let start = (NEXT + 15) & !15;
        if start + size > ARENA_SIZE {
            return core::ptr::null_mut();
        }
        NEXT = start + size;
        (ARENA.0.as_mut_ptr()).add(start)
    }
}

// ---- a small text buffer --------------------------------------------------------------------
struct Text {
    data: [u8; 256],
    len: usize,
}

impl Text {
    fn new() -> Text {
        Text { data: [0; 256], len: 0 }
    }
    fn s(&mut self, s: &[u8]) -> &mut Text {
        let n = core::cmp::min(s.len(), self.data.len() - self.len);
        self.data[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
        self
    }
    fn n(&mut self, mut v: u64) -> &mut Text {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.s(&tmp[i..])
    }
    fn kv(&mut self, key: &[u8], v: u64) -> &mut Text {
        if self.len > 0 {
            self.s(b" ");
        }
        self.s(key).s(b"=").n(v)
    }
    fn bytes(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

// ---- metrics ------------------------------------------------------------------------------------
static mut REQUESTS: u32 = 0;
static mut GAUGE_ID: u32 = 0;
static mut HIST: u32 = 0;

fn define(kind: u32, name: &[u8]) -> (u32, u32) {
    let mut id = 0u32;
    let rc = unsafe { proxy_define_metric(kind, name.as_ptr(), name.len(), &mut id) };
    (rc, id)
}

fn get(id: u32) -> (u32, u64) {
    let mut v = 0u64;
    let rc = unsafe { proxy_get_metric(id, &mut v) };
    (rc, v)
}

fn inc(id: u32, delta: i64) -> u64 {
    unsafe { proxy_increment_metric(id, delta) as u64 }
}

fn record(id: u32, value: u64) -> u64 {
    unsafe { proxy_record_metric(id, value) as u64 }
}

fn add_header(name: &[u8], value: &Text) {
    let v = value.bytes();
    unsafe { proxy_add_header_map_value(REQUEST_HEADERS, name.as_ptr(), name.len(), v.as_ptr(), v.len()) };
}

// ---- lifecycle ----------------------------------------------------------------------------------
#[no_mangle]
pub extern "C" fn proxy_abi_version_0_2_1() {}

#[no_mangle]
pub extern "C" fn proxy_on_context_create(_ctx: u32, _parent: u32) {}

#[no_mangle]
pub extern "C" fn proxy_on_vm_start(_root: u32, _vm_cfg_size: usize) -> u32 {
    1
}

#[no_mangle]
pub extern "C" fn proxy_on_configure(_root: u32, _cfg_size: usize) -> u32 {
    unsafe {
        REQUESTS = define(COUNTER, b"rust.requests").1;
        GAUGE_ID = define(GAUGE, b"rust.gauge").1;
        HIST = define(HISTOGRAM, b"rust.header_bytes").1;
    }
    1
}

fn ids_header() {
    let (c, g, h) = unsafe { (REQUESTS, GAUGE_ID, HIST) };
    let (rc, again) = define(COUNTER, b"rust.requests");
    let mut t = Text::new();
    t.kv(b"counter_type", (c % 4) as u64).kv(b"gauge_type", (g % 4) as u64);
    t.kv(b"histogram_type", (h % 4) as u64).kv(b"redefine", rc as u64);
    t.kv(b"redefine_new_id", (again != c) as u64);
    t.kv(b"shared_value", (get(again).1 == get(c).1) as u64);
    add_header(b"x-m-ids", &t);
}

fn counter_header() {
    let c = unsafe { REQUESTS };
    let before = get(c).1;
    let mut t = Text::new();
    t.kv(b"inc", inc(c, 1)).kv(b"delta", get(c).1 - before);
    t.kv(b"inc_zero", inc(c, 0)).kv(b"inc_negative", inc(c, -1));
    let before_record = get(c).1;
    t.kv(b"record", record(c, 5)).kv(b"record_delta", get(c).1 - before_record);
    add_header(b"x-m-counter", &t);
}

fn gauge_header() {
    let g = unsafe { GAUGE_ID };
    let mut t = Text::new();
    t.kv(b"record", record(g, 42)).kv(b"get", get(g).1);
    t.kv(b"dec", inc(g, -2)).kv(b"after_dec", get(g).1);
    t.kv(b"inc", inc(g, 5)).kv(b"after_inc", get(g).1);
    add_header(b"x-m-gauge", &t);
}

fn histogram_header() {
    let h = unsafe { HIST };
    let mut size = 0usize;
    unsafe { proxy_get_header_map_size(REQUEST_HEADERS, &mut size) };
    let mut t = Text::new();
    t.kv(b"record", record(h, size as u64)).kv(b"get", get(h).0 as u64);
    t.kv(b"inc", inc(h, 1));
    add_header(b"x-m-histogram", &t);
}

fn unknown_header() {
    let unknown = unsafe { REQUESTS } + 4000; // counter type bits, never defined
    let mut t = Text::new();
    t.kv(b"inc", inc(unknown, 1)).kv(b"record", record(unknown, 1));
    t.kv(b"get", get(unknown).0 as u64);
    add_header(b"x-m-unknown", &t);
}

fn tagged_header() {
    let mut p: *const u8 = core::ptr::null();
    let mut n: usize = 0;
    let key = b":method";
    let method: &[u8] = unsafe {
        if proxy_get_header_map_value(REQUEST_HEADERS, key.as_ptr(), key.len(), &mut p, &mut n) == OK
            && n > 0
        {
            core::slice::from_raw_parts(p, n)
        } else {
            b"NONE"
        }
    };
    let mut name = Text::new();
    name.s(b"rust_requests_method=").s(method).s(b"_reporter=rust");
    let (rc, id) = define(COUNTER, name.bytes());
    let before = get(id).1;
    let mut t = Text::new();
    t.kv(b"define", rc as u64).kv(b"inc", inc(id, 1)).kv(b"delta", get(id).1 - before);
    add_header(b"x-m-tagged", &t);
}

#[no_mangle]
pub extern "C" fn proxy_on_request_headers(_ctx: u32, _num_headers: usize, _eos: u32) -> u32 {
    unsafe { NEXT = 0 };
    histogram_header(); // first: it records the size of the headers as the client sent them
    ids_header();
    counter_header();
    gauge_header();
    unknown_header();
    tagged_header();
    CONTINUE
}
