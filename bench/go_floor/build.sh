#!/usr/bin/env bash
# Build the Go floor (bench/go_floor/main.go) offline, from Debian 12 packages only:
#   golang-go golang-google-grpc-dev golang-github-golang-protobuf-1-5-dev
#   protobuf-compiler protoc-gen-go protoc-gen-go-grpc
# (`bash scripts/setup.sh --go-floor` installs them). go-control-plane is not packaged, so
# the ext_proc protos and their imports are generated from the descriptors in PyPI
# xds-protos (descriptors.py, run by the venv's Python). GOPATH mode, no network.
#
#   bash bench/go_floor/build.sh          # prints the binary's path; a no-op when fresh
#
# Output: bench/go_floor/build/ (gitignored). Rebuilt when an input or a tool changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
python=${PYTHON:-$repo/.venv/bin/python}
out=$here/build
bin=$out/go_floor

for tool in go protoc protoc-gen-go protoc-gen-go-grpc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "go_floor/build.sh: $tool not found; run: bash scripts/setup.sh --go-floor" >&2
        exit 3
    fi
done

stamp=$(
    cat "$here/main.go" "$here/descriptors.py" "$here/build.sh"
    "$python" -c 'import importlib.metadata as m; print(m.version("xds-protos"))'
    go version; protoc --version; protoc-gen-go --version; protoc-gen-go-grpc --version
)
stamp=$(printf '%s' "$stamp" | sha256sum | cut -d' ' -f1)
if [ -x "$bin" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "$bin"
    exit 0
fi

rm -rf "$out"
mkdir -p "$out/gopath/src"
mapfile -t protos < <("$python" "$here/descriptors.py" "$out/descriptors.pb")
# paths=import: each file lands under its go_package import path, i.e. in GOPATH.
protoc --descriptor_set_in="$out/descriptors.pb" \
    --go_out="$out/gopath/src" --go-grpc_out="$out/gopath/src" "${protos[@]}"
GO111MODULE=off GOPATH="$out/gopath:/usr/share/gocode" GOCACHE="$out/gocache" GOFLAGS= \
    go build -trimpath -o "$bin" "$here/main.go"
echo "$stamp" > "$out/stamp"
echo "$bin"
