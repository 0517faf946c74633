#!/usr/bin/env bash
# Rebuild the AssemblyScript (@solo-io/proxy-runtime 0.1.8, assemblyscript 0.14.9) plugins.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x node_modules/.bin/asc ]; then
    npm ci --no-audit --no-fund
fi
mkdir -p build
for f in add_header local_reply body_rewrite sdk_default_config http_callout; do
    echo "   as/$f"
    npx --no-install asc "assembly/$f.ts" -b "build/$f.wasm" -t "build/$f.wat" \
        --use abort=abort_proc_exit --optimize
done
