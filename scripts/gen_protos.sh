#!/usr/bin/env bash
# Regenerates the Python package hugginggpt/v1 from protos/hugginggpt/v1/*.proto. Never edit its output.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
out=hugginggpt/v1
rm -rf "$out"
mkdir -p "$out"
"$PY" -m grpc_tools.protoc -Iprotos --python_out=. --grpc_python_out=. --pyi_out=. protos/hugginggpt/v1/*.proto
printf '"""Generated from protos/hugginggpt/v1 by scripts/gen_protos.sh; do not edit."""\n' > "$out/__init__.py"
