#!/usr/bin/env bash
# Renders every Kustomize root under k8s/, validates it against the Kubernetes schema (strict), and runs
# the rules in tests/k8s/ over the rendered objects. Contacts no cluster and no registry.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=$VENV/bin/python
K8S_VERSION=${K8S_VERSION:-1.37.0}
OUT=${K8S_RENDER_DIR:-build/k8s}
# Custom resources whose schemas kubernetes-validate does not ship; tests/k8s checks them instead.
CRD_KINDS="ScaledObject"

KUBECTL=$("$PY" -m tests.k8s.kubectl)
mkdir -p "$OUT"
status=0
for kfile in $(find k8s -name kustomization.yaml -not -path '*/components/*' | sort); do
  root=$(dirname "$kfile")
  target="$OUT/$(echo "${root#k8s/}" | tr '/' '_').yaml"
  if ! "$KUBECTL" kustomize "$root" > "$target"; then
    echo "FAIL render $root" >&2; status=1; continue
  fi
  log=$("$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$target" 2>&1) || {
    echo "$log" >&2; echo "FAIL validate $root" >&2; status=1; continue; }
  unknown=$(echo "$log" | grep "Couldn't find schema" | grep -v -E "kind ($(echo $CRD_KINDS | tr ' ' '|')) " || true)
  if [ -n "$unknown" ]; then echo "$unknown" >&2; echo "FAIL unknown kinds in $root" >&2; status=1; continue; fi
  echo "ok   $root ($(grep -c '^kind:' "$target") objects)"
done
[ $status -eq 0 ] || exit $status
K8S_RENDER_DIR="$OUT" "$PY" -m pytest -q -p no:cacheprovider tests/k8s
