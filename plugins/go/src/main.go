// A raw-ABI Proxy-Wasm plugin in Go, built the way the Go SDK builds on Go's own wasip1 target:
// `GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared` (a WASI reactor: `_initialize` runs
// the Go runtime; `//go:wasmexport` functions are the Proxy-Wasm callbacks). Go's linker emits
// some WASI functions as two identical imports (two `wasi_snapshot_preview1.fd_write` entries),
// which is valid WebAssembly that a host must link.
//
// Behaviour (cases in ../manifest.toml):
//   - on_configure keeps the plugin configuration;
//   - on_request_headers adds `x-go-config: <config>`, `x-go-path: <request.path property>` (the
//     path read with the Go SDK's property encoding: parts joined by NUL, no trailing NUL), and
//     answers a local 403 when the request has `x-go-deny: 1`;
//   - on_response_headers adds `x-go-resp: status-<:status>`;
//   - a log line per request through syscall.Write, one of the two fd_write imports.
package main

import (
	"syscall"
	"unsafe"
)

func main() {}

//go:wasmimport env proxy_log
func proxyLog(level uint32, msg unsafe.Pointer, size uint32) uint32

//go:wasmimport env proxy_get_buffer_bytes
func proxyGetBufferBytes(kind, start, max uint32, ptr unsafe.Pointer, size unsafe.Pointer) uint32

//go:wasmimport env proxy_get_header_map_value
func proxyGetHeaderMapValue(kind uint32, key unsafe.Pointer, keySize uint32, ptr unsafe.Pointer, size unsafe.Pointer) uint32

//go:wasmimport env proxy_add_header_map_value
func proxyAddHeaderMapValue(kind uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) uint32

//go:wasmimport env proxy_get_property
func proxyGetProperty(path unsafe.Pointer, pathSize uint32, ptr unsafe.Pointer, size unsafe.Pointer) uint32

//go:wasmimport env proxy_send_local_response
func proxySendLocalResponse(status uint32, details unsafe.Pointer, detailsSize uint32, body unsafe.Pointer, bodySize uint32, headers unsafe.Pointer, headersSize uint32, grpcStatus int32) uint32

const (
	mapRequestHeaders  = 0
	mapResponseHeaders = 2
	bufPluginConfig    = 7
	actionContinue     = 0
	actionPause        = 1
)

// Memory handed to the host stays reachable here until the plugin reads it (the Go SDK keeps
// such buffers alive the same way); one map entry per allocation, dropped after use.
var pinned = map[uintptr][]byte{}

//go:wasmexport proxy_on_memory_allocate
func onMemoryAllocate(size uint32) unsafe.Pointer {
	buf := make([]byte, size+1)
	ptr := unsafe.Pointer(&buf[0])
	pinned[uintptr(ptr)] = buf
	return ptr
}

func take(ptr unsafe.Pointer, size uint32) []byte {
	if ptr == nil {
		return nil
	}
	buf := pinned[uintptr(ptr)]
	delete(pinned, uintptr(ptr))
	return buf[:size]
}

func ptrOf(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

var config string

//go:wasmexport proxy_on_context_create
func onContextCreate(contextID, rootContextID uint32) {}

//go:wasmexport proxy_on_vm_start
func onVmStart(rootContextID, size uint32) uint32 { return 1 }

//go:wasmexport proxy_on_configure
func onConfigure(rootContextID, size uint32) uint32 {
	var ptr unsafe.Pointer
	var got uint32
	if proxyGetBufferBytes(bufPluginConfig, 0, size, unsafe.Pointer(&ptr), unsafe.Pointer(&got)) == 0 {
		config = string(take(ptr, got))
	}
	return 1
}

func header(kind uint32, key string) (string, bool) {
	k := []byte(key)
	var ptr unsafe.Pointer
	var size uint32
	if proxyGetHeaderMapValue(kind, ptrOf(k), uint32(len(k)), unsafe.Pointer(&ptr), unsafe.Pointer(&size)) != 0 {
		return "", false
	}
	return string(take(ptr, size)), true
}

func addHeader(kind uint32, key, value string) {
	k, v := []byte(key), []byte(value)
	proxyAddHeaderMapValue(kind, ptrOf(k), uint32(len(k)), ptrOf(v), uint32(len(v)))
}

// property reads a property with the Go SDK's path encoding: parts joined by NUL.
func property(parts ...string) (string, uint32) {
	var path []byte
	for i, p := range parts {
		if i > 0 {
			path = append(path, 0)
		}
		path = append(path, p...)
	}
	var ptr unsafe.Pointer
	var size uint32
	status := proxyGetProperty(ptrOf(path), uint32(len(path)), unsafe.Pointer(&ptr), unsafe.Pointer(&size))
	if status != 0 {
		return "", status
	}
	return string(take(ptr, size)), 0
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(contextID, headers, endOfStream uint32) uint32 {
	// syscall.Write imports wasi fd_write itself; the runtime imports it too (println, panics).
	syscall.Write(1, []byte("go plugin: request on context "+itoa(contextID)+"\n"))
	if deny, ok := header(mapRequestHeaders, "x-go-deny"); ok && deny == "1" {
		body := []byte("denied by go")
		details := []byte("go_deny")
		proxySendLocalResponse(403, ptrOf(details), uint32(len(details)), ptrOf(body), uint32(len(body)), nil, 0, -1)
		return actionPause
	}
	addHeader(mapRequestHeaders, "x-go-config", config)
	path, status := property("request", "path")
	if status != 0 {
		path = "status:" + itoa(status)
	}
	addHeader(mapRequestHeaders, "x-go-path", path)
	return actionContinue
}

func itoa(n uint32) string {
	if n == 0 {
		return "0"
	}
	var digits []byte
	for ; n > 0; n /= 10 {
		digits = append([]byte{byte('0' + n%10)}, digits...)
	}
	return string(digits)
}

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(contextID, headers, endOfStream uint32) uint32 {
	if status, ok := header(mapResponseHeaders, ":status"); ok {
		addHeader(mapResponseHeaders, "x-go-resp", "status-"+status)
	}
	return actionContinue
}

//go:wasmexport proxy_on_log
func onLog(contextID uint32) {}

//go:wasmexport proxy_on_done
func onDone(contextID uint32) uint32 { return 1 }

//go:wasmexport proxy_on_delete
func onDelete(contextID uint32) {}
