#!/usr/bin/env bash
# Builds the images the default overlay (k8s/overlays/cpu) names, with podman, one at a time, tagged with
# the manifests' own names so the pods run them as written. Idempotent: podman's layer cache makes a
# rebuild of unchanged sources take seconds. Prints one JSON line: seconds per image and sizes.
#   scripts/k8s_images.sh [target ...]      (default: every image of the default overlay but the edge)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/podman_env.sh
TAG=0.1.0
SERVICE_TARGETS="gateway planner selector executor router replica responder llm"
targets=${*:-$SERVICE_TARGETS mediapipe-replica redis}

# Build steps reach PyPI through this machine's proxy (its CA) and its local wheel stores (pip.conf).
mounts=(-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
for path in /etc/pip.conf /etc/xdg/pip /opt/wheels /opt/pypi /opt/pypi-more; do
  [ -e "$path" ] && mounts+=(-v "$path:$path:ro")
done
build_args=(--pull=never --build-arg "PYTHON_IMAGE=$BASE_IMAGE" --build-arg "TORCH_INDEX_URL=https://pypi.org/simple")

build() {  # target -> image name
  local target=$1
  case $target in
    mediapipe-replica)
      podman build "${build_args[@]}" "${mounts[@]}" -f docker/mediapipe-replica.Dockerfile \
        -t "ghcr.io/hugginggpt/hugginggpt-mediapipe-replica:$TAG" . ;;
    redis)
      # No registry: Debian's redis-server stands in for the manifest's redis:7.4.2-alpine, under its name.
      printf 'FROM %s\nRUN apt-get update && apt-get install -y --no-install-recommends redis-server redis-tools \\\n && rm -rf /var/lib/apt/lists/*\nUSER 999:999\nENTRYPOINT ["redis-server"]\n' \
        "$BASE_IMAGE" | podman build --pull=never -t docker.io/library/redis:7.4.2-alpine -f - . ;;
    *)
      podman build "${build_args[@]}" "${mounts[@]}" -f docker/services.Dockerfile --target "$target" \
        -t "ghcr.io/hugginggpt/hugginggpt-$target:$TAG" . ;;
  esac
}

report="{"
for target in $targets; do
  log "building $target"
  start=$(date +%s)
  build "$target" > "$K8S_RUN_DIR/build-$target.log" 2>&1 || {
    tail -30 "$K8S_RUN_DIR/build-$target.log" >&2; log "FAIL build $target (log: $K8S_RUN_DIR/build-$target.log)"; exit 1; }
  seconds=$(( $(date +%s) - start ))
  image=$( [ "$target" = redis ] && echo docker.io/library/redis:7.4.2-alpine || echo "ghcr.io/hugginggpt/hugginggpt-$target:$TAG")
  size=$(podman image inspect --format '{{.Size}}' "$image")
  log "built $image in $seconds s ($((size / 1000000)) MB)"
  report+="\"$target\": {\"seconds\": $seconds, \"bytes\": $size}, "
done
echo "${report%, }}"
