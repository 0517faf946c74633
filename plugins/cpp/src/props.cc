// A Proxy-Wasm plugin in C++ with the module shape the official C++ SDK produces (written here
// against the raw ABI: the SDK's code is not copied). What matters for a host:
//   - contexts are C++ objects kept in a std::unordered_map, created on proxy_on_context_create;
//   - the allocator the host calls is the exported `malloc` (no proxy_on_memory_allocate);
//   - property paths are encoded as the SDK's getProperty({"request", "path"}) encodes them:
//     EVERY part, the last one included, is followed by a NUL ("request\0path\0").
// Built twice: clang 19 + libc++ for wasm32-wasi (build/props_clang.wasm) and Debian's
// Emscripten in STANDALONE_WASM mode (build/props_emscripten.wasm). Cases: ../manifest.toml.
//
// on_request_headers adds, for each property below, `x-cpp-<name>: <value>` or
// `x-cpp-<name>: status:<code>`; `x-cpp-config: <plugin configuration>`. A request with
// `x-cpp-deny: 1` gets a local 403 "denied by cpp". on_response_headers adds
// `x-cpp-resp: <:status>`.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <initializer_list>

#define IMPORT(name) extern "C" __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) extern "C" __attribute__((export_name(#name), used))

IMPORT(proxy_get_buffer_bytes) uint32_t proxy_get_buffer_bytes(uint32_t, size_t, size_t, const char **, size_t *);
IMPORT(proxy_get_header_map_value) uint32_t proxy_get_header_map_value(uint32_t, const char *, size_t, const char **, size_t *);
IMPORT(proxy_add_header_map_value) uint32_t proxy_add_header_map_value(uint32_t, const char *, size_t, const char *, size_t);
IMPORT(proxy_get_property) uint32_t proxy_get_property(const char *, size_t, const char **, size_t *);
IMPORT(proxy_send_local_response) uint32_t proxy_send_local_response(uint32_t, const char *, size_t, const char *, size_t,
                                                                      const char *, size_t, int32_t);
IMPORT(proxy_log) uint32_t proxy_log(uint32_t, const char *, size_t);

namespace {

enum : uint32_t { kRequestHeaders = 0, kResponseHeaders = 2, kPluginConfiguration = 7 };

// Host-allocated data (through malloc) owned until destruction, as the SDK's WasmData does.
struct HostData {
  const char *ptr = nullptr;
  size_t size = 0;
  ~HostData() { ::free(const_cast<char *>(ptr)); }
  std::string str() const { return std::string(ptr ? ptr : "", size); }
};

// The C++ SDK's encoding: each part followed by a NUL, the last one too.
uint32_t getProperty(std::initializer_list<std::string_view> parts, std::string *out) {
  std::string path;
  for (auto part : parts) {
    path.append(part.data(), part.size());
    path.push_back('\0');
  }
  HostData value;
  uint32_t status = proxy_get_property(path.data(), path.size(), &value.ptr, &value.size);
  if (status == 0) *out = value.str();
  return status;
}

bool getHeader(uint32_t map, std::string_view key, std::string *out) {
  HostData value;
  if (proxy_get_header_map_value(map, key.data(), key.size(), &value.ptr, &value.size) != 0) return false;
  *out = value.str();
  return true;
}

void addHeader(uint32_t map, std::string_view key, std::string_view value) {
  proxy_add_header_map_value(map, key.data(), key.size(), value.data(), value.size());
}

class Context {
 public:
  explicit Context(uint32_t id) : id_(id) {}
  virtual ~Context() = default;
  virtual uint32_t onRequestHeaders() { return 0; }
  virtual uint32_t onResponseHeaders() { return 0; }

 protected:
  uint32_t id_;
};

std::string g_config;

class StreamContext : public Context {
 public:
  using Context::Context;

  uint32_t onRequestHeaders() override {
    std::string deny;
    if (getHeader(kRequestHeaders, "x-cpp-deny", &deny) && deny == "1") {
      static constexpr std::string_view body = "denied by cpp", details = "cpp_deny";
      proxy_send_local_response(403, details.data(), details.size(), body.data(), body.size(), nullptr, 0, -1);
      return 1;
    }
    addHeader(kRequestHeaders, "x-cpp-config", g_config);
    report("path", {"request", "path"});
    report("method", {"request", "method"});
    report("host", {"request", "host"});
    report("plugin-name", {"plugin_name"});
    report("missing", {"request", "no_such_attribute"});
    return 0;
  }

  uint32_t onResponseHeaders() override {
    std::string status;
    if (getHeader(kResponseHeaders, ":status", &status)) addHeader(kResponseHeaders, "x-cpp-resp", status);
    return 0;
  }

 private:
  void report(std::string_view name, std::initializer_list<std::string_view> path) {
    std::string value;
    uint32_t status = getProperty(path, &value);
    if (status != 0) value = "status:" + std::to_string(status);
    addHeader(kRequestHeaders, std::string("x-cpp-") + std::string(name), value);
  }
};

std::unordered_map<uint32_t, std::unique_ptr<Context>> g_contexts;

Context *find(uint32_t id) {
  auto it = g_contexts.find(id);
  return it == g_contexts.end() ? nullptr : it->second.get();
}

}  // namespace

EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1() {}

EXPORT(proxy_on_context_create) void proxy_on_context_create(uint32_t id, uint32_t root_id) {
  if (root_id != 0) g_contexts[id] = std::make_unique<StreamContext>(id);
}

EXPORT(proxy_on_vm_start) uint32_t proxy_on_vm_start(uint32_t, uint32_t) { return 1; }

EXPORT(proxy_on_configure) uint32_t proxy_on_configure(uint32_t, uint32_t size) {
  HostData config;
  if (proxy_get_buffer_bytes(kPluginConfiguration, 0, size, &config.ptr, &config.size) == 0) g_config = config.str();
  static constexpr std::string_view line = "cpp plugin configured";
  proxy_log(2, line.data(), line.size());
  return 1;
}

EXPORT(proxy_on_request_headers) uint32_t proxy_on_request_headers(uint32_t id, uint32_t, uint32_t) {
  Context *c = find(id);
  return c ? c->onRequestHeaders() : 0;
}

EXPORT(proxy_on_response_headers) uint32_t proxy_on_response_headers(uint32_t id, uint32_t, uint32_t) {
  Context *c = find(id);
  return c ? c->onResponseHeaders() : 0;
}

EXPORT(proxy_on_done) uint32_t proxy_on_done(uint32_t) { return 1; }
EXPORT(proxy_on_log) void proxy_on_log(uint32_t) {}
EXPORT(proxy_on_delete) void proxy_on_delete(uint32_t id) { g_contexts.erase(id); }
