#!/usr/bin/env bash
# Rebuild every plugin in plugins/ from source with the real toolchains.
# Needs: bash scripts/setup.sh --toolchains  (clang + wasi-libc, rustc + wasm32 std, zig, npm).
# Each toolchain folder has its own build.sh; the built .wasm files are committed.
set -euo pipefail
cd "$(dirname "$0")"
for script in */build.sh; do
    echo "== ${script%/build.sh}"
    bash "$script"
done
