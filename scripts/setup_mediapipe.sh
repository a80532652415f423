#!/usr/bin/env bash
# Creates .venv-mediapipe for the mediapipe replica (python -m services.replica.mediapipe) and generates
# its gRPC code with protobuf 4 into .venv-mediapipe/gen (mediapipe pins protobuf 4; the main venv has 6+).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
venv=.venv-mediapipe
[ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q -r requirements/mediapipe-venv.txt
gen="$venv/gen"
rm -rf "$gen"
mkdir -p "$gen"
"$venv/bin/python" -m grpc_tools.protoc -Iprotos --python_out="$gen" --grpc_python_out="$gen" protos/hugginggpt/v1/*.proto
printf '"""Generated with protobuf 4 for the mediapipe venv by scripts/setup_mediapipe.sh."""\n' > "$gen/hugginggpt/v1/__init__.py"
"$venv/bin/python" -c "import mediapipe, numpy, google.protobuf as p; print('mediapipe', mediapipe.__version__, 'numpy', numpy.__version__, 'protobuf', p.__version__)"
