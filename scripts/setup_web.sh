#!/usr/bin/env bash
# Installs the front doors' side of the project, idempotently (stamps; a second run takes well under a second):
# the Node gRPC client's packages (examples/node) and the web UI's (edge/ui), both `npm ci --ignore-scripts`;
# the UI's bundle (its contract code generated from protos/ by buf + protoc-gen-es, then esbuild, into
# edge/ui/dist, which the edge serves); and for the browser test, Debian's
# chromium and Playwright (requirements/browser-test.txt; Playwright's own browser download is never used).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup-web] %s\n' "$*" >&2; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    log "installing Node.js and npm (Debian packages)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    log "Node.js and npm are missing (install them as root); no Node client, no web UI"; exit 0
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
npm_ci edge/ui

mkdir -p .venv/.stamps
ui_stamp=$(cat edge/ui/package-lock.json edge/ui/build.mjs edge/ui/buf.gen.yaml edge/ui/src/*.* \
  protos/hugginggpt/v1/*.proto | sha256sum | cut -c1-16)
if [ "$(cat .venv/.stamps/web-ui 2>/dev/null)" != "$ui_stamp" ] || [ ! -f edge/ui/dist/index.html ]; then
  log "building the web UI into edge/ui/dist"
  (cd edge/ui && node build.mjs)
  echo "$ui_stamp" > .venv/.stamps/web-ui
fi

if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    log "installing Debian's chromium for the browser test"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    log "chromium is missing (install it as root); the browser test will be skipped"
  fi
fi
if [ "$(cat .venv/.stamps/browser-test 2>/dev/null)" != "$(sha256sum < requirements/browser-test.txt)" ]; then
  .venv/bin/pip --disable-pip-version-check -q install -r requirements/browser-test.txt
  sha256sum < requirements/browser-test.txt > .venv/.stamps/browser-test
fi
