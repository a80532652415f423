#!/usr/bin/env bash
# Sourced by scripts/k8s_images.sh and scripts/k8s_run.sh: podman installed and configured the way
# ../shared/docs/CONTAINERS.md verified (runc, cgroupfs, ulimits), and a Python base image made with
# debootstrap because no registry is reachable. Idempotent: each step is skipped when already done.
set -euo pipefail
K8S_RUN_DIR=${K8S_RUN_DIR:-$PWD/build/k8s-run}
BASE_IMAGE=${BASE_IMAGE:-localhost/python:3.11-bookworm}
mkdir -p "$K8S_RUN_DIR"
export CONTAINERS_CONF=$K8S_RUN_DIR/containers.conf

log() { echo "[k8s-run] $*" >&2; }

if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null || ! command -v iptables >/dev/null; then
  log "installing podman, runc, catatonit, debootstrap (Debian packages)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    podman runc catatonit debootstrap netavark aardvark-dns iptables uidmap fuse-overlayfs >/dev/null
fi

cat > "$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
[network]
network_backend = "netavark"
EOF

if ! podman image exists "$BASE_IMAGE"; then
  # The machine's own mirror (deb822 `URIs:` or one-line `deb URL` sources).
  mirror=$(grep -h -E '^(URIs:|deb) ' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
    | grep -o -E 'https?://[^ ]*/debian$' | head -1 || true)
  rootfs=$K8S_RUN_DIR/rootfs
  rm -rf "$rootfs"
  log "making $BASE_IMAGE with debootstrap from ${mirror:-http://deb.debian.org/debian}"
  debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
    bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" > "$K8S_RUN_DIR/debootstrap.log"
  test -x "$rootfs/usr/bin/python3" || { log "debootstrap failed: see $K8S_RUN_DIR/debootstrap.log"; exit 1; }
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | podman import --change 'CMD ["python3"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
fi
