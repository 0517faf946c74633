#!/usr/bin/env bash
# Rebuild the Zig (raw ABI, wasm32-freestanding) plugins with PyPI ziglang (python3 -m ziglang).
set -euo pipefail
cd "$(dirname "$0")"
ZIG="${ZIG:-python3 -m ziglang}"
mkdir -p build
export ZIG_GLOBAL_CACHE_DIR="${ZIG_GLOBAL_CACHE_DIR:-${TMPDIR:-/tmp}/wasmd-zig-cache}"
export ZIG_LOCAL_CACHE_DIR="$ZIG_GLOBAL_CACHE_DIR"
for f in abi010; do
    echo "   zig/$f"
    $ZIG build-exe "src/$f.zig" -target wasm32-freestanding -fno-entry -rdynamic -O ReleaseSmall \
        -femit-bin="build/$f.wasm"
done
rm -f build/*.o
