# An S3 stand-in for k8s/overlays/cpu-s3: moto's S3 server (the pins tests/service/test_artifacts_s3.py uses,
# requirements/s3test.txt). In memory, any key accepted: for trying the S3 artifact path, not for production.
#   docker build -f docker/s3-standin.Dockerfile -t ghcr.io/hugginggpt/hugginggpt-s3-standin:0.1.0 .
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

FROM ${PYTHON_IMAGE} AS s3-standin
COPY requirements/s3test.txt /tmp/s3test.txt
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r /tmp/s3test.txt \
    && useradd --uid 10001 --user-group --no-create-home app
USER 10001:10001
EXPOSE 9000
ENTRYPOINT ["/opt/venv/bin/moto_server", "-H", "0.0.0.0", "-p", "9000"]
