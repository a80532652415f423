"""Services, addresses, RBAC, autoscaling metrics and one network policy allow per call-graph edge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.k8s.conftest import K8S, Obj, by_name, of_kind, pod_spec
from tests.k8s.test_workloads import GRPC_STAGES

# (caller, callee, port): the call graph. Nothing else may talk inside the namespace.
EDGES = {
    ("gateway", "planner", 50051), ("gateway", "selector", 50052), ("gateway", "executor", 50053),
    ("gateway", "responder", 50056), ("gateway", "redis", 6379), ("executor", "router", 50054),
    ("selector", "router", 50054), ("router", "replica", 50055), ("router", "mediapipe-replica", 50057),
    ("replica", "router", 50054), ("mediapipe-replica", "router", 50054),
    ("planner", "llm", 8080), ("selector", "llm", 8080), ("responder", "llm", 8080), ("replica", "llm", 8080),
    ("edge", "gateway", 50050),  # the HTTP front end, once its Deployment exists
}
ARTIFACT_USERS = ("gateway", "executor", "replica", "mediapipe-replica")
# The policies are part of the base: every overlay with the in-cluster LLM has exactly the graph above; the
# overlay with the in-cluster S3 stand-in adds one edge from each pod that reads or writes artifacts.
POLICY_ROOTS = {
    "base": EDGES, "overlays/cpu": EDGES, "overlays/gpu": EDGES, "overlays/vllm": EDGES,
    "overlays/cpu-s3": EDGES | {(user, "s3", 9000) for user in ARTIFACT_USERS},
}


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        present = expr["key"] in labels
        if expr["operator"] == "In" and labels.get(expr["key"]) not in expr["values"]:
            return False
        if expr["operator"] == "NotIn" and labels.get(expr["key"]) in expr["values"]:
            return False
        if expr["operator"] == "Exists" and not present:
            return False
    return True


def _peer_is_pod(peer: dict[str, Any], labels: dict[str, str]) -> bool:
    # Same-namespace pod peers only; namespace and ipBlock peers do not name pods of this namespace.
    return set(peer) == {"podSelector"} and _matches(peer["podSelector"], labels)


def _allows(policies: list[Obj], direction: str, me: dict[str, str], other: dict[str, str], port: int) -> bool:
    rules_key, peer_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in policies:
        spec = policy["spec"]
        if direction not in spec["policyTypes"] or not _matches(spec["podSelector"], me):
            continue
        for rule in spec.get(rules_key, []):
            ports = {p["port"] for p in rule.get("ports", [])}
            peers = rule.get(peer_key)
            if (not ports or port in ports) and (peers is None or any(_peer_is_pod(p, other) for p in peers)):
                return True
    return False


def _labels(objects: list[Obj]) -> dict[str, dict[str, str]]:
    return {n: d["spec"]["template"]["metadata"]["labels"] for n, d in by_name(objects, "Deployment").items()}


@pytest.mark.parametrize("root", POLICY_ROOTS)
def test_default_deny_then_exactly_the_call_graph(rendered: dict[str, list[Obj]], root: str) -> None:
    edges = POLICY_ROOTS[root]
    policies = of_kind(rendered[root], "NetworkPolicy")
    assert any(p["spec"]["podSelector"] == {} and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
               and not p["spec"].get("ingress") and not p["spec"].get("egress") for p in policies)
    labels = _labels(rendered[root])
    ports = {port for _, _, port in edges}
    for src in labels:
        for dst in labels:
            for port in ports:
                allowed = _allows(policies, "Egress", labels[src], labels[dst], port) and _allows(
                    policies, "Ingress", labels[dst], labels[src], port)
                assert allowed == ((src, dst, port) in edges), f"{root}: {src} -> {dst}:{port}"


def test_policy_evaluator_sees_a_missing_edge(rendered: dict[str, list[Obj]]) -> None:
    policies = [p for p in of_kind(rendered["overlays/cpu"], "NetworkPolicy")
                if p["metadata"]["name"] != "executor-to-router-ingress"]
    labels = _labels(rendered["overlays/cpu"])
    assert not _allows(policies, "Ingress", labels["router"], labels["executor"], 50054)
    assert _allows(policies, "Ingress", labels["router"], labels["selector"], 50054)


def test_dns_and_apiserver_egress(rendered: dict[str, list[Obj]]) -> None:
    policies = by_name(rendered["overlays/cpu"], "NetworkPolicy")
    dns = policies["dns-egress"]["spec"]
    assert dns["podSelector"] == {} and {p["port"] for p in dns["egress"][0]["ports"]} == {53}
    api = policies["router-to-kube-apiserver-egress"]["spec"]
    assert api["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "router"}
    assert {p["port"] for p in api["egress"][0]["ports"]} == {443, 6443}


def test_services_have_named_ports_and_resolve_to_pods(rendered: dict[str, list[Obj]]) -> None:
    for root, objects in rendered.items():
        labels = _labels(objects)
        deployments = by_name(objects, "Deployment")
        for name, svc in by_name(objects, "Service").items():
            targets = [d for d, lab in labels.items() if _matches({"matchLabels": svc["spec"]["selector"]}, lab)]
            assert targets, f"{root}: Service {name} selects no pods"
            container_ports = {p["name"] for d in targets for c in pod_spec(deployments[d])["containers"]
                               for p in c["ports"]}
            for port in svc["spec"]["ports"]:
                assert port.get("name"), f"{root}: Service {name} has an unnamed port"
                assert port["targetPort"] in container_ports, f"{root}: {name} -> {port['targetPort']}"
            headless = svc["spec"].get("clusterIP") == "None"
            assert headless == (name in set(GRPC_STAGES) - {"gateway"}), f"{root}: {name} headless={headless}"


def _config(objects: list[Obj]) -> dict[str, str]:
    [config] = [c for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"].startswith("hugginggpt-config")]
    return config["data"]


def test_peer_addresses_name_real_headless_services(rendered: dict[str, list[Obj]]) -> None:
    for objects in rendered.values():
        data, services = _config(objects), by_name(objects, "Service")
        for key, value in data.items():
            if not key.endswith("_ADDRESS"):
                continue
            host, port = value.removeprefix("dns:///").rsplit(":", 1)
            name, namespace = host.split(".")[:2]
            assert value.startswith("dns:///") and namespace == services[name]["metadata"]["namespace"], key
            assert int(port) in {p["port"] for p in services[name]["spec"]["ports"]}, key


def test_llm_endpoint_per_variant(rendered: dict[str, list[Obj]]) -> None:
    assert _config(rendered["base"])["HUGGINGGPT_LLM_SCHEMA_DIALECT"] == "json_schema"  # llama-server
    assert _config(rendered["base"])["HUGGINGGPT_LLM_BASE_URL"].startswith("http://llm.hugginggpt.svc")
    assert _config(rendered["overlays/vllm"])["HUGGINGGPT_LLM_SCHEMA_DIALECT"] == "json_schema"
    external = rendered["overlays/external-llm"]
    assert "llm" not in by_name(external, "Deployment") and "llm" not in by_name(external, "Service")
    for name, deploy in by_name(external, "Deployment").items():
        env = {e["name"]: e for e in pod_spec(deploy)["containers"][0].get("env", [])}
        calls_llm = deploy["spec"]["template"]["metadata"]["labels"].get("hugginggpt.io/llm-client") == "true"
        assert ("HUGGINGGPT_LLM_API_KEY" in env) == calls_llm, name
        if calls_llm:
            assert env["HUGGINGGPT_LLM_BASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "hugginggpt-llm"


def test_artifacts_shared_volume_by_default_and_s3_when_chosen(rendered: dict[str, list[Obj]]) -> None:
    base = rendered["base"]
    assert by_name(base, "PersistentVolumeClaim")["artifacts"]["spec"]["accessModes"] == ["ReadWriteMany"]
    s3 = rendered["overlays/external-llm"]
    assert "artifacts" not in by_name(s3, "PersistentVolumeClaim")
    assert _config(s3)["HUGGINGGPT_ARTIFACT_STORE"].startswith("s3://")
    for name in ("gateway", "executor", "replica", "mediapipe-replica"):
        volumes = {v["name"]: v for v in pod_spec(by_name(s3, "Deployment")[name])["volumes"]}
        assert set(volumes["artifacts"]) == {"name", "emptyDir"}, name
        volumes = {v["name"]: v for v in pod_spec(by_name(base, "Deployment")[name])["volumes"]}
        assert volumes["artifacts"]["persistentVolumeClaim"]["claimName"] == "artifacts", name


def test_only_the_router_talks_to_the_api_and_only_about_pods(rendered: dict[str, list[Obj]]) -> None:
    objects = rendered["base"]
    [role] = of_kind(objects, "Role")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]
    [binding] = of_kind(objects, "RoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "router", "namespace": "hugginggpt"}]
    for name, deploy in by_name(objects, "Deployment").items():
        assert pod_spec(deploy)["automountServiceAccountToken"] is (name == "router"), name
    assert not of_kind(objects, "ClusterRole") and not of_kind(objects, "ClusterRoleBinding")


def test_inflight_autoscaling_uses_the_metric_the_adapter_serves(rendered: dict[str, list[Obj]]) -> None:
    values = yaml.safe_load(Path(K8S / "components/autoscaling-inflight/prometheus-adapter-values.yaml").read_text())
    served = {rule["name"]["as"] for rule in values["rules"]["custom"]}
    assert all("hugginggpt_rpc_in_flight" in rule["seriesQuery"] for rule in values["rules"]["custom"])
    hpas = by_name(rendered["overlays/cpu"], "HorizontalPodAutoscaler")
    for name in GRPC_STAGES:
        [metric] = hpas[name]["spec"]["metrics"]
        assert metric["type"] == "Pods" and metric["pods"]["metric"]["name"] in served, name
    for scaled in of_kind(rendered["overlays/vllm"], "ScaledObject"):
        [trigger] = scaled["spec"]["triggers"]
        name = scaled["spec"]["scaleTargetRef"]["name"]
        assert trigger["type"] == "prometheus" and f'pod=~"{name}-' in trigger["metadata"]["query"]
        assert "hugginggpt_rpc_in_flight" in trigger["metadata"]["query"]
        assert float(trigger["metadata"]["threshold"]) > 0
    scaled = {s["spec"]["scaleTargetRef"]["name"] for s in of_kind(rendered["overlays/vllm"], "ScaledObject")}
    assert scaled == set(GRPC_STAGES)
