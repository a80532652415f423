#!/usr/bin/env bash
# Regenerates the Python package hugginggpt/v1 from protos/hugginggpt/v1/*.proto. Never edit its output.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
out=hugginggpt/v1
rm -rf "$out"
mkdir -p "$out"
"$PY" -m grpc_tools.protoc -Iprotos --python_out=. --grpc_python_out=. --pyi_out=. protos/hugginggpt/v1/*.proto
# The gateway's contract also as Connect / gRPC-Web (connect-python), which the HTTP edge serves to browsers.
"$PY" -m grpc_tools.protoc -Iprotos --plugin=protoc-gen-connect-python="$(dirname "$PY")/protoc-gen-connect-python" \
  --connect-python_out=. protos/hugginggpt/v1/gateway.proto
printf '"""Generated from protos/hugginggpt/v1 by scripts/gen_protos.sh; do not edit."""\n' > "$out/__init__.py"
