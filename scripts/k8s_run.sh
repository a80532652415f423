#!/usr/bin/env bash
# `make k8s-run`: builds the images with podman (cached), runs every workload of the default overlay
# (k8s/overlays/cpu) as its manifest says (scripts/k8s_run.py), waits until each is ready, asks the demo request
# through the gateway pod and checks the answer; then the same with artifacts in S3 (k8s/overlays/cpu-s3, an
# in-cluster S3 stand-in). Prints the build and run times. Not a cluster: see scripts/k8s_run.py.
#   scripts/k8s_run.sh [k8s_run.py options]   (options apply to both runs)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/podman_env.sh
start=$(date +%s)
scripts/k8s_images.sh
built=$(date +%s)
log "images built in $((built - start)) s"
for overlay in k8s/overlays/cpu k8s/overlays/cpu-s3; do
  began=$(date +%s)
  log "running $overlay"
  .venv/bin/python scripts/k8s_run.py --overlay "$overlay" "$@"
  log "$overlay: pods up and answered in $(( $(date +%s) - began )) s"
done
log "images $((built - start)) s, both runs $(( $(date +%s) - built )) s"
