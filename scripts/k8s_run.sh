#!/usr/bin/env bash
# `make k8s-run`: builds the default overlay's images with podman (cached), runs every workload as its
# manifest says (scripts/k8s_run.py), waits until each is ready, asks the demo request through the gateway
# pod and prints the answer. Prints the build and run times. Not a cluster: see scripts/k8s_run.py.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/podman_env.sh
start=$(date +%s)
scripts/k8s_images.sh
built=$(date +%s)
.venv/bin/python scripts/k8s_run.py "$@"
done_at=$(date +%s)
log "images $((built - start)) s, pods up and answered $((done_at - built)) s"
