"""Rules every rendered workload must follow: probes, limits, pinned images, hardening, GPUs, scaling."""

from __future__ import annotations

import re

from tests.k8s.conftest import Obj, by_name, containers, of_kind, pod_spec

GRPC_STAGES = {
    "gateway": 50050, "planner": 50051, "selector": 50052, "executor": 50053, "router": 50054,
    "replica": 50055, "responder": 50056, "mediapipe-replica": 50057,
}
MODEL_WORKLOADS = {"replica", "mediapipe-replica", "llm"}
SCALABLE = {*GRPC_STAGES, "llm"}
PINNED = re.compile(r"^[\w.\-/:]+(:[\w][\w.\-]{0,127}|@sha256:[0-9a-f]{64})$")


def image_is_pinned(image: str) -> bool:
    last = image.rsplit("/", 1)[-1]
    return bool(PINNED.match(image)) and (":" in last or "@" in image) and not last.endswith(":latest")


def test_every_root_renders_the_whole_stack(rendered: dict[str, list[Obj]]) -> None:
    assert {"base", "overlays/cpu", "overlays/gpu", "overlays/external-llm", "overlays/vllm"} <= set(rendered)
    for root, objects in rendered.items():
        names = set(by_name(objects, "Deployment"))
        assert set(GRPC_STAGES) <= names, f"{root} lacks {set(GRPC_STAGES) - names}"


def test_probes_requests_and_limits_on_every_container(rendered: dict[str, list[Obj]]) -> None:
    for root, objects in rendered.items():
        for deploy in of_kind(objects, "Deployment"):
            for c in containers(deploy):
                where = f"{root}: {deploy['metadata']['name']}/{c['name']}"
                assert "readinessProbe" in c and "livenessProbe" in c, f"{where} lacks a probe"
                for part in ("requests", "limits"):
                    assert {"cpu", "memory"} <= set(c.get("resources", {}).get(part, {})), f"{where} {part}"


def test_grpc_stages_use_native_grpc_probes(rendered: dict[str, list[Obj]]) -> None:
    for root, objects in rendered.items():
        deployments = by_name(objects, "Deployment")
        for name, port in GRPC_STAGES.items():
            c = pod_spec(deployments[name])["containers"][0]
            assert c["readinessProbe"]["grpc"] == {"port": port}, f"{root}: {name} readiness"
            # A dedicated health name stays SERVING while the stage is alive but not ready.
            assert c["livenessProbe"]["grpc"] == {"port": port, "service": "liveness"}, f"{root}: {name}"
            assert {"name": "grpc", "containerPort": port, "protocol": "TCP"} in c["ports"]


def test_images_are_pinned(rendered: dict[str, list[Obj]]) -> None:
    for root, objects in rendered.items():
        for deploy in of_kind(objects, "Deployment"):
            for c in containers(deploy):
                assert image_is_pinned(c["image"]), f"{root}: {c['image']} is not pinned to a tag or digest"


def test_pin_rule_rejects_floating_images() -> None:
    assert not image_is_pinned("redis")
    assert not image_is_pinned("redis:latest")
    assert not image_is_pinned("localhost:5000/redis")
    assert image_is_pinned("localhost:5000/redis:7.4.2")
    assert image_is_pinned("ghcr.io/x/y@sha256:" + "a" * 64)


def test_hardened_security_context_everywhere(rendered: dict[str, list[Obj]]) -> None:
    for root, objects in rendered.items():
        for deploy in of_kind(objects, "Deployment"):
            pod = pod_spec(deploy)["securityContext"]
            assert pod["runAsNonRoot"] is True and pod["seccompProfile"]["type"] == "RuntimeDefault"
            assert pod.get("runAsUser", 0) != 0
            mounts_tmp = set()
            for c in containers(deploy):
                sc = c["securityContext"]
                where = f"{root}: {deploy['metadata']['name']}/{c['name']}"
                assert sc["allowPrivilegeEscalation"] is False, where
                assert sc["readOnlyRootFilesystem"] is True, where
                assert sc["capabilities"]["drop"] == ["ALL"] and not sc["capabilities"].get("add"), where
                assert not sc.get("privileged"), where
                mounts_tmp |= {m["mountPath"] for m in c.get("volumeMounts", [])}
            assert mounts_tmp & {"/tmp", "/data"}, f"{root}: {deploy['metadata']['name']} has no writable scratch"


def _gpu_workloads(objects: list[Obj]) -> set[str]:
    found = set()
    for deploy in of_kind(objects, "Deployment"):
        for c in containers(deploy):
            for part in ("requests", "limits"):
                if "nvidia.com/gpu" in c.get("resources", {}).get(part, {}):
                    found.add(deploy["metadata"]["name"])
    return found


def test_gpus_only_on_model_workloads(rendered: dict[str, list[Obj]]) -> None:
    assert _gpu_workloads(rendered["base"]) == set()
    assert _gpu_workloads(rendered["overlays/gpu"]) == {"replica"}
    assert _gpu_workloads(rendered["overlays/vllm"]) == {"replica", "llm"}
    for root, objects in rendered.items():
        assert _gpu_workloads(objects) <= MODEL_WORKLOADS, root


def test_gpu_pods_land_on_gpu_nodes(rendered: dict[str, list[Obj]]) -> None:
    for root, objects in rendered.items():
        deployments = by_name(objects, "Deployment")
        for name in _gpu_workloads(objects):
            spec = pod_spec(deployments[name])
            assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}, f"{root}: {name}"
            assert any(t["key"] == "nvidia.com/gpu" for t in spec["tolerations"]), f"{root}: {name}"
    replica = pod_spec(by_name(rendered["overlays/gpu"], "Deployment")["replica"])["containers"][0]
    assert replica["image"].startswith("ghcr.io/hugginggpt/hugginggpt-replica-cuda:")


def test_every_scalable_stage_has_a_pdb_and_an_autoscaler(rendered: dict[str, list[Obj]]) -> None:
    for root, objects in rendered.items():
        deployments = by_name(objects, "Deployment")
        pdbs = {p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
                for p in of_kind(objects, "PodDisruptionBudget")}
        scalers = {h["spec"]["scaleTargetRef"]["name"] for h in of_kind(objects, "HorizontalPodAutoscaler")}
        keda = {s["spec"]["scaleTargetRef"]["name"] for s in of_kind(objects, "ScaledObject")}
        assert not scalers & keda, f"{root}: an HPA and a ScaledObject fight over {scalers & keda}"
        for name in SCALABLE & set(deployments):
            assert name in pdbs, f"{root}: {name} has no PodDisruptionBudget"
            assert name in scalers | keda, f"{root}: {name} has no autoscaler"
        assert (scalers | keda) <= set(deployments), f"{root}: an autoscaler targets a missing Deployment"
