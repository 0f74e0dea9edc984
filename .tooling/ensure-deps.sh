#!/usr/bin/env bash
# Runs `npm ci` when node_modules is missing or older than package-lock.json (a pull or a
# checkout changed the dependencies). Expects Node 24 first on PATH (ensure-node.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
installed=node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ package-lock.json -nt "$installed" ]; then
  echo "installing dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund
fi
