#!/usr/bin/env bash
# Rebuild the C++ plugins (C++ SDK module shape) with both toolchains the SDK is built with:
#   build/props_clang.wasm       Debian clang 19 + libc++ for wasm32-wasi (libc++-19-dev-wasm32,
#                                wasi-libc), a WASI reactor exporting malloc/free as the allocator;
#   build/props_emscripten.wasm  Debian Emscripten (em++), STANDALONE_WASM with --no-entry, as the
#                                C++ SDK's Makefile builds (malloc exported, emscripten imports).
#                                The SDK declares the proxy_* imports in a JS library; here
#                                ERROR_ON_UNDEFINED_SYMBOLS=0 makes them env imports the same way.
# Both come from `bash scripts/setup.sh --toolchains`.
set -euo pipefail
cd "$(dirname "$0")"
CXX="${CXX:-clang++-19}"
EMXX="${EMXX:-em++}"
mkdir -p build
"$CXX" --target=wasm32-wasi --sysroot=/usr -isystem /usr/lib/llvm-19/include/wasm32-wasi/c++/v1 \
    -L/usr/lib/llvm-19/lib/wasm32-wasi -std=c++17 -O2 -fno-exceptions -mexec-model=reactor \
    -Wl,--export=malloc -Wl,--export=free -Wall -Werror -o build/props_clang.wasm src/props.cc
echo "built build/props_clang.wasm ($(wc -c <build/props_clang.wasm) bytes)"
"$EMXX" -std=c++17 -O2 -fno-exceptions -s STANDALONE_WASM=1 --no-entry \
    -s EXPORTED_FUNCTIONS=_malloc,_free -s ALLOW_MEMORY_GROWTH=1 -s ERROR_ON_UNDEFINED_SYMBOLS=0 \
    -Wall -Werror \
    -o build/props_emscripten.wasm src/props.cc
echo "built build/props_emscripten.wasm ($(wc -c <build/props_emscripten.wasm) bytes)"
