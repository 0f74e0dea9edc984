#!/usr/bin/env bash
# Quarry targets Node 24 LTS. Where the machine's node is older, install a pinned
# Node 24 from the npm registry's `node` package under .tooling/node and print the
# directory to put first on PATH. Usage: export PATH="$(bash .tooling/ensure-node.sh):$PATH"
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
want_major=24
pinned="24.21.0"
prefix="$here/node"

major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if command -v node >/dev/null 2>&1 && [ "$(major node)" -ge "$want_major" ]; then
  dirname "$(command -v node)"
  exit 0
fi
bin="$prefix/node_modules/node/bin"
if [ ! -x "$bin/node" ] || [ "$(major "$bin/node")" -ne "$want_major" ]; then
  echo "provisioning node@$pinned under .tooling/node" >&2
  mkdir -p "$prefix"
  npm install --no-save --no-package-lock --loglevel=error --prefix "$prefix" "node@$pinned" >&2
fi
echo "$bin"
