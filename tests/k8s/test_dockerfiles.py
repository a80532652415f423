"""The Dockerfiles: pinned base images, and every entry point they (and the manifests) name exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.k8s.conftest import REPO, Obj, containers, of_kind

DOCKER = REPO / "docker"
# Modules that come from an installed package rather than this repository.
THIRD_PARTY = {"llama_cpp.server"}


def _dockerfiles() -> list[Path]:
    return sorted(DOCKER.glob("*.Dockerfile"))


def _entry_modules(text: str) -> list[str]:
    modules = []
    for match in re.finditer(r"^(?:ENTRYPOINT|CMD)\s+(\[.*\])\s*$", text, re.MULTILINE):
        argv = json.loads(match.group(1))
        if argv[:2] == ["python", "-m"]:
            modules.append(argv[2])
    return modules


def module_exists(module: str) -> bool:
    """Whether `python -m module` can run from this repository (a package needs a __main__.py)."""
    if module in THIRD_PARTY:
        return True
    path = REPO.joinpath(*module.split("."))
    return (path / "__main__.py").is_file() or path.with_suffix(".py").is_file()


def test_there_are_services_cuda_and_mediapipe_images() -> None:
    assert {p.name for p in _dockerfiles()} == {
        "services.Dockerfile", "replica-cuda.Dockerfile", "mediapipe-replica.Dockerfile", "s3-standin.Dockerfile"}


def test_every_entry_point_exists_as_a_module() -> None:
    seen = set()
    for dockerfile in _dockerfiles():
        for module in _entry_modules(dockerfile.read_text()):
            seen.add(module)
            assert module_exists(module), f"{dockerfile.name}: `python -m {module}` has no module in the repo"
    assert {"gateway", "services.planner", "services.selector", "services.executor", "services.router",
            "services.replica", "services.responder"} <= seen


def test_module_check_rejects_a_missing_module() -> None:
    assert not module_exists("services.nonexistent")
    assert not module_exists("hugginggpt.v1")  # a package without __main__ cannot be run


def test_base_images_are_pinned() -> None:
    for dockerfile in _dockerfiles():
        text = dockerfile.read_text()
        args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.MULTILINE))
        stages = set(re.findall(r"^FROM .* AS ([\w-]+)$", text, re.MULTILINE))
        for image in re.findall(r"^FROM (\S+)", text, re.MULTILINE):
            image = re.sub(r"\$\{(\w+)\}", lambda m, values=args: values[m.group(1)], image)
            if image in stages:
                continue
            tag = image.rsplit("/", 1)[-1]
            assert ":" in tag and not tag.endswith(":latest"), f"{dockerfile.name}: {image} is not pinned"


def test_every_manifest_image_is_built_by_a_dockerfile(rendered: dict[str, list[Obj]]) -> None:
    targets = set()
    for dockerfile in _dockerfiles():
        targets |= set(re.findall(r"^FROM .* AS ([\w-]+)$", dockerfile.read_text(), re.MULTILINE))
    for root, objects in rendered.items():
        for deploy in of_kind(objects, "Deployment"):
            for c in containers(deploy):
                repo = c["image"].split("@")[0].rsplit(":", 1)[0]
                if repo.startswith("ghcr.io/hugginggpt/hugginggpt-"):
                    target = repo.removeprefix("ghcr.io/hugginggpt/hugginggpt-")
                    assert target in targets, f"{root}: {c['image']} has no Dockerfile target {target!r}"
