#!/usr/bin/env bash
# Installs moto's S3 server into its own venv (.venv-s3test) for tests/service/test_artifacts_s3.py.
# Separate because botocore pins python-dateutil<3 while kubernetes>=37 needs python-dateutil>=3.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-s3test
want=$(sha256sum requirements/s3test.txt | cut -c1-16)
if [ "$(cat $VENV/.stamp 2>/dev/null)" != "$want" ]; then
  [ -x $VENV/bin/python ] || "${PYTHON:-python3}" -m venv $VENV
  $VENV/bin/pip install --disable-pip-version-check -q -r requirements/s3test.txt
  echo "$want" > $VENV/.stamp
fi
