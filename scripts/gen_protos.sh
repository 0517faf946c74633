#!/bin/sh
# Regenerate the Python code for protos/wasmd/v1/*.proto with grpcio-tools.
#
# Usage: scripts/gen_protos.sh [OUT_DIR]   (default: wasmd/admin/_proto)
#
# protoc names imports after the proto path (`from wasmd.v1 import admin_pb2`), which would
# collide with the real `wasmd` package; the generated modules live in wasmd.admin._proto,
# so that one import line is rewritten. tests/unit/admin/test_protos_fresh.py runs this
# script into a temporary directory and fails when the checked-in files differ.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-"$repo/wasmd/admin/_proto"}
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$repo"
"$python" -m grpc_tools.protoc \
    -I protos \
    --python_out="$work" \
    --pyi_out="$work" \
    --grpc_python_out="$work" \
    protos/wasmd/v1/admin.proto

mkdir -p "$out"
for f in admin_pb2.py admin_pb2.pyi admin_pb2_grpc.py; do
    sed 's/^from wasmd\.v1 import admin_pb2 as/from wasmd.admin._proto import admin_pb2 as/' \
        "$work/wasmd/v1/$f" > "$out/$f"
done
if [ ! -f "$out/__init__.py" ]; then
    printf '"""Generated from protos/wasmd/v1/admin.proto by scripts/gen_protos.sh; do not edit."""\n' \
        > "$out/__init__.py"
fi
