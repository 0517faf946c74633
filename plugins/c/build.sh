#!/usr/bin/env bash
# Rebuild every plugins/c/*.c into build/*.wasm (deterministic: fixed flags, relative paths).
# Default: WASI reactor (exports _initialize; wasi-libc malloc/free exported as the allocator).
# A file containing the line "// build: freestanding" is built without libc (no WASI imports).
# A file containing the line "// build: command-exports" is built without _initialize: wasm-ld
# wraps each export (the allocator too) so that it runs the module's constructors first.
set -euo pipefail
cd "$(dirname "$0")"
CC="${CC:-clang}"
mkdir -p build
for src in *.c; do
    name="${src%.c}"
    if grep -q '^// build: freestanding' "$src"; then
        "$CC" --target=wasm32 -O2 -nostdlib -ffreestanding -Wl,--no-entry -Wl,--export-dynamic \
            -Wall -Werror -o "build/$name.wasm" "$src"
    elif grep -q '^// build: command-exports' "$src"; then
        "$CC" --target=wasm32-wasi -O2 -nostartfiles -Wl,--no-entry -Wl,--export=malloc \
            -Wl,--export=free -Wall -Werror -o "build/$name.wasm" "$src"
    else
        "$CC" --target=wasm32-wasi -O2 -mexec-model=reactor -Wl,--export=malloc -Wl,--export=free \
            -Wall -Werror -o "build/$name.wasm" "$src"
    fi
    echo "built build/$name.wasm ($(wc -c <"build/$name.wasm") bytes)"
done
