#!/usr/bin/env bash
# Rebuild the raw-ABI Rust plugins (no crates) with Debian's rustc 1.63 + libstd-rust-dev-wasm32.
set -euo pipefail
cd "$(dirname "$0")"
RUSTC=/usr/bin/rustc   # not a rustup toolchain: the Debian one has the wasm32 std installed
mkdir -p build
for f in headers metrics; do
    echo "   rust/$f"
    "$RUSTC" --edition 2021 --crate-type cdylib --target wasm32-unknown-unknown \
        -C opt-level=s -C strip=symbols --remap-path-prefix "$PWD=." \
        -o "build/$f.wasm" "src/$f.rs"
done
