# syntax=docker/dockerfile:1.7
# The mediapipe model replica in its own environment: mediapipe==0.10.21 needs numpy<2 and protobuf 4,
# which cannot share an environment with the other services (OFFLINE_MODELS.md). It speaks our protos.
#   docker build -f docker/mediapipe-replica.Dockerfile -t ghcr.io/hugginggpt/hugginggpt-mediapipe-replica:0.1.0 .
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml ./
COPY requirements ./requirements
COPY hugginggpt ./hugginggpt
COPY services ./services
COPY gateway ./gateway
COPY edge ./edge
COPY protos ./protos
# The environment's own pins (requirements/mediapipe-venv.txt), then the project without its dependencies,
# then the gRPC code generated with protobuf 4 (the project's hugginggpt/v1 needs protobuf 6), which
# services.replica.mediapipe puts first on hugginggpt's path (scripts/setup_mediapipe.sh does the same locally).
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir -r requirements/mediapipe-venv.txt \
    && /opt/venv/bin/pip install --no-cache-dir --no-deps . \
    && mkdir -p /opt/venv/gen \
    && /opt/venv/bin/python -m grpc_tools.protoc -Iprotos --python_out=/opt/venv/gen --grpc_python_out=/opt/venv/gen \
       protos/hugginggpt/v1/*.proto \
    && printf '"""Generated with protobuf 4 for the mediapipe image."""\n' > /opt/venv/gen/hugginggpt/v1/__init__.py

FROM ${PYTHON_IMAGE} AS mediapipe-replica
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --no-create-home --home-dir /var/cache/hugginggpt app
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/cache/hugginggpt HUGGINGGPT_CACHE_DIR=/var/cache/hugginggpt HUGGINGGPT_MEDIAPIPE_GEN_DIR=/opt/venv/gen
WORKDIR /app
USER 10001:10001
EXPOSE 50057 9090
ENTRYPOINT ["python", "-m", "services.replica.mediapipe"]
