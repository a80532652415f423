#!/usr/bin/env bash
# Installs the Node.js side of the front doors, idempotently (a stamp per lock file; a second run takes no time):
# the Node gRPC client's packages (examples/node, npm ci). Packages install with --ignore-scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup-web] %s\n' "$*" >&2; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    log "installing Node.js and npm (Debian packages)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    log "Node.js and npm are missing (install them as root); the Node client and its test will be skipped"; exit 0
  fi
fi

# npm ci in a folder when its package files changed since the last run.
npm_ci() {
  local dir=$1 stamp
  stamp=$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -c1-16)
  if [ "$(cat "$dir/node_modules/.stamp" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  log "npm ci in $dir"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$stamp" > "$dir/node_modules/.stamp"
}

npm_ci examples/node
