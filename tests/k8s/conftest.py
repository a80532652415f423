"""Renders every Kustomize root once per session (or reads what scripts/k8s_validate.sh rendered)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.k8s.kubectl import kubectl_path

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
Obj = dict[str, Any]


def kustomize_roots() -> list[Path]:
    """Every directory with a kustomization.yaml that is not a component."""
    return sorted(p.parent for p in K8S.rglob("kustomization.yaml") if "components" not in p.parts)


def _render(root: Path) -> str:
    rendered = os.environ.get("K8S_RENDER_DIR")
    if rendered:
        name = "_".join(root.relative_to(K8S).parts) + ".yaml"
        path = Path(rendered) if Path(rendered).is_absolute() else REPO / rendered
        if (path / name).is_file():
            return (path / name).read_text()
    result = subprocess.run(
        [str(kubectl_path()), "kustomize", str(root)], capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"kustomize {root} failed: {result.stderr[-2000:]}")
    return result.stdout


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Obj]]:
    """Root name (base, overlays/gpu, ...) -> its rendered objects."""
    out: dict[str, list[Obj]] = {}
    for root in kustomize_roots():
        out["/".join(root.relative_to(K8S).parts)] = [d for d in yaml.safe_load_all(_render(root)) if d]
    return out


def of_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def by_name(objects: list[Obj], kind: str) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in of_kind(objects, kind)}


def pod_spec(workload: Obj) -> Obj:
    return workload["spec"]["template"]["spec"]


def containers(workload: Obj) -> list[Obj]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]
