(module
 (type $i32_=>_i32 (func (param i32) (result i32)))
 (type $i32_i32_=>_i32 (func (param i32 i32) (result i32)))
 (type $i32_i32_i32_=>_i32 (func (param i32 i32 i32) (result i32)))
 (type $i32_=>_none (func (param i32)))
 (type $i32_i32_=>_none (func (param i32 i32)))
 (type $i32_i32_i32_=>_none (func (param i32 i32 i32)))
 (type $none_=>_none (func))
 (type $i32_i32_i32_i32_=>_none (func (param i32 i32 i32 i32)))
 (type $i32_i32_i32_i32_i32_=>_i32 (func (param i32 i32 i32 i32 i32) (result i32)))
 (type $i32_i32_i32_i32_i32_=>_none (func (param i32 i32 i32 i32 i32)))
 (type $none_=>_i32 (func (result i32)))
 (type $i32_i32_i32_i32_=>_i32 (func (param i32 i32 i32 i32) (result i32)))
 (type $i32_i32_i32_i32_i32_i32_=>_i32 (func (param i32 i32 i32 i32 i32 i32) (result i32)))
 (type $i32_i32_i32_i32_i32_i32_i32_i32_=>_i32 (func (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
 (type $i32_i32_i32_i32_i32_i32_i32_i32_i32_i32_=>_i32 (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
 (import "env" "proxy_log" (func $~lib/@solo-io/proxy-runtime/imports/proxy_log (param i32 i32 i32) (result i32)))
 (import "wasi_unstable" "proc_exit" (func $~lib/bindings/wasi_unstable/proc_exit (param i32)))
 (import "env" "proxy_get_buffer_bytes" (func $~lib/@solo-io/proxy-runtime/imports/proxy_get_buffer_bytes (param i32 i32 i32 i32 i32) (result i32)))
 (import "env" "proxy_get_property" (func $~lib/@solo-io/proxy-runtime/imports/proxy_get_property (param i32 i32 i32 i32) (result i32)))
 (import "env" "proxy_set_effective_context" (func $~lib/@solo-io/proxy-runtime/imports/proxy_set_effective_context (param i32) (result i32)))
 (import "env" "proxy_get_header_map_value" (func $~lib/@solo-io/proxy-runtime/imports/proxy_get_header_map_value (param i32 i32 i32 i32 i32) (result i32)))
 (import "env" "proxy_add_header_map_value" (func $~lib/@solo-io/proxy-runtime/imports/proxy_add_header_map_value (param i32 i32 i32 i32 i32) (result i32)))
 (import "env" "proxy_continue_stream" (func $~lib/@solo-io/proxy-runtime/imports/proxy_continue_stream (param i32) (result i32)))
 (import "env" "proxy_send_local_response" (func $~lib/@solo-io/proxy-runtime/imports/proxy_send_local_response (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
 (import "env" "proxy_http_call" (func $~lib/@solo-io/proxy-runtime/imports/proxy_http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
 (memory $0 1)
 (data (i32.const 1024) "\1e\00\00\00\01\00\00\00\01\00\00\00\1e\00\00\00~\00l\00i\00b\00/\00r\00t\00/\00p\00u\00r\00e\00.\00t\00s")
 (data (i32.const 1076) "\01\00\00\00\01")
 (data (i32.const 1088) "\1c\00\00\00\01\00\00\00\01\00\00\00\1c\00\00\00I\00n\00v\00a\00l\00i\00d\00 \00l\00e\00n\00g\00t\00h")
 (data (i32.const 1136) "&\00\00\00\01\00\00\00\01\00\00\00&\00\00\00~\00l\00i\00b\00/\00a\00r\00r\00a\00y\00b\00u\00f\00f\00e\00r\00.\00t\00s")
 (data (i32.const 1200) "\08\00\00\00\01\00\00\00\01\00\00\00\08\00\00\00n\00u\00l\00l")
 (data (i32.const 1232) "\n\00\00\00\01\00\00\00\01\00\00\00\n\00\00\00 \00a\00t\00:\00 ")
 (data (i32.const 1264) "\02\00\00\00\01\00\00\00\01\00\00\00\02\00\00\00(")
 (data (i32.const 1296) "d\00\00\00\01\00\00\00\01\00\00\00d\00\00\00t\00o\00S\00t\00r\00i\00n\00g\00(\00)\00 \00r\00a\00d\00i\00x\00 \00a\00r\00g\00u\00m\00e\00n\00t\00 \00m\00u\00s\00t\00 \00b\00e\00 \00b\00e\00t\00w\00e\00e\00n\00 \002\00 \00a\00n\00d\00 \003\006")
 (data (i32.const 1424) "&\00\00\00\01\00\00\00\01\00\00\00&\00\00\00~\00l\00i\00b\00/\00u\00t\00i\00l\00/\00n\00u\00m\00b\00e\00r\00.\00t\00s")
 (data (i32.const 1488) "\02\00\00\00\01\00\00\00\01\00\00\00\02\00\00\000")
 (data (i32.const 1520) "H\00\00\00\01\00\00\00\01\00\00\00H\00\00\000\001\002\003\004\005\006\007\008\009\00a\00b\00c\00d\00e\00f\00g\00h\00i\00j\00k\00l\00m\00n\00o\00p\00q\00r\00s\00t\00u\00v\00w\00x\00y\00z")
 (data (i32.const 1616) "\02\00\00\00\01\00\00\00\01\00\00\00\02\00\00\00:")
 (data (i32.const 1648) "\02\00\00\00\01\00\00\00\01\00\00\00\02\00\00\00)")
 (data (i32.const 1680) "\1e\00\00\00\01\00\00\00\01\00\00\00\1e\00\00\00~\00l\00i\00b\00/\00r\00t\00/\00t\00l\00s\00f\00.\00t\00s")
 (data (i32.const 1728) "(\00\00\00\01\00\00\00\01\00\00\00(\00\00\00a\00l\00l\00o\00c\00a\00t\00i\00o\00n\00 \00t\00o\00o\00 \00l\00a\00r\00g\00e")
 (data (i32.const 1792) "\08\00\00\00\01\00\00\00\15\00\00\00\08\00\00\00\01")
 (data (i32.const 1824) "\1e\00\00\00\01\00\00\00\01\00\00\00\1e\00\00\00a\00s\00_\00h\00t\00t\00p\00_\00c\00a\00l\00l\00o\00u\00t")
 (data (i32.const 1872) "$\00\00\00\01\00\00\00\01\00\00\00$\00\00\00K\00e\00y\00 \00d\00o\00e\00s\00 \00n\00o\00t\00 \00e\00x\00i\00s\00t")
 (data (i32.const 1936) "\16\00\00\00\01\00\00\00\01\00\00\00\16\00\00\00~\00l\00i\00b\00/\00m\00a\00p\00.\00t\00s")
 (data (i32.const 1984) "\"\00\00\00\01\00\00\00\01\00\00\00\"\00\00\00u\00n\00e\00x\00p\00e\00c\00t\00e\00d\00 \00u\00p\00c\00a\00s\00t")
 (data (i32.const 2048) "L\00\00\00\01\00\00\00\01\00\00\00L\00\00\00~\00l\00i\00b\00/\00@\00s\00o\00l\00o\00-\00i\00o\00/\00p\00r\00o\00x\00y\00-\00r\00u\00n\00t\00i\00m\00e\00/\00r\00u\00n\00t\00i\00m\00e\00.\00t\00s")
 (data (i32.const 2144) "\18\00\00\00\01\00\00\00\01\00\00\00\18\00\00\00c\00o\00n\00t\00e\00x\00t\00 \00i\00d\00:\00 ")
 (data (i32.const 2192) "@\00\00\00\01\00\00\00\01\00\00\00@\00\00\00:\00 \00o\00n\00S\00t\00a\00r\00t\00(\00v\00m\00_\00c\00o\00n\00f\00i\00g\00u\00r\00a\00t\00i\00o\00n\00_\00s\00i\00z\00e\00:")
 (data (i32.const 2272) "V\00\00\00\01\00\00\00\01\00\00\00V\00\00\00:\00 \00v\00a\00l\00i\00d\00a\00t\00e\00C\00o\00n\00f\00i\00g\00u\00r\00a\00t\00i\00o\00n\00(\00c\00o\00n\00f\00i\00g\00u\00r\00a\00t\00i\00o\00n\00_\00s\00i\00z\00e\00:")
 (data (i32.const 2384) "D\00\00\00\01\00\00\00\01\00\00\00D\00\00\00:\00 \00o\00n\00C\00o\00n\00f\00i\00g\00u\00r\00e\00(\00c\00o\00n\00f\00i\00g\00u\00r\00a\00t\00i\00o\00n\00_\00s\00i\00z\00e\00:\00 ")
 (data (i32.const 2480) "\04\00\00\00\01\00\00\00\01\00\00\00\04\00\00\00:\00(")
 (data (i32.const 2512) "\1c\00\00\00\01\00\00\00\01\00\00\00\1c\00\00\00~\00l\00i\00b\00/\00s\00t\00r\00i\00n\00g\00.\00t\00s")
 (data (i32.const 2560) "<\00\00\00\01\00\00\00\01\00\00\00<\00\00\00:\00 \00U\00p\00d\00a\00t\00i\00n\00g\00 \00t\00h\00i\00s\00.\00c\00o\00n\00f\00i\00g\00u\00r\00a\00t\00i\00o\00n\00=")
 (data (i32.const 2640) "\14\00\00\00\01\00\00\00\01\00\00\00\14\00\00\00:\00 \00o\00n\00T\00i\00c\00k\00(\00)")
 (data (i32.const 2688) "*\00\00\00\01\00\00\00\01\00\00\00*\00\00\00:\00 \00o\00n\00Q\00u\00e\00u\00e\00R\00e\00a\00d\00y\00(\00t\00o\00k\00e\00n\00:")
 (data (i32.const 2752) "4\00\00\00\01\00\00\00\01\00\00\004\00\00\00e\00n\00s\00u\00r\00e\00C\00o\00n\00t\00e\00x\00t\00(\00c\00o\00n\00t\00e\00x\00t\00_\00i\00d\00:\00 ")
 (data (i32.const 2832) "&\00\00\00\01\00\00\00\01\00\00\00&\00\00\00,\00 \00r\00o\00o\00t\00_\00c\00o\00n\00t\00e\00x\00t\00_\00i\00d\00:\00 ")
 (data (i32.const 2896) "*\00\00\00\01\00\00\00\01\00\00\00*\00\00\00C\00u\00r\00r\00e\00n\00t\00 \00c\00o\00n\00t\00e\00x\00t\00_\00m\00a\00p\00:\00 ")
 (data (i32.const 2960) "\1a\00\00\00\01\00\00\00\01\00\00\00\1a\00\00\00~\00l\00i\00b\00/\00a\00r\00r\00a\00y\00.\00t\00s")
 (data (i32.const 3008) "$\00\00\00\01\00\00\00\01\00\00\00$\00\00\00I\00n\00d\00e\00x\00 \00o\00u\00t\00 \00o\00f\00 \00r\00a\00n\00g\00e")
 (data (i32.const 3072) "\04\00\00\00\01\00\00\00\01\00\00\00\04\00\00\00,\00 ")
 (data (i32.const 3104) "F\00\00\00\01\00\00\00\01\00\00\00F\00\00\00e\00n\00s\00u\00r\00e\00R\00o\00o\00t\00C\00o\00n\00t\00e\00x\00t\00(\00r\00o\00o\00t\00_\00c\00o\00n\00t\00e\00x\00t\00_\00i\00d\00:\00 ")
 (data (i32.const 3200) ">\00\00\00\01\00\00\00\01\00\00\00>\00\00\00R\00e\00t\00u\00r\00n\00i\00n\00g\00 \00r\00o\00o\00t\00 \00c\00o\00n\00t\00e\00x\00t\00 \00f\00o\00r\00 \00i\00d\00:\00 ")
 (data (i32.const 3280) "\1c\00\00\00\01\00\00\00\01\00\00\00\1c\00\00\00p\00l\00u\00g\00i\00n\00_\00r\00o\00o\00t\00_\00i\00d")
 (data (i32.const 3328) "B\00\00\00\01\00\00\00\01\00\00\00B\00\00\00R\00e\00g\00i\00s\00t\00e\00r\00i\00n\00g\00 \00n\00e\00w\00 \00r\00o\00o\00t\00 \00c\00o\00n\00t\00e\00x\00t\00 \00f\00o\00r\00 ")
 (data (i32.const 3424) "\14\00\00\00\01\00\00\00\01\00\00\00\14\00\00\00 \00w\00i\00t\00h\00 \00i\00d\00:\00 ")
 (data (i32.const 3472) "T\00\00\00\01\00\00\00\01\00\00\00T\00\00\00M\00i\00s\00s\00i\00n\00g\00 \00r\00o\00o\00t\00 \00c\00o\00n\00t\00e\00x\00t\00 \00f\00a\00c\00t\00o\00r\00y\00 \00f\00o\00r\00 \00r\00o\00o\00t\00 \00i\00d\00:\00 ")
 (data (i32.const 3584) "*\00\00\00\01\00\00\00\01\00\00\00*\00\00\00E\00x\00i\00s\00t\00i\00n\00g\00 \00c\00o\00n\00t\00e\00x\00t\00 \00i\00d\00:\00 ")
 (data (i32.const 3648) "R\00\00\00\01\00\00\00\01\00\00\00R\00\00\00R\00e\00g\00i\00s\00t\00e\00r\00i\00n\00g\00 \00n\00e\00w\00 \00c\00o\00n\00t\00e\00x\00t\00 \00w\00i\00t\00h\00 \00c\00o\00n\00t\00e\00x\00t\00_\00i\00d\00:\00 ")
 (data (i32.const 3760) "*\00\00\00\01\00\00\00\01\00\00\00*\00\00\00 \00u\00n\00d\00e\00r\00 \00r\00o\00o\00t\00_\00c\00o\00n\00t\00e\00x\00t\00:\00 ")
 (data (i32.const 3824) "j\00\00\00\01\00\00\00\01\00\00\00j\00\00\00B\00a\00s\00e\00 \00c\00r\00e\00a\00t\00e\00C\00o\00n\00t\00e\00x\00t\00 \00c\00a\00l\00l\00e\00d\00 \00-\00 \00t\00h\00i\00s\00 \00s\00h\00o\00u\00l\00d\00 \00n\00e\00v\00e\00r\00 \00h\00a\00p\00p\00e\00n\00!")
 (data (i32.const 3952) "*\00\00\00\01\00\00\00\01\00\00\00*\00\00\00U\00p\00d\00a\00t\00e\00d\00 \00c\00o\00n\00t\00e\00x\00t\00_\00m\00a\00p\00:\00 ")
 (data (i32.const 4016) "8\00\00\00\01\00\00\00\01\00\00\008\00\00\00:\00 \00o\00n\00H\00t\00t\00p\00C\00a\00l\00l\00R\00e\00s\00p\00o\00n\00s\00e\00(\00t\00o\00k\00e\00n\00:\00 ")
 (data (i32.const 4096) "\14\00\00\00\01\00\00\00\01\00\00\00\14\00\00\00,\00 \00h\00e\00a\00d\00e\00r\00s\00:")
 (data (i32.const 4144) "\18\00\00\00\01\00\00\00\01\00\00\00\18\00\00\00,\00 \00b\00o\00d\00y\00_\00s\00i\00z\00e\00:")
 (data (i32.const 4192) "\16\00\00\00\01\00\00\00\01\00\00\00\16\00\00\00,\00 \00t\00r\00a\00i\00l\00e\00r\00s\00:")
 (data (i32.const 4240) "\1a\00\00\00\01\00\00\00\01\00\00\00\1a\00\00\00h\00t\00t\00p\00_\00c\00a\00l\00l\00s\00_\00:\00 ")
 (data (i32.const 4288) "\16\00\00\00\01\00\00\00\01\00\00\00\16\00\00\00g\00e\00t\00 \00t\00o\00k\00e\00n\00:\00 ")
 (data (i32.const 4336) "\0c\00\00\00\01\00\00\00\01\00\00\00\0c\00\00\00 \00f\00r\00o\00m\00 ")
 (data (i32.const 4368) "\1a\00\00\00\01\00\00\00\01\00\00\00\1a\00\00\00c\00o\00n\00t\00e\00x\00t\00_\00m\00a\00p\00:\00 ")
 (data (i32.const 4416) "j\00\00\00\01\00\00\00\01\00\00\00j\00\00\00o\00n\00H\00t\00t\00p\00C\00a\00l\00l\00R\00e\00s\00p\00o\00n\00s\00e\00:\00 \00c\00a\00l\00l\00i\00n\00g\00 \00c\00a\00l\00l\00b\00a\00c\00k\00 \00f\00o\00r\00 \00c\00o\00n\00t\00e\00x\00t\00 \00i\00d\00:\00 ")
 (data (i32.const 4544) "B\00\00\00\01\00\00\00\01\00\00\00B\00\00\00U\00n\00a\00b\00l\00e\00 \00t\00o\00 \00s\00e\00t\00 \00e\00f\00f\00e\00c\00t\00i\00v\00e\00 \00c\00o\00n\00t\00e\00x\00t\00:\00 ")
 (data (i32.const 4640) "\1c\00\00\00\01\00\00\00\01\00\00\00\1c\00\00\00 \00w\00i\00t\00h\00 \00r\00e\00s\00u\00l\00t\00:\00 ")
 (data (i32.const 4688) "4\00\00\00\01\00\00\00\01\00\00\004\00\00\00o\00n\00H\00t\00t\00p\00C\00a\00l\00l\00R\00e\00s\00p\00o\00n\00s\00e\00:\00 \00T\00o\00k\00e\00n\00 ")
 (data (i32.const 4768) "\16\00\00\00\01\00\00\00\01\00\00\00\16\00\00\00 \00n\00o\00t\00 \00f\00o\00u\00n\00d\00.")
 (data (i32.const 4816) "\14\00\00\00\01\00\00\00\01\00\00\00\14\00\00\00:\00 \00o\00n\00D\00o\00n\00e\00(\00)")
 (data (i32.const 4864) "\12\00\00\00\01\00\00\00\01\00\00\00\12\00\00\00:\00 \00o\00n\00L\00o\00g\00(\00)")
 (data (i32.const 4912) "\18\00\00\00\01\00\00\00\01\00\00\00\18\00\00\00:\00 \00o\00n\00D\00e\00l\00e\00t\00e\00(\00)")
 (data (i32.const 4960) "\18\00\00\00\01\00\00\00\01\00\00\00\18\00\00\00x\00-\00a\00s\00-\00c\00a\00l\00l\00o\00u\00t")
 (data (i32.const 5008) "\08\00\00\00\01\00\00\00\01\00\00\00\08\00\00\00s\00l\00o\00w")
 (data (i32.const 5040) "\0e\00\00\00\01\00\00\00\01\00\00\00\0e\00\00\00:\00m\00e\00t\00h\00o\00d")
 (data (i32.const 5072) "\06\00\00\00\01\00\00\00\01\00\00\00\06\00\00\00G\00E\00T")
 (data (i32.const 5104) "\n\00\00\00\01\00\00\00\01\00\00\00\n\00\00\00:\00p\00a\00t\00h")
 (data (i32.const 5136) "\n\00\00\00\01\00\00\00\01\00\00\00\n\00\00\00/\00s\00l\00o\00w")
 (data (i32.const 5168) "\14\00\00\00\01\00\00\00\01\00\00\00\14\00\00\00:\00a\00u\00t\00h\00o\00r\00i\00t\00y")
 (data (i32.const 5216) "\08\00\00\00\01\00\00\00\01\00\00\00\08\00\00\00a\00u\00t\00h")
 (data (i32.const 5252) "\01")
 (data (i32.const 5264) " \00\00\00\01\00\00\00\01\00\00\00 \00\00\00x\00-\00a\00s\00-\00a\00u\00t\00h\00-\00f\00a\00i\00l\00e\00d")
 (data (i32.const 5312) "\02\00\00\00\01\00\00\00\01\00\00\00\02\00\00\001")
 (data (i32.const 5344) "8\00\00\00\01\00\00\00\01\00\00\008\00\00\00U\00n\00a\00b\00l\00e\00 \00t\00o\00 \00c\00o\00n\00t\00i\00n\00u\00e\00 \00r\00e\00q\00u\00e\00s\00t\00:\00 ")
 (data (i32.const 5424) "\0e\00\00\00\01\00\00\00\01\00\00\00\0e\00\00\00:\00s\00t\00a\00t\00u\00s")
 (data (i32.const 5456) "\06\00\00\00\01\00\00\00\01\00\00\00\06\00\00\004\000\003")
 (data (i32.const 5488) "\"\00\00\00\01\00\00\00\01\00\00\00\"\00\00\00a\00s\00_\00c\00a\00l\00l\00o\00u\00t\00_\00d\00e\00n\00i\00e\00d")
 (data (i32.const 5556) "\01")
 (data (i32.const 5568) "^\00\00\00\01\00\00\00\01\00\00\00^\00\00\00E\00l\00e\00m\00e\00n\00t\00 \00t\00y\00p\00e\00 \00m\00u\00s\00t\00 \00b\00e\00 \00n\00u\00l\00l\00a\00b\00l\00e\00 \00i\00f\00 \00a\00r\00r\00a\00y\00 \00i\00s\00 \00h\00o\00l\00e\00y")
 (data (i32.const 5680) "$\00\00\00\01\00\00\00\01\00\00\00$\00\00\00~\00l\00i\00b\00/\00t\00y\00p\00e\00d\00a\00r\00r\00a\00y\00.\00t\00s")
 (data (i32.const 5744) " \00\00\00\01\00\00\00\01\00\00\00 \00\00\00x\00-\00a\00s\00-\00a\00u\00t\00h\00-\00s\00t\00a\00t\00u\00s")
 (data (i32.const 5792) "\1c\00\00\00\01\00\00\00\01\00\00\00\1c\00\00\00x\00-\00a\00s\00-\00a\00u\00t\00h\00-\00b\00o\00d\00y")
 (data (i32.const 5840) "\08\00\00\00\01\00\00\00\1d\00\00\00\08\00\00\00\02")
 (data (i32.const 5872) "(\00\00\00\01\00\00\00\01\00\00\00(\00\00\00:\00 \00h\00t\00t\00p\00C\00a\00l\00l\00(\00c\00l\00u\00s\00t\00e\00r\00:\00 ")
 (data (i32.const 5936) "(\00\00\00\01\00\00\00\01\00\00\00(\00\00\00[\00o\00b\00j\00e\00c\00t\00 \00A\00r\00r\00a\00y\00B\00u\00f\00f\00e\00r\00]")
 (data (i32.const 6000) "\02\00\00\00\01\00\00\00\01\00\00\00\02\00\00\00,")
 (data (i32.const 6032) "\0e\00\00\00\01\00\00\00\01\00\00\00\0e\00\00\00,\00 \00b\00o\00d\00y\00:")
 (data (i32.const 6064) "@\00\00\00\01\00\00\00\01\00\00\00@\00\00\00H\00t\00t\00p\00 \00c\00a\00l\00l\00 \00e\00x\00e\00c\00u\00t\00e\00d\00 \00w\00i\00t\00h\00 \00r\00e\00s\00u\00l\00t\00:\00 ")
 (data (i32.const 6144) "\16\00\00\00\01\00\00\00\01\00\00\00\16\00\00\00s\00e\00t\00 \00t\00o\00k\00e\00n\00:\00 ")
 (data (i32.const 6192) "\08\00\00\00\01\00\00\00\01\00\00\00\08\00\00\00 \00o\00n\00 ")
 (data (i32.const 6224) "&\00\00\00\01\00\00\00\01\00\00\00&\00\00\00x\00-\00a\00s\00-\00c\00a\00l\00l\00o\00u\00t\00-\00r\00e\00s\00u\00l\00t")
 (data (i32.const 6288) "2\00\00\00\01\00\00\00\01\00\00\002\00\00\00:\00 \00c\00a\00n\00c\00e\00l\00P\00e\00n\00d\00i\00n\00g\00R\00e\00q\00u\00e\00s\00t\00s\00(\00)")
 (data (i32.const 6368) "\1f\00\00\00 \00\00\00\00\00\00\00 \00\00\00\00\00\00\00 \00\00\00\00\00\00\00 \00\00\00\00\00\00\00 \00\00\00\00\00\00\00 \00\00\00\00\00\00\00 \00\00\00\00\00\00\00 \00\00\00\00\00\00\00 \00\00\00\00\00\00\00 \00\00\00\00\00\00\00 \00\00\00\0b\00\00\00 \00\00\00\00\00\00\00 \00\00\00\00\00\00\000A\02\00\00\00\00\00 \00\00\00\00\00\00\00 \00\00\00\00\00\00\00 \00\00\00\0b\00\00\000A\02\00\00\00\00\000A\82\00\00\00\00\000A\02\00\00\00\00\00 \00\00\00\n\00\00\00 \00\00\00\00\00\00\00\"\01\00\00\00\00\00\00 \00\00\00\10\00\00\00 \00\00\00\00\00\00\00\"A\00\00\00\00\00\00\"\t\00\00\00\00\00\00!\01\00\00\02\00\00\00a\00\00\00\02\00\00\00 \00\00\00\00\00\00\00\"A")
 (table $0 3 funcref)
 (elem (i32.const 1) $start:assembly/http_callout~anonymous|0 $assembly/http_callout/onAuthResponse)
 (global $~lib/rt/tlsf/ROOT (mut i32) (i32.const 0))
 (global $~lib/@solo-io/proxy-runtime/runtime/globalArrayBufferReference (mut i32) (i32.const 0))
 (global $~lib/@solo-io/proxy-runtime/runtime/stream_context (mut i32) (i32.const 0))
 (global $~lib/@solo-io/proxy-runtime/runtime/root_context_factory_map (mut i32) (i32.const 0))
 (global $~lib/@solo-io/proxy-runtime/runtime/context_map (mut i32) (i32.const 0))
 (global $~lib/rt/tlsf/collectLock (mut i32) (i32.const 0))
 (global $~argumentsLength (mut i32) (i32.const 0))
 (global $~lib/rt/__rtti_base i32 (i32.const 6368))
 (export "memory" (memory $0))
 (export "__alloc" (func $~lib/rt/tlsf/__alloc))
 (export "__retain" (func $~lib/rt/pure/__retain))
 (export "__release" (func $~lib/rt/pure/__release))
 (export "__collect" (func $~lib/@solo-io/proxy-runtime/exports/proxy_abi_version_0_2_0))
 (export "__rtti_base" (global $~lib/rt/__rtti_base))
 (export "malloc" (func $~lib/@solo-io/proxy-runtime/malloc/malloc))
 (export "free" (func $~lib/@solo-io/proxy-runtime/malloc/free))
 (export "proxy_abi_version_0_2_0" (func $~lib/@solo-io/proxy-runtime/exports/proxy_abi_version_0_2_0))
 (export "proxy_on_vm_start" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_vm_start))
 (export "proxy_validate_configuration" (func $~lib/@solo-io/proxy-runtime/exports/proxy_validate_configuration))
 (export "proxy_on_configure" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_configure))
 (export "proxy_on_tick" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_tick))
 (export "proxy_on_foreign_function" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_foreign_function))
 (export "proxy_on_queue_ready" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_queue_ready))
 (export "proxy_on_context_create" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_context_create))
 (export "proxy_on_request_headers" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_request_headers))
 (export "proxy_on_request_body" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_request_body))
 (export "proxy_on_request_trailers" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_request_trailers))
 (export "proxy_on_request_metadata" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_request_trailers))
 (export "proxy_on_response_headers" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_request_body))
 (export "proxy_on_response_body" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_request_body))
 (export "proxy_on_response_trailers" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_request_trailers))
 (export "proxy_on_response_metadata" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_request_trailers))
 (export "proxy_on_http_call_response" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_http_call_response))
 (export "proxy_on_grpc_receive_initial_metadata" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_grpc_receive_initial_metadata))
 (export "proxy_on_grpc_trailing_metadata" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_grpc_receive_initial_metadata))
 (export "proxy_on_grpc_receive" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_grpc_receive_initial_metadata))
 (export "proxy_on_grpc_close" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_grpc_receive_initial_metadata))
 (export "proxy_on_done" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_done))
 (export "proxy_on_log" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_log))
 (export "proxy_on_delete" (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_delete))
 (start $~start)
 (func $~lib/rt/pure/__retain (param $0 i32) (result i32)
  (local $1 i32)
  (local $2 i32)
  local.get $0
  i32.const 6620
  i32.gt_u
  if
   local.get $0
   i32.const 16
   i32.sub
   local.tee $1
   i32.load offset=4
   local.tee $2
   i32.const -268435456
   i32.and
   local.get $2
   i32.const 1
   i32.add
   i32.const -268435456
   i32.and
   i32.ne
   if
    i32.const 0
    i32.const 1040
    i32.const 109
    i32.const 3
    call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
    unreachable
   end
   local.get $1
   local.get $2
   i32.const 1
   i32.add
   i32.store offset=4
   local.get $1
   i32.load
   i32.const 1
   i32.and
   if
    i32.const 0
    i32.const 1040
    i32.const 112
    i32.const 14
    call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
    unreachable
   end
  end
  local.get $0
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/Reference<u32>#constructor (result i32)
  (local $0 i32)
  i32.const 4
  i32.const 4
  call $~lib/rt/tlsf/__alloc
  call $~lib/rt/pure/__retain
  local.tee $0
  i32.const 0
  i32.store
  local.get $0
 )
 (func $~lib/rt/pure/__release (param $0 i32)
  local.get $0
  i32.const 6620
  i32.gt_u
  if
   local.get $0
   i32.const 16
   i32.sub
   call $~lib/rt/pure/decrement
  end
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/HeaderMapManipulator#constructor (param $0 i32) (param $1 i32) (param $2 i32) (result i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  i32.const 12
  i32.const 8
  call $~lib/rt/tlsf/__alloc
  call $~lib/rt/pure/__retain
  local.tee $4
  i32.const 0
  i32.store
  local.get $4
  i32.const 0
  i32.store offset=4
  local.get $4
  i32.const 0
  i32.store offset=8
  local.get $0
  call $~lib/rt/pure/__retain
  local.set $3
  local.get $1
  call $~lib/rt/pure/__retain
  local.set $1
  local.get $2
  call $~lib/rt/pure/__retain
  local.set $2
  local.get $3
  local.tee $0
  local.get $4
  i32.load
  local.tee $5
  i32.ne
  if
   local.get $0
   call $~lib/rt/pure/__retain
   local.set $0
   local.get $5
   call $~lib/rt/pure/__release
  end
  local.get $4
  local.get $0
  i32.store
  local.get $1
  local.tee $0
  local.get $4
  i32.load offset=4
  local.tee $5
  i32.ne
  if
   local.get $0
   call $~lib/rt/pure/__retain
   local.set $0
   local.get $5
   call $~lib/rt/pure/__release
  end
  local.get $4
  local.get $0
  i32.store offset=4
  local.get $2
  local.tee $0
  local.get $4
  i32.load offset=8
  local.tee $5
  i32.ne
  if
   local.get $0
   call $~lib/rt/pure/__retain
   local.set $0
   local.get $5
   call $~lib/rt/pure/__release
  end
  local.get $4
  local.get $0
  i32.store offset=8
  local.get $3
  call $~lib/rt/pure/__release
  local.get $1
  call $~lib/rt/pure/__release
  local.get $2
  call $~lib/rt/pure/__release
  local.get $4
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/HeaderStreamManipulator#constructor (param $0 i32) (result i32)
  (local $1 i32)
  i32.const 4
  i32.const 9
  call $~lib/rt/tlsf/__alloc
  call $~lib/rt/pure/__retain
  local.tee $1
  i32.const 0
  i32.store
  local.get $1
  local.get $0
  i32.store
  local.get $1
 )
 (func $~lib/memory/memory.fill (param $0 i32) (param $1 i32)
  (local $2 i32)
  block $~lib/util/memory/memset|inlined.0
   local.get $1
   i32.eqz
   br_if $~lib/util/memory/memset|inlined.0
   local.get $0
   i32.const 0
   i32.store8
   local.get $0
   local.get $1
   i32.add
   i32.const 4
   i32.sub
   local.tee $2
   i32.const 0
   i32.store8 offset=3
   local.get $1
   i32.const 2
   i32.le_u
   br_if $~lib/util/memory/memset|inlined.0
   local.get $0
   i32.const 0
   i32.store8 offset=1
   local.get $0
   i32.const 0
   i32.store8 offset=2
   local.get $2
   i32.const 0
   i32.store8 offset=2
   local.get $2
   i32.const 0
   i32.store8 offset=1
   local.get $1
   i32.const 6
   i32.le_u
   br_if $~lib/util/memory/memset|inlined.0
   local.get $0
   i32.const 0
   i32.store8 offset=3
   local.get $2
   i32.const 0
   i32.store8
   local.get $1
   i32.const 8
   i32.le_u
   br_if $~lib/util/memory/memset|inlined.0
   local.get $0
   i32.const 0
   local.get $0
   i32.sub
   i32.const 3
   i32.and
   local.tee $2
   i32.add
   local.tee $0
   i32.const 0
   i32.store
   local.get $0
   local.get $1
   local.get $2
   i32.sub
   i32.const -4
   i32.and
   local.tee $2
   i32.add
   i32.const 28
   i32.sub
   local.tee $1
   i32.const 0
   i32.store offset=24
   local.get $2
   i32.const 8
   i32.le_u
   br_if $~lib/util/memory/memset|inlined.0
   local.get $0
   i32.const 0
   i32.store offset=4
   local.get $0
   i32.const 0
   i32.store offset=8
   local.get $1
   i32.const 0
   i32.store offset=16
   local.get $1
   i32.const 0
   i32.store offset=20
   local.get $2
   i32.const 24
   i32.le_u
   br_if $~lib/util/memory/memset|inlined.0
   local.get $0
   i32.const 0
   i32.store offset=12
   local.get $0
   i32.const 0
   i32.store offset=16
   local.get $0
   i32.const 0
   i32.store offset=20
   local.get $0
   i32.const 0
   i32.store offset=24
   local.get $1
   i32.const 0
   i32.store
   local.get $1
   i32.const 0
   i32.store offset=4
   local.get $1
   i32.const 0
   i32.store offset=8
   local.get $1
   i32.const 0
   i32.store offset=12
   local.get $0
   local.get $0
   i32.const 4
   i32.and
   i32.const 24
   i32.add
   local.tee $1
   i32.add
   local.set $0
   local.get $2
   local.get $1
   i32.sub
   local.set $1
   loop $while-continue|0
    local.get $1
    i32.const 32
    i32.ge_u
    if
     local.get $0
     i64.const 0
     i64.store
     local.get $0
     i64.const 0
     i64.store offset=8
     local.get $0
     i64.const 0
     i64.store offset=16
     local.get $0
     i64.const 0
     i64.store offset=24
     local.get $1
     i32.const 32
     i32.sub
     local.set $1
     local.get $0
     i32.const 32
     i32.add
     local.set $0
     br $while-continue|0
    end
   end
  end
 )
 (func $~lib/arraybuffer/ArrayBuffer#constructor (param $0 i32) (result i32)
  (local $1 i32)
  local.get $0
  i32.const 1073741808
  i32.gt_u
  if
   i32.const 1104
   i32.const 1152
   i32.const 49
   i32.const 43
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $0
  i32.const 0
  call $~lib/rt/tlsf/__alloc
  local.tee $1
  local.get $0
  call $~lib/memory/memory.fill
  local.get $1
  call $~lib/rt/pure/__retain
 )
 (func $start:~lib/@solo-io/proxy-runtime/runtime
  (local $0 i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  (local $11 i32)
  (local $12 i32)
  i32.const 8
  i32.const 3
  call $~lib/rt/tlsf/__alloc
  call $~lib/rt/pure/__retain
  local.tee $0
  i32.const 0
  i32.store
  local.get $0
  i32.const 0
  i32.store offset=4
  local.get $0
  global.set $~lib/@solo-io/proxy-runtime/runtime/globalArrayBufferReference
  call $~lib/@solo-io/proxy-runtime/runtime/Reference<u32>#constructor
  drop
  i32.const 8
  i32.const 5
  call $~lib/rt/tlsf/__alloc
  call $~lib/rt/pure/__retain
  i64.const 0
  i64.store
  i32.const 4
  i32.const 6
  call $~lib/rt/tlsf/__alloc
  call $~lib/rt/pure/__retain
  i32.const 0
  i32.store
  i32.const 0
  call $~lib/@solo-io/proxy-runtime/runtime/HeaderStreamManipulator#constructor
  local.tee $7
  i32.const 2
  call $~lib/@solo-io/proxy-runtime/runtime/HeaderStreamManipulator#constructor
  local.tee $8
  i32.const 6
  call $~lib/@solo-io/proxy-runtime/runtime/HeaderStreamManipulator#constructor
  local.tee $9
  call $~lib/@solo-io/proxy-runtime/runtime/HeaderMapManipulator#constructor
  local.set $5
  i32.const 1
  call $~lib/@solo-io/proxy-runtime/runtime/HeaderStreamManipulator#constructor
  local.tee $10
  i32.const 3
  call $~lib/@solo-io/proxy-runtime/runtime/HeaderStreamManipulator#constructor
  local.tee $11
  i32.const 7
  call $~lib/@solo-io/proxy-runtime/runtime/HeaderStreamManipulator#constructor
  local.tee $12
  call $~lib/@solo-io/proxy-runtime/runtime/HeaderMapManipulator#constructor
  local.set $6
  i32.const 8
  i32.const 7
  call $~lib/rt/tlsf/__alloc
  call $~lib/rt/pure/__retain
  local.tee $3
  i32.const 0
  i32.store
  local.get $3
  i32.const 0
  i32.store offset=4
  local.get $5
  call $~lib/rt/pure/__retain
  local.set $1
  local.get $6
  call $~lib/rt/pure/__retain
  local.set $2
  local.get $1
  local.tee $0
  local.get $3
  i32.load
  local.tee $4
  i32.ne
  if
   local.get $0
   call $~lib/rt/pure/__retain
   local.set $0
   local.get $4
   call $~lib/rt/pure/__release
  end
  local.get $3
  local.get $0
  i32.store
  local.get $2
  local.tee $0
  local.get $3
  i32.load offset=4
  local.tee $4
  i32.ne
  if
   local.get $0
   call $~lib/rt/pure/__retain
   local.set $0
   local.get $4
   call $~lib/rt/pure/__release
  end
  local.get $3
  local.get $0
  i32.store offset=4
  local.get $1
  call $~lib/rt/pure/__release
  local.get $2
  call $~lib/rt/pure/__release
  local.get $3
  global.set $~lib/@solo-io/proxy-runtime/runtime/stream_context
  i32.const 24
  i32.const 18
  call $~lib/rt/tlsf/__alloc
  call $~lib/rt/pure/__retain
  local.tee $0
  i32.const 16
  call $~lib/arraybuffer/ArrayBuffer#constructor
  i32.store
  local.get $0
  i32.const 3
  i32.store offset=4
  local.get $0
  i32.const 48
  call $~lib/arraybuffer/ArrayBuffer#constructor
  i32.store offset=8
  local.get $0
  i32.const 4
  i32.store offset=12
  local.get $0
  i32.const 0
  i32.store offset=16
  local.get $0
  i32.const 0
  i32.store offset=20
  local.get $0
  global.set $~lib/@solo-io/proxy-runtime/runtime/root_context_factory_map
  i32.const 24
  i32.const 19
  call $~lib/rt/tlsf/__alloc
  call $~lib/rt/pure/__retain
  local.tee $0
  i32.const 16
  call $~lib/arraybuffer/ArrayBuffer#constructor
  i32.store
  local.get $0
  i32.const 3
  i32.store offset=4
  local.get $0
  i32.const 48
  call $~lib/arraybuffer/ArrayBuffer#constructor
  i32.store offset=8
  local.get $0
  i32.const 4
  i32.store offset=12
  local.get $0
  i32.const 0
  i32.store offset=16
  local.get $0
  i32.const 0
  i32.store offset=20
  local.get $0
  global.set $~lib/@solo-io/proxy-runtime/runtime/context_map
  local.get $7
  call $~lib/rt/pure/__release
  local.get $8
  call $~lib/rt/pure/__release
  local.get $9
  call $~lib/rt/pure/__release
  local.get $5
  call $~lib/rt/pure/__release
  local.get $10
  call $~lib/rt/pure/__release
  local.get $11
  call $~lib/rt/pure/__release
  local.get $12
  call $~lib/rt/pure/__release
  local.get $6
  call $~lib/rt/pure/__release
 )
 (func $~lib/string/String#get:length (param $0 i32) (result i32)
  local.get $0
  i32.const 16
  i32.sub
  i32.load offset=12
  i32.const 1
  i32.shr_u
 )
 (func $~lib/memory/memory.copy (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 i32)
  (local $4 i32)
  block $~lib/util/memory/memmove|inlined.0
   local.get $2
   local.set $4
   local.get $0
   local.get $1
   i32.eq
   br_if $~lib/util/memory/memmove|inlined.0
   local.get $0
   local.get $1
   i32.lt_u
   if
    local.get $1
    i32.const 7
    i32.and
    local.get $0
    i32.const 7
    i32.and
    i32.eq
    if
     loop $while-continue|0
      local.get $0
      i32.const 7
      i32.and
      if
       local.get $4
       i32.eqz
       br_if $~lib/util/memory/memmove|inlined.0
       local.get $4
       i32.const 1
       i32.sub
       local.set $4
       local.get $0
       local.tee $2
       i32.const 1
       i32.add
       local.set $0
       local.get $1
       local.tee $3
       i32.const 1
       i32.add
       local.set $1
       local.get $2
       local.get $3
       i32.load8_u
       i32.store8
       br $while-continue|0
      end
     end
     loop $while-continue|1
      local.get $4
      i32.const 8
      i32.ge_u
      if
       local.get $0
       local.get $1
       i64.load
       i64.store
       local.get $4
       i32.const 8
       i32.sub
       local.set $4
       local.get $0
       i32.const 8
       i32.add
       local.set $0
       local.get $1
       i32.const 8
       i32.add
       local.set $1
       br $while-continue|1
      end
     end
    end
    loop $while-continue|2
     local.get $4
     if
      local.get $0
      local.tee $2
      i32.const 1
      i32.add
      local.set $0
      local.get $1
      local.tee $3
      i32.const 1
      i32.add
      local.set $1
      local.get $2
      local.get $3
      i32.load8_u
      i32.store8
      local.get $4
      i32.const 1
      i32.sub
      local.set $4
      br $while-continue|2
     end
    end
   else
    local.get $1
    i32.const 7
    i32.and
    local.get $0
    i32.const 7
    i32.and
    i32.eq
    if
     loop $while-continue|3
      local.get $0
      local.get $4
      i32.add
      i32.const 7
      i32.and
      if
       local.get $4
       i32.eqz
       br_if $~lib/util/memory/memmove|inlined.0
       local.get $4
       i32.const 1
       i32.sub
       local.tee $4
       local.get $0
       i32.add
       local.get $1
       local.get $4
       i32.add
       i32.load8_u
       i32.store8
       br $while-continue|3
      end
     end
     loop $while-continue|4
      local.get $4
      i32.const 8
      i32.ge_u
      if
       local.get $4
       i32.const 8
       i32.sub
       local.tee $4
       local.get $0
       i32.add
       local.get $1
       local.get $4
       i32.add
       i64.load
       i64.store
       br $while-continue|4
      end
     end
    end
    loop $while-continue|5
     local.get $4
     if
      local.get $4
      i32.const 1
      i32.sub
      local.tee $4
      local.get $0
      i32.add
      local.get $1
      local.get $4
      i32.add
      i32.load8_u
      i32.store8
      br $while-continue|5
     end
    end
   end
  end
 )
 (func $~lib/string/String.__concat (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  block $__inlined_func$~lib/string/String#concat (result i32)
   local.get $0
   call $~lib/rt/pure/__retain
   local.tee $2
   i32.const 1216
   local.get $2
   select
   local.set $3
   local.get $1
   call $~lib/rt/pure/__retain
   local.tee $5
   call $~lib/rt/pure/__retain
   local.tee $0
   i32.eqz
   if
    local.get $0
    i32.const 1216
    i32.ne
    if
     local.get $0
     call $~lib/rt/pure/__release
    end
    i32.const 1216
    local.set $0
   end
   local.get $3
   call $~lib/string/String#get:length
   i32.const 1
   i32.shl
   local.tee $4
   local.get $0
   call $~lib/string/String#get:length
   i32.const 1
   i32.shl
   local.tee $6
   i32.add
   local.tee $1
   i32.eqz
   if
    local.get $0
    call $~lib/rt/pure/__release
    i32.const 1088
    br $__inlined_func$~lib/string/String#concat
   end
   local.get $1
   i32.const 1
   call $~lib/rt/tlsf/__alloc
   call $~lib/rt/pure/__retain
   local.tee $1
   local.get $3
   local.get $4
   call $~lib/memory/memory.copy
   local.get $1
   local.get $4
   i32.add
   local.get $0
   local.get $6
   call $~lib/memory/memory.copy
   local.get $0
   call $~lib/rt/pure/__release
   local.get $1
  end
  local.get $2
  call $~lib/rt/pure/__release
  local.get $5
  call $~lib/rt/pure/__release
 )
 (func $~lib/util/number/decimalCount32 (param $0 i32) (result i32)
  local.get $0
  i32.const 10
  i32.ge_u
  i32.const 1
  i32.add
  local.get $0
  i32.const 10000
  i32.ge_u
  i32.const 3
  i32.add
  local.get $0
  i32.const 1000
  i32.ge_u
  i32.add
  local.get $0
  i32.const 100
  i32.lt_u
  select
  local.get $0
  i32.const 1000000
  i32.ge_u
  i32.const 6
  i32.add
  local.get $0
  i32.const 1000000000
  i32.ge_u
  i32.const 8
  i32.add
  local.get $0
  i32.const 100000000
  i32.ge_u
  i32.add
  local.get $0
  i32.const 10000000
  i32.lt_u
  select
  local.get $0
  i32.const 100000
  i32.lt_u
  select
 )
 (func $~lib/util/number/utoa_dec_simple<u32> (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 i32)
  loop $do-continue|0
   local.get $1
   i32.const 10
   i32.rem_u
   local.set $3
   local.get $1
   i32.const 10
   i32.div_u
   local.set $1
   local.get $0
   local.get $2
   i32.const 1
   i32.sub
   local.tee $2
   i32.const 1
   i32.shl
   i32.add
   local.get $3
   i32.const 48
   i32.add
   i32.store16
   local.get $1
   br_if $do-continue|0
  end
 )
 (func $~lib/util/number/utoa32 (param $0 i32) (result i32)
  (local $1 i32)
  (local $2 i32)
  local.get $0
  i32.eqz
  if
   i32.const 1504
   return
  end
  local.get $0
  call $~lib/util/number/decimalCount32
  local.tee $1
  i32.const 1
  i32.shl
  i32.const 1
  call $~lib/rt/tlsf/__alloc
  local.tee $2
  local.get $0
  local.get $1
  call $~lib/util/number/utoa_dec_simple<u32>
  local.get $2
  call $~lib/rt/pure/__retain
 )
 (func $~lib/string/String.UTF8.byteLength (param $0 i32) (result i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  local.get $0
  call $~lib/rt/pure/__retain
  local.tee $4
  local.tee $0
  local.get $0
  i32.const 16
  i32.sub
  i32.load offset=12
  i32.add
  local.set $2
  loop $while-continue|0
   local.get $0
   local.get $2
   i32.lt_u
   if
    local.get $0
    i32.load16_u
    local.tee $3
    i32.const 128
    i32.lt_u
    if (result i32)
     local.get $1
     i32.const 1
     i32.add
    else
     local.get $3
     i32.const 2048
     i32.lt_u
     if (result i32)
      local.get $1
      i32.const 2
      i32.add
     else
      local.get $0
      i32.const 2
      i32.add
      local.get $2
      i32.lt_u
      i32.const 0
      local.get $3
      i32.const 64512
      i32.and
      i32.const 55296
      i32.eq
      select
      if
       local.get $0
       i32.load16_u offset=2
       i32.const 64512
       i32.and
       i32.const 56320
       i32.eq
       if
        local.get $1
        i32.const 4
        i32.add
        local.set $1
        local.get $0
        i32.const 4
        i32.add
        local.set $0
        br $while-continue|0
       end
      end
      local.get $1
      i32.const 3
      i32.add
     end
    end
    local.set $1
    local.get $0
    i32.const 2
    i32.add
    local.set $0
    br $while-continue|0
   end
  end
  local.get $4
  call $~lib/rt/pure/__release
  local.get $1
 )
 (func $~lib/string/String.UTF8.encodeUnsafe (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 i32)
  (local $4 i32)
  local.get $0
  local.get $1
  i32.const 1
  i32.shl
  i32.add
  local.set $3
  local.get $2
  local.set $1
  loop $while-continue|0
   local.get $0
   local.get $3
   i32.lt_u
   if
    local.get $0
    i32.load16_u
    local.tee $2
    i32.const 128
    i32.lt_u
    if (result i32)
     local.get $1
     local.get $2
     i32.store8
     local.get $1
     i32.const 1
     i32.add
    else
     local.get $2
     i32.const 2048
     i32.lt_u
     if (result i32)
      local.get $1
      local.get $2
      i32.const 6
      i32.shr_u
      i32.const 192
      i32.or
      local.get $2
      i32.const 63
      i32.and
      i32.const 128
      i32.or
      i32.const 8
      i32.shl
      i32.or
      i32.store16
      local.get $1
      i32.const 2
      i32.add
     else
      local.get $0
      i32.const 2
      i32.add
      local.get $3
      i32.lt_u
      i32.const 0
      local.get $2
      i32.const 64512
      i32.and
      i32.const 55296
      i32.eq
      select
      if
       local.get $0
       i32.load16_u offset=2
       local.tee $4
       i32.const 64512
       i32.and
       i32.const 56320
       i32.eq
       if
        local.get $1
        local.get $2
        i32.const 1023
        i32.and
        i32.const 10
        i32.shl
        i32.const 65536
        i32.add
        local.get $4
        i32.const 1023
        i32.and
        i32.or
        local.tee $2
        i32.const 63
        i32.and
        i32.const 128
        i32.or
        i32.const 24
        i32.shl
        local.get $2
        i32.const 6
        i32.shr_u
        i32.const 63
        i32.and
        i32.const 128
        i32.or
        i32.const 16
        i32.shl
        i32.or
        local.get $2
        i32.const 12
        i32.shr_u
        i32.const 63
        i32.and
        i32.const 128
        i32.or
        i32.const 8
        i32.shl
        i32.or
        local.get $2
        i32.const 18
        i32.shr_u
        i32.const 240
        i32.or
        i32.or
        i32.store
        local.get $1
        i32.const 4
        i32.add
        local.set $1
        local.get $0
        i32.const 4
        i32.add
        local.set $0
        br $while-continue|0
       end
      end
      local.get $1
      local.get $2
      i32.const 12
      i32.shr_u
      i32.const 224
      i32.or
      local.get $2
      i32.const 6
      i32.shr_u
      i32.const 63
      i32.and
      i32.const 128
      i32.or
      i32.const 8
      i32.shl
      i32.or
      i32.store16
      local.get $1
      local.get $2
      i32.const 63
      i32.and
      i32.const 128
      i32.or
      i32.store8 offset=2
      local.get $1
      i32.const 3
      i32.add
     end
    end
    local.set $1
    local.get $0
    i32.const 2
    i32.add
    local.set $0
    br $while-continue|0
   end
  end
 )
 (func $~lib/string/String.UTF8.encode (param $0 i32) (result i32)
  (local $1 i32)
  local.get $0
  call $~lib/rt/pure/__retain
  local.tee $0
  call $~lib/string/String.UTF8.byteLength
  i32.const 0
  call $~lib/rt/tlsf/__alloc
  local.set $1
  local.get $0
  local.get $0
  call $~lib/string/String#get:length
  local.get $1
  call $~lib/string/String.UTF8.encodeUnsafe
  local.get $1
  call $~lib/rt/pure/__retain
  local.get $0
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/log (param $0 i32) (param $1 i32)
  (local $2 i32)
  (local $3 i32)
  local.get $1
  call $~lib/rt/pure/__retain
  local.tee $2
  call $~lib/string/String.UTF8.encode
  local.tee $1
  i32.const 16
  i32.sub
  i32.load offset=12
  local.set $3
  local.get $0
  local.get $1
  local.get $3
  call $~lib/@solo-io/proxy-runtime/imports/proxy_log
  drop
  local.get $1
  call $~lib/rt/pure/__release
  local.get $2
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  (local $11 i32)
  (local $12 i32)
  (local $13 i32)
  local.get $0
  call $~lib/rt/pure/__retain
  local.set $6
  local.get $1
  call $~lib/rt/pure/__retain
  local.set $1
  i32.const 1088
  local.set $0
  local.get $6
  if
   local.get $6
   call $~lib/rt/pure/__retain
   local.tee $0
   i32.const 1088
   local.get $0
   call $~lib/string/String.__concat
   local.tee $5
   local.tee $0
   i32.const 1088
   i32.ne
   if
    local.get $0
    call $~lib/rt/pure/__retain
    local.set $0
   end
   call $~lib/rt/pure/__release
   local.get $5
   call $~lib/rt/pure/__release
  end
  i32.const 5
  local.get $1
  if
   local.get $1
   call $~lib/rt/pure/__retain
   local.tee $4
   i32.const 1248
   local.get $4
   call $~lib/string/String.__concat
   local.tee $8
   i32.const 1280
   call $~lib/string/String.__concat
   local.set $4
   local.get $2
   call $~lib/util/number/utoa32
   local.tee $2
   local.set $9
   local.get $4
   local.get $2
   call $~lib/string/String.__concat
   local.tee $10
   i32.const 1632
   call $~lib/string/String.__concat
   local.set $5
   local.get $3
   call $~lib/util/number/utoa32
   local.tee $2
   local.set $3
   local.get $0
   local.get $0
   local.get $5
   local.get $2
   call $~lib/string/String.__concat
   local.tee $11
   i32.const 1664
   call $~lib/string/String.__concat
   local.tee $12
   call $~lib/string/String.__concat
   local.tee $13
   local.tee $2
   i32.ne
   if
    local.get $2
    call $~lib/rt/pure/__retain
    local.set $2
    local.get $0
    call $~lib/rt/pure/__release
   end
   call $~lib/rt/pure/__release
   local.get $8
   call $~lib/rt/pure/__release
   local.get $4
   call $~lib/rt/pure/__release
   local.get $9
   call $~lib/rt/pure/__release
   local.get $10
   call $~lib/rt/pure/__release
   local.get $5
   call $~lib/rt/pure/__release
   local.get $3
   call $~lib/rt/pure/__release
   local.get $11
   call $~lib/rt/pure/__release
   local.get $12
   call $~lib/rt/pure/__release
   local.get $13
   call $~lib/rt/pure/__release
   local.get $2
   local.set $0
  end
  local.get $0
  call $~lib/@solo-io/proxy-runtime/runtime/log
  i32.const 255
  call $~lib/bindings/wasi_unstable/proc_exit
  local.get $0
  call $~lib/rt/pure/__release
  local.get $6
  call $~lib/rt/pure/__release
  local.get $1
  call $~lib/rt/pure/__release
 )
 (func $~lib/rt/tlsf/removeBlock (param $0 i32) (param $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  local.get $1
  i32.load
  local.tee $2
  i32.const 1
  i32.and
  i32.eqz
  if
   i32.const 0
   i32.const 1696
   i32.const 277
   i32.const 14
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $2
  i32.const -4
  i32.and
  local.tee $2
  i32.const 1073741808
  i32.lt_u
  i32.const 0
  local.get $2
  i32.const 16
  i32.ge_u
  select
  i32.eqz
  if
   i32.const 0
   i32.const 1696
   i32.const 279
   i32.const 14
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $2
  i32.const 256
  i32.lt_u
  if
   local.get $2
   i32.const 4
   i32.shr_u
   local.set $2
  else
   local.get $2
   i32.const 31
   local.get $2
   i32.clz
   i32.sub
   local.tee $3
   i32.const 4
   i32.sub
   i32.shr_u
   i32.const 16
   i32.xor
   local.set $2
   local.get $3
   i32.const 7
   i32.sub
   local.set $3
  end
  local.get $2
  i32.const 16
  i32.lt_u
  i32.const 0
  local.get $3
  i32.const 23
  i32.lt_u
  select
  i32.eqz
  if
   i32.const 0
   i32.const 1696
   i32.const 292
   i32.const 14
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $1
  i32.load offset=20
  local.set $4
  local.get $1
  i32.load offset=16
  local.tee $5
  if
   local.get $5
   local.get $4
   i32.store offset=20
  end
  local.get $4
  if
   local.get $4
   local.get $5
   i32.store offset=16
  end
  local.get $1
  local.get $0
  local.get $2
  local.get $3
  i32.const 4
  i32.shl
  i32.add
  i32.const 2
  i32.shl
  i32.add
  i32.load offset=96
  i32.eq
  if
   local.get $0
   local.get $2
   local.get $3
   i32.const 4
   i32.shl
   i32.add
   i32.const 2
   i32.shl
   i32.add
   local.get $4
   i32.store offset=96
   local.get $4
   i32.eqz
   if
    local.get $0
    local.get $3
    i32.const 2
    i32.shl
    i32.add
    local.tee $4
    i32.load offset=4
    i32.const 1
    local.get $2
    i32.shl
    i32.const -1
    i32.xor
    i32.and
    local.set $1
    local.get $4
    local.get $1
    i32.store offset=4
    local.get $1
    i32.eqz
    if
     local.get $0
     local.get $0
     i32.load
     i32.const 1
     local.get $3
     i32.shl
     i32.const -1
     i32.xor
     i32.and
     i32.store
    end
   end
  end
 )
 (func $~lib/rt/tlsf/insertBlock (param $0 i32) (param $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  local.get $1
  i32.eqz
  if
   i32.const 0
   i32.const 1696
   i32.const 205
   i32.const 14
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $1
  i32.load
  local.tee $4
  i32.const 1
  i32.and
  i32.eqz
  if
   i32.const 0
   i32.const 1696
   i32.const 207
   i32.const 14
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $1
  i32.const 16
  i32.add
  local.get $1
  i32.load
  i32.const -4
  i32.and
  i32.add
  local.tee $5
  i32.load
  local.tee $2
  i32.const 1
  i32.and
  if
   local.get $4
   i32.const -4
   i32.and
   i32.const 16
   i32.add
   local.get $2
   i32.const -4
   i32.and
   i32.add
   local.tee $3
   i32.const 1073741808
   i32.lt_u
   if
    local.get $0
    local.get $5
    call $~lib/rt/tlsf/removeBlock
    local.get $1
    local.get $3
    local.get $4
    i32.const 3
    i32.and
    i32.or
    local.tee $4
    i32.store
    local.get $1
    i32.const 16
    i32.add
    local.get $1
    i32.load
    i32.const -4
    i32.and
    i32.add
    local.tee $5
    i32.load
    local.set $2
   end
  end
  local.get $4
  i32.const 2
  i32.and
  if
   local.get $1
   i32.const 4
   i32.sub
   i32.load
   local.tee $3
   i32.load
   local.tee $7
   i32.const 1
   i32.and
   i32.eqz
   if
    i32.const 0
    i32.const 1696
    i32.const 228
    i32.const 16
    call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
    unreachable
   end
   local.get $7
   i32.const -4
   i32.and
   i32.const 16
   i32.add
   local.get $4
   i32.const -4
   i32.and
   i32.add
   local.tee $8
   i32.const 1073741808
   i32.lt_u
   if (result i32)
    local.get $0
    local.get $3
    call $~lib/rt/tlsf/removeBlock
    local.get $3
    local.get $8
    local.get $7
    i32.const 3
    i32.and
    i32.or
    local.tee $4
    i32.store
    local.get $3
   else
    local.get $1
   end
   local.set $1
  end
  local.get $5
  local.get $2
  i32.const 2
  i32.or
  i32.store
  local.get $4
  i32.const -4
  i32.and
  local.tee $3
  i32.const 1073741808
  i32.lt_u
  i32.const 0
  local.get $3
  i32.const 16
  i32.ge_u
  select
  i32.eqz
  if
   i32.const 0
   i32.const 1696
   i32.const 243
   i32.const 14
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $3
  local.get $1
  i32.const 16
  i32.add
  i32.add
  local.get $5
  i32.ne
  if
   i32.const 0
   i32.const 1696
   i32.const 244
   i32.const 14
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $5
  i32.const 4
  i32.sub
  local.get $1
  i32.store
  local.get $3
  i32.const 256
  i32.lt_u
  if
   local.get $3
   i32.const 4
   i32.shr_u
   local.set $3
  else
   local.get $3
   i32.const 31
   local.get $3
   i32.clz
   i32.sub
   local.tee $4
   i32.const 4
   i32.sub
   i32.shr_u
   i32.const 16
   i32.xor
   local.set $3
   local.get $4
   i32.const 7
   i32.sub
   local.set $6
  end
  local.get $3
  i32.const 16
  i32.lt_u
  i32.const 0
  local.get $6
  i32.const 23
  i32.lt_u
  select
  i32.eqz
  if
   i32.const 0
   i32.const 1696
   i32.const 260
   i32.const 14
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $0
  local.get $3
  local.get $6
  i32.const 4
  i32.shl
  i32.add
  i32.const 2
  i32.shl
  i32.add
  i32.load offset=96
  local.set $4
  local.get $1
  i32.const 0
  i32.store offset=16
  local.get $1
  local.get $4
  i32.store offset=20
  local.get $4
  if
   local.get $4
   local.get $1
   i32.store offset=16
  end
  local.get $0
  local.get $3
  local.get $6
  i32.const 4
  i32.shl
  i32.add
  i32.const 2
  i32.shl
  i32.add
  local.get $1
  i32.store offset=96
  local.get $0
  local.get $0
  i32.load
  i32.const 1
  local.get $6
  i32.shl
  i32.or
  i32.store
  local.get $0
  local.get $6
  i32.const 2
  i32.shl
  i32.add
  local.tee $0
  local.get $0
  i32.load offset=4
  i32.const 1
  local.get $3
  i32.shl
  i32.or
  i32.store offset=4
 )
 (func $~lib/rt/tlsf/addMemory (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 i32)
  (local $4 i32)
  local.get $2
  i32.const 15
  i32.and
  i32.eqz
  i32.const 0
  local.get $1
  i32.const 15
  i32.and
  i32.eqz
  i32.const 0
  local.get $1
  local.get $2
  i32.le_u
  select
  select
  i32.eqz
  if
   i32.const 0
   i32.const 1696
   i32.const 386
   i32.const 5
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $0
  i32.load offset=1568
  local.tee $3
  if
   local.get $1
   local.get $3
   i32.const 16
   i32.add
   i32.lt_u
   if
    i32.const 0
    i32.const 1696
    i32.const 396
    i32.const 16
    call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
    unreachable
   end
   local.get $3
   local.get $1
   i32.const 16
   i32.sub
   i32.eq
   if
    local.get $3
    i32.load
    local.set $4
    local.get $1
    i32.const 16
    i32.sub
    local.set $1
   end
  else
   local.get $1
   local.get $0
   i32.const 1572
   i32.add
   i32.lt_u
   if
    i32.const 0
    i32.const 1696
    i32.const 408
    i32.const 5
    call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
    unreachable
   end
  end
  local.get $2
  local.get $1
  i32.sub
  local.tee $2
  i32.const 48
  i32.lt_u
  if
   return
  end
  local.get $1
  local.get $4
  i32.const 2
  i32.and
  local.get $2
  i32.const 32
  i32.sub
  i32.const 1
  i32.or
  i32.or
  i32.store
  local.get $1
  i32.const 0
  i32.store offset=16
  local.get $1
  i32.const 0
  i32.store offset=20
  local.get $1
  local.get $2
  i32.add
  i32.const 16
  i32.sub
  local.tee $2
  i32.const 2
  i32.store
  local.get $0
  local.get $2
  i32.store offset=1568
  local.get $0
  local.get $1
  call $~lib/rt/tlsf/insertBlock
 )
 (func $~lib/rt/tlsf/maybeInitialize (result i32)
  (local $0 i32)
  (local $1 i32)
  (local $2 i32)
  global.get $~lib/rt/tlsf/ROOT
  local.tee $1
  i32.eqz
  if
   i32.const 1
   memory.size
   local.tee $1
   i32.gt_s
   if (result i32)
    i32.const 1
    local.get $1
    i32.sub
    memory.grow
    i32.const 0
    i32.lt_s
   else
    i32.const 0
   end
   if
    unreachable
   end
   i32.const 6624
   local.set $1
   i32.const 6624
   i32.const 0
   i32.store
   i32.const 8192
   i32.const 0
   i32.store
   loop $for-loop|0
    local.get $0
    i32.const 23
    i32.lt_u
    if
     local.get $0
     i32.const 2
     i32.shl
     i32.const 6624
     i32.add
     i32.const 0
     i32.store offset=4
     i32.const 0
     local.set $2
     loop $for-loop|1
      local.get $2
      i32.const 16
      i32.lt_u
      if
       local.get $2
       local.get $0
       i32.const 4
       i32.shl
       i32.add
       i32.const 2
       i32.shl
       i32.const 6624
       i32.add
       i32.const 0
       i32.store offset=96
       local.get $2
       i32.const 1
       i32.add
       local.set $2
       br $for-loop|1
      end
     end
     local.get $0
     i32.const 1
     i32.add
     local.set $0
     br $for-loop|0
    end
   end
   i32.const 6624
   i32.const 8208
   memory.size
   i32.const 16
   i32.shl
   call $~lib/rt/tlsf/addMemory
   i32.const 6624
   global.set $~lib/rt/tlsf/ROOT
  end
  local.get $1
 )
 (func $~lib/rt/tlsf/prepareSize (param $0 i32) (result i32)
  local.get $0
  i32.const 1073741808
  i32.ge_u
  if
   i32.const 1744
   i32.const 1696
   i32.const 461
   i32.const 30
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $0
  i32.const 15
  i32.add
  i32.const -16
  i32.and
  local.tee $0
  i32.const 16
  local.get $0
  i32.const 16
  i32.gt_u
  select
 )
 (func $~lib/rt/tlsf/searchBlock (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  local.get $1
  i32.const 256
  i32.lt_u
  if
   local.get $1
   i32.const 4
   i32.shr_u
   local.set $1
  else
   i32.const 31
   local.get $1
   i32.const 1
   i32.const 27
   local.get $1
   i32.clz
   i32.sub
   i32.shl
   i32.add
   i32.const 1
   i32.sub
   local.get $1
   local.get $1
   i32.const 536870904
   i32.lt_u
   select
   local.tee $1
   i32.clz
   i32.sub
   local.set $2
   local.get $1
   local.get $2
   i32.const 4
   i32.sub
   i32.shr_u
   i32.const 16
   i32.xor
   local.set $1
   local.get $2
   i32.const 7
   i32.sub
   local.set $2
  end
  local.get $1
  i32.const 16
  i32.lt_u
  i32.const 0
  local.get $2
  i32.const 23
  i32.lt_u
  select
  i32.eqz
  if
   i32.const 0
   i32.const 1696
   i32.const 338
   i32.const 14
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $0
  local.get $2
  i32.const 2
  i32.shl
  i32.add
  i32.load offset=4
  i32.const -1
  local.get $1
  i32.shl
  i32.and
  local.tee $1
  if (result i32)
   local.get $0
   local.get $1
   i32.ctz
   local.get $2
   i32.const 4
   i32.shl
   i32.add
   i32.const 2
   i32.shl
   i32.add
   i32.load offset=96
  else
   local.get $0
   i32.load
   i32.const -1
   local.get $2
   i32.const 1
   i32.add
   i32.shl
   i32.and
   local.tee $1
   if (result i32)
    local.get $0
    local.get $1
    i32.ctz
    local.tee $1
    i32.const 2
    i32.shl
    i32.add
    i32.load offset=4
    local.tee $2
    i32.eqz
    if
     i32.const 0
     i32.const 1696
     i32.const 351
     i32.const 18
     call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
     unreachable
    end
    local.get $0
    local.get $2
    i32.ctz
    local.get $1
    i32.const 4
    i32.shl
    i32.add
    i32.const 2
    i32.shl
    i32.add
    i32.load offset=96
   else
    i32.const 0
   end
  end
 )
 (func $~lib/rt/tlsf/prepareBlock (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 i32)
  (local $4 i32)
  local.get $1
  i32.load
  local.set $3
  local.get $2
  i32.const 15
  i32.and
  if
   i32.const 0
   i32.const 1696
   i32.const 365
   i32.const 14
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $3
  i32.const -4
  i32.and
  local.get $2
  i32.sub
  local.tee $4
  i32.const 32
  i32.ge_u
  if
   local.get $1
   local.get $2
   local.get $3
   i32.const 2
   i32.and
   i32.or
   i32.store
   local.get $2
   local.get $1
   i32.const 16
   i32.add
   i32.add
   local.tee $1
   local.get $4
   i32.const 16
   i32.sub
   i32.const 1
   i32.or
   i32.store
   local.get $0
   local.get $1
   call $~lib/rt/tlsf/insertBlock
  else
   local.get $1
   local.get $3
   i32.const -2
   i32.and
   i32.store
   local.get $1
   i32.const 16
   i32.add
   local.tee $0
   local.get $1
   i32.load
   i32.const -4
   i32.and
   i32.add
   local.get $0
   local.get $1
   i32.load
   i32.const -4
   i32.and
   i32.add
   i32.load
   i32.const -3
   i32.and
   i32.store
  end
 )
 (func $~lib/rt/tlsf/allocateBlock (param $0 i32) (param $1 i32) (param $2 i32) (result i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  global.get $~lib/rt/tlsf/collectLock
  if
   i32.const 0
   i32.const 1696
   i32.const 500
   i32.const 14
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $0
  local.get $1
  call $~lib/rt/tlsf/prepareSize
  local.tee $4
  call $~lib/rt/tlsf/searchBlock
  local.tee $3
  i32.eqz
  if
   i32.const 1
   global.set $~lib/rt/tlsf/collectLock
   i32.const 0
   global.set $~lib/rt/tlsf/collectLock
   local.get $0
   local.get $4
   call $~lib/rt/tlsf/searchBlock
   local.tee $3
   i32.eqz
   if
    i32.const 16
    memory.size
    local.tee $3
    i32.const 16
    i32.shl
    i32.const 16
    i32.sub
    local.get $0
    i32.load offset=1568
    i32.ne
    i32.shl
    local.get $4
    i32.const 1
    i32.const 27
    local.get $4
    i32.clz
    i32.sub
    i32.shl
    i32.const 1
    i32.sub
    i32.add
    local.get $4
    local.get $4
    i32.const 536870904
    i32.lt_u
    select
    i32.add
    i32.const 65535
    i32.add
    i32.const -65536
    i32.and
    i32.const 16
    i32.shr_u
    local.set $5
    local.get $3
    local.get $5
    local.get $3
    local.get $5
    i32.gt_s
    select
    memory.grow
    i32.const 0
    i32.lt_s
    if
     local.get $5
     memory.grow
     i32.const 0
     i32.lt_s
     if
      unreachable
     end
    end
    local.get $0
    local.get $3
    i32.const 16
    i32.shl
    memory.size
    i32.const 16
    i32.shl
    call $~lib/rt/tlsf/addMemory
    local.get $0
    local.get $4
    call $~lib/rt/tlsf/searchBlock
    local.tee $3
    i32.eqz
    if
     i32.const 0
     i32.const 1696
     i32.const 512
     i32.const 20
     call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
     unreachable
    end
   end
  end
  local.get $3
  i32.load
  i32.const -4
  i32.and
  local.get $4
  i32.lt_u
  if
   i32.const 0
   i32.const 1696
   i32.const 520
   i32.const 14
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $3
  i32.const 0
  i32.store offset=4
  local.get $3
  local.get $2
  i32.store offset=8
  local.get $3
  local.get $1
  i32.store offset=12
  local.get $0
  local.get $3
  call $~lib/rt/tlsf/removeBlock
  local.get $0
  local.get $3
  local.get $4
  call $~lib/rt/tlsf/prepareBlock
  local.get $3
 )
 (func $~lib/rt/tlsf/__alloc (param $0 i32) (param $1 i32) (result i32)
  call $~lib/rt/tlsf/maybeInitialize
  local.get $0
  local.get $1
  call $~lib/rt/tlsf/allocateBlock
  i32.const 16
  i32.add
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/BaseContext#constructor (param $0 i32) (param $1 i32) (result i32)
  local.get $0
  i32.eqz
  if
   i32.const 4
   i32.const 11
   call $~lib/rt/tlsf/__alloc
   call $~lib/rt/pure/__retain
   local.set $0
  end
  local.get $0
  i32.const 0
  i32.store
  local.get $0
  local.get $1
  i32.store
  local.get $0
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/RootContext#constructor (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  local.get $0
  i32.eqz
  if
   i32.const 16
   i32.const 10
   call $~lib/rt/tlsf/__alloc
   call $~lib/rt/pure/__retain
   local.set $0
  end
  local.get $0
  i32.const 1088
  i32.store offset=4
  i32.const 24
  i32.const 13
  call $~lib/rt/tlsf/__alloc
  call $~lib/rt/pure/__retain
  local.tee $2
  i32.const 16
  call $~lib/arraybuffer/ArrayBuffer#constructor
  i32.store
  local.get $2
  i32.const 3
  i32.store offset=4
  local.get $2
  i32.const 48
  call $~lib/arraybuffer/ArrayBuffer#constructor
  i32.store offset=8
  local.get $2
  i32.const 4
  i32.store offset=12
  local.get $2
  i32.const 0
  i32.store offset=16
  local.get $2
  i32.const 0
  i32.store offset=20
  local.get $0
  local.get $2
  i32.store offset=8
  i32.const 24
  i32.const 17
  call $~lib/rt/tlsf/__alloc
  call $~lib/rt/pure/__retain
  local.tee $2
  i32.const 16
  call $~lib/arraybuffer/ArrayBuffer#constructor
  i32.store
  local.get $2
  i32.const 3
  i32.store offset=4
  local.get $2
  i32.const 48
  call $~lib/arraybuffer/ArrayBuffer#constructor
  i32.store offset=8
  local.get $2
  i32.const 4
  i32.store offset=12
  local.get $2
  i32.const 0
  i32.store offset=16
  local.get $2
  i32.const 0
  i32.store offset=20
  local.get $0
  local.get $2
  i32.store offset=12
  local.get $0
  local.get $1
  call $~lib/@solo-io/proxy-runtime/runtime/BaseContext#constructor
 )
 (func $start:assembly/http_callout~anonymous|0 (param $0 i32) (result i32)
  i32.const 16
  i32.const 20
  call $~lib/rt/tlsf/__alloc
  call $~lib/rt/pure/__retain
  local.get $0
  call $~lib/@solo-io/proxy-runtime/runtime/RootContext#constructor
 )
 (func $~lib/util/hash/hashStr (param $0 i32) (result i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  i32.const -2128831035
  local.set $1
  local.get $0
  call $~lib/rt/pure/__retain
  local.tee $0
  if
   local.get $0
   call $~lib/string/String#get:length
   i32.const 1
   i32.shl
   local.set $3
   loop $for-loop|0
    local.get $2
    local.get $3
    i32.lt_u
    if
     local.get $1
     local.get $0
     local.get $2
     i32.add
     i32.load8_u
     i32.xor
     i32.const 16777619
     i32.mul
     local.set $1
     local.get $2
     i32.const 1
     i32.add
     local.set $2
     br $for-loop|0
    end
   end
  end
  local.get $0
  call $~lib/rt/pure/__release
  local.get $1
 )
 (func $~lib/util/string/compareImpl (param $0 i32) (param $1 i32) (param $2 i32) (result i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  local.get $0
  call $~lib/rt/pure/__retain
  local.tee $4
  local.tee $3
  i32.const 7
  i32.and
  local.get $1
  call $~lib/rt/pure/__retain
  local.tee $5
  local.tee $1
  i32.const 7
  i32.and
  i32.or
  i32.eqz
  i32.const 0
  local.get $2
  i32.const 4
  i32.ge_u
  select
  if
   loop $do-continue|0
    local.get $3
    i64.load
    local.get $1
    i64.load
    i64.eq
    if
     local.get $3
     i32.const 8
     i32.add
     local.set $3
     local.get $1
     i32.const 8
     i32.add
     local.set $1
     local.get $2
     i32.const 4
     i32.sub
     local.tee $2
     i32.const 4
     i32.ge_u
     br_if $do-continue|0
    end
   end
  end
  loop $while-continue|1
   local.get $2
   local.tee $0
   i32.const 1
   i32.sub
   local.set $2
   local.get $0
   if
    local.get $3
    i32.load16_u
    local.tee $0
    local.get $1
    i32.load16_u
    local.tee $6
    i32.ne
    if
     local.get $4
     call $~lib/rt/pure/__release
     local.get $5
     call $~lib/rt/pure/__release
     local.get $0
     local.get $6
     i32.sub
     return
    end
    local.get $3
    i32.const 2
    i32.add
    local.set $3
    local.get $1
    i32.const 2
    i32.add
    local.set $1
    br $while-continue|1
   end
  end
  local.get $4
  call $~lib/rt/pure/__release
  local.get $5
  call $~lib/rt/pure/__release
  i32.const 0
 )
 (func $~lib/string/String.__eq (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  local.get $0
  call $~lib/rt/pure/__retain
  local.tee $0
  local.get $1
  call $~lib/rt/pure/__retain
  local.tee $1
  i32.eq
  if
   local.get $0
   call $~lib/rt/pure/__release
   local.get $1
   call $~lib/rt/pure/__release
   i32.const 1
   return
  end
  block $folding-inner0
   local.get $1
   i32.eqz
   i32.const 1
   local.get $0
   select
   br_if $folding-inner0
   local.get $0
   call $~lib/string/String#get:length
   local.tee $2
   local.get $1
   call $~lib/string/String#get:length
   i32.ne
   br_if $folding-inner0
   local.get $0
   local.get $1
   local.get $2
   call $~lib/util/string/compareImpl
   i32.eqz
   local.get $0
   call $~lib/rt/pure/__release
   local.get $1
   call $~lib/rt/pure/__release
   return
  end
  local.get $0
  call $~lib/rt/pure/__release
  local.get $1
  call $~lib/rt/pure/__release
  i32.const 0
 )
 (func $~lib/map/Map<~lib/string/String,%28u32%29=>~lib/@solo-io/proxy-runtime/runtime/RootContext>#find (param $0 i32) (param $1 i32) (param $2 i32) (result i32)
  local.get $1
  call $~lib/rt/pure/__retain
  local.set $1
  local.get $0
  i32.load
  local.get $2
  local.get $0
  i32.load offset=4
  i32.and
  i32.const 2
  i32.shl
  i32.add
  i32.load
  local.set $0
  loop $while-continue|0
   local.get $0
   if
    local.get $0
    i32.load offset=8
    i32.const 1
    i32.and
    if (result i32)
     i32.const 0
    else
     local.get $0
     i32.load
     local.get $1
     call $~lib/string/String.__eq
    end
    if
     local.get $1
     call $~lib/rt/pure/__release
     local.get $0
     return
    end
    local.get $0
    i32.load offset=8
    i32.const -2
    i32.and
    local.set $0
    br $while-continue|0
   end
  end
  local.get $1
  call $~lib/rt/pure/__release
  i32.const 0
 )
 (func $~lib/map/Map<~lib/string/String,%28u32%29=>~lib/@solo-io/proxy-runtime/runtime/RootContext>#rehash (param $0 i32) (param $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  local.get $1
  i32.const 1
  i32.add
  local.tee $3
  i32.const 2
  i32.shl
  call $~lib/arraybuffer/ArrayBuffer#constructor
  local.set $6
  local.get $3
  i32.const 3
  i32.shl
  i32.const 3
  i32.div_s
  local.tee $7
  i32.const 12
  i32.mul
  call $~lib/arraybuffer/ArrayBuffer#constructor
  local.set $3
  local.get $0
  i32.load offset=8
  local.tee $5
  local.get $0
  i32.load offset=16
  i32.const 12
  i32.mul
  i32.add
  local.set $8
  local.get $3
  local.set $2
  loop $while-continue|0
   local.get $5
   local.get $8
   i32.ne
   if
    local.get $5
    local.tee $4
    i32.load offset=8
    i32.const 1
    i32.and
    i32.eqz
    if
     local.get $2
     local.get $4
     i32.load
     i32.store
     local.get $2
     local.get $4
     i32.load offset=4
     i32.store offset=4
     local.get $4
     i32.load
     call $~lib/rt/pure/__retain
     local.tee $4
     call $~lib/util/hash/hashStr
     local.set $9
     local.get $4
     call $~lib/rt/pure/__release
     local.get $2
     local.get $6
     local.get $1
     local.get $9
     i32.and
     i32.const 2
     i32.shl
     i32.add
     local.tee $4
     i32.load
     i32.store offset=8
     local.get $4
     local.get $2
     i32.store
     local.get $2
     i32.const 12
     i32.add
     local.set $2
    end
    local.get $5
    i32.const 12
    i32.add
    local.set $5
    br $while-continue|0
   end
  end
  local.get $6
  local.tee $2
  local.get $0
  i32.load
  local.tee $5
  i32.ne
  if
   local.get $2
   call $~lib/rt/pure/__retain
   local.set $2
   local.get $5
   call $~lib/rt/pure/__release
  end
  local.get $0
  local.get $2
  i32.store
  local.get $0
  local.get $1
  i32.store offset=4
  local.get $3
  local.tee $1
  local.get $0
  i32.load offset=8
  local.tee $2
  i32.ne
  if
   local.get $1
   call $~lib/rt/pure/__retain
   local.set $1
   local.get $2
   call $~lib/rt/pure/__release
  end
  local.get $0
  local.get $1
  i32.store offset=8
  local.get $0
  local.get $7
  i32.store offset=12
  local.get $0
  local.get $0
  i32.load offset=20
  i32.store offset=16
  local.get $6
  call $~lib/rt/pure/__release
  local.get $3
  call $~lib/rt/pure/__release
 )
 (func $~lib/map/Map<~lib/string/String,%28u32%29=>~lib/@solo-io/proxy-runtime/runtime/RootContext>#set (param $0 i32) (result i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  i32.const 1840
  call $~lib/rt/pure/__retain
  local.set $3
  i32.const 1808
  call $~lib/rt/pure/__retain
  local.set $4
  local.get $3
  call $~lib/rt/pure/__retain
  local.tee $1
  call $~lib/util/hash/hashStr
  local.set $2
  local.get $1
  call $~lib/rt/pure/__release
  local.get $0
  local.get $3
  local.get $2
  call $~lib/map/Map<~lib/string/String,%28u32%29=>~lib/@solo-io/proxy-runtime/runtime/RootContext>#find
  local.tee $1
  if
   local.get $4
   local.get $1
   i32.load offset=4
   local.tee $2
   i32.ne
   if
    local.get $1
    local.get $4
    call $~lib/rt/pure/__retain
    i32.store offset=4
    local.get $2
    call $~lib/rt/pure/__release
   end
  else
   local.get $0
   i32.load offset=16
   local.get $0
   i32.load offset=12
   i32.eq
   if
    local.get $0
    local.get $0
    i32.load offset=20
    local.get $0
    i32.load offset=12
    i32.const 3
    i32.mul
    i32.const 4
    i32.div_s
    i32.lt_s
    if (result i32)
     local.get $0
     i32.load offset=4
    else
     local.get $0
     i32.load offset=4
     i32.const 1
     i32.shl
     i32.const 1
     i32.or
    end
    call $~lib/map/Map<~lib/string/String,%28u32%29=>~lib/@solo-io/proxy-runtime/runtime/RootContext>#rehash
   end
   local.get $0
   i32.load offset=8
   call $~lib/rt/pure/__retain
   local.set $5
   local.get $0
   local.get $0
   i32.load offset=16
   local.tee $1
   i32.const 1
   i32.add
   i32.store offset=16
   local.get $5
   local.get $1
   i32.const 12
   i32.mul
   i32.add
   local.tee $1
   local.get $3
   call $~lib/rt/pure/__retain
   i32.store
   local.get $1
   local.get $4
   call $~lib/rt/pure/__retain
   i32.store offset=4
   local.get $0
   local.get $0
   i32.load offset=20
   i32.const 1
   i32.add
   i32.store offset=20
   local.get $1
   local.get $0
   i32.load
   local.get $2
   local.get $0
   i32.load offset=4
   i32.and
   i32.const 2
   i32.shl
   i32.add
   local.tee $2
   i32.load
   i32.store offset=8
   local.get $2
   local.get $1
   i32.store
   local.get $5
   call $~lib/rt/pure/__release
  end
  local.get $0
  call $~lib/rt/pure/__retain
  local.get $3
  call $~lib/rt/pure/__release
  local.get $4
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/malloc/malloc (param $0 i32) (result i32)
  (local $1 i32)
  local.get $0
  call $~lib/arraybuffer/ArrayBuffer#constructor
  local.tee $0
  call $~lib/rt/pure/__retain
  local.get $0
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/malloc/free (param $0 i32)
  local.get $0
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/exports/proxy_abi_version_0_2_0
  nop
 )
 (func $~lib/util/hash/hash32 (param $0 i32) (result i32)
  local.get $0
  i32.const 255
  i32.and
  i32.const -2128831035
  i32.xor
  i32.const 16777619
  i32.mul
  local.get $0
  i32.const 8
  i32.shr_u
  i32.const 255
  i32.and
  i32.xor
  i32.const 16777619
  i32.mul
  local.get $0
  i32.const 16
  i32.shr_u
  i32.const 255
  i32.and
  i32.xor
  i32.const 16777619
  i32.mul
  local.get $0
  i32.const 24
  i32.shr_u
  i32.xor
  i32.const 16777619
  i32.mul
 )
 (func $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#find (param $0 i32) (param $1 i32) (param $2 i32) (result i32)
  local.get $0
  i32.load
  local.get $2
  local.get $0
  i32.load offset=4
  i32.and
  i32.const 2
  i32.shl
  i32.add
  i32.load
  local.set $0
  loop $while-continue|0
   local.get $0
   if
    local.get $0
    i32.load offset=8
    i32.const 1
    i32.and
    if (result i32)
     i32.const 0
    else
     local.get $1
     local.get $0
     i32.load
     i32.eq
    end
    if
     local.get $0
     return
    end
    local.get $0
    i32.load offset=8
    i32.const -2
    i32.and
    local.set $0
    br $while-continue|0
   end
  end
  i32.const 0
 )
 (func $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#get (param $0 i32) (param $1 i32) (result i32)
  local.get $0
  local.get $1
  local.get $1
  call $~lib/util/hash/hash32
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#find
  local.tee $0
  i32.eqz
  if
   i32.const 1888
   i32.const 1952
   i32.const 104
   i32.const 17
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $0
  i32.load offset=4
  call $~lib/rt/pure/__retain
 )
 (func $~lib/rt/__instanceof (param $0 i32) (param $1 i32) (result i32)
  local.get $0
  i32.const 16
  i32.sub
  i32.load offset=8
  local.tee $0
  i32.const 6368
  i32.load
  i32.le_u
  if
   loop $do-continue|0
    local.get $0
    local.get $1
    i32.eq
    if
     i32.const 1
     return
    end
    local.get $0
    i32.const 3
    i32.shl
    i32.const 6372
    i32.add
    i32.load offset=4
    local.tee $0
    br_if $do-continue|0
   end
  end
  i32.const 0
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/getRootContext (param $0 i32) (result i32)
  global.get $~lib/@solo-io/proxy-runtime/runtime/context_map
  local.get $0
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#get
  local.tee $0
  i32.const 10
  call $~lib/rt/__instanceof
  i32.eqz
  if
   i32.const 2000
   i32.const 2064
   i32.const 1022
   i32.const 10
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $0
  call $~lib/rt/pure/__retain
 )
 (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_vm_start (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  i32.const 1
  i32.const 2160
  local.get $0
  call $~lib/@solo-io/proxy-runtime/runtime/getRootContext
  local.tee $0
  i32.load
  call $~lib/util/number/utoa32
  local.tee $2
  call $~lib/string/String.__concat
  local.tee $3
  i32.const 2208
  call $~lib/string/String.__concat
  local.tee $4
  local.get $1
  call $~lib/util/number/utoa32
  local.tee $1
  call $~lib/string/String.__concat
  local.tee $5
  i32.const 1664
  call $~lib/string/String.__concat
  local.tee $6
  call $~lib/@solo-io/proxy-runtime/runtime/log
  local.get $2
  call $~lib/rt/pure/__release
  local.get $3
  call $~lib/rt/pure/__release
  local.get $4
  call $~lib/rt/pure/__release
  local.get $1
  call $~lib/rt/pure/__release
  local.get $5
  call $~lib/rt/pure/__release
  local.get $6
  call $~lib/rt/pure/__release
  local.get $0
  call $~lib/rt/pure/__release
  i32.const 1
 )
 (func $~lib/@solo-io/proxy-runtime/exports/proxy_validate_configuration (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  i32.const 1
  i32.const 2160
  local.get $0
  call $~lib/@solo-io/proxy-runtime/runtime/getRootContext
  local.tee $0
  i32.load
  call $~lib/util/number/utoa32
  local.tee $2
  call $~lib/string/String.__concat
  local.tee $3
  i32.const 2288
  call $~lib/string/String.__concat
  local.tee $4
  local.get $1
  call $~lib/util/number/utoa32
  local.tee $1
  call $~lib/string/String.__concat
  local.tee $5
  i32.const 1664
  call $~lib/string/String.__concat
  local.tee $6
  call $~lib/@solo-io/proxy-runtime/runtime/log
  local.get $2
  call $~lib/rt/pure/__release
  local.get $3
  call $~lib/rt/pure/__release
  local.get $4
  call $~lib/rt/pure/__release
  local.get $1
  call $~lib/rt/pure/__release
  local.get $5
  call $~lib/rt/pure/__release
  local.get $6
  call $~lib/rt/pure/__release
  local.get $0
  call $~lib/rt/pure/__release
  i32.const 1
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/CHECK_RESULT (param $0 i32)
  local.get $0
  if
   i32.const 5
   local.get $0
   call $~lib/util/number/utoa32
   call $~lib/@solo-io/proxy-runtime/runtime/log
   i32.const 2496
   i32.const 2064
   i32.const 28
   i32.const 5
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/ArrayBufferReference#toArrayBuffer (param $0 i32) (result i32)
  (local $1 i32)
  local.get $0
  i32.load offset=4
  i32.eqz
  if
   i32.const 0
   call $~lib/arraybuffer/ArrayBuffer#constructor
   return
  end
  local.get $0
  i32.load
  call $~lib/rt/pure/__retain
  local.get $0
  i32.load
  call $~lib/rt/pure/__release
 )
 (func $~lib/rt/tlsf/freeBlock (param $0 i32) (param $1 i32)
  local.get $1
  local.get $1
  i32.load
  i32.const 1
  i32.or
  i32.store
  local.get $0
  local.get $1
  call $~lib/rt/tlsf/insertBlock
 )
 (func $~lib/rt/tlsf/reallocateBlock (param $0 i32) (param $1 i32) (param $2 i32) (result i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  local.get $2
  call $~lib/rt/tlsf/prepareSize
  local.tee $3
  local.get $1
  i32.load
  local.tee $5
  i32.const -4
  i32.and
  i32.le_u
  if
   local.get $0
   local.get $1
   local.get $3
   call $~lib/rt/tlsf/prepareBlock
   local.get $1
   local.get $2
   i32.store offset=12
   local.get $1
   return
  end
  local.get $1
  i32.const 16
  i32.add
  local.get $1
  i32.load
  i32.const -4
  i32.and
  i32.add
  local.tee $6
  i32.load
  local.tee $4
  i32.const 1
  i32.and
  if
   local.get $5
   i32.const -4
   i32.and
   i32.const 16
   i32.add
   local.get $4
   i32.const -4
   i32.and
   i32.add
   local.tee $4
   local.get $3
   i32.ge_u
   if
    local.get $0
    local.get $6
    call $~lib/rt/tlsf/removeBlock
    local.get $1
    local.get $4
    local.get $5
    i32.const 3
    i32.and
    i32.or
    i32.store
    local.get $1
    local.get $2
    i32.store offset=12
    local.get $0
    local.get $1
    local.get $3
    call $~lib/rt/tlsf/prepareBlock
    local.get $1
    return
   end
  end
  local.get $0
  local.get $2
  local.get $1
  i32.load offset=8
  call $~lib/rt/tlsf/allocateBlock
  local.tee $3
  local.get $1
  i32.load offset=4
  i32.store offset=4
  local.get $3
  i32.const 16
  i32.add
  local.get $1
  i32.const 16
  i32.add
  local.get $2
  call $~lib/memory/memory.copy
  local.get $1
  i32.const 6620
  i32.ge_u
  if
   local.get $0
   local.get $1
   call $~lib/rt/tlsf/freeBlock
  end
  local.get $3
 )
 (func $~lib/rt/tlsf/__realloc (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  call $~lib/rt/tlsf/maybeInitialize
  local.get $0
  i32.const 16
  i32.sub
  local.set $2
  local.get $0
  i32.const 15
  i32.and
  i32.eqz
  i32.const 0
  local.get $0
  select
  if (result i32)
   local.get $2
   i32.load
   i32.const 1
   i32.and
   i32.eqz
  else
   i32.const 0
  end
  if (result i32)
   local.get $2
   i32.load offset=4
   i32.const -268435456
   i32.and
   i32.eqz
  else
   i32.const 0
  end
  i32.eqz
  if
   i32.const 0
   i32.const 1696
   i32.const 580
   i32.const 3
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $2
  local.get $1
  call $~lib/rt/tlsf/reallocateBlock
  i32.const 16
  i32.add
 )
 (func $~lib/string/String.UTF8.decodeUnsafe (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  local.get $0
  local.get $1
  i32.add
  local.tee $3
  local.get $0
  i32.lt_u
  if
   i32.const 0
   i32.const 2528
   i32.const 738
   i32.const 7
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $1
  i32.const 1
  i32.shl
  i32.const 1
  call $~lib/rt/tlsf/__alloc
  local.tee $5
  local.set $1
  loop $while-continue|0
   local.get $0
   local.get $3
   i32.lt_u
   if
    block $while-break|0
     local.get $0
     i32.load8_u
     local.set $2
     local.get $0
     i32.const 1
     i32.add
     local.set $0
     local.get $2
     i32.const 128
     i32.and
     if
      local.get $0
      local.get $3
      i32.eq
      br_if $while-break|0
      local.get $0
      i32.load8_u
      i32.const 63
      i32.and
      local.set $4
      local.get $0
      i32.const 1
      i32.add
      local.set $0
      local.get $2
      i32.const 224
      i32.and
      i32.const 192
      i32.eq
      if
       local.get $1
       local.get $4
       local.get $2
       i32.const 31
       i32.and
       i32.const 6
       i32.shl
       i32.or
       i32.store16
      else
       local.get $0
       local.get $3
       i32.eq
       br_if $while-break|0
       local.get $0
       i32.load8_u
       i32.const 63
       i32.and
       local.set $6
       local.get $0
       i32.const 1
       i32.add
       local.set $0
       local.get $2
       i32.const 240
       i32.and
       i32.const 224
       i32.eq
       if
        local.get $6
        local.get $2
        i32.const 15
        i32.and
        i32.const 12
        i32.shl
        local.get $4
        i32.const 6
        i32.shl
        i32.or
        i32.or
        local.set $2
       else
        local.get $0
        local.get $3
        i32.eq
        br_if $while-break|0
        local.get $0
        i32.load8_u
        i32.const 63
        i32.and
        local.get $2
        i32.const 7
        i32.and
        i32.const 18
        i32.shl
        local.get $4
        i32.const 12
        i32.shl
        i32.or
        local.get $6
        i32.const 6
        i32.shl
        i32.or
        i32.or
        local.set $2
        local.get $0
        i32.const 1
        i32.add
        local.set $0
       end
       local.get $2
       i32.const 65536
       i32.lt_u
       if
        local.get $1
        local.get $2
        i32.store16
       else
        local.get $1
        local.get $2
        i32.const 65536
        i32.sub
        local.tee $2
        i32.const 10
        i32.shr_u
        i32.const 55296
        i32.or
        local.get $2
        i32.const 1023
        i32.and
        i32.const 56320
        i32.or
        i32.const 16
        i32.shl
        i32.or
        i32.store
        local.get $1
        i32.const 2
        i32.add
        local.set $1
       end
      end
     else
      local.get $1
      local.get $2
      i32.store16
     end
     local.get $1
     i32.const 2
     i32.add
     local.set $1
     br $while-continue|0
    end
   end
  end
  local.get $5
  local.get $1
  local.get $5
  i32.sub
  call $~lib/rt/tlsf/__realloc
  call $~lib/rt/pure/__retain
 )
 (func $~lib/string/String.UTF8.decode (param $0 i32) (result i32)
  (local $1 i32)
  local.get $0
  call $~lib/rt/pure/__retain
  local.tee $0
  i32.const 16
  i32.sub
  i32.load offset=12
  local.set $1
  local.get $0
  local.get $1
  call $~lib/string/String.UTF8.decodeUnsafe
  local.get $0
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/RootContext#onConfigure (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  i32.const 1
  i32.const 2160
  local.get $0
  i32.load
  call $~lib/util/number/utoa32
  local.tee $3
  call $~lib/string/String.__concat
  local.tee $4
  i32.const 2400
  call $~lib/string/String.__concat
  local.tee $5
  local.get $1
  call $~lib/util/number/utoa32
  local.tee $6
  call $~lib/string/String.__concat
  local.tee $7
  i32.const 1664
  call $~lib/string/String.__concat
  local.tee $8
  call $~lib/@solo-io/proxy-runtime/runtime/log
  i32.const 7
  i32.const 0
  local.get $1
  global.get $~lib/@solo-io/proxy-runtime/runtime/globalArrayBufferReference
  local.get $1
  call $~lib/@solo-io/proxy-runtime/imports/proxy_get_buffer_bytes
  call $~lib/@solo-io/proxy-runtime/runtime/CHECK_RESULT
  global.get $~lib/@solo-io/proxy-runtime/runtime/globalArrayBufferReference
  call $~lib/@solo-io/proxy-runtime/runtime/ArrayBufferReference#toArrayBuffer
  local.tee $1
  call $~lib/string/String.UTF8.decode
  local.set $2
  local.get $0
  i32.load offset=4
  call $~lib/rt/pure/__release
  local.get $0
  local.get $2
  i32.store offset=4
  i32.const 1
  i32.const 2160
  local.get $0
  i32.load
  call $~lib/util/number/utoa32
  local.tee $2
  call $~lib/string/String.__concat
  local.tee $9
  i32.const 2576
  call $~lib/string/String.__concat
  local.tee $10
  local.get $0
  i32.load offset=4
  call $~lib/string/String.__concat
  local.tee $0
  call $~lib/@solo-io/proxy-runtime/runtime/log
  local.get $3
  call $~lib/rt/pure/__release
  local.get $4
  call $~lib/rt/pure/__release
  local.get $5
  call $~lib/rt/pure/__release
  local.get $6
  call $~lib/rt/pure/__release
  local.get $7
  call $~lib/rt/pure/__release
  local.get $8
  call $~lib/rt/pure/__release
  local.get $1
  call $~lib/rt/pure/__release
  local.get $2
  call $~lib/rt/pure/__release
  local.get $9
  call $~lib/rt/pure/__release
  local.get $10
  call $~lib/rt/pure/__release
  local.get $0
  call $~lib/rt/pure/__release
  i32.const 1
 )
 (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_configure (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  block $__inlined_func$~lib/@solo-io/proxy-runtime/runtime/RootContext#onConfigure@virtual (result i32)
   i32.const 1
   local.get $0
   call $~lib/@solo-io/proxy-runtime/runtime/getRootContext
   local.tee $2
   local.tee $0
   i32.const 8
   i32.sub
   i32.load
   i32.const 20
   i32.eq
   br_if $__inlined_func$~lib/@solo-io/proxy-runtime/runtime/RootContext#onConfigure@virtual
   drop
   local.get $0
   local.get $1
   call $~lib/@solo-io/proxy-runtime/runtime/RootContext#onConfigure
  end
  if (result i32)
   i32.const 1
  else
   i32.const 0
  end
  local.get $2
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_tick (param $0 i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  i32.const 1
  i32.const 2160
  local.get $0
  call $~lib/@solo-io/proxy-runtime/runtime/getRootContext
  local.tee $0
  i32.load
  call $~lib/util/number/utoa32
  local.tee $1
  call $~lib/string/String.__concat
  local.tee $2
  i32.const 2656
  call $~lib/string/String.__concat
  local.tee $3
  call $~lib/@solo-io/proxy-runtime/runtime/log
  local.get $1
  call $~lib/rt/pure/__release
  local.get $2
  call $~lib/rt/pure/__release
  local.get $3
  call $~lib/rt/pure/__release
  local.get $0
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_foreign_function (param $0 i32) (param $1 i32) (param $2 i32)
  nop
 )
 (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_queue_ready (param $0 i32) (param $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  i32.const 1
  i32.const 2160
  local.get $0
  call $~lib/@solo-io/proxy-runtime/runtime/getRootContext
  local.tee $0
  i32.load
  call $~lib/util/number/utoa32
  local.tee $2
  call $~lib/string/String.__concat
  local.tee $3
  i32.const 2704
  call $~lib/string/String.__concat
  local.tee $4
  local.get $1
  call $~lib/util/number/utoa32
  local.tee $1
  call $~lib/string/String.__concat
  local.tee $5
  i32.const 1664
  call $~lib/string/String.__concat
  local.tee $6
  call $~lib/@solo-io/proxy-runtime/runtime/log
  local.get $2
  call $~lib/rt/pure/__release
  local.get $3
  call $~lib/rt/pure/__release
  local.get $4
  call $~lib/rt/pure/__release
  local.get $1
  call $~lib/rt/pure/__release
  local.get $5
  call $~lib/rt/pure/__release
  local.get $6
  call $~lib/rt/pure/__release
  local.get $0
  call $~lib/rt/pure/__release
 )
 (func $~lib/array/ensureSize (param $0 i32) (param $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  local.get $1
  local.get $0
  i32.load offset=8
  local.tee $2
  i32.const 2
  i32.shr_u
  i32.gt_u
  if
   local.get $1
   i32.const 268435452
   i32.gt_u
   if
    i32.const 1104
    i32.const 2976
    i32.const 14
    i32.const 48
    call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
    unreachable
   end
   local.get $2
   local.get $0
   i32.load
   local.tee $4
   local.get $1
   i32.const 2
   i32.shl
   local.tee $3
   call $~lib/rt/tlsf/__realloc
   local.tee $1
   i32.add
   local.get $3
   local.get $2
   i32.sub
   call $~lib/memory/memory.fill
   local.get $1
   local.get $4
   i32.ne
   if
    local.get $0
    local.get $1
    i32.store
    local.get $0
    local.get $1
    i32.store offset=4
   end
   local.get $0
   local.get $3
   i32.store offset=8
  end
 )
 (func $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#keys (param $0 i32) (result i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  local.get $0
  i32.load offset=8
  local.set $8
  local.get $0
  i32.load offset=16
  local.tee $5
  local.set $6
  i32.const 16
  i32.const 22
  call $~lib/rt/tlsf/__alloc
  call $~lib/rt/pure/__retain
  local.tee $0
  i32.const 0
  i32.store
  local.get $0
  i32.const 0
  i32.store offset=4
  local.get $0
  i32.const 0
  i32.store offset=8
  local.get $0
  i32.const 0
  i32.store offset=12
  local.get $5
  i32.const 268435452
  i32.gt_u
  if
   i32.const 1104
   i32.const 2976
   i32.const 57
   i32.const 60
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $6
  i32.const 2
  i32.shl
  local.tee $7
  i32.const 0
  call $~lib/rt/tlsf/__alloc
  local.tee $2
  local.get $7
  call $~lib/memory/memory.fill
  local.get $2
  local.set $3
  local.get $2
  local.get $0
  i32.load
  local.tee $9
  i32.ne
  if
   local.get $3
   call $~lib/rt/pure/__retain
   local.set $3
   local.get $9
   call $~lib/rt/pure/__release
  end
  local.get $0
  local.get $3
  i32.store
  local.get $0
  local.get $2
  i32.store offset=4
  local.get $0
  local.get $7
  i32.store offset=8
  local.get $0
  local.get $6
  i32.store offset=12
  loop $for-loop|0
   local.get $4
   local.get $5
   i32.lt_s
   if
    local.get $8
    local.get $4
    i32.const 12
    i32.mul
    i32.add
    local.tee $2
    i32.load offset=8
    i32.const 1
    i32.and
    i32.eqz
    if
     local.get $2
     i32.load
     local.set $2
     local.get $1
     local.get $0
     i32.load offset=12
     i32.ge_u
     if
      local.get $1
      i32.const 0
      i32.lt_s
      if
       i32.const 3024
       i32.const 2976
       i32.const 120
       i32.const 22
       call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
       unreachable
      end
      local.get $0
      local.get $1
      i32.const 1
      i32.add
      local.tee $3
      call $~lib/array/ensureSize
      local.get $0
      local.get $3
      i32.store offset=12
     end
     local.get $0
     i32.load offset=4
     local.get $1
     i32.const 2
     i32.shl
     i32.add
     local.get $2
     i32.store
     local.get $1
     i32.const 1
     i32.add
     local.set $1
    end
    local.get $4
    i32.const 1
    i32.add
    local.set $4
    br $for-loop|0
   end
  end
  local.get $0
  i32.load offset=12
  drop
  local.get $0
  local.get $1
  call $~lib/array/ensureSize
  local.get $0
  local.get $1
  i32.store offset=12
  local.get $0
 )
 (func $~lib/util/number/itoa_buffered<u32> (param $0 i32) (param $1 i32) (result i32)
  local.get $1
  i32.const 10
  i32.lt_u
  if
   local.get $0
   local.get $1
   i32.const 48
   i32.or
   i32.store16
   i32.const 1
   return
  end
  local.get $0
  local.get $1
  local.get $1
  call $~lib/util/number/decimalCount32
  local.tee $0
  call $~lib/util/number/utoa_dec_simple<u32>
  local.get $0
 )
 (func $~lib/string/String#substring (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  i32.const 0
  local.get $0
  call $~lib/string/String#get:length
  local.tee $2
  i32.const 0
  local.get $2
  i32.lt_s
  select
  local.tee $3
  local.get $1
  i32.const 0
  local.get $1
  i32.const 0
  i32.gt_s
  select
  local.tee $1
  local.get $2
  local.get $1
  local.get $2
  i32.lt_s
  select
  local.tee $1
  local.get $3
  local.get $1
  i32.gt_s
  select
  i32.const 1
  i32.shl
  local.tee $4
  local.get $3
  local.get $1
  local.get $3
  local.get $1
  i32.lt_s
  select
  i32.const 1
  i32.shl
  local.tee $1
  i32.sub
  local.tee $3
  i32.eqz
  if
   i32.const 1088
   return
  end
  i32.const 0
  local.get $4
  local.get $2
  i32.const 1
  i32.shl
  i32.eq
  local.get $1
  select
  if
   local.get $0
   call $~lib/rt/pure/__retain
   return
  end
  local.get $3
  i32.const 1
  call $~lib/rt/tlsf/__alloc
  local.tee $2
  local.get $0
  local.get $1
  i32.add
  local.get $3
  call $~lib/memory/memory.copy
  local.get $2
  call $~lib/rt/pure/__retain
 )
 (func $~lib/util/string/joinIntegerArray<u32> (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  i32.const 3088
  call $~lib/rt/pure/__retain
  local.set $3
  local.get $1
  i32.const 1
  i32.sub
  local.tee $4
  i32.const 0
  i32.lt_s
  if
   local.get $3
   call $~lib/rt/pure/__release
   i32.const 1088
   return
  end
  local.get $4
  i32.eqz
  if
   local.get $0
   i32.load
   call $~lib/util/number/utoa32
   local.get $3
   call $~lib/rt/pure/__release
   return
  end
  local.get $4
  local.get $3
  call $~lib/string/String#get:length
  local.tee $5
  i32.const 10
  i32.add
  i32.mul
  i32.const 10
  i32.add
  local.tee $7
  i32.const 1
  i32.shl
  i32.const 1
  call $~lib/rt/tlsf/__alloc
  call $~lib/rt/pure/__retain
  local.set $1
  loop $for-loop|0
   local.get $6
   local.get $4
   i32.lt_s
   if
    local.get $1
    local.get $2
    i32.const 1
    i32.shl
    i32.add
    local.get $0
    local.get $6
    i32.const 2
    i32.shl
    i32.add
    i32.load
    call $~lib/util/number/itoa_buffered<u32>
    local.get $2
    i32.add
    local.set $2
    local.get $5
    if
     local.get $1
     local.get $2
     i32.const 1
     i32.shl
     i32.add
     local.get $3
     local.get $5
     i32.const 1
     i32.shl
     call $~lib/memory/memory.copy
     local.get $2
     local.get $5
     i32.add
     local.set $2
    end
    local.get $6
    i32.const 1
    i32.add
    local.set $6
    br $for-loop|0
   end
  end
  local.get $7
  local.get $1
  local.get $2
  i32.const 1
  i32.shl
  i32.add
  local.get $0
  local.get $4
  i32.const 2
  i32.shl
  i32.add
  i32.load
  call $~lib/util/number/itoa_buffered<u32>
  local.get $2
  i32.add
  local.tee $0
  i32.gt_s
  if
   local.get $1
   local.get $0
   call $~lib/string/String#substring
   local.get $3
   call $~lib/rt/pure/__release
   local.get $1
   call $~lib/rt/pure/__release
   return
  end
  local.get $3
  call $~lib/rt/pure/__release
  local.get $1
 )
 (func $~lib/array/Array<u32>#join (param $0 i32) (result i32)
  local.get $0
  i32.load offset=4
  local.get $0
  i32.load offset=12
  call $~lib/util/string/joinIntegerArray<u32>
  i32.const 3088
  call $~lib/rt/pure/__release
 )
 (func $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#has (param $0 i32) (param $1 i32) (result i32)
  local.get $0
  local.get $1
  local.get $1
  call $~lib/util/hash/hash32
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#find
  i32.const 0
  i32.ne
 )
 (func $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#rehash (param $0 i32) (param $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  local.get $1
  i32.const 1
  i32.add
  local.tee $3
  i32.const 2
  i32.shl
  call $~lib/arraybuffer/ArrayBuffer#constructor
  local.set $4
  local.get $3
  i32.const 3
  i32.shl
  i32.const 3
  i32.div_s
  local.tee $8
  i32.const 12
  i32.mul
  call $~lib/arraybuffer/ArrayBuffer#constructor
  local.set $3
  local.get $0
  i32.load offset=8
  local.tee $6
  local.get $0
  i32.load offset=16
  i32.const 12
  i32.mul
  i32.add
  local.set $7
  local.get $3
  local.set $2
  loop $while-continue|0
   local.get $6
   local.get $7
   i32.ne
   if
    local.get $6
    local.set $5
    local.get $6
    i32.load offset=8
    i32.const 1
    i32.and
    i32.eqz
    if
     local.get $2
     local.get $5
     i32.load
     i32.store
     local.get $2
     local.get $5
     i32.load offset=4
     i32.store offset=4
     local.get $2
     local.get $4
     local.get $5
     i32.load
     call $~lib/util/hash/hash32
     local.get $1
     i32.and
     i32.const 2
     i32.shl
     i32.add
     local.tee $5
     i32.load
     i32.store offset=8
     local.get $5
     local.get $2
     i32.store
     local.get $2
     i32.const 12
     i32.add
     local.set $2
    end
    local.get $6
    i32.const 12
    i32.add
    local.set $6
    br $while-continue|0
   end
  end
  local.get $4
  local.tee $2
  local.get $0
  i32.load
  local.tee $6
  i32.ne
  if
   local.get $2
   call $~lib/rt/pure/__retain
   local.set $2
   local.get $6
   call $~lib/rt/pure/__release
  end
  local.get $0
  local.get $2
  i32.store
  local.get $0
  local.get $1
  i32.store offset=4
  local.get $3
  local.tee $1
  local.get $0
  i32.load offset=8
  local.tee $2
  i32.ne
  if
   local.get $1
   call $~lib/rt/pure/__retain
   local.set $1
   local.get $2
   call $~lib/rt/pure/__release
  end
  local.get $0
  local.get $1
  i32.store offset=8
  local.get $0
  local.get $8
  i32.store offset=12
  local.get $0
  local.get $0
  i32.load offset=20
  i32.store offset=16
  local.get $4
  call $~lib/rt/pure/__release
  local.get $3
  call $~lib/rt/pure/__release
 )
 (func $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#set (param $0 i32) (param $1 i32) (param $2 i32) (result i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  local.get $2
  call $~lib/rt/pure/__retain
  local.set $3
  local.get $0
  local.get $1
  local.get $1
  call $~lib/util/hash/hash32
  local.tee $5
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#find
  local.tee $2
  if
   local.get $3
   local.get $2
   i32.load offset=4
   local.tee $1
   i32.ne
   if
    local.get $2
    local.get $3
    call $~lib/rt/pure/__retain
    i32.store offset=4
    local.get $1
    call $~lib/rt/pure/__release
   end
  else
   local.get $0
   i32.load offset=16
   local.get $0
   i32.load offset=12
   i32.eq
   if
    local.get $0
    local.get $0
    i32.load offset=20
    local.get $0
    i32.load offset=12
    i32.const 3
    i32.mul
    i32.const 4
    i32.div_s
    i32.lt_s
    if (result i32)
     local.get $0
     i32.load offset=4
    else
     local.get $0
     i32.load offset=4
     i32.const 1
     i32.shl
     i32.const 1
     i32.or
    end
    call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#rehash
   end
   local.get $0
   i32.load offset=8
   call $~lib/rt/pure/__retain
   local.set $4
   local.get $0
   local.get $0
   i32.load offset=16
   local.tee $2
   i32.const 1
   i32.add
   i32.store offset=16
   local.get $4
   local.get $2
   i32.const 12
   i32.mul
   i32.add
   local.tee $2
   local.get $1
   i32.store
   local.get $2
   local.get $3
   call $~lib/rt/pure/__retain
   i32.store offset=4
   local.get $0
   local.get $0
   i32.load offset=20
   i32.const 1
   i32.add
   i32.store offset=20
   local.get $2
   local.get $0
   i32.load
   local.get $5
   local.get $0
   i32.load offset=4
   i32.and
   i32.const 2
   i32.shl
   i32.add
   local.tee $1
   i32.load
   i32.store offset=8
   local.get $1
   local.get $2
   i32.store
   local.get $4
   call $~lib/rt/pure/__release
  end
  local.get $0
  call $~lib/rt/pure/__retain
  local.get $3
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/ensureRootContext (param $0 i32) (result i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  (local $11 i32)
  (local $12 i32)
  (local $13 i32)
  (local $14 i32)
  (local $15 i32)
  i32.const 1
  i32.const 3120
  local.get $0
  call $~lib/util/number/utoa32
  local.tee $6
  call $~lib/string/String.__concat
  local.tee $7
  i32.const 1664
  call $~lib/string/String.__concat
  local.tee $8
  call $~lib/@solo-io/proxy-runtime/runtime/log
  i32.const 1
  i32.const 2912
  global.get $~lib/@solo-io/proxy-runtime/runtime/context_map
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#keys
  local.tee $9
  call $~lib/array/Array<u32>#join
  local.tee $10
  call $~lib/string/String.__concat
  local.tee $11
  call $~lib/@solo-io/proxy-runtime/runtime/log
  global.get $~lib/@solo-io/proxy-runtime/runtime/context_map
  local.get $0
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#has
  if
   i32.const 1
   i32.const 3216
   local.get $0
   call $~lib/util/number/utoa32
   local.tee $3
   call $~lib/string/String.__concat
   local.tee $1
   call $~lib/@solo-io/proxy-runtime/runtime/log
   local.get $0
   call $~lib/@solo-io/proxy-runtime/runtime/getRootContext
   local.get $3
   call $~lib/rt/pure/__release
   local.get $1
   call $~lib/rt/pure/__release
   local.get $6
   call $~lib/rt/pure/__release
   local.get $7
   call $~lib/rt/pure/__release
   local.get $8
   call $~lib/rt/pure/__release
   local.get $9
   call $~lib/rt/pure/__release
   local.get $10
   call $~lib/rt/pure/__release
   local.get $11
   call $~lib/rt/pure/__release
   return
  end
  i32.const 3296
  call $~lib/string/String.UTF8.encode
  local.tee $3
  i32.const 16
  i32.sub
  i32.load offset=12
  local.set $1
  local.get $3
  local.get $1
  global.get $~lib/@solo-io/proxy-runtime/runtime/globalArrayBufferReference
  global.get $~lib/@solo-io/proxy-runtime/runtime/globalArrayBufferReference
  i32.const 4
  i32.add
  call $~lib/@solo-io/proxy-runtime/imports/proxy_get_property
  call $~lib/@solo-io/proxy-runtime/runtime/CHECK_RESULT
  global.get $~lib/@solo-io/proxy-runtime/runtime/globalArrayBufferReference
  call $~lib/@solo-io/proxy-runtime/runtime/ArrayBufferReference#toArrayBuffer
  local.set $1
  local.get $3
  call $~lib/rt/pure/__release
  i32.const 3296
  call $~lib/rt/pure/__release
  block $__inlined_func$~lib/@solo-io/proxy-runtime/runtime/get_plugin_root_id
   local.get $1
   i32.const 16
   i32.sub
   i32.load offset=12
   i32.eqz
   if
    local.get $1
    call $~lib/rt/pure/__release
    i32.const 1088
    local.set $3
    br $__inlined_func$~lib/@solo-io/proxy-runtime/runtime/get_plugin_root_id
   end
   local.get $1
   call $~lib/string/String.UTF8.decode
   local.set $3
   local.get $1
   call $~lib/rt/pure/__release
  end
  i32.const 1
  i32.const 3344
  local.get $3
  call $~lib/string/String.__concat
  local.tee $12
  i32.const 3440
  call $~lib/string/String.__concat
  local.tee $13
  local.get $0
  call $~lib/util/number/utoa32
  local.tee $14
  call $~lib/string/String.__concat
  local.tee $15
  call $~lib/@solo-io/proxy-runtime/runtime/log
  global.get $~lib/@solo-io/proxy-runtime/runtime/root_context_factory_map
  local.get $3
  call $~lib/rt/pure/__retain
  local.tee $1
  call $~lib/rt/pure/__retain
  local.tee $4
  call $~lib/util/hash/hashStr
  local.set $5
  local.get $4
  call $~lib/rt/pure/__release
  local.get $1
  local.get $5
  call $~lib/map/Map<~lib/string/String,%28u32%29=>~lib/@solo-io/proxy-runtime/runtime/RootContext>#find
  i32.const 0
  i32.ne
  local.get $1
  call $~lib/rt/pure/__release
  i32.eqz
  if
   i32.const 3488
   local.get $3
   call $~lib/string/String.__concat
   i32.const 2064
   i32.const 991
   i32.const 5
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  global.get $~lib/@solo-io/proxy-runtime/runtime/root_context_factory_map
  local.get $3
  call $~lib/rt/pure/__retain
  local.tee $1
  call $~lib/rt/pure/__retain
  local.tee $4
  call $~lib/util/hash/hashStr
  local.set $5
  local.get $4
  call $~lib/rt/pure/__release
  local.get $1
  local.get $5
  call $~lib/map/Map<~lib/string/String,%28u32%29=>~lib/@solo-io/proxy-runtime/runtime/RootContext>#find
  local.tee $2
  i32.eqz
  if
   i32.const 1888
   i32.const 1952
   i32.const 104
   i32.const 17
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $2
  i32.load offset=4
  call $~lib/rt/pure/__retain
  local.set $2
  local.get $1
  call $~lib/rt/pure/__release
  i32.const 1
  global.set $~argumentsLength
  local.get $0
  local.get $2
  i32.load
  call_indirect (type $i32_=>_i32)
  local.tee $4
  call $~lib/rt/pure/__retain
  local.tee $1
  local.get $0
  i32.store
  global.get $~lib/@solo-io/proxy-runtime/runtime/context_map
  local.get $0
  local.get $1
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#set
  call $~lib/rt/pure/__release
  local.get $6
  call $~lib/rt/pure/__release
  local.get $7
  call $~lib/rt/pure/__release
  local.get $8
  call $~lib/rt/pure/__release
  local.get $9
  call $~lib/rt/pure/__release
  local.get $10
  call $~lib/rt/pure/__release
  local.get $11
  call $~lib/rt/pure/__release
  local.get $3
  call $~lib/rt/pure/__release
  local.get $12
  call $~lib/rt/pure/__release
  local.get $13
  call $~lib/rt/pure/__release
  local.get $14
  call $~lib/rt/pure/__release
  local.get $15
  call $~lib/rt/pure/__release
  local.get $2
  call $~lib/rt/pure/__release
  local.get $4
  call $~lib/rt/pure/__release
  local.get $1
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/Context#constructor (param $0 i32) (param $1 i32) (param $2 i32) (result i32)
  (local $3 i32)
  local.get $0
  i32.eqz
  if
   i32.const 8
   i32.const 16
   call $~lib/rt/tlsf/__alloc
   call $~lib/rt/pure/__retain
   local.set $0
  end
  local.get $0
  i32.const 0
  i32.store offset=4
  local.get $2
  call $~lib/rt/pure/__retain
  local.tee $3
  local.tee $2
  local.get $0
  local.get $1
  call $~lib/@solo-io/proxy-runtime/runtime/BaseContext#constructor
  local.tee $0
  i32.load offset=4
  local.tee $1
  i32.ne
  if
   local.get $2
   call $~lib/rt/pure/__retain
   local.set $2
   local.get $1
   call $~lib/rt/pure/__release
  end
  local.get $0
  local.get $2
  i32.store offset=4
  local.get $3
  call $~lib/rt/pure/__release
  local.get $0
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/ensureContext (param $0 i32) (param $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  (local $11 i32)
  (local $12 i32)
  (local $13 i32)
  (local $14 i32)
  (local $15 i32)
  (local $16 i32)
  (local $17 i32)
  (local $18 i32)
  i32.const 1
  i32.const 2768
  local.get $0
  call $~lib/util/number/utoa32
  local.tee $5
  call $~lib/string/String.__concat
  local.tee $6
  i32.const 2848
  call $~lib/string/String.__concat
  local.tee $7
  local.get $1
  call $~lib/util/number/utoa32
  local.tee $8
  call $~lib/string/String.__concat
  local.tee $9
  i32.const 1664
  call $~lib/string/String.__concat
  local.tee $10
  call $~lib/@solo-io/proxy-runtime/runtime/log
  i32.const 1
  i32.const 2912
  global.get $~lib/@solo-io/proxy-runtime/runtime/context_map
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#keys
  local.tee $11
  call $~lib/array/Array<u32>#join
  local.tee $12
  call $~lib/string/String.__concat
  local.tee $13
  call $~lib/@solo-io/proxy-runtime/runtime/log
  local.get $1
  call $~lib/@solo-io/proxy-runtime/runtime/ensureRootContext
  local.set $2
  global.get $~lib/@solo-io/proxy-runtime/runtime/context_map
  local.get $0
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#has
  if
   i32.const 1
   i32.const 3600
   local.get $0
   call $~lib/util/number/utoa32
   local.tee $0
   call $~lib/string/String.__concat
   local.tee $1
   call $~lib/@solo-io/proxy-runtime/runtime/log
   local.get $0
   call $~lib/rt/pure/__release
   local.get $1
   call $~lib/rt/pure/__release
   local.get $5
   call $~lib/rt/pure/__release
   local.get $6
   call $~lib/rt/pure/__release
   local.get $7
   call $~lib/rt/pure/__release
   local.get $8
   call $~lib/rt/pure/__release
   local.get $9
   call $~lib/rt/pure/__release
   local.get $10
   call $~lib/rt/pure/__release
   local.get $11
   call $~lib/rt/pure/__release
   local.get $12
   call $~lib/rt/pure/__release
   local.get $13
   call $~lib/rt/pure/__release
   local.get $2
   call $~lib/rt/pure/__release
   return
  end
  local.get $0
  call $~lib/util/number/utoa32
  local.tee $3
  i32.const 3664
  local.get $3
  call $~lib/string/String.__concat
  local.tee $15
  i32.const 3776
  call $~lib/string/String.__concat
  local.set $3
  local.get $1
  call $~lib/util/number/utoa32
  local.tee $1
  local.set $16
  i32.const 1
  local.get $3
  local.get $1
  call $~lib/string/String.__concat
  local.tee $17
  call $~lib/@solo-io/proxy-runtime/runtime/log
  local.get $0
  local.set $1
  block $__inlined_func$~lib/@solo-io/proxy-runtime/runtime/RootContext#createContext@virtual
   local.get $2
   i32.const 8
   i32.sub
   i32.load
   i32.const 20
   i32.eq
   if
    i32.const 8
    i32.const 23
    call $~lib/rt/tlsf/__alloc
    call $~lib/rt/pure/__retain
    local.get $1
    local.get $2
    call $~lib/rt/pure/__retain
    local.tee $4
    call $~lib/@solo-io/proxy-runtime/runtime/Context#constructor
    local.set $0
    local.get $4
    call $~lib/rt/pure/__release
    br $__inlined_func$~lib/@solo-io/proxy-runtime/runtime/RootContext#createContext@virtual
   end
   i32.const 4
   i32.const 3840
   call $~lib/@solo-io/proxy-runtime/runtime/log
   i32.const 0
   local.get $1
   local.get $2
   call $~lib/@solo-io/proxy-runtime/runtime/Context#constructor
   local.set $0
  end
  global.get $~lib/@solo-io/proxy-runtime/runtime/context_map
  local.get $1
  local.get $0
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#set
  call $~lib/rt/pure/__release
  i32.const 1
  i32.const 3968
  global.get $~lib/@solo-io/proxy-runtime/runtime/context_map
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#keys
  local.tee $1
  call $~lib/array/Array<u32>#join
  local.tee $4
  call $~lib/string/String.__concat
  local.tee $18
  call $~lib/@solo-io/proxy-runtime/runtime/log
  local.get $5
  call $~lib/rt/pure/__release
  local.get $6
  call $~lib/rt/pure/__release
  local.get $7
  call $~lib/rt/pure/__release
  local.get $8
  call $~lib/rt/pure/__release
  local.get $9
  call $~lib/rt/pure/__release
  local.get $10
  call $~lib/rt/pure/__release
  local.get $11
  call $~lib/rt/pure/__release
  local.get $12
  call $~lib/rt/pure/__release
  local.get $13
  call $~lib/rt/pure/__release
  local.get $2
  call $~lib/rt/pure/__release
  call $~lib/rt/pure/__release
  local.get $15
  call $~lib/rt/pure/__release
  local.get $3
  call $~lib/rt/pure/__release
  local.get $16
  call $~lib/rt/pure/__release
  local.get $17
  call $~lib/rt/pure/__release
  local.get $0
  call $~lib/rt/pure/__release
  local.get $1
  call $~lib/rt/pure/__release
  local.get $4
  call $~lib/rt/pure/__release
  local.get $18
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_context_create (param $0 i32) (param $1 i32)
  local.get $1
  if
   local.get $0
   local.get $1
   call $~lib/@solo-io/proxy-runtime/runtime/ensureContext
  else
   local.get $0
   call $~lib/@solo-io/proxy-runtime/runtime/ensureRootContext
   call $~lib/rt/pure/__release
  end
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/getContext (param $0 i32) (result i32)
  global.get $~lib/@solo-io/proxy-runtime/runtime/context_map
  local.get $0
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#get
  local.tee $0
  i32.const 16
  call $~lib/rt/__instanceof
  i32.eqz
  if
   i32.const 2000
   i32.const 2064
   i32.const 1019
   i32.const 10
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $0
  call $~lib/rt/pure/__retain
 )
 (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_request_headers (param $0 i32) (param $1 i32) (param $2 i32) (result i32)
  block $__inlined_func$~lib/@solo-io/proxy-runtime/runtime/Context#onRequestHeaders@virtual (result i32)
   local.get $0
   call $~lib/@solo-io/proxy-runtime/runtime/getContext
   local.tee $0
   local.tee $1
   i32.const 8
   i32.sub
   i32.load
   i32.const 23
   i32.eq
   if
    local.get $1
    call $assembly/http_callout/Callout#onRequestHeaders
    br $__inlined_func$~lib/@solo-io/proxy-runtime/runtime/Context#onRequestHeaders@virtual
   end
   i32.const 0
  end
  local.get $0
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_request_body (param $0 i32) (param $1 i32) (param $2 i32) (result i32)
  local.get $0
  call $~lib/@solo-io/proxy-runtime/runtime/getContext
  call $~lib/rt/pure/__release
  i32.const 0
 )
 (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_request_trailers (param $0 i32) (param $1 i32) (result i32)
  local.get $0
  call $~lib/@solo-io/proxy-runtime/runtime/getContext
  call $~lib/rt/pure/__release
  i32.const 0
 )
 (func $~lib/number/I32#toString (param $0 i32) (result i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  local.get $0
  if (result i32)
   local.get $0
   i32.const 31
   i32.shr_u
   local.tee $1
   if
    i32.const 0
    local.get $0
    i32.sub
    local.set $0
   end
   local.get $0
   call $~lib/util/number/decimalCount32
   local.get $1
   i32.add
   local.tee $3
   i32.const 1
   i32.shl
   i32.const 1
   call $~lib/rt/tlsf/__alloc
   local.tee $2
   local.get $0
   local.get $3
   call $~lib/util/number/utoa_dec_simple<u32>
   local.get $1
   if
    local.get $2
    i32.const 45
    i32.store16
   end
   local.get $2
   call $~lib/rt/pure/__retain
  else
   i32.const 1504
  end
 )
 (func $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/HttpCallback>#delete (param $0 i32) (param $1 i32)
  (local $2 i32)
  local.get $0
  local.get $1
  local.get $1
  call $~lib/util/hash/hash32
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#find
  local.tee $1
  i32.eqz
  if
   return
  end
  local.get $1
  i32.load offset=4
  call $~lib/rt/pure/__release
  local.get $1
  local.get $1
  i32.load offset=8
  i32.const 1
  i32.or
  i32.store offset=8
  local.get $0
  local.get $0
  i32.load offset=20
  i32.const 1
  i32.sub
  i32.store offset=20
  local.get $0
  i32.load offset=4
  i32.const 1
  i32.shr_u
  local.tee $2
  i32.const 1
  i32.add
  i32.const 4
  local.get $0
  i32.load offset=20
  local.tee $1
  i32.const 4
  local.get $1
  i32.gt_u
  select
  i32.ge_u
  if (result i32)
   local.get $0
   i32.load offset=20
   local.get $0
   i32.load offset=12
   i32.const 3
   i32.mul
   i32.const 4
   i32.div_s
   i32.lt_s
  else
   i32.const 0
  end
  if
   local.get $0
   local.get $2
   call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#rehash
  end
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/RootContext#onHttpCallResponse (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  (local $11 i32)
  (local $12 i32)
  (local $13 i32)
  (local $14 i32)
  (local $15 i32)
  (local $16 i32)
  (local $17 i32)
  (local $18 i32)
  (local $19 i32)
  (local $20 i32)
  (local $21 i32)
  (local $22 i32)
  (local $23 i32)
  (local $24 i32)
  (local $25 i32)
  (local $26 i32)
  (local $27 i32)
  (local $28 i32)
  (local $29 i32)
  (local $30 i32)
  (local $31 i32)
  (local $32 i32)
  (local $33 i32)
  (local $34 i32)
  (local $35 i32)
  i32.const 1
  i32.const 2160
  local.get $0
  i32.load
  call $~lib/util/number/utoa32
  local.tee $6
  call $~lib/string/String.__concat
  local.tee $7
  i32.const 4032
  call $~lib/string/String.__concat
  local.tee $8
  local.get $1
  call $~lib/util/number/utoa32
  local.tee $9
  call $~lib/string/String.__concat
  local.tee $10
  i32.const 4112
  call $~lib/string/String.__concat
  local.tee $11
  local.get $2
  call $~lib/util/number/utoa32
  local.tee $12
  call $~lib/string/String.__concat
  local.tee $13
  i32.const 4160
  call $~lib/string/String.__concat
  local.tee $14
  local.get $3
  call $~lib/util/number/utoa32
  local.tee $15
  call $~lib/string/String.__concat
  local.tee $16
  i32.const 4208
  call $~lib/string/String.__concat
  local.tee $17
  local.get $4
  call $~lib/util/number/utoa32
  local.tee $18
  call $~lib/string/String.__concat
  local.tee $19
  i32.const 1664
  call $~lib/string/String.__concat
  local.tee $20
  call $~lib/@solo-io/proxy-runtime/runtime/log
  i32.const 1
  i32.const 4256
  local.get $0
  i32.load offset=8
  i32.load offset=20
  call $~lib/number/I32#toString
  local.tee $21
  call $~lib/string/String.__concat
  local.tee $22
  call $~lib/@solo-io/proxy-runtime/runtime/log
  i32.const 1
  i32.const 4304
  local.get $1
  call $~lib/util/number/utoa32
  local.tee $23
  call $~lib/string/String.__concat
  local.tee $24
  i32.const 4352
  call $~lib/string/String.__concat
  local.tee $25
  local.get $0
  i32.load
  call $~lib/util/number/utoa32
  local.tee $26
  call $~lib/string/String.__concat
  local.tee $27
  call $~lib/@solo-io/proxy-runtime/runtime/log
  i32.const 1
  i32.const 4384
  global.get $~lib/@solo-io/proxy-runtime/runtime/context_map
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#keys
  local.tee $28
  call $~lib/array/Array<u32>#join
  local.tee $29
  call $~lib/string/String.__concat
  local.tee $30
  call $~lib/@solo-io/proxy-runtime/runtime/log
  local.get $0
  i32.load offset=8
  local.get $1
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#has
  if
   i32.const 1
   i32.const 4432
   local.get $0
   i32.load offset=8
   local.get $1
   call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#get
   local.tee $5
   i32.load
   i32.load
   call $~lib/util/number/utoa32
   local.tee $31
   call $~lib/string/String.__concat
   local.tee $32
   call $~lib/@solo-io/proxy-runtime/runtime/log
   local.get $0
   i32.load offset=8
   local.get $1
   call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/HttpCallback>#delete
   local.get $5
   i32.load
   i32.load
   local.tee $0
   call $~lib/@solo-io/proxy-runtime/imports/proxy_set_effective_context
   local.tee $1
   if
    i32.const 5
    i32.const 4560
    local.get $0
    call $~lib/util/number/utoa32
    local.tee $0
    call $~lib/string/String.__concat
    local.tee $33
    i32.const 4656
    call $~lib/string/String.__concat
    local.tee $34
    local.get $1
    call $~lib/util/number/utoa32
    local.tee $1
    call $~lib/string/String.__concat
    local.tee $35
    call $~lib/@solo-io/proxy-runtime/runtime/log
    local.get $0
    call $~lib/rt/pure/__release
    local.get $33
    call $~lib/rt/pure/__release
    local.get $34
    call $~lib/rt/pure/__release
    local.get $1
    call $~lib/rt/pure/__release
    local.get $35
    call $~lib/rt/pure/__release
   end
   local.get $5
   i32.load
   i32.const 4
   global.set $~argumentsLength
   local.get $2
   local.get $3
   local.get $4
   local.get $5
   i32.load offset=4
   i32.load
   call_indirect (type $i32_i32_i32_i32_=>_none)
   local.get $5
   call $~lib/rt/pure/__release
   local.get $31
   call $~lib/rt/pure/__release
   local.get $32
   call $~lib/rt/pure/__release
  else
   i32.const 4
   i32.const 4704
   local.get $1
   call $~lib/util/number/utoa32
   local.tee $0
   call $~lib/string/String.__concat
   local.tee $1
   i32.const 4784
   call $~lib/string/String.__concat
   local.tee $2
   call $~lib/@solo-io/proxy-runtime/runtime/log
   local.get $0
   call $~lib/rt/pure/__release
   local.get $1
   call $~lib/rt/pure/__release
   local.get $2
   call $~lib/rt/pure/__release
  end
  local.get $6
  call $~lib/rt/pure/__release
  local.get $7
  call $~lib/rt/pure/__release
  local.get $8
  call $~lib/rt/pure/__release
  local.get $9
  call $~lib/rt/pure/__release
  local.get $10
  call $~lib/rt/pure/__release
  local.get $11
  call $~lib/rt/pure/__release
  local.get $12
  call $~lib/rt/pure/__release
  local.get $13
  call $~lib/rt/pure/__release
  local.get $14
  call $~lib/rt/pure/__release
  local.get $15
  call $~lib/rt/pure/__release
  local.get $16
  call $~lib/rt/pure/__release
  local.get $17
  call $~lib/rt/pure/__release
  local.get $18
  call $~lib/rt/pure/__release
  local.get $19
  call $~lib/rt/pure/__release
  local.get $20
  call $~lib/rt/pure/__release
  local.get $21
  call $~lib/rt/pure/__release
  local.get $22
  call $~lib/rt/pure/__release
  local.get $23
  call $~lib/rt/pure/__release
  local.get $24
  call $~lib/rt/pure/__release
  local.get $25
  call $~lib/rt/pure/__release
  local.get $26
  call $~lib/rt/pure/__release
  local.get $27
  call $~lib/rt/pure/__release
  local.get $28
  call $~lib/rt/pure/__release
  local.get $29
  call $~lib/rt/pure/__release
  local.get $30
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_http_call_response (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32)
  local.get $0
  call $~lib/@solo-io/proxy-runtime/runtime/getRootContext
  local.tee $0
  local.get $1
  local.get $2
  local.get $3
  local.get $4
  call $~lib/@solo-io/proxy-runtime/runtime/RootContext#onHttpCallResponse
  local.get $0
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_grpc_receive_initial_metadata (param $0 i32) (param $1 i32) (param $2 i32)
  local.get $0
  call $~lib/@solo-io/proxy-runtime/runtime/getRootContext
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_done (param $0 i32) (result i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  block $__inlined_func$~lib/@solo-io/proxy-runtime/runtime/BaseContext#onDone@virtual
   global.get $~lib/@solo-io/proxy-runtime/runtime/context_map
   local.get $0
   call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#get
   local.tee $3
   local.tee $0
   i32.const 8
   i32.sub
   i32.load
   local.tee $1
   i32.const 10
   i32.eq
   local.get $1
   i32.const 20
   i32.eq
   i32.or
   if
    i32.const 1
    i32.const 2160
    local.get $0
    i32.load
    call $~lib/util/number/utoa32
    local.tee $1
    call $~lib/string/String.__concat
    local.tee $2
    i32.const 4832
    call $~lib/string/String.__concat
    local.tee $4
    call $~lib/@solo-io/proxy-runtime/runtime/log
    local.get $0
    call $~lib/@solo-io/proxy-runtime/runtime/RootContext#cancelPendingRequests
    local.get $1
    call $~lib/rt/pure/__release
    local.get $2
    call $~lib/rt/pure/__release
    local.get $4
    call $~lib/rt/pure/__release
    br $__inlined_func$~lib/@solo-io/proxy-runtime/runtime/BaseContext#onDone@virtual
   end
   i32.const 1
   i32.const 2160
   local.get $0
   i32.load
   call $~lib/util/number/utoa32
   local.tee $0
   call $~lib/string/String.__concat
   local.tee $1
   i32.const 4832
   call $~lib/string/String.__concat
   local.tee $2
   call $~lib/@solo-io/proxy-runtime/runtime/log
   local.get $0
   call $~lib/rt/pure/__release
   local.get $1
   call $~lib/rt/pure/__release
   local.get $2
   call $~lib/rt/pure/__release
  end
  local.get $3
  call $~lib/rt/pure/__release
  i32.const 1
 )
 (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_log (param $0 i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  i32.const 1
  i32.const 2160
  local.get $0
  call $~lib/@solo-io/proxy-runtime/runtime/getContext
  local.tee $0
  i32.load
  call $~lib/util/number/utoa32
  local.tee $1
  call $~lib/string/String.__concat
  local.tee $2
  i32.const 4880
  call $~lib/string/String.__concat
  local.tee $3
  call $~lib/@solo-io/proxy-runtime/runtime/log
  local.get $1
  call $~lib/rt/pure/__release
  local.get $2
  call $~lib/rt/pure/__release
  local.get $3
  call $~lib/rt/pure/__release
  local.get $0
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/exports/proxy_on_delete (param $0 i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  i32.const 1
  i32.const 2160
  global.get $~lib/@solo-io/proxy-runtime/runtime/context_map
  local.get $0
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#get
  local.tee $1
  i32.load
  call $~lib/util/number/utoa32
  local.tee $2
  call $~lib/string/String.__concat
  local.tee $3
  i32.const 4928
  call $~lib/string/String.__concat
  local.tee $4
  call $~lib/@solo-io/proxy-runtime/runtime/log
  local.get $2
  call $~lib/rt/pure/__release
  local.get $3
  call $~lib/rt/pure/__release
  local.get $4
  call $~lib/rt/pure/__release
  global.get $~lib/@solo-io/proxy-runtime/runtime/context_map
  local.get $0
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/HttpCallback>#delete
  local.get $1
  call $~lib/rt/pure/__release
 )
 (func $~start
  (local $0 i32)
  call $start:~lib/@solo-io/proxy-runtime/runtime
  global.get $~lib/@solo-io/proxy-runtime/runtime/root_context_factory_map
  call $~lib/map/Map<~lib/string/String,%28u32%29=>~lib/@solo-io/proxy-runtime/runtime/RootContext>#set
  call $~lib/rt/pure/__release
  i32.const 1808
  call $~lib/rt/pure/__release
  i32.const 1840
  call $~lib/rt/pure/__release
 )
 (func $~lib/rt/pure/decrement (param $0 i32)
  (local $1 i32)
  (local $2 i32)
  local.get $0
  i32.load offset=4
  local.tee $2
  i32.const 268435455
  i32.and
  local.set $1
  local.get $0
  i32.load
  i32.const 1
  i32.and
  if
   i32.const 0
   i32.const 1040
   i32.const 122
   i32.const 14
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $1
  i32.const 1
  i32.eq
  if
   local.get $0
   i32.const 16
   i32.add
   call $~lib/rt/__visit_members
   local.get $2
   i32.const -2147483648
   i32.and
   if
    i32.const 0
    i32.const 1040
    i32.const 126
    i32.const 18
    call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
    unreachable
   end
   global.get $~lib/rt/tlsf/ROOT
   local.get $0
   call $~lib/rt/tlsf/freeBlock
  else
   local.get $1
   i32.const 0
   i32.le_u
   if
    i32.const 0
    i32.const 1040
    i32.const 136
    i32.const 16
    call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
    unreachable
   end
   local.get $0
   local.get $1
   i32.const 1
   i32.sub
   local.get $2
   i32.const -268435456
   i32.and
   i32.or
   i32.store offset=4
  end
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/HeaderStreamManipulator#get (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  local.get $1
  call $~lib/rt/pure/__retain
  local.set $2
  local.get $0
  i32.load
  local.set $0
  local.get $2
  call $~lib/rt/pure/__retain
  local.tee $3
  call $~lib/string/String.UTF8.encode
  local.tee $4
  call $~lib/rt/pure/__retain
  local.tee $1
  i32.const 16
  i32.sub
  i32.load offset=12
  local.set $5
  block $__inlined_func$~lib/@solo-io/proxy-runtime/runtime/get_header_map_value
   local.get $0
   local.get $1
   local.get $5
   global.get $~lib/@solo-io/proxy-runtime/runtime/globalArrayBufferReference
   global.get $~lib/@solo-io/proxy-runtime/runtime/globalArrayBufferReference
   i32.const 4
   i32.add
   call $~lib/@solo-io/proxy-runtime/imports/proxy_get_header_map_value
   i32.eqz
   if
    global.get $~lib/@solo-io/proxy-runtime/runtime/globalArrayBufferReference
    call $~lib/@solo-io/proxy-runtime/runtime/ArrayBufferReference#toArrayBuffer
    local.set $0
    local.get $1
    call $~lib/rt/pure/__release
    br $__inlined_func$~lib/@solo-io/proxy-runtime/runtime/get_header_map_value
   end
   i32.const 0
   call $~lib/arraybuffer/ArrayBuffer#constructor
   local.set $0
   local.get $1
   call $~lib/rt/pure/__release
  end
  local.get $0
  call $~lib/string/String.UTF8.decode
  local.get $4
  call $~lib/rt/pure/__release
  local.get $0
  call $~lib/rt/pure/__release
  local.get $3
  call $~lib/rt/pure/__release
  local.get $2
  call $~lib/rt/pure/__release
 )
 (func $assembly/http_callout/pair (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  local.get $0
  call $~lib/rt/pure/__retain
  local.set $5
  local.get $1
  call $~lib/rt/pure/__retain
  local.set $6
  local.get $5
  call $~lib/string/String.UTF8.encode
  local.set $7
  local.get $6
  call $~lib/string/String.UTF8.encode
  local.set $8
  i32.const 8
  i32.const 24
  call $~lib/rt/tlsf/__alloc
  call $~lib/rt/pure/__retain
  local.tee $3
  i32.const 0
  i32.store
  local.get $3
  i32.const 0
  i32.store offset=4
  local.get $7
  call $~lib/rt/pure/__retain
  local.set $1
  local.get $8
  call $~lib/rt/pure/__retain
  local.set $2
  local.get $1
  local.tee $0
  local.get $3
  i32.load
  local.tee $4
  i32.ne
  if
   local.get $0
   call $~lib/rt/pure/__retain
   local.set $0
   local.get $4
   call $~lib/rt/pure/__release
  end
  local.get $3
  local.get $0
  i32.store
  local.get $2
  local.tee $0
  local.get $3
  i32.load offset=4
  local.tee $4
  i32.ne
  if
   local.get $0
   call $~lib/rt/pure/__retain
   local.set $0
   local.get $4
   call $~lib/rt/pure/__release
  end
  local.get $3
  local.get $0
  i32.store offset=4
  local.get $1
  call $~lib/rt/pure/__release
  local.get $2
  call $~lib/rt/pure/__release
  local.get $7
  call $~lib/rt/pure/__release
  local.get $8
  call $~lib/rt/pure/__release
  local.get $5
  call $~lib/rt/pure/__release
  local.get $6
  call $~lib/rt/pure/__release
  local.get $3
 )
 (func $~lib/rt/__allocArray (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  i32.const 16
  i32.const 25
  call $~lib/rt/tlsf/__alloc
  local.tee $2
  local.get $0
  i32.const 2
  i32.shl
  local.tee $4
  local.set $6
  local.get $4
  i32.const 0
  call $~lib/rt/tlsf/__alloc
  local.set $3
  local.get $1
  if
   local.get $3
   local.get $1
   local.get $6
   call $~lib/memory/memory.copy
  end
  local.get $3
  call $~lib/rt/pure/__retain
  i32.store
  local.get $2
  local.get $3
  i32.store offset=4
  local.get $2
  local.get $4
  i32.store offset=8
  local.get $2
  local.get $0
  i32.store offset=12
  local.get $2
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/HeaderStreamManipulator#add (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  local.get $1
  call $~lib/rt/pure/__retain
  local.set $3
  local.get $2
  call $~lib/rt/pure/__retain
  local.set $2
  local.get $0
  i32.load
  local.get $3
  call $~lib/rt/pure/__retain
  local.set $4
  local.get $2
  call $~lib/rt/pure/__retain
  local.set $5
  local.get $4
  call $~lib/string/String.UTF8.encode
  local.set $0
  local.get $5
  call $~lib/string/String.UTF8.encode
  local.set $1
  local.get $0
  local.get $0
  i32.const 16
  i32.sub
  i32.load offset=12
  local.get $1
  local.get $1
  i32.const 16
  i32.sub
  i32.load offset=12
  call $~lib/@solo-io/proxy-runtime/imports/proxy_add_header_map_value
  drop
  local.get $0
  call $~lib/rt/pure/__release
  local.get $1
  call $~lib/rt/pure/__release
  local.get $4
  call $~lib/rt/pure/__release
  local.get $5
  call $~lib/rt/pure/__release
  local.get $3
  call $~lib/rt/pure/__release
  local.get $2
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/BaseContext#continueRequest
  (local $0 i32)
  (local $1 i32)
  i32.const 0
  call $~lib/@solo-io/proxy-runtime/imports/proxy_continue_stream
  local.tee $0
  if
   i32.const 5
   i32.const 5360
   local.get $0
   call $~lib/util/number/utoa32
   local.tee $0
   call $~lib/string/String.__concat
   local.tee $1
   call $~lib/@solo-io/proxy-runtime/runtime/log
   local.get $0
   call $~lib/rt/pure/__release
   local.get $1
   call $~lib/rt/pure/__release
  end
 )
 (func $~lib/array/Array<~lib/@solo-io/proxy-runtime/runtime/HeaderPair>#__get (param $0 i32) (param $1 i32) (result i32)
  local.get $1
  local.get $0
  i32.load offset=12
  i32.ge_u
  if
   i32.const 3024
   i32.const 2976
   i32.const 104
   i32.const 42
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $0
  i32.load offset=4
  local.get $1
  i32.const 2
  i32.shl
  i32.add
  i32.load
  call $~lib/rt/pure/__retain
  local.tee $0
  i32.eqz
  if
   i32.const 5584
   i32.const 2976
   i32.const 108
   i32.const 40
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $0
 )
 (func $~lib/typedarray/Uint32Array.wrap (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  i32.const 0
  local.get $0
  call $~lib/rt/pure/__retain
  local.tee $3
  call $~lib/rt/pure/__retain
  local.tee $2
  i32.const 16
  i32.sub
  i32.load offset=12
  local.tee $0
  i32.gt_u
  if
   i32.const 3024
   i32.const 5696
   i32.const 1741
   i32.const 5
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $1
  i32.const 0
  i32.lt_s
  if
   local.get $1
   i32.const -1
   i32.eq
   if
    local.get $0
    i32.const 3
    i32.and
    if
     i32.const 1104
     i32.const 5696
     i32.const 1746
     i32.const 9
     call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
     unreachable
    end
   else
    i32.const 1104
    i32.const 5696
    i32.const 1750
    i32.const 7
    call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
    unreachable
   end
   local.get $0
   local.set $1
  else
   local.get $1
   i32.const 2
   i32.shl
   local.tee $1
   local.get $0
   i32.gt_s
   if
    i32.const 1104
    i32.const 5696
    i32.const 1755
    i32.const 7
    call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
    unreachable
   end
  end
  i32.const 12
  i32.const 27
  call $~lib/rt/tlsf/__alloc
  local.tee $0
  local.get $2
  call $~lib/rt/pure/__retain
  i32.store
  local.get $0
  local.get $1
  i32.store offset=8
  local.get $0
  local.get $2
  i32.store offset=4
  local.get $0
  call $~lib/rt/pure/__retain
  local.get $2
  call $~lib/rt/pure/__release
  local.get $3
  call $~lib/rt/pure/__release
 )
 (func $~lib/typedarray/Uint32Array#__set (param $0 i32) (param $1 i32) (param $2 i32)
  local.get $1
  local.get $0
  i32.load offset=8
  i32.const 2
  i32.shr_u
  i32.ge_u
  if
   i32.const 3024
   i32.const 5696
   i32.const 803
   i32.const 64
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $0
  i32.load offset=4
  local.get $1
  i32.const 2
  i32.shl
  i32.add
  local.get $2
  i32.store
 )
 (func $~lib/typedarray/Uint8Array.wrap (param $0 i32) (param $1 i32) (param $2 i32) (result i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  local.get $1
  local.get $0
  call $~lib/rt/pure/__retain
  local.tee $5
  call $~lib/rt/pure/__retain
  local.tee $3
  i32.const 16
  i32.sub
  i32.load offset=12
  local.tee $4
  i32.gt_u
  if
   i32.const 3024
   i32.const 5696
   i32.const 1741
   i32.const 5
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $2
  i32.const 0
  i32.lt_s
  if
   local.get $2
   i32.const -1
   i32.eq
   if (result i32)
    local.get $4
    local.get $1
    i32.sub
   else
    i32.const 1104
    i32.const 5696
    i32.const 1750
    i32.const 7
    call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
    unreachable
   end
   local.set $0
  else
   local.get $2
   local.tee $0
   local.get $1
   i32.add
   local.get $4
   i32.gt_s
   if
    i32.const 1104
    i32.const 5696
    i32.const 1755
    i32.const 7
    call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
    unreachable
   end
  end
  i32.const 12
  i32.const 28
  call $~lib/rt/tlsf/__alloc
  local.tee $2
  local.get $3
  call $~lib/rt/pure/__retain
  i32.store
  local.get $2
  local.get $0
  i32.store offset=8
  local.get $2
  local.get $1
  local.get $3
  i32.add
  i32.store offset=4
  local.get $2
  call $~lib/rt/pure/__retain
  local.get $3
  call $~lib/rt/pure/__release
  local.get $5
  call $~lib/rt/pure/__release
 )
 (func $~lib/typedarray/Uint8Array.wrap@varargs (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  block $2of2
   block $1of2
    block $0of2
     block $outOfRange
      global.get $~argumentsLength
      i32.const 1
      i32.sub
      br_table $0of2 $1of2 $2of2 $outOfRange
     end
     unreachable
    end
    i32.const 0
    local.set $1
   end
   i32.const -1
   local.set $2
  end
  local.get $0
  local.get $1
  local.get $2
  call $~lib/typedarray/Uint8Array.wrap
 )
 (func $~lib/typedarray/Uint8Array#subarray (param $0 i32) (param $1 i32) (param $2 i32) (result i32)
  (local $3 i32)
  (local $4 i32)
  local.get $0
  call $~lib/rt/pure/__retain
  local.tee $4
  i32.load offset=8
  local.set $3
  local.get $1
  i32.const 0
  i32.lt_s
  if (result i32)
   local.get $1
   local.get $3
   i32.add
   local.tee $0
   i32.const 0
   local.get $0
   i32.const 0
   i32.gt_s
   select
  else
   local.get $1
   local.get $3
   local.get $1
   local.get $3
   i32.lt_s
   select
  end
  local.set $0
  local.get $2
  i32.const 0
  i32.lt_s
  if (result i32)
   local.get $2
   local.get $3
   i32.add
   local.tee $1
   i32.const 0
   local.get $1
   i32.const 0
   i32.gt_s
   select
  else
   local.get $2
   local.get $3
   local.get $2
   local.get $3
   i32.lt_s
   select
  end
  local.set $1
  i32.const 12
  i32.const 28
  call $~lib/rt/tlsf/__alloc
  local.tee $2
  local.get $4
  i32.load
  call $~lib/rt/pure/__retain
  i32.store
  local.get $2
  local.get $4
  i32.load offset=4
  local.get $0
  i32.add
  i32.store offset=4
  local.get $2
  local.get $1
  local.get $0
  local.get $1
  local.get $0
  i32.gt_s
  select
  local.get $0
  i32.sub
  i32.store offset=8
  local.get $2
  call $~lib/rt/pure/__retain
  local.get $4
  call $~lib/rt/pure/__release
 )
 (func $~lib/typedarray/Uint8Array#__get (param $0 i32) (param $1 i32) (result i32)
  local.get $1
  local.get $0
  i32.load offset=8
  i32.ge_u
  if
   i32.const 3024
   i32.const 5696
   i32.const 152
   i32.const 45
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $1
  local.get $0
  i32.load offset=4
  i32.add
  i32.load8_u
 )
 (func $~lib/typedarray/Uint8Array#__set (param $0 i32) (param $1 i32) (param $2 i32)
  local.get $1
  local.get $0
  i32.load offset=8
  i32.ge_u
  if
   i32.const 3024
   i32.const 5696
   i32.const 163
   i32.const 45
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $1
  local.get $0
  i32.load offset=4
  i32.add
  local.get $2
  i32.store8
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/serializeHeaders (param $0 i32) (result i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  (local $11 i32)
  local.get $0
  call $~lib/rt/pure/__retain
  local.tee $4
  call $~lib/rt/pure/__retain
  local.set $0
  i32.const 4
  local.set $2
  loop $for-loop|0
   local.get $3
   local.get $0
   i32.load offset=12
   i32.lt_s
   if
    local.get $2
    local.get $0
    local.get $3
    call $~lib/array/Array<~lib/@solo-io/proxy-runtime/runtime/HeaderPair>#__get
    local.tee $5
    i32.load
    i32.const 16
    i32.sub
    i32.load offset=12
    i32.add
    local.get $5
    i32.load offset=4
    i32.const 16
    i32.sub
    i32.load offset=12
    i32.add
    i32.const 10
    i32.add
    local.set $2
    local.get $5
    call $~lib/rt/pure/__release
    local.get $3
    i32.const 1
    i32.add
    local.set $3
    br $for-loop|0
   end
  end
  local.get $0
  call $~lib/rt/pure/__release
  local.get $2
  call $~lib/arraybuffer/ArrayBuffer#constructor
  local.tee $8
  local.get $4
  i32.load offset=12
  i32.const 1
  i32.shl
  i32.const 1
  i32.add
  call $~lib/typedarray/Uint32Array.wrap
  local.tee $3
  i32.const 0
  local.get $4
  i32.load offset=12
  call $~lib/typedarray/Uint32Array#__set
  i32.const 1
  local.set $0
  loop $for-loop|00
   local.get $1
   local.get $4
   i32.load offset=12
   i32.lt_s
   if
    local.get $3
    local.get $0
    local.get $4
    local.get $1
    call $~lib/array/Array<~lib/@solo-io/proxy-runtime/runtime/HeaderPair>#__get
    local.tee $2
    i32.load
    i32.const 16
    i32.sub
    i32.load offset=12
    call $~lib/typedarray/Uint32Array#__set
    local.get $3
    local.get $0
    i32.const 1
    i32.add
    local.tee $0
    local.get $2
    i32.load offset=4
    i32.const 16
    i32.sub
    i32.load offset=12
    call $~lib/typedarray/Uint32Array#__set
    local.get $0
    i32.const 1
    i32.add
    local.set $0
    local.get $2
    call $~lib/rt/pure/__release
    local.get $1
    i32.const 1
    i32.add
    local.set $1
    br $for-loop|00
   end
  end
  local.get $3
  i32.load offset=8
  local.set $0
  i32.const 2
  global.set $~argumentsLength
  local.get $8
  local.get $0
  call $~lib/typedarray/Uint8Array.wrap@varargs
  local.set $7
  i32.const 0
  local.set $1
  i32.const 0
  local.set $2
  loop $for-loop|1
   local.get $2
   local.get $4
   i32.load offset=12
   i32.lt_s
   if
    local.get $4
    local.get $2
    call $~lib/array/Array<~lib/@solo-io/proxy-runtime/runtime/HeaderPair>#__get
    local.tee $9
    i32.load
    local.set $0
    i32.const 1
    global.set $~argumentsLength
    local.get $7
    local.get $1
    local.get $1
    local.get $0
    i32.const 0
    call $~lib/typedarray/Uint8Array.wrap@varargs
    local.tee $5
    i32.load offset=8
    i32.add
    call $~lib/typedarray/Uint8Array#subarray
    local.set $10
    i32.const 0
    local.set $0
    loop $for-loop|2
     local.get $0
     local.get $5
     i32.load offset=8
     i32.lt_s
     if
      local.get $10
      local.get $0
      local.get $5
      local.get $0
      call $~lib/typedarray/Uint8Array#__get
      call $~lib/typedarray/Uint8Array#__set
      local.get $0
      i32.const 1
      i32.add
      local.set $0
      br $for-loop|2
     end
    end
    local.get $1
    local.get $5
    i32.load offset=8
    i32.const 1
    i32.add
    i32.add
    local.set $1
    local.get $9
    i32.load offset=4
    local.set $0
    i32.const 1
    global.set $~argumentsLength
    local.get $7
    local.get $1
    local.get $1
    local.get $0
    i32.const 0
    call $~lib/typedarray/Uint8Array.wrap@varargs
    local.tee $6
    i32.load offset=8
    i32.add
    call $~lib/typedarray/Uint8Array#subarray
    local.set $11
    i32.const 0
    local.set $0
    loop $for-loop|3
     local.get $0
     local.get $6
     i32.load offset=8
     i32.lt_s
     if
      local.get $11
      local.get $0
      local.get $6
      local.get $0
      call $~lib/typedarray/Uint8Array#__get
      call $~lib/typedarray/Uint8Array#__set
      local.get $0
      i32.const 1
      i32.add
      local.set $0
      br $for-loop|3
     end
    end
    local.get $1
    local.get $6
    i32.load offset=8
    i32.const 1
    i32.add
    i32.add
    local.set $1
    local.get $9
    call $~lib/rt/pure/__release
    local.get $5
    call $~lib/rt/pure/__release
    local.get $10
    call $~lib/rt/pure/__release
    local.get $6
    call $~lib/rt/pure/__release
    local.get $11
    call $~lib/rt/pure/__release
    local.get $2
    i32.const 1
    i32.add
    local.set $2
    br $for-loop|1
   end
  end
  local.get $3
  call $~lib/rt/pure/__release
  local.get $7
  call $~lib/rt/pure/__release
  local.get $4
  call $~lib/rt/pure/__release
  local.get $8
 )
 (func $assembly/http_callout/onAuthResponse (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  local.get $0
  call $~lib/rt/pure/__retain
  local.set $3
  local.get $1
  i32.eqz
  if
   global.get $~lib/@solo-io/proxy-runtime/runtime/stream_context
   i32.load
   i32.load
   i32.const 5280
   i32.const 5328
   call $~lib/@solo-io/proxy-runtime/runtime/HeaderStreamManipulator#add
   call $~lib/@solo-io/proxy-runtime/runtime/BaseContext#continueRequest
   local.get $3
   call $~lib/rt/pure/__release
   return
  end
  global.get $~lib/@solo-io/proxy-runtime/runtime/stream_context
  i32.load
  i32.load offset=8
  i32.const 5440
  call $~lib/@solo-io/proxy-runtime/runtime/HeaderStreamManipulator#get
  local.set $1
  block $__inlined_func$~lib/@solo-io/proxy-runtime/runtime/get_buffer_bytes (result i32)
   i32.const 4
   i32.const 0
   local.get $2
   global.get $~lib/@solo-io/proxy-runtime/runtime/globalArrayBufferReference
   global.get $~lib/@solo-io/proxy-runtime/runtime/globalArrayBufferReference
   i32.const 4
   i32.add
   call $~lib/@solo-io/proxy-runtime/imports/proxy_get_buffer_bytes
   i32.eqz
   if
    global.get $~lib/@solo-io/proxy-runtime/runtime/globalArrayBufferReference
    call $~lib/@solo-io/proxy-runtime/runtime/ArrayBufferReference#toArrayBuffer
    br $__inlined_func$~lib/@solo-io/proxy-runtime/runtime/get_buffer_bytes
   end
   i32.const 0
   call $~lib/arraybuffer/ArrayBuffer#constructor
  end
  local.set $0
  local.get $1
  i32.const 5472
  call $~lib/string/String.__eq
  if
   i32.const 0
   i32.const 5568
   call $~lib/rt/__allocArray
   call $~lib/rt/pure/__retain
   local.set $6
   local.get $0
   call $~lib/rt/pure/__retain
   local.set $2
   local.get $6
   call $~lib/rt/pure/__retain
   local.set $7
   i32.const 5504
   call $~lib/string/String.UTF8.encode
   local.set $4
   local.get $7
   call $~lib/@solo-io/proxy-runtime/runtime/serializeHeaders
   local.set $5
   i32.const 403
   local.get $4
   local.get $4
   i32.const 16
   i32.sub
   i32.load offset=12
   local.get $2
   local.get $2
   i32.const 16
   i32.sub
   i32.load offset=12
   local.get $5
   local.get $5
   i32.const 16
   i32.sub
   i32.load offset=12
   i32.const 2
   call $~lib/@solo-io/proxy-runtime/imports/proxy_send_local_response
   drop
   local.get $4
   call $~lib/rt/pure/__release
   local.get $5
   call $~lib/rt/pure/__release
   i32.const 5504
   call $~lib/rt/pure/__release
   local.get $2
   call $~lib/rt/pure/__release
   local.get $7
   call $~lib/rt/pure/__release
   local.get $6
   call $~lib/rt/pure/__release
   local.get $3
   call $~lib/rt/pure/__release
   local.get $1
   call $~lib/rt/pure/__release
   local.get $0
   call $~lib/rt/pure/__release
   return
  end
  global.get $~lib/@solo-io/proxy-runtime/runtime/stream_context
  i32.load
  i32.load
  i32.const 5760
  local.get $1
  call $~lib/@solo-io/proxy-runtime/runtime/HeaderStreamManipulator#add
  global.get $~lib/@solo-io/proxy-runtime/runtime/stream_context
  i32.load
  i32.load
  i32.const 5808
  local.get $0
  call $~lib/string/String.UTF8.decode
  local.tee $2
  call $~lib/@solo-io/proxy-runtime/runtime/HeaderStreamManipulator#add
  call $~lib/@solo-io/proxy-runtime/runtime/BaseContext#continueRequest
  local.get $1
  call $~lib/rt/pure/__release
  local.get $0
  call $~lib/rt/pure/__release
  local.get $2
  call $~lib/rt/pure/__release
  local.get $3
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/HeaderPair#toString (param $0 i32) (result i32)
  (local $1 i32)
  local.get $0
  i32.load
  drop
  i32.const 5952
  i32.const 1632
  call $~lib/string/String.__concat
  local.set $1
  local.get $0
  i32.load offset=4
  drop
  local.get $1
  i32.const 5952
  call $~lib/string/String.__concat
  local.get $1
  call $~lib/rt/pure/__release
 )
 (func $~lib/util/string/joinReferenceArray<~lib/@solo-io/proxy-runtime/runtime/HeaderPair> (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  i32.const 6016
  call $~lib/rt/pure/__retain
  local.set $5
  local.get $1
  i32.const 1
  i32.sub
  local.tee $6
  i32.const 0
  i32.lt_s
  if
   local.get $5
   call $~lib/rt/pure/__release
   i32.const 1088
   return
  end
  local.get $6
  i32.eqz
  if
   local.get $0
   i32.load
   local.tee $3
   if
    local.get $3
    call $~lib/rt/pure/__retain
    local.set $3
   end
   local.get $3
   if (result i32)
    local.get $3
    call $~lib/@solo-io/proxy-runtime/runtime/HeaderPair#toString
   else
    i32.const 1088
   end
   local.get $5
   call $~lib/rt/pure/__release
   local.get $3
   call $~lib/rt/pure/__release
   return
  end
  i32.const 1088
  local.set $1
  local.get $5
  call $~lib/string/String#get:length
  local.set $8
  loop $for-loop|0
   local.get $3
   local.get $6
   i32.lt_s
   if
    local.get $4
    local.get $0
    local.get $3
    i32.const 2
    i32.shl
    i32.add
    i32.load
    local.tee $2
    i32.ne
    if
     local.get $2
     call $~lib/rt/pure/__retain
     local.set $2
     local.get $4
     call $~lib/rt/pure/__release
    end
    local.get $2
    local.tee $4
    if
     local.get $1
     local.get $1
     local.get $4
     call $~lib/@solo-io/proxy-runtime/runtime/HeaderPair#toString
     local.tee $7
     call $~lib/string/String.__concat
     local.tee $9
     local.tee $2
     i32.ne
     if
      local.get $2
      call $~lib/rt/pure/__retain
      local.set $2
      local.get $1
      call $~lib/rt/pure/__release
     end
     local.get $7
     call $~lib/rt/pure/__release
     local.get $9
     call $~lib/rt/pure/__release
     local.get $2
     local.set $1
    end
    local.get $8
    if
     local.get $1
     local.tee $2
     local.get $5
     call $~lib/string/String.__concat
     local.tee $7
     local.tee $1
     local.get $2
     i32.ne
     if
      local.get $1
      call $~lib/rt/pure/__retain
      local.set $1
      local.get $2
      call $~lib/rt/pure/__release
     end
     local.get $7
     call $~lib/rt/pure/__release
    end
    local.get $3
    i32.const 1
    i32.add
    local.set $3
    br $for-loop|0
   end
  end
  local.get $4
  local.get $0
  local.get $6
  i32.const 2
  i32.shl
  i32.add
  i32.load
  local.tee $2
  i32.ne
  if
   local.get $2
   call $~lib/rt/pure/__retain
   local.set $2
   local.get $4
   call $~lib/rt/pure/__release
  end
  local.get $2
  local.tee $0
  if
   local.get $1
   local.get $1
   local.get $0
   call $~lib/@solo-io/proxy-runtime/runtime/HeaderPair#toString
   local.tee $4
   call $~lib/string/String.__concat
   local.tee $3
   local.tee $2
   i32.ne
   if
    local.get $2
    call $~lib/rt/pure/__retain
    local.set $2
    local.get $1
    call $~lib/rt/pure/__release
   end
   local.get $4
   call $~lib/rt/pure/__release
   local.get $3
   call $~lib/rt/pure/__release
   local.get $2
   local.set $1
  end
  local.get $5
  call $~lib/rt/pure/__release
  local.get $0
  call $~lib/rt/pure/__release
  local.get $1
 )
 (func $~lib/array/Array<~lib/@solo-io/proxy-runtime/runtime/HeaderPair>#toString (param $0 i32) (result i32)
  local.get $0
  i32.load offset=4
  local.get $0
  i32.load offset=12
  call $~lib/util/string/joinReferenceArray<~lib/@solo-io/proxy-runtime/runtime/HeaderPair>
  i32.const 6016
  call $~lib/rt/pure/__release
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/RootContext#httpCall (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32) (param $5 i32) (result i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  (local $11 i32)
  (local $12 i32)
  (local $13 i32)
  (local $14 i32)
  (local $15 i32)
  (local $16 i32)
  (local $17 i32)
  (local $18 i32)
  (local $19 i32)
  (local $20 i32)
  (local $21 i32)
  (local $22 i32)
  (local $23 i32)
  (local $24 i32)
  (local $25 i32)
  (local $26 i32)
  (local $27 i32)
  (local $28 i32)
  (local $29 i32)
  (local $30 i32)
  (local $31 i32)
  (local $32 i32)
  (local $33 i32)
  (local $34 i32)
  (local $35 i32)
  local.get $1
  call $~lib/rt/pure/__retain
  local.set $6
  local.get $2
  call $~lib/rt/pure/__retain
  local.set $7
  local.get $3
  call $~lib/rt/pure/__retain
  local.set $8
  local.get $5
  call $~lib/rt/pure/__retain
  local.set $13
  local.get $0
  i32.load
  call $~lib/util/number/utoa32
  local.tee $1
  i32.const 1
  i32.const 2160
  local.get $1
  call $~lib/string/String.__concat
  local.tee $16
  i32.const 5888
  call $~lib/string/String.__concat
  local.tee $17
  i32.const 5232
  call $~lib/string/String.__concat
  local.tee $18
  i32.const 4112
  call $~lib/string/String.__concat
  local.tee $19
  local.get $6
  call $~lib/array/Array<~lib/@solo-io/proxy-runtime/runtime/HeaderPair>#toString
  local.tee $20
  call $~lib/string/String.__concat
  local.tee $21
  i32.const 6048
  call $~lib/string/String.__concat
  local.tee $22
  i32.const 5952
  call $~lib/string/String.__concat
  local.tee $23
  i32.const 4208
  call $~lib/string/String.__concat
  local.tee $24
  local.get $8
  call $~lib/array/Array<~lib/@solo-io/proxy-runtime/runtime/HeaderPair>#toString
  local.tee $25
  call $~lib/string/String.__concat
  local.tee $26
  i32.const 1664
  call $~lib/string/String.__concat
  local.tee $27
  call $~lib/@solo-io/proxy-runtime/runtime/log
  i32.const 5232
  call $~lib/string/String.UTF8.encode
  local.set $9
  local.get $6
  call $~lib/@solo-io/proxy-runtime/runtime/serializeHeaders
  local.set $10
  local.get $8
  call $~lib/@solo-io/proxy-runtime/runtime/serializeHeaders
  local.set $11
  call $~lib/@solo-io/proxy-runtime/runtime/Reference<u32>#constructor
  local.set $5
  local.get $9
  local.get $9
  i32.const 16
  i32.sub
  i32.load offset=12
  local.get $10
  local.get $10
  i32.const 16
  i32.sub
  i32.load offset=12
  local.get $7
  local.get $7
  i32.const 16
  i32.sub
  i32.load offset=12
  local.get $11
  local.get $11
  i32.const 16
  i32.sub
  i32.load offset=12
  local.get $4
  local.get $5
  call $~lib/@solo-io/proxy-runtime/imports/proxy_http_call
  local.tee $4
  call $~lib/util/number/utoa32
  local.tee $1
  local.set $28
  i32.const 1
  i32.const 6080
  local.get $1
  call $~lib/string/String.__concat
  local.tee $29
  call $~lib/@solo-io/proxy-runtime/runtime/log
  local.get $4
  i32.eqz
  if
   local.get $5
   i32.load
   call $~lib/util/number/utoa32
   local.tee $1
   i32.const 6160
   local.get $1
   call $~lib/string/String.__concat
   local.tee $31
   i32.const 6208
   call $~lib/string/String.__concat
   local.set $14
   local.get $0
   i32.load
   call $~lib/util/number/utoa32
   local.tee $1
   local.set $32
   i32.const 1
   local.get $14
   local.get $1
   call $~lib/string/String.__concat
   local.tee $33
   call $~lib/@solo-io/proxy-runtime/runtime/log
   local.get $0
   i32.load offset=8
   local.get $5
   i32.load
   i32.const 8
   i32.const 12
   call $~lib/rt/tlsf/__alloc
   call $~lib/rt/pure/__retain
   local.tee $3
   i32.const 0
   i32.store
   local.get $3
   i32.const 0
   i32.store offset=4
   local.get $13
   call $~lib/rt/pure/__retain
   local.set $1
   i32.const 5856
   call $~lib/rt/pure/__retain
   local.set $2
   local.get $1
   local.tee $0
   local.get $3
   i32.load
   local.tee $12
   i32.ne
   if
    local.get $0
    call $~lib/rt/pure/__retain
    local.set $0
    local.get $12
    call $~lib/rt/pure/__release
   end
   local.get $3
   local.get $0
   i32.store
   local.get $2
   local.tee $0
   local.get $3
   i32.load offset=4
   local.tee $12
   i32.ne
   if
    local.get $0
    call $~lib/rt/pure/__retain
    local.set $0
    local.get $12
    call $~lib/rt/pure/__release
   end
   local.get $3
   local.get $0
   i32.store offset=4
   local.get $1
   call $~lib/rt/pure/__release
   local.get $2
   call $~lib/rt/pure/__release
   local.get $3
   call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#set
   call $~lib/rt/pure/__release
   call $~lib/rt/pure/__release
   local.get $31
   call $~lib/rt/pure/__release
   local.get $14
   call $~lib/rt/pure/__release
   local.get $32
   call $~lib/rt/pure/__release
   local.get $33
   call $~lib/rt/pure/__release
   local.get $3
   call $~lib/rt/pure/__release
  end
  call $~lib/rt/pure/__release
  local.get $16
  call $~lib/rt/pure/__release
  local.get $17
  call $~lib/rt/pure/__release
  local.get $18
  call $~lib/rt/pure/__release
  local.get $19
  call $~lib/rt/pure/__release
  local.get $20
  call $~lib/rt/pure/__release
  local.get $21
  call $~lib/rt/pure/__release
  local.get $22
  call $~lib/rt/pure/__release
  local.get $23
  call $~lib/rt/pure/__release
  local.get $24
  call $~lib/rt/pure/__release
  local.get $25
  call $~lib/rt/pure/__release
  local.get $26
  call $~lib/rt/pure/__release
  local.get $27
  call $~lib/rt/pure/__release
  local.get $9
  call $~lib/rt/pure/__release
  local.get $10
  call $~lib/rt/pure/__release
  local.get $11
  call $~lib/rt/pure/__release
  local.get $5
  call $~lib/rt/pure/__release
  local.get $28
  call $~lib/rt/pure/__release
  local.get $29
  call $~lib/rt/pure/__release
  i32.const 5232
  call $~lib/rt/pure/__release
  local.get $6
  call $~lib/rt/pure/__release
  local.get $7
  call $~lib/rt/pure/__release
  local.get $8
  call $~lib/rt/pure/__release
  local.get $13
  call $~lib/rt/pure/__release
  i32.const 5856
  call $~lib/rt/pure/__release
  local.get $4
 )
 (func $assembly/http_callout/Callout#onRequestHeaders (param $0 i32) (result i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  global.get $~lib/@solo-io/proxy-runtime/runtime/stream_context
  i32.load
  i32.load
  i32.const 4976
  call $~lib/@solo-io/proxy-runtime/runtime/HeaderStreamManipulator#get
  local.tee $2
  i32.const 1088
  call $~lib/string/String.__eq
  if
   local.get $2
   call $~lib/rt/pure/__release
   i32.const 0
   return
  end
  local.get $2
  i32.const 5024
  call $~lib/string/String.__eq
  local.set $4
  i32.const 3
  i32.const 0
  call $~lib/rt/__allocArray
  call $~lib/rt/pure/__retain
  local.tee $3
  i32.load offset=4
  local.tee $1
  i32.const 5056
  i32.const 5088
  call $assembly/http_callout/pair
  i32.store
  local.get $1
  i32.const 5120
  local.get $4
  if (result i32)
   i32.const 5152
   local.tee $5
  else
   global.get $~lib/@solo-io/proxy-runtime/runtime/stream_context
   i32.load
   i32.load
   i32.const 5120
   call $~lib/@solo-io/proxy-runtime/runtime/HeaderStreamManipulator#get
   local.tee $6
  end
  call $assembly/http_callout/pair
  i32.store offset=4
  local.get $1
  i32.const 5184
  i32.const 5232
  call $assembly/http_callout/pair
  i32.store offset=8
  local.get $0
  i32.load offset=4
  local.get $3
  i32.const 0
  call $~lib/arraybuffer/ArrayBuffer#constructor
  local.tee $7
  i32.const 0
  i32.const 5264
  call $~lib/rt/__allocArray
  call $~lib/rt/pure/__retain
  local.tee $1
  i32.const 50
  i32.const 1000
  local.get $4
  select
  local.get $0
  call $~lib/@solo-io/proxy-runtime/runtime/RootContext#httpCall
  local.tee $0
  if
   global.get $~lib/@solo-io/proxy-runtime/runtime/stream_context
   i32.load
   i32.load
   i32.const 6240
   local.get $0
   call $~lib/number/I32#toString
   local.tee $0
   call $~lib/@solo-io/proxy-runtime/runtime/HeaderStreamManipulator#add
   local.get $0
   call $~lib/rt/pure/__release
   local.get $2
   call $~lib/rt/pure/__release
   local.get $7
   call $~lib/rt/pure/__release
   local.get $3
   call $~lib/rt/pure/__release
   local.get $5
   call $~lib/rt/pure/__release
   local.get $6
   call $~lib/rt/pure/__release
   local.get $1
   call $~lib/rt/pure/__release
   i32.const 0
   return
  end
  local.get $2
  call $~lib/rt/pure/__release
  local.get $5
  call $~lib/rt/pure/__release
  local.get $6
  call $~lib/rt/pure/__release
  local.get $3
  call $~lib/rt/pure/__release
  local.get $7
  call $~lib/rt/pure/__release
  local.get $1
  call $~lib/rt/pure/__release
  i32.const 1
 )
 (func $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/HttpCallback>#values (param $0 i32) (result i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  local.get $0
  i32.load offset=8
  local.set $5
  local.get $0
  i32.load offset=16
  local.tee $6
  local.set $8
  i32.const 16
  i32.const 30
  call $~lib/rt/tlsf/__alloc
  call $~lib/rt/pure/__retain
  local.tee $0
  i32.const 0
  i32.store
  local.get $0
  i32.const 0
  i32.store offset=4
  local.get $0
  i32.const 0
  i32.store offset=8
  local.get $0
  i32.const 0
  i32.store offset=12
  local.get $6
  i32.const 268435452
  i32.gt_u
  if
   i32.const 1104
   i32.const 2976
   i32.const 57
   i32.const 60
   call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
   unreachable
  end
  local.get $8
  i32.const 2
  i32.shl
  local.tee $7
  i32.const 0
  call $~lib/rt/tlsf/__alloc
  local.tee $3
  local.get $7
  call $~lib/memory/memory.fill
  local.get $3
  local.set $2
  local.get $3
  local.get $0
  i32.load
  local.tee $4
  i32.ne
  if
   local.get $2
   call $~lib/rt/pure/__retain
   local.set $2
   local.get $4
   call $~lib/rt/pure/__release
  end
  local.get $0
  local.get $2
  i32.store
  local.get $0
  local.get $3
  i32.store offset=4
  local.get $0
  local.get $7
  i32.store offset=8
  local.get $0
  local.get $8
  i32.store offset=12
  loop $for-loop|0
   local.get $9
   local.get $6
   i32.lt_s
   if
    local.get $5
    local.get $9
    i32.const 12
    i32.mul
    i32.add
    local.tee $3
    i32.load offset=8
    i32.const 1
    i32.and
    i32.eqz
    if
     local.get $3
     i32.load offset=4
     call $~lib/rt/pure/__retain
     local.set $3
     local.get $1
     local.get $0
     i32.load offset=12
     i32.ge_u
     if
      local.get $1
      i32.const 0
      i32.lt_s
      if
       i32.const 3024
       i32.const 2976
       i32.const 120
       i32.const 22
       call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
       unreachable
      end
      local.get $0
      local.get $1
      i32.const 1
      i32.add
      local.tee $2
      call $~lib/array/ensureSize
      local.get $0
      local.get $2
      i32.store offset=12
     end
     local.get $3
     call $~lib/rt/pure/__retain
     local.tee $2
     local.get $0
     i32.load offset=4
     local.get $1
     i32.const 2
     i32.shl
     i32.add
     local.tee $8
     i32.load
     local.tee $7
     i32.ne
     if
      local.get $8
      local.get $2
      call $~lib/rt/pure/__retain
      i32.store
      local.get $7
      call $~lib/rt/pure/__release
     end
     local.get $2
     call $~lib/rt/pure/__release
     local.get $3
     call $~lib/rt/pure/__release
     local.get $1
     i32.const 1
     i32.add
     local.set $1
    end
    local.get $9
    i32.const 1
    i32.add
    local.set $9
    br $for-loop|0
   end
  end
  local.get $0
  i32.load offset=12
  local.tee $2
  local.get $1
  i32.gt_s
  if
   local.get $0
   i32.load offset=4
   local.tee $9
   local.get $1
   i32.const 2
   i32.shl
   i32.add
   local.set $3
   local.get $9
   local.get $2
   i32.const 2
   i32.shl
   i32.add
   local.set $2
   loop $do-continue|0
    local.get $3
    i32.load
    call $~lib/rt/pure/__release
    local.get $3
    i32.const 4
    i32.add
    local.tee $3
    local.get $2
    i32.lt_u
    br_if $do-continue|0
   end
  else
   local.get $0
   local.get $1
   call $~lib/array/ensureSize
  end
  local.get $0
  local.get $1
  i32.store offset=12
  local.get $0
 )
 (func $~lib/@solo-io/proxy-runtime/runtime/RootContext#cancelPendingRequests (param $0 i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  local.get $0
  i32.load
  call $~lib/util/number/utoa32
  local.tee $2
  i32.const 1
  i32.const 2160
  local.get $2
  call $~lib/string/String.__concat
  local.tee $6
  i32.const 6304
  call $~lib/string/String.__concat
  local.tee $7
  call $~lib/@solo-io/proxy-runtime/runtime/log
  local.get $0
  i32.load offset=8
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/HttpCallback>#values
  local.set $3
  loop $for-loop|0
   local.get $1
   local.get $3
   i32.load offset=12
   i32.lt_s
   if
    local.get $3
    local.get $1
    call $~lib/array/Array<~lib/@solo-io/proxy-runtime/runtime/HeaderPair>#__get
    local.tee $2
    i32.load
    i32.const 4
    global.set $~argumentsLength
    i32.const 0
    i32.const 0
    i32.const 0
    local.get $3
    local.get $1
    call $~lib/array/Array<~lib/@solo-io/proxy-runtime/runtime/HeaderPair>#__get
    local.tee $4
    i32.load offset=4
    i32.load
    call_indirect (type $i32_i32_i32_i32_=>_none)
    local.get $4
    call $~lib/rt/pure/__release
    local.get $2
    call $~lib/rt/pure/__release
    local.get $1
    i32.const 1
    i32.add
    local.set $1
    br $for-loop|0
   end
  end
  local.get $0
  i32.load offset=8
  call $~lib/map/Map<u32,~lib/@solo-io/proxy-runtime/runtime/BaseContext>#keys
  local.set $2
  i32.const 0
  local.set $1
  loop $for-loop|1
   local.get $1
   local.get $2
   i32.load offset=12
   i32.lt_s
   if
    local.get $1
    local.get $2
    i32.load offset=12
    i32.ge_u
    if
     i32.const 3024
     i32.const 2976
     i32.const 104
     i32.const 42
     call $~lib/@solo-io/proxy-runtime/runtime/abort_proc_exit
     unreachable
    end
    local.get $2
    i32.load offset=4
    local.get $1
    i32.const 2
    i32.shl
    i32.add
    i32.load
    drop
    local.get $1
    i32.const 1
    i32.add
    local.set $1
    br $for-loop|1
   end
  end
  local.get $0
  i32.load offset=8
  local.set $0
  i32.const 16
  call $~lib/arraybuffer/ArrayBuffer#constructor
  local.set $1
  local.get $0
  i32.load
  call $~lib/rt/pure/__release
  local.get $0
  local.get $1
  i32.store
  local.get $0
  i32.const 3
  i32.store offset=4
  i32.const 48
  call $~lib/arraybuffer/ArrayBuffer#constructor
  local.set $1
  local.get $0
  i32.load offset=8
  call $~lib/rt/pure/__release
  local.get $0
  local.get $1
  i32.store offset=8
  local.get $0
  i32.const 4
  i32.store offset=12
  local.get $0
  i32.const 0
  i32.store offset=16
  local.get $0
  i32.const 0
  i32.store offset=20
  call $~lib/rt/pure/__release
  local.get $6
  call $~lib/rt/pure/__release
  local.get $7
  call $~lib/rt/pure/__release
  local.get $3
  call $~lib/rt/pure/__release
  local.get $2
  call $~lib/rt/pure/__release
 )
 (func $~lib/rt/pure/__visit (param $0 i32)
  local.get $0
  i32.const 6620
  i32.lt_u
  if
   return
  end
  local.get $0
  i32.const 16
  i32.sub
  call $~lib/rt/pure/decrement
 )
 (func $~lib/array/Array<~lib/@solo-io/proxy-runtime/runtime/HeaderPair>#__visit_impl (param $0 i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  local.get $0
  i32.load offset=4
  local.tee $1
  local.get $0
  i32.load offset=12
  i32.const 2
  i32.shl
  i32.add
  local.set $2
  loop $while-continue|0
   local.get $1
   local.get $2
   i32.lt_u
   if
    local.get $1
    i32.load
    local.tee $3
    if
     local.get $3
     call $~lib/rt/pure/__visit
    end
    local.get $1
    i32.const 4
    i32.add
    local.set $1
    br $while-continue|0
   end
  end
  local.get $0
  i32.load
  call $~lib/rt/pure/__visit
 )
 (func $~lib/rt/__visit_members (param $0 i32)
  (local $1 i32)
  (local $2 i32)
  block $folding-inner0
   block $block$13$break
    block $switch$1$default
     block $switch$1$case$32
      block $switch$1$case$31
       block $switch$1$case$28
        block $switch$1$case$27
         block $switch$1$case$24
          block $switch$1$case$23
           block $switch$1$case$20
            block $switch$1$case$18
             block $switch$1$case$12
              block $switch$1$case$10
               block $switch$1$case$9
                block $switch$1$case$4
                 block $switch$1$case$2
                  local.get $0
                  i32.const 8
                  i32.sub
                  i32.load
                  br_table $switch$1$case$2 $switch$1$case$2 $switch$1$case$4 $switch$1$case$2 $switch$1$case$2 $switch$1$case$2 $switch$1$case$2 $switch$1$case$9 $switch$1$case$10 $switch$1$case$2 $switch$1$case$12 $switch$1$case$2 $switch$1$case$9 $folding-inner0 $switch$1$case$9 $switch$1$case$2 $switch$1$case$18 $folding-inner0 $switch$1$case$20 $folding-inner0 $switch$1$case$12 $switch$1$case$23 $switch$1$case$24 $switch$1$case$18 $switch$1$case$9 $switch$1$case$27 $switch$1$case$28 $switch$1$case$4 $switch$1$case$4 $switch$1$case$31 $switch$1$case$32 $switch$1$default
                 end
                 return
                end
                local.get $0
                i32.load
                local.tee $0
                if
                 local.get $0
                 call $~lib/rt/pure/__visit
                end
                return
               end
               local.get $0
               i32.load
               local.tee $1
               if
                local.get $1
                call $~lib/rt/pure/__visit
               end
               local.get $0
               i32.load offset=4
               local.tee $0
               if
                local.get $0
                call $~lib/rt/pure/__visit
               end
               return
              end
              local.get $0
              i32.load
              local.tee $1
              if
               local.get $1
               call $~lib/rt/pure/__visit
              end
              local.get $0
              i32.load offset=4
              local.tee $1
              if
               local.get $1
               call $~lib/rt/pure/__visit
              end
              local.get $0
              i32.load offset=8
              local.tee $0
              if
               local.get $0
               call $~lib/rt/pure/__visit
              end
              return
             end
             local.get $0
             i32.load offset=4
             local.tee $1
             if
              local.get $1
              call $~lib/rt/pure/__visit
             end
             local.get $0
             i32.load offset=8
             local.tee $1
             if
              local.get $1
              call $~lib/rt/pure/__visit
             end
             local.get $0
             i32.load offset=12
             local.tee $0
             if
              local.get $0
              call $~lib/rt/pure/__visit
             end
             br $block$13$break
            end
            local.get $0
            i32.load offset=4
            local.tee $0
            if
             local.get $0
             call $~lib/rt/pure/__visit
            end
            br $block$13$break
           end
           local.get $0
           i32.load
           call $~lib/rt/pure/__visit
           local.get $0
           i32.load offset=8
           local.tee $2
           local.tee $1
           local.get $0
           i32.load offset=16
           i32.const 12
           i32.mul
           i32.add
           local.set $0
           loop $while-continue|0
            local.get $1
            local.get $0
            i32.lt_u
            if
             local.get $1
             i32.load offset=8
             i32.const 1
             i32.and
             i32.eqz
             if
              local.get $1
              i32.load
              call $~lib/rt/pure/__visit
              local.get $1
              i32.load offset=4
              call $~lib/rt/pure/__visit
             end
             local.get $1
             i32.const 12
             i32.add
             local.set $1
             br $while-continue|0
            end
           end
           local.get $2
           call $~lib/rt/pure/__visit
           return
          end
          local.get $0
          i32.load offset=4
          call $~lib/rt/pure/__visit
          return
         end
         local.get $0
         i32.load
         call $~lib/rt/pure/__visit
         return
        end
        local.get $0
        call $~lib/array/Array<~lib/@solo-io/proxy-runtime/runtime/HeaderPair>#__visit_impl
        return
       end
       local.get $0
       i32.load
       call $~lib/rt/pure/__visit
       return
      end
      local.get $0
      i32.load offset=4
      call $~lib/rt/pure/__visit
      return
     end
     local.get $0
     call $~lib/array/Array<~lib/@solo-io/proxy-runtime/runtime/HeaderPair>#__visit_impl
     return
    end
    unreachable
   end
   return
  end
  local.get $0
  i32.load
  call $~lib/rt/pure/__visit
  local.get $0
  i32.load offset=8
  local.tee $2
  local.tee $1
  local.get $0
  i32.load offset=16
  i32.const 12
  i32.mul
  i32.add
  local.set $0
  loop $while-continue|02
   local.get $1
   local.get $0
   i32.lt_u
   if
    local.get $1
    i32.load offset=8
    i32.const 1
    i32.and
    i32.eqz
    if
     local.get $1
     i32.load offset=4
     call $~lib/rt/pure/__visit
    end
    local.get $1
    i32.const 12
    i32.add
    local.set $1
    br $while-continue|02
   end
  end
  local.get $2
  call $~lib/rt/pure/__visit
 )
)
